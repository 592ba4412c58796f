//! The recorder: `data_created` appends a message's `data` to `DIR/NAME.msgpack`; `purge_data` deletes it.
mod error;

pub use error::Error;

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::bus::scan::{self, MapIter, Raw};
use crate::collector::PathError;
use crate::report::log::Level;
use crate::transport::Counts;
use crate::{log, log_throttled};

/// What one message did to the recorder's folder.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ignored,
    Appended,
    Purged,
    /// The message named a file outside the folder (or no usable name); nothing was touched.
    Refused,
    /// The write failed (counted in `lost`, the first failure logged); the file keeps its
    /// whole records.
    Failed,
}

/// Keeps the data files that scenarios create and purge.
pub struct Recorder {
    dir: PathBuf,
    pub appended: u64,
    pub refused: u64,
    /// Messages whose write failed, by reason (`full`, `unwritable`).
    pub lost: Counts,
    /// The first failed write, naming the path and the reason.
    pub failure: Option<PathError>,
}

/// Longest file name most filesystems take (ext4, xfs, tmpfs: 255 bytes).
const NAME_MAX: usize = 255;
const SUFFIX: &str = ".msgpack";

/// A name is safe when it is one plain path component: no separators, not `.`/`..`, no NUL,
/// and short enough to be a file name.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && name.len() + SUFFIX.len() <= NAME_MAX
}

/// Appends `bytes` to `path` whole: a failed write is cut back to the file's previous end.
fn append_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    let before = file.metadata()?.len();
    file.write_all(bytes).inspect_err(|_| {
        let _ = file.set_len(before);
    })
}

impl Recorder {
    /// Creates the folder if needed.
    pub fn open(dir: PathBuf) -> Result<Self, PathError> {
        let dir = std::path::absolute(&dir).map_err(|e| PathError::new(&dir, e))?;
        fs::create_dir_all(&dir).map_err(|e| PathError::new(&dir, e))?;
        Ok(Recorder {
            dir,
            appended: 0,
            refused: 0,
            lost: Counts::default(),
            failure: None,
        })
    }

    /// The run's verdict on its files: `Error::Write` if any message was lost (taking the failure).
    pub fn verdict(&mut self) -> Result<(), Error> {
        let lost = self.lost.full + self.lost.unwritable;
        match self.failure.take() {
            Some(failure) => Err(Error::Write { lost, failure }),
            None => Ok(()),
        }
    }

    fn failed(&mut self, path: &Path, e: io::Error) -> Outcome {
        self.lost.write_failed(&e, 1);
        if self.failure.is_none() {
            let err = PathError::new(path, e);
            log!(
                Level::Error,
                "mite.recorder",
                "process_message",
                "cannot write {err}; the messages that cannot be written are counted"
            );
            self.failure = Some(err);
        }
        Outcome::Failed
    }

    /// Handles one raw frame whose `type` is already known to be `data_created` or `purge_data`.
    pub fn process(&mut self, raw: &[u8], msg_type: &str) -> Outcome {
        let Ok(iter) = MapIter::new(raw) else {
            return Outcome::Ignored;
        };
        let (mut name, mut data): (Option<Raw<'_>>, Option<Raw<'_>>) = (None, None);
        for entry in iter {
            let Ok((k, v)) = entry else {
                return Outcome::Ignored;
            };
            match scan::as_str(k) {
                Some("name") => name = Some(v),
                Some("data") => data = Some(v),
                _ => {}
            }
        }
        let Some(name) = name.filter(|n| !scan::is_nil(*n)) else {
            return Outcome::Ignored;
        };
        let Some(name) = scan::as_str(name).filter(|n| safe_name(n)) else {
            self.refused += 1;
            log_throttled!(
                Level::Error,
                "mite.recorder",
                "process_message",
                "refused a message whose name is not a plain file name",
                "refused a {msg_type} message whose name is not a plain file name of at most \
                 {} bytes",
                NAME_MAX - SUFFIX.len()
            );
            return Outcome::Refused;
        };
        let path = self.dir.join(format!("{name}{SUFFIX}"));
        match msg_type {
            "data_created" => {
                // The value's bytes are exactly what packing the decoded `data` again would give.
                let bytes = data.map(|d| d.0).unwrap_or(&[0xc0]);
                match append_whole(&path, bytes) {
                    Ok(()) => {
                        self.appended += 1;
                        Outcome::Appended
                    }
                    Err(e) => self.failed(&path, e),
                }
            }
            "purge_data" => match fs::remove_file(&path) {
                Ok(()) => Outcome::Purged,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    log!(
                        Level::Info,
                        "mite.recorder",
                        "process_message",
                        "Tried to delete a file that didn't exist, continuing"
                    );
                    Outcome::Purged
                }
                Err(e) => self.failed(&path, e),
            },
            _ => Outcome::Ignored,
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
        assert_eq!(r.process(&f, "data_created"), Outcome::Appended);
        assert_eq!(r.process(&f, "data_created"), Outcome::Appended);
        let file = tmp.path().join("users.msgpack");
        assert_eq!(
            fs::read(&file).unwrap(),
            [0x92, 0x01, 0xa1, b'a', 0x92, 0x01, 0xa1, b'a']
        );
        let p = frame("purge_data", V::from("users"), V::Nil);
        assert_eq!(r.process(&p, "purge_data"), Outcome::Purged);
        assert!(!file.exists());
        assert_eq!(r.process(&p, "purge_data"), Outcome::Purged);
    }

    #[test]
    fn names_that_escape_the_folder_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let inner = tmp.path().join("rec");
        let mut r = Recorder::open(inner.clone()).unwrap();
        let long = "n".repeat(248);
        for bad in ["../escape", "a/b", "..", "", long.as_str()] {
            let f = frame("data_created", V::from(bad), V::from(1));
            assert_eq!(r.process(&f, "data_created"), Outcome::Refused, "{bad}");
        }
        assert!(!tmp.path().join("escape.msgpack").exists());
        let none = frame("data_created", V::Nil, V::from(1));
        assert_eq!(r.process(&none, "data_created"), Outcome::Ignored);
        assert_eq!(r.refused, 5);
        assert_eq!(
            r.lost,
            Counts::default(),
            "a name too long is refused, not a failed write"
        );
    }
}
