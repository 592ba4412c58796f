//! The collector: appends every raw frame to `DIR/current` and rolls it into `START_END[_ID]_N`;
//! a write that fails is counted and reported, never left as a torn frame.
pub mod cat;
mod error;
mod file;
mod json;

pub use error::Error;
pub use file::PathError;
pub use json::{frame_to_json, value_to_json};

use std::fs;
use std::path::{Path, PathBuf};

use file::{Flushed, FrameFile};

use crate::log;
use crate::report::log::{unix_now, Level};
use crate::transport::{is_full, Counts};

/// What the collector was told on the command line.
#[derive(Clone, Debug)]
pub struct CollectorConfig {
    pub dir: PathBuf,
    pub roll_after: u64,
    pub collector_id: Option<String>,
    pub use_json: bool,
}

/// Writes frames to the current file and rolls it every `roll_after` messages, as mite 2.11 does.
/// A frame that cannot be written is counted (by reason) and the first failure is logged once;
/// the file keeps every whole frame written before it.
pub struct Collector {
    cfg: CollectorConfig,
    current: Option<FrameFile>,
    in_current: u64,
    rolled: u64,
    /// Frames in files, for the end-of-run accounting.
    pub written: u64,
    /// Frames that could not be decoded for JSON output.
    pub malformed: u64,
    /// Frames lost to write errors, by reason (`full`, `unwritable`).
    pub lost: Counts,
    /// The first write error: it names the path and the reason.
    pub failure: Option<PathError>,
}

impl Collector {
    /// Creates the folder, rolls a `current` left by an earlier run, and opens a fresh one.
    pub fn open(cfg: CollectorConfig) -> Result<Self, PathError> {
        let dir = std::path::absolute(&cfg.dir).map_err(|e| PathError::new(&cfg.dir, e))?;
        fs::create_dir_all(&dir).map_err(|e| PathError::new(&dir, e))?;
        let cfg = CollectorConfig { dir, ..cfg };
        let mut rolled = 0;
        roll_existing(&cfg, &mut rolled)?;
        let current = start_current(&cfg.dir)?;
        Ok(Collector {
            cfg,
            current: Some(current),
            in_current: 0,
            rolled,
            written: 0,
            malformed: 0,
            lost: Counts::default(),
            failure: None,
        })
    }

    /// Frames that could not be written.
    pub fn lost_frames(&self) -> u64 {
        self.lost.full + self.lost.unwritable
    }

    /// The run's verdict on its files: `Error::Write` if any frame was lost (taking the failure).
    pub fn verdict(&mut self) -> Result<(), Error> {
        let lost = self.lost_frames();
        match self.failure.take() {
            Some(failure) => Err(Error::Write { lost, failure }),
            None => Ok(()),
        }
    }

    /// Counts one message toward the roll; writes it when `keep` (the filter's verdict).
    pub fn process(&mut self, raw: &[u8], keep: bool) {
        self.in_current += 1;
        if keep {
            let line;
            let bytes = if self.cfg.use_json {
                match frame_to_json(raw) {
                    Some(mut l) => {
                        l.push('\n');
                        line = l;
                        Some(line.as_bytes())
                    }
                    None => None,
                }
            } else {
                Some(raw)
            };
            match (bytes, self.current.as_mut()) {
                (None, _) => self.malformed += 1,
                (Some(b), Some(f)) => {
                    if let Some(out) = f.push(b) {
                        self.account(out);
                    }
                }
                (Some(_), None) => self.lose_one(),
            }
        }
        if self.in_current == self.cfg.roll_after {
            self.roll();
        }
    }

    /// Pushes buffered frames to the file so a crash loses at most one tick of data.
    pub fn flush(&mut self) {
        if let Some(out) = self.current.as_mut().map(FrameFile::flush) {
            self.account(out);
        }
    }

    fn account(&mut self, out: Flushed) {
        self.written += out.written;
        if let Some((frames, err)) = out.lost {
            self.lost.write_failed(&err.source, frames);
            self.fail(err);
        }
    }

