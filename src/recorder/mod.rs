//! The recorder: `data_created` appends a message's `data` to `DIR/NAME.msgpack`; `purge_data` deletes it.
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;

use crate::bus::scan::{self, MapIter, Raw};
use crate::log;
use crate::report::log::Level;

/// What one message did to the recorder's folder.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ignored,
    Appended,
    Purged,
    /// The message named a file outside the folder (or no usable name); nothing was touched.
    Refused,
}

/// Keeps the data files that scenarios create and purge.
pub struct Recorder {
    dir: PathBuf,
    pub appended: u64,
    pub refused: u64,
}

/// A name is safe when it is one plain path component: no separators, not `.`/`..`, no NUL.
fn safe_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

impl Recorder {
    /// Creates the folder if needed.
    pub fn open(dir: PathBuf) -> io::Result<Self> {
        let dir = std::path::absolute(dir)?;
        fs::create_dir_all(&dir)?;
        Ok(Recorder {
            dir,
            appended: 0,
            refused: 0,
        })
    }

    /// Handles one raw frame whose `type` is already known to be `data_created` or `purge_data`.
    pub fn process(&mut self, raw: &[u8], msg_type: &str) -> io::Result<Outcome> {
        let Ok(iter) = MapIter::new(raw) else {
            return Ok(Outcome::Ignored);
        };
        let (mut name, mut data): (Option<Raw<'_>>, Option<Raw<'_>>) = (None, None);
        for entry in iter {
            let Ok((k, v)) = entry else {
                return Ok(Outcome::Ignored);
            };
            match scan::as_str(k) {
                Some("name") => name = Some(v),
                Some("data") => data = Some(v),
                _ => {}
            }
        }
        let Some(name) = name.filter(|n| !scan::is_nil(*n)) else {
            return Ok(Outcome::Ignored);
        };
        let Some(name) = scan::as_str(name).filter(|n| safe_name(n)) else {
            self.refused += 1;
            log!(
                Level::Error,
                "mite.recorder",
                "process_message",
                "refused a {msg_type} message whose name is not a plain file name"
            );
            return Ok(Outcome::Refused);
        };
        let path = self.dir.join(format!("{name}.msgpack"));
        match msg_type {
            "data_created" => {
                // The value's bytes are exactly what packing the decoded `data` again would give.
                let bytes = data.map(|d| d.0).unwrap_or(&[0xc0]);
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)?
                    .write_all(bytes)?;
                self.appended += 1;
                Ok(Outcome::Appended)
            }
            "purge_data" => {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        log!(
                            Level::Info,
                            "mite.recorder",
                            "process_message",
                            "Tried to delete a file that didn't exist, continuing"
                        );
                    }
                    Err(e) => return Err(e),
                }
                Ok(Outcome::Purged)
            }
            _ => Ok(Outcome::Ignored),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmpv::Value as V;

    fn frame(t: &str, name: V, data: V) -> Vec<u8> {
        let v = V::Map(vec![
            (V::from("type"), V::from(t)),
            (V::from("name"), name),
            (V::from("data"), data),
        ]);
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &v).unwrap();
        out
    }

    #[test]
    fn appends_then_purges() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = Recorder::open(tmp.path().to_path_buf()).unwrap();
        let f = frame(
            "data_created",
            V::from("users"),
            V::Array(vec![V::from(1), V::from("a")]),
        );
        assert_eq!(r.process(&f, "data_created").unwrap(), Outcome::Appended);
        assert_eq!(r.process(&f, "data_created").unwrap(), Outcome::Appended);
        let file = tmp.path().join("users.msgpack");
        assert_eq!(
            fs::read(&file).unwrap(),
            [0x92, 0x01, 0xa1, b'a', 0x92, 0x01, 0xa1, b'a']
        );
        let p = frame("purge_data", V::from("users"), V::Nil);
        assert_eq!(r.process(&p, "purge_data").unwrap(), Outcome::Purged);
        assert!(!file.exists());
        assert_eq!(r.process(&p, "purge_data").unwrap(), Outcome::Purged);
    }

    #[test]
    fn names_that_escape_the_folder_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let inner = tmp.path().join("rec");
        let mut r = Recorder::open(inner.clone()).unwrap();
        for bad in ["../escape", "a/b", "..", ""] {
            let f = frame("data_created", V::from(bad), V::from(1));
            assert_eq!(
                r.process(&f, "data_created").unwrap(),
                Outcome::Refused,
                "{bad}"
            );
        }
        assert!(!tmp.path().join("escape.msgpack").exists());
        let none = frame("data_created", V::Nil, V::from(1));
        assert_eq!(r.process(&none, "data_created").unwrap(), Outcome::Ignored);
        assert_eq!(r.refused, 4);
    }
}
