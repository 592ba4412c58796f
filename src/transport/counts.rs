//! What a component did with the frames it saw, logged as one `totals:` line at shutdown so a
//! run can be checked end to end (`received` in one component = `forwarded` by the one before).
use std::fmt::Write;

/// Why a frame was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    Malformed,
    Oversize,
}

/// Frames by fate. `dropped` is always the sum of the three reasons.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub received: u64,
    pub forwarded: u64,
    pub written: u64,
    pub malformed: u64,
    pub oversize: u64,
    pub full: u64,
}

impl Counts {
    pub fn dropped(&self) -> u64 {
        self.malformed + self.oversize + self.full
    }

    pub fn reject(&mut self, why: Reject) {
        match why {
            Reject::Malformed => self.malformed += 1,
            Reject::Oversize => self.oversize += 1,
        }
    }

    /// `totals: received=.. forwarded=.. written=.. dropped=.. (malformed=.. oversize=.. full=..)`
    /// plus any component-specific pairs.
    pub fn line(&self, extra: &[(&str, u64)]) -> String {
        let mut s = format!(
            "totals: received={} forwarded={} written={} dropped={}",
            self.received,
            self.forwarded,
            self.written,
            self.dropped()
        );
        for (k, v) in extra {
            let _ = write!(s, " {k}={v}");
        }
        let _ = write!(
            s,
            " (malformed={} oversize={} full={})",
            self.malformed, self.oversize, self.full
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_adds_up_the_drops() {
        let mut c = Counts {
            received: 5,
            forwarded: 3,
            ..Counts::default()
        };
        c.reject(Reject::Malformed);
        c.reject(Reject::Oversize);
        c.full = 1;
        assert_eq!(
            c.line(&[("dumps", 2)]),
            "totals: received=5 forwarded=3 written=0 dropped=3 dumps=2 (malformed=1 oversize=1 full=1)"
        );
    }
}
