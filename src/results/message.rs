//! The fields of one message the run record and the pipeline read, borrowed from the frame.
use crate::bus::scan::{self, MapIter, Raw};

/// Message types counted as requests (as HttpStatsOutput counts them).
pub const REQUEST_TYPES: [&str; 3] = [
    "http_metrics",
    "selenium_page_load_metrics",
    "selenium_network_resource_metrics",
];

/// What a message says, read in one pass over its msgpack map without allocating.
#[derive(Debug, Default, Clone, Copy)]
pub struct Message<'a> {
    pub msg_type: Option<&'a str>,
    pub time: Option<f64>,
    pub total_time: Option<f64>,
    pub download_size: Option<f64>,
    pub journey: Option<&'a str>,
    pub transaction: Option<&'a str>,
    pub effective_url: Option<&'a str>,
    pub method: Option<&'a str>,
    pub response_code: Option<f64>,
    pub ex_type: Option<&'a str>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub had_error: bool,
    pub has_stacktrace: bool,
    pub text: Option<&'a str>,
    pub test: Option<&'a str>,
    /// `controller_report`'s maps, kept raw: they come once a second.
    pub required: Option<Raw<'a>>,
    pub actual: Option<Raw<'a>>,
    /// `dropped_journeys`' number of journeys.
    pub count: Option<f64>,
}

/// Text held as msgpack str or bin (`method` is bin in mite 2.11's `http_metrics`).
fn as_text(v: Raw<'_>) -> Option<&str> {
    if let Some(s) = scan::as_str(v) {
        return Some(s);
    }
    let b = v.0;
    let (start, len) = match *b.first()? {
        0xc4 => (2, usize::from(*b.get(1)?)),
        0xc5 => (3, usize::from(u16::from_be_bytes([*b.get(1)?, *b.get(2)?]))),
        _ => return None,
    };
    std::str::from_utf8(b.get(start..start + len)?).ok()
}

/// The sum of a `{scenario_id: n}` map's numbers.
pub fn map_total(v: Raw<'_>) -> Option<f64> {
    let mut total = 0.0;
    for entry in MapIter::new(v.0).ok()? {
        let (_, n) = entry.ok()?;
        total += scan::as_f64(n)?;
    }
    Some(total)
}

impl<'a> Message<'a> {
    /// None when the frame is not a well-formed msgpack map.
    pub fn parse(raw: &'a [u8]) -> Option<Message<'a>> {
        let mut m = Message::default();
        for entry in MapIter::new(raw).ok()? {
            let (k, v) = entry.ok()?;
            match scan::as_str(k) {
                Some("type") => m.msg_type = scan::as_str(v),
                Some("time") => m.time = scan::as_f64(v),
                Some("total_time") => m.total_time = scan::as_f64(v),
                Some("download_size") => m.download_size = scan::as_f64(v),
                Some("journey") => m.journey = scan::as_str(v),
                Some("transaction") => m.transaction = scan::as_str(v),
                Some("effective_url") => m.effective_url = as_text(v),
                Some("method") => m.method = as_text(v),
                Some("response_code") => m.response_code = scan::as_f64(v),
                Some("ex_type") => m.ex_type = as_text(v),
                Some("start_time") => m.start_time = scan::as_f64(v),
                Some("end_time") => m.end_time = scan::as_f64(v),
                Some("had_error") => m.had_error = v.0.first() == Some(&0xc3),
                Some("stacktrace") => m.has_stacktrace = !scan::is_nil(v) && v.0 != [0xa0],
                Some("text") => m.text = scan::as_str(v),
                Some("test") => m.test = scan::as_str(v),
                Some("required") => m.required = Some(v),
                Some("actual") => m.actual = Some(v),
                Some("count") => m.count = scan::as_f64(v),
                _ => {}
            }
        }
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmpv::Value;

    #[test]
    fn reads_bin_methods_and_controller_maps() {
        let v = Value::Map(vec![
            (Value::from("type"), Value::from("controller_report")),
            (Value::from("method"), Value::Binary(b"GET".to_vec())),
            (Value::from("had_error"), Value::from(true)),
            (
                Value::from("required"),
                Value::Map(vec![
                    (Value::from(1), Value::from(3)),
                    (Value::from(2), Value::F64(1.5)),
                ]),
            ),
        ]);
        let mut raw = Vec::new();
        rmpv::encode::write_value(&mut raw, &v).unwrap();
        let m = Message::parse(&raw).unwrap();
        assert_eq!(m.msg_type, Some("controller_report"));
        assert_eq!(m.method, Some("GET"));
        assert!(m.had_error);
        assert_eq!(map_total(m.required.unwrap()), Some(4.5));
        assert!(Message::parse(&[0x91, 0x01]).is_none());
    }
}
