//! Reading a collector folder back into a run record (`mite report COLLECTOR_DIR`): every file
//! the collector wrote (msgpack frames, or JSON lines with `--collector-use-json`); a torn or
//! malformed tail is skipped and its bytes counted.
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::message::Message;
use super::record::RunRecord;
use crate::bus::scan;

/// What reading a folder found.
#[derive(Debug, Default)]
pub struct Read {
    pub files: u64,
    pub frames: u64,
    /// Bytes after the last whole frame of a file (or line, for JSON), summed over the files.
    pub skipped_bytes: u64,
}

/// A folder that cannot be read, named.
#[derive(Debug, thiserror::Error)]
#[error("cannot read collector folder {path}: {source}")]
pub struct FolderError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// The collector's files in the order it wrote them: rolled files by name (they start with the
/// time of their first message), `current` last.
fn files(dir: &Path) -> Result<Vec<PathBuf>, FolderError> {
    let err = |source| FolderError {
        path: dir.to_path_buf(),
        source,
    };
    let mut names: Vec<PathBuf> = Vec::new();
    for entry in fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        if entry.file_type().map_err(err)?.is_file() {
            names.push(entry.path());
        }
    }
    names.sort_by_key(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        (name.as_deref() == Some("current"), name)
    });
    Ok(names)
}

fn msgpack(data: &[u8], rec: &mut RunRecord, read: &mut Read) {
    let mut pos = 0;
    while pos < data.len() {
        let Ok(end) = scan::skip(data, pos) else {
            break;
        };
        if let Some(m) = Message::parse(&data[pos..end]) {
            rec.add(&m, 0.0);
        }
        read.frames += 1;
        pos = end;
    }
    read.skipped_bytes += (data.len() - pos) as u64;
}

fn json_value_to_msgpack(v: &serde_json::Value) -> rmpv::Value {
    use serde_json::Value as J;
    match v {
        J::Null => rmpv::Value::Nil,
        J::Bool(b) => rmpv::Value::from(*b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => rmpv::Value::from(i),
            (None, Some(f)) => rmpv::Value::F64(f),
            _ => rmpv::Value::Nil,
        },
        J::String(s) => rmpv::Value::from(s.as_str()),
        J::Array(a) => rmpv::Value::Array(a.iter().map(json_value_to_msgpack).collect()),
        J::Object(o) => rmpv::Value::Map(
            o.iter()
                .map(|(k, v)| (rmpv::Value::from(k.as_str()), json_value_to_msgpack(v)))
                .collect(),
        ),
    }
}

fn json_lines(data: &[u8], rec: &mut RunRecord, read: &mut Read) {
    let mut pos = 0;
    let mut raw = Vec::new();
    while pos < data.len() {
        let Some(len) = data[pos..].iter().position(|b| *b == b'\n') else {
            break;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&data[pos..pos + len]) else {
            break;
        };
        raw.clear();
        if rmpv::encode::write_value(&mut raw, &json_value_to_msgpack(&v)).is_ok() {
            if let Some(m) = Message::parse(&raw) {
                rec.add(&m, 0.0);
            }
        }
        read.frames += 1;
        pos += len + 1;
    }
    read.skipped_bytes += (data.len() - pos) as u64;
}

/// Folds every file of `dir` into `rec`.
pub fn read_folder(dir: &Path, rec: &mut RunRecord) -> Result<Read, FolderError> {
    let mut read = Read::default();
    for path in files(dir)? {
        let data = fs::read(&path).map_err(|source| FolderError {
            path: path.clone(),
            source,
        })?;
        read.files += 1;
        if data.first() == Some(&b'{') {
            json_lines(&data, rec, &mut read);
        } else {
            msgpack(&data, rec, &mut read);
        }
    }
    rec.finish();
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t: f64, total: f64) -> Vec<u8> {
        let v = rmpv::Value::Map(vec![
            (rmpv::Value::from("type"), rmpv::Value::from("http_metrics")),
            (rmpv::Value::from("time"), rmpv::Value::F64(t)),
            (rmpv::Value::from("total_time"), rmpv::Value::F64(total)),
        ]);
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &v).unwrap();
        out
    }

    #[test]
    fn torn_tails_are_skipped_and_counted_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut rolled = frame(1.0, 0.1);
        rolled.extend(frame(2.0, 0.2));
        fs::write(dir.path().join("1_2_1"), &rolled).unwrap();
        let mut current = frame(3.0, 0.3);
        let torn = frame(4.0, 0.4);
        current.extend(&torn[..torn.len() - 3]);
        fs::write(dir.path().join("current"), &current).unwrap();
        fs::write(
            dir.path().join("j_1"),
            "{\"type\": \"http_metrics\", \"time\": 5.0, \"total_time\": 0.5}\n{\"type\": ",
        )
        .unwrap();
        let mut rec = RunRecord::new();
        let read = read_folder(dir.path(), &mut rec).unwrap();
        assert_eq!(read.files, 3);
        assert_eq!(read.frames, 4);
        assert_eq!(
            read.skipped_bytes,
            (torn.len() - 3 + "{\"type\": ".len()) as u64
        );
        assert_eq!(rec.all.requests, 4);
        let max = rec.all.latency.max().unwrap();
        assert!((max - 0.5).abs() <= 0.5 / 1024.0, "{max}");
    }

    #[test]
    fn a_missing_folder_is_named() {
        let e = read_folder(Path::new("/nonexistent/x"), &mut RunRecord::new()).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("cannot read collector folder /nonexistent/x: "));
    }
}
