//! `mite cat`: a msgpack file (a collector's `current` or a rolled file) as JSON lines, exactly as
//! mite 2.11's `json.dump` writes them; `--prettify-timestamps` turns `time`, `start_time` and
//! `end_time` into local ISO 8601 datetimes.
use std::io::{self, Write};

use rmpv::Value;

use super::json::value_to_json;
use crate::bus::scan;

/// Python's `datetime.fromtimestamp(t).isoformat()`: local time, microseconds when non-zero.
pub fn local_isoformat(t: f64) -> String {
    let (mut secs, frac) = (t.floor(), t - t.floor());
    let mut micros = (frac * 1e6).round_ties_even() as i64;
    if micros >= 1_000_000 {
        secs += 1.0;
        micros -= 1_000_000;
    }
    let stamp = crate::report::log::asctime(secs);
    // asctime is "YYYY-MM-DD HH:MM:SS,mmm"; keep the date and time, then add microseconds.
    let base = format!("{}T{}", &stamp[..10], &stamp[11..19]);
    if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    }
}

fn prettify(v: &mut Value) {
    let Value::Map(entries) = v else { return };
    for (k, val) in entries.iter_mut() {
        if matches!(k.as_str(), Some("time" | "start_time" | "end_time")) {
            if let Some(t) = val.as_f64() {
                *val = Value::from(local_isoformat(t));
            }
        }
    }
}

/// Writes every frame of `data` as one JSON line. Stops at the first malformed frame and
/// returns its byte offset as the error.
pub fn cat(
    data: &[u8],
    prettify_timestamps: bool,
    out: &mut impl Write,
) -> io::Result<Result<u64, usize>> {
    let (mut pos, mut n) = (0usize, 0u64);
    while pos < data.len() {
        let Ok(end) = scan::skip(data, pos) else {
            return Ok(Err(pos));
        };
        let Ok(mut value) = rmpv::decode::read_value(&mut &data[pos..end]) else {
            return Ok(Err(pos));
        };
        if prettify_timestamps {
            prettify(&mut value);
        }
        out.write_all(value_to_json(&value).as_bytes())?;
        out.write_all(b"\n")?;
        pos = end;
        n += 1;
    }
    Ok(Ok(n))
}

/// `mite cat FILE` into `out`: `Err` is the one line to print (status 1). A reader that goes
/// away (`mite cat f | head`) is a normal way to stop: `Ok`.
pub fn cat_file(path: &str, prettify_timestamps: bool, out: &mut impl Write) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let result = cat(&data, prettify_timestamps, out).and_then(|r| out.flush().map(|()| r));
    match result {
        Ok(Ok(_)) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.to_string()),
        Ok(Err(offset)) => Err(format!(
            "{path}: malformed msgpack at byte {offset}; the frames before it were printed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).unwrap();
        out
    }

    #[test]
    fn frames_become_json_lines_and_bytes_become_text() {
        let a = Value::Map(vec![
            (Value::from("type"), Value::from("txn")),
            (Value::from("method"), Value::Binary(b"GET".to_vec())),
        ]);
        let b = Value::Array(vec![Value::from(1), Value::F64(2.5)]);
        let mut data = frame(&a);
        data.extend(frame(&b));
        let mut out = Vec::new();
        assert_eq!(cat(&data, false, &mut out).unwrap(), Ok(2));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"type\": \"txn\", \"method\": \"GET\"}\n[1, 2.5]\n"
        );
    }

    #[test]
    fn a_truncated_tail_is_reported_after_the_good_frames() {
        let a = frame(&Value::Map(vec![(Value::from("a"), Value::from("bcd"))]));
        let mut data = a.clone();
        data.extend(&a[..3]);
        let mut out = Vec::new();
        assert_eq!(cat(&data, false, &mut out).unwrap(), Err(a.len()));
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1);
    }

    #[test]
    fn timestamps_are_prettified_with_microseconds_only_when_present() {
        let s = local_isoformat(1_700_000_000.5);
        assert_eq!(s.len(), "2023-11-14T22:13:20.500000".len(), "{s}");
        assert!(s.ends_with(".500000"));
        assert!(!local_isoformat(1_700_000_000.0).contains('.'));
        let mut v = Value::Map(vec![
            (Value::from("time"), Value::F64(1_700_000_000.25)),
            (Value::from("x"), Value::F64(1.0)),
        ]);
        prettify(&mut v);
        assert!(v.as_map().unwrap()[0]
            .1
            .as_str()
            .unwrap()
            .ends_with(".250000"));
        assert_eq!(v.as_map().unwrap()[1].1, Value::F64(1.0));
    }

    /// A reader that went away after `room` bytes.
    struct ClosedAfter {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for ClosedAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.got.len() >= self.room {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.room - self.got.len());
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn cat_file_reports_each_failure_in_one_line_and_a_closed_reader_is_no_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        let mut data: Vec<u8> = (0..100).flat_map(|i| frame(&Value::from(i))).collect();
        std::fs::write(&path, &data).unwrap();
        let path = path.to_str().unwrap().to_string();

        let mut all = Vec::new();
        assert_eq!(cat_file(&path, false, &mut all), Ok(()));
        assert_eq!(all.iter().filter(|b| **b == b'\n').count(), 100);

        let mut head = ClosedAfter {
            room: 3,
            got: Vec::new(),
        };
        assert_eq!(cat_file(&path, false, &mut head), Ok(()));
        assert_eq!(head.got, b"0\n1");

        let good = data.len();
        data.push(0xc1); // never used in msgpack
        std::fs::write(&path, &data).unwrap();
        assert_eq!(
            cat_file(&path, false, &mut Vec::new()),
            Err(format!(
                "{path}: malformed msgpack at byte {good}; the frames before it were printed"
            ))
        );

        let missing = tmp.path().join("missing");
        let err = cat_file(missing.to_str().unwrap(), false, &mut Vec::new()).unwrap_err();
        assert!(
            err.starts_with(&format!("cannot read {}: ", missing.display())),
            "{err}"
        );
    }
}