    /// A frame with no file to go to (the file could not be created).
    fn lose_one(&mut self) {
        match &self.failure {
            Some(f) if is_full(&f.source) => self.lost.full += 1,
            _ => self.lost.unwritable += 1,
        }
    }

    fn fail(&mut self, err: PathError) {
        if self.failure.is_none() {
            log!(
                Level::Error,
                "mite.collector",
                "process_raw_message",
                "cannot write {err}; the messages that do not fit are counted, not written"
            );
            self.failure = Some(err);
        }
    }

    fn roll(&mut self) {
        self.flush();
        // The file is closed before it is renamed.
        self.current = None;
        let next =
            roll_existing(&self.cfg, &mut self.rolled).and_then(|()| start_current(&self.cfg.dir));
        match next {
            Ok(f) => self.current = Some(f),
            Err(e) => self.fail(e),
        }
        self.in_current = 0;
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.flush();
    }
}

fn current_path(dir: &Path) -> PathBuf {
    dir.join("current")
}

fn start_time_path(dir: &Path) -> PathBuf {
    dir.join("current_start_time")
}

/// Renames `current` (if any) to `START_END[_ID]_N`; the rename is atomic, so readers never
/// see a half-rolled file.
fn roll_existing(cfg: &CollectorConfig, rolled: &mut u64) -> Result<(), PathError> {
    let current = current_path(&cfg.dir);
    if !current.is_file() {
        return Ok(());
    }
    let start = fs::read_to_string(start_time_path(&cfg.dir)).unwrap_or_default();
    let mut name = format!("{}_{}", start.trim(), unix_now() as i64);
    if let Some(id) = cfg.collector_id.as_deref().filter(|id| !id.is_empty()) {
        name.push('_');
        name.push_str(id);
    }
    name.push_str(&format!("_{rolled}"));
    *rolled += 1;
    let to = cfg.dir.join(name);
    fs::rename(&current, &to).map_err(|e| PathError::new(&to, e))
}

fn start_current(dir: &Path) -> Result<FrameFile, PathError> {
    let start = start_time_path(dir);
    fs::write(&start, (unix_now() as i64).to_string()).map_err(|e| PathError::new(&start, e))?;
    FrameFile::create(current_path(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(dir: &Path, roll: u64) -> CollectorConfig {
        CollectorConfig {
            dir: dir.to_path_buf(),
            roll_after: roll,
            collector_id: None,
            use_json: false,
        }
    }

    #[test]
    fn rolls_every_n_messages_and_keeps_frames_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = Collector::open(cfg(tmp.path(), 2)).unwrap();
        for i in 0..5u8 {
            c.process(&[0x91, i], true);
        }
        drop(c);
        let mut names: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names.iter().any(|n| n.ends_with("_0")));
        assert!(names.iter().any(|n| n.ends_with("_1")));
        assert_eq!(fs::read(tmp.path().join("current")).unwrap(), vec![0x91, 4]);
        let rolled = names.iter().find(|n| n.ends_with("_0")).unwrap();
        assert_eq!(
            fs::read(tmp.path().join(rolled)).unwrap(),
            vec![0x91, 0, 0x91, 1]
        );
    }

    #[test]
    fn filtered_frames_count_toward_the_roll_but_are_not_written() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = Collector::open(cfg(tmp.path(), 100)).unwrap();
        c.process(&[0x01], false);
        c.process(&[0x02], true);
        c.flush();
        assert_eq!(c.written, 1);
        drop(c);
        assert_eq!(fs::read(tmp.path().join("current")).unwrap(), vec![0x02]);
    }

    #[test]
    fn an_earlier_current_is_rolled_at_start_with_the_collector_id() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("current"), b"\x01").unwrap();
        fs::write(tmp.path().join("current_start_time"), b"123").unwrap();
        let mut conf = cfg(tmp.path(), 10);
        conf.collector_id = Some("r7".into());
        let c = Collector::open(conf).unwrap();
        drop(c);
        let names: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("123_") && n.ends_with("_r7_0")),
            "{names:?}"
        );
    }
}
