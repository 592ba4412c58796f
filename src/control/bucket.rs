//! The spawn limiter: a token bucket that makes `--spawn-rate` new journeys per second across
//! all runners, whatever the runners' request cadence.
//!
//! NOTE: mite 2.11 divided the rate by the runners' request rate over 10 s. A runner asks again on
//! every completion, so a burst of short journeys drives that average up and then almost nothing
//! may start for seconds: starts oscillate between bursts and near-idle. Here the bucket refills
//! from a clock, each request takes at most what has accrued, and the cadence does not matter.

/// Tokens are new journeys; `now` is seconds on a monotonic clock the caller supplies.
#[derive(Debug, Clone)]
pub struct SpawnBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Option<f64>,
}

impl SpawnBucket {
    /// A bucket refilled at `rate` per second, holding at most `capacity` (at least one start),
    /// full at first so a test starts at once, as mite 2.11's first request did.
    pub fn new(rate: f64, capacity: f64) -> Self {
        let rate = if rate.is_finite() {
            rate.max(0.0)
        } else {
            f64::MAX
        };
        let capacity = if capacity.is_finite() {
            capacity.max(1.0)
        } else {
            f64::MAX
        };
        SpawnBucket {
            rate,
            capacity,
            tokens: capacity,
            last: None,
        }
    }

    fn refill(&mut self, now: f64) {
        if let Some(last) = self.last {
            // A clock that went backwards adds nothing rather than taking tokens away.
            let elapsed = (now - last).max(0.0);
            self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        }
        self.last = Some(self.last.map_or(now, |last| last.max(now)));
    }

    /// Whole tokens available at `now`.
    pub fn available(&mut self, now: f64) -> usize {
        self.refill(now);
        clamp_count(self.tokens)
    }

    /// Takes up to `want` whole tokens at `now`. One request never takes more than its fair share
    /// of a full bucket (`capacity / runners`, at least one), so the first runner to ask after a
    /// quiet spell cannot starve the others.
    pub fn grant(&mut self, want: usize, runners: usize, now: f64) -> usize {
        self.refill(now);
        let fair = (self.capacity / runners.max(1) as f64).ceil().max(1.0);
        let granted = clamp_count(self.tokens.min(fair)).min(want);
        self.tokens -= granted as f64;
        granted
    }

    /// Gives back tokens granted but not used (a datapool had no item, a scenario ended).
    pub fn refund(&mut self, unused: usize) {
        self.tokens = (self.tokens + unused as f64).min(self.capacity);
    }
}

fn clamp_count(tokens: f64) -> usize {
    if tokens >= usize::MAX as f64 {
        usize::MAX
    } else {
        tokens.max(0.0).floor() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_full_then_refills_at_the_rate() {
        let mut b = SpawnBucket::new(100.0, 100.0);
        assert_eq!(b.grant(1000, 1, 0.0), 100);
        assert_eq!(b.grant(1000, 1, 0.0), 0);
        assert_eq!(b.grant(1000, 1, 0.25), 25);
        assert_eq!(b.grant(10, 1, 0.5), 10);
        // The 15 not asked for stay in the bucket.
        assert_eq!(b.available(0.5), 15);
    }

    #[test]
    fn fractions_carry_over_so_frequent_requests_get_the_rate() {
        let mut b = SpawnBucket::new(1000.0, 1000.0);
        b.grant(usize::MAX, 1, 0.0);
        // A request every 0.3 ms for 10 s: each sees a fraction of a token, the sum is the rate.
        let started: usize = (1..=33_333)
            .map(|i| b.grant(usize::MAX, 1, i as f64 * 0.0003))
            .sum();
        assert!((9_998..=10_000).contains(&started), "{started}");
    }

    #[test]
    fn request_cadence_does_not_change_the_total() {
        for step in [0.001, 0.01, 0.1, 0.5, 1.0] {
            let mut b = SpawnBucket::new(1000.0, 1000.0);
            b.grant(usize::MAX, 1, 0.0);
            let n = (10.0 / step) as usize;
            let started: usize = (1..=n)
                .map(|i| b.grant(usize::MAX, 1, i as f64 * step))
                .sum();
            assert!(
                (9_990..=10_000).contains(&started),
                "step {step}: {started}"
            );
        }
    }

    #[test]
    fn burst_is_bounded_by_the_capacity() {
        let mut b = SpawnBucket::new(1000.0, 500.0);
        b.grant(usize::MAX, 1, 0.0);
        assert_eq!(b.grant(usize::MAX, 1, 60.0), 500);
        b.refund(10_000);
        assert_eq!(b.available(60.0), 500);
    }

    #[test]
    fn a_full_bucket_is_shared_among_runners() {
        let mut b = SpawnBucket::new(1000.0, 1000.0);
        let grants: Vec<usize> = (0..4).map(|_| b.grant(usize::MAX, 4, 0.0)).collect();
        assert_eq!(grants, vec![250, 250, 250, 250]);
        assert_eq!(b.grant(usize::MAX, 4, 0.0), 0);
    }

    #[test]
    fn refunds_and_a_clock_going_backwards() {
        let mut b = SpawnBucket::new(10.0, 10.0);
        assert_eq!(b.grant(10, 1, 5.0), 10);
        b.refund(3);
        assert_eq!(b.available(4.0), 3);
        assert_eq!(b.available(5.5), 8);
    }

    #[test]
    fn tiny_and_unbounded_rates() {
        let mut b = SpawnBucket::new(0.5, 0.5);
        assert_eq!(b.grant(5, 1, 0.0), 1); // a capacity below one still lets one start
        assert_eq!(b.grant(5, 1, 1.0), 0);
        assert_eq!(b.grant(5, 1, 2.0), 1);
        let mut inf = SpawnBucket::new(f64::INFINITY, f64::INFINITY);
        assert_eq!(inf.grant(1_000_000, 3, 0.0), 1_000_000);
        assert_eq!(inf.grant(7, 3, 0.0), 7);
    }
}
