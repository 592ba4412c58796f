//! What a component did with the frames it saw, logged as one `totals:` line at shutdown so a
//! run can be checked end to end (`received` in one component = `forwarded` by the one before).
use std::fmt::Write;

/// Why a frame was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    Malformed,
    Oversize,
}

/// Frames by fate. Every received frame ends in exactly one of: written or forwarded (for the
/// component's purpose), ignored (not meant for it), or one of the drop reasons.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub received: u64,
    pub forwarded: u64,
    pub written: u64,
    /// Well-formed messages this component has no use for (e.g. not a recorder message).
    pub ignored: u64,
    pub malformed: u64,
    pub oversize: u64,
    /// Well-formed messages refused for what they hold (an unusable name or label).
    pub refused: u64,
    /// Not written or sent for want of room: a full disk or a full send queue.
    pub full: u64,
    /// Not written for another reason the system gave (a read-only folder, a name too long).
    pub unwritable: u64,
}

impl Counts {
    pub fn dropped(&self) -> u64 {
        self.malformed + self.oversize + self.refused + self.full + self.unwritable
    }

    pub fn reject(&mut self, why: Reject) {
        match why {
            Reject::Malformed => self.malformed += 1,
            Reject::Oversize => self.oversize += 1,
        }
    }

    /// Counts a failed write by what the system said: room (`full`) or anything else.
    pub fn write_failed(&mut self, e: &std::io::Error, frames: u64) {
        if is_full(e) {
            self.full += frames;
        } else {
            self.unwritable += frames;
        }
    }

    /// `totals: received=.. forwarded=.. written=.. ignored=.. dropped=.. (malformed=..
    /// oversize=.. refused=.. full=.. unwritable=..)` plus any component-specific pairs.
    pub fn line(&self, extra: &[(&str, u64)]) -> String {
        let mut s = format!(
            "totals: received={} forwarded={} written={} ignored={} dropped={}",
            self.received,
            self.forwarded,
            self.written,
            self.ignored,
            self.dropped()
        );
        for (k, v) in extra {
            let _ = write!(s, " {k}={v}");
        }
        let _ = write!(
            s,
            " (malformed={} oversize={} refused={} full={} unwritable={})",
            self.malformed, self.oversize, self.refused, self.full, self.unwritable
        );
        s
    }
}

/// A write that failed for want of room (disk or quota full, file too large).
pub fn is_full(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG)
    ) || e.kind() == std::io::ErrorKind::StorageFull
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_adds_up_the_drops() {
        let mut c = Counts {
            received: 8,
            forwarded: 3,
            ignored: 1,
            ..Counts::default()
        };
        c.reject(Reject::Malformed);
        c.reject(Reject::Oversize);
        c.refused = 1;
        c.write_failed(&std::io::Error::from_raw_os_error(libc::ENOSPC), 1);
        c.write_failed(&std::io::Error::from_raw_os_error(libc::ENAMETOOLONG), 1);
        assert_eq!(
            c.line(&[("dumps", 2)]),
            "totals: received=8 forwarded=3 written=0 ignored=1 dropped=5 dumps=2 \
             (malformed=1 oversize=1 refused=1 full=1 unwritable=1)"
        );
    }
}
