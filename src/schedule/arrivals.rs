//! The runner's side: the journeys its leases made due, in time order, and admission against
//! its cap on journeys in flight (over the cap, a journey is dropped and counted, as k6 counts
//! dropped iterations).
use std::collections::VecDeque;

use super::lease::Lease;
use super::profile::Profile;

/// One journey to start at `due` (the runner's monotonic clock, seconds). `item` is what the
/// journey needs (its datapool item); `missing` when the datapool had none for it.
#[derive(Debug)]
pub struct Arrival<T> {
    pub due: f64,
    pub item: Option<T>,
    pub missing: bool,
}

/// What came due at one timer tick.
#[derive(Debug)]
pub struct Due<T> {
    pub start: Vec<Arrival<T>>,
    pub dropped: Vec<Arrival<T>>,
}

#[derive(Debug)]
pub struct ArrivalQueue<T> {
    profile: Profile,
    /// The runner's clock at the profile's second 0, fixed by the first lease.
    base: f64,
    pending: VecDeque<Arrival<T>>,
    /// Journeys of this queue that may run at once on this runner (None: no cap).
    pub cap: Option<u64>,
    /// The runner's clock where its leased windows end.
    pub horizon: f64,
}

impl<T> ArrivalQueue<T> {
    /// `base` is the runner's clock at second 0 of the profile.
    pub fn new(profile: Profile, base: f64) -> Self {
        ArrivalQueue {
            profile,
            base,
            pending: VecDeque::new(),
            cap: None,
            horizon: base,
        }
    }

    /// Queues a lease's journeys. `items` gives each its datapool item in order; with
    /// `data_expected`, journeys past the end of `items` are due but have none (dropped).
    pub fn push_lease(&mut self, lease: &Lease, items: Vec<T>, data_expected: bool) {
        let mut items = items.into_iter();
        for j in 1..=lease.count {
            let item = items.next();
            let missing = data_expected && item.is_none();
            self.pending.push_back(Arrival {
                due: self.base + lease.due(&self.profile, j),
                item,
                missing,
            });
        }
        self.horizon = self.horizon.max(self.base + lease.to);
    }

    /// The journeys due by `now`: those to start (up to the cap, given `in_flight` running)
    /// and those dropped.
    pub fn take_due(&mut self, now: f64, in_flight: u64) -> Due<T> {
        let mut due = Due {
            start: Vec::new(),
            dropped: Vec::new(),
        };
        let mut running = in_flight;
        while self.pending.front().is_some_and(|a| a.due <= now) {
            let arrival = self.pending.pop_front().expect("front checked");
            if arrival.missing || self.cap.is_some_and(|cap| running >= cap) {
                due.dropped.push(arrival);
            } else {
                running += 1;
                due.start.push(arrival);
            }
        }
        due
    }

    /// True once the leases reach the profile's end: no window is left to ask for.
    pub fn fully_leased(&self) -> bool {
        self.horizon >= self.base + self.profile.duration() - 1e-9
    }

    pub fn next_due(&self) -> Option<f64> {
        self.pending.front().map(|a| a.due)
    }

    /// Seconds since the profile's start (by the runner's clock) at `now`.
    pub fn elapsed(&self, now: f64) -> f64 {
        now - self.base
    }

    /// Everything still queued (a stop: none of it starts).
    pub fn clear(&mut self) -> Vec<Arrival<T>> {
        self.pending.drain(..).collect()
    }
}
