//! The check every received frame passes before a component acts on it: one whole msgpack
//! value that mite 2.11's tools can read, no larger than the frame limit.
use std::sync::OnceLock;

use super::counts::{Counts, Reject};
use crate::bus::strict::python_accepts;
use crate::log_throttled;
use crate::report::log::Level;

/// Largest frame accepted, from `MITE_MAX_FRAME_BYTES` (default 64 MiB).
// NOTE: mite's largest legitimate frames are `data_created` records and exception stack traces,
// far below this; the limit exists so a stray 100 MB frame is refused rather than decoded.
pub fn max_frame_bytes() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("MITE_MAX_FRAME_BYTES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(64 << 20)
    })
}

/// Accepts `raw` when it is within `limit` bytes and exactly one msgpack value that
/// msgpack-python reads (see `bus::strict`).
pub fn check(raw: &[u8], limit: usize) -> Result<(), Reject> {
    if raw.len() > limit {
        return Err(Reject::Oversize);
    }
    if !python_accepts(raw) {
        return Err(Reject::Malformed);
    }
    Ok(())
}

/// Counts a received frame and checks it; a bad one is counted as rejected and logged (under
/// `logger`) so the component skips it and lives on. Returns whether the frame is good.
pub fn admit(raw: &[u8], max: usize, counts: &mut Counts, logger: &str) -> bool {
    counts.received += 1;
    match check(raw, max) {
        Ok(()) => true,
        Err(why) => {
            counts.reject(why);
            log_throttled!(
                Level::Warning,
                logger,
                "run",
                if why == Reject::Oversize {
                    "skipped an oversize frame"
                } else {
                    "skipped a malformed frame"
                },
                "skipped a {why:?} frame of {} bytes",
                raw.len()
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_and_big_frames() {
        assert_eq!(check(b"\x81\xa1a\x01", 100), Ok(()));
        assert_eq!(check(b"\xc1", 100), Err(Reject::Malformed));
        assert_eq!(check(b"\x82\xa1a\x01", 100), Err(Reject::Malformed));
        assert_eq!(check(b"\x01\x02", 100), Err(Reject::Malformed));
        // A reserved extension type: mite 2.11's tools stop reading a file after it.
        assert_eq!(check(b"\xd4\x80\x00", 100), Err(Reject::Malformed));
        assert_eq!(check(&[0x01; 10], 4), Err(Reject::Oversize));
    }
}
