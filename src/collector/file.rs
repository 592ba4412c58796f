//! A file of whole frames: frames are buffered and written together; a write that fails is cut
//! back to the last whole frame, so a full disk never leaves a torn frame behind.
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Buffered bytes that trigger a write.
const BUFFER: usize = 256 * 1024;

/// A failed write or folder operation, naming the path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct PathError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl PathError {
    pub fn new(path: &Path, source: io::Error) -> Self {
        PathError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What one write of the buffer did.
pub struct Flushed {
    /// Frames now in the file.
    pub written: u64,
    /// Frames lost with the error that lost them.
    pub lost: Option<(u64, PathError)>,
}

pub struct FrameFile {
    path: PathBuf,
    file: File,
    /// Length of the file up to its last whole frame.
    committed: u64,
    buf: Vec<u8>,
    frames: u64,
}

impl FrameFile {
    pub fn create(path: PathBuf) -> Result<Self, PathError> {
        let file = File::create(&path).map_err(|e| PathError::new(&path, e))?;
        Ok(FrameFile {
            path,
            file,
            committed: 0,
            buf: Vec::with_capacity(BUFFER),
            frames: 0,
        })
    }

    /// Queues one whole frame; returns a flush's outcome when the buffer was written.
    pub fn push(&mut self, frame: &[u8]) -> Option<Flushed> {
        self.buf.extend_from_slice(frame);
        self.frames += 1;
        (self.buf.len() >= BUFFER).then(|| self.flush())
    }

    /// Writes the buffered frames. On failure the file is cut back to its last whole frame and
    /// the buffered frames are reported lost.
    pub fn flush(&mut self) -> Flushed {
        let frames = std::mem::take(&mut self.frames);
        if frames == 0 {
            return Flushed {
                written: 0,
                lost: None,
            };
        }
        let result = self.file.write_all(&self.buf);
        let len = self.buf.len() as u64;
        self.buf.clear();
        match result {
            Ok(()) => {
                self.committed += len;
                Flushed {
                    written: frames,
                    lost: None,
                }
            }
            Err(e) => {
                // Part of the buffer may be in the file: cut it off (this frees space, so it
                // works on a full disk) and write the next frames where it ends.
                let _ = self.file.set_len(self.committed);
                let _ = self.file.seek(SeekFrom::Start(self.committed));
                Flushed {
                    written: 0,
                    lost: Some((frames, PathError::new(&self.path, e))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_loses_whole_frames_only() {
        // /dev/full takes no bytes: every write fails with ENOSPC.
        let mut f = FrameFile::create(PathBuf::from("/dev/full")).unwrap();
        assert!(f.push(&[0x91, 0x01]).is_none());
        assert!(f.push(&[0x92, 0x01, 0x02]).is_none());
        let out = f.flush();
        assert_eq!(out.written, 0);
        let (lost, err) = out.lost.expect("the write fails");
        assert_eq!(lost, 2);
        assert_eq!(err.source.raw_os_error(), Some(libc::ENOSPC));
        assert!(err.to_string().starts_with("/dev/full: "), "{err}");
        assert_eq!(f.flush().written, 0, "nothing is left to write");
    }
}
