//! The collector: appends every raw frame to `DIR/current` and rolls it into `START_END[_ID]_N`.
pub mod cat;
mod json;

pub use json::{frame_to_json, value_to_json};

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::report::log::unix_now;

/// What the collector was told on the command line.
#[derive(Clone, Debug)]
pub struct CollectorConfig {
    pub dir: PathBuf,
    pub roll_after: u64,
    pub collector_id: Option<String>,
    pub use_json: bool,
}

/// Writes frames to the current file and rolls it every `roll_after` messages, as mite 2.11 does.
pub struct Collector {
    cfg: CollectorConfig,
    current: BufWriter<File>,
    in_current: u64,
    rolled: u64,
    /// Frames written (after the filter), for the end-of-run accounting.
    pub written: u64,
    /// Frames that could not be decoded for JSON output.
    pub malformed: u64,
}

impl Collector {
    /// Creates the folder, rolls a `current` left by an earlier run, and opens a fresh one.
    pub fn open(cfg: CollectorConfig) -> io::Result<Self> {
        let dir = std::path::absolute(&cfg.dir)?;
        fs::create_dir_all(&dir)?;
        let cfg = CollectorConfig { dir, ..cfg };
        let mut rolled = 0;
        roll_existing(&cfg, &mut rolled)?;
        let current = start_current(&cfg.dir)?;
        Ok(Collector {
            cfg,
            current,
            in_current: 0,
            rolled,
            written: 0,
            malformed: 0,
        })
    }

    /// Counts one message toward the roll; writes it when `keep` (the filter's verdict).
    pub fn process(&mut self, raw: &[u8], keep: bool) -> io::Result<()> {
        self.in_current += 1;
        if keep {
            if self.cfg.use_json {
                match frame_to_json(raw) {
                    Some(mut line) => {
                        line.push('\n');
                        self.current.write_all(line.as_bytes())?;
                        self.written += 1;
                    }
                    None => self.malformed += 1,
                }
            } else {
                self.current.write_all(raw)?;
                self.written += 1;
            }
        }
        if self.in_current == self.cfg.roll_after {
            self.roll()?;
        }
        Ok(())
    }

    /// Pushes buffered frames to the file so a crash loses at most one tick of data.
    pub fn flush(&mut self) -> io::Result<()> {
        self.current.flush()
    }

    fn roll(&mut self) -> io::Result<()> {
        self.current.flush()?;
        roll_existing(&self.cfg, &mut self.rolled)?;
        self.current = start_current(&self.cfg.dir)?;
        self.in_current = 0;
        Ok(())
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.current.flush();
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
fn roll_existing(cfg: &CollectorConfig, rolled: &mut u64) -> io::Result<()> {
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
    fs::rename(current, cfg.dir.join(name))
}

fn start_current(dir: &Path) -> io::Result<BufWriter<File>> {
    fs::write(start_time_path(dir), (unix_now() as i64).to_string())?;
    Ok(BufWriter::with_capacity(
        256 * 1024,
        File::create(current_path(dir))?,
    ))
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
            c.process(&[0x91, i], true).unwrap();
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
        c.process(&[0x01], false).unwrap();
        c.process(&[0x02], true).unwrap();
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
