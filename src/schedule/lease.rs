//! The controller's side: one profile shared among the runners in time windows ("leases").
//!
//! Each runner asks for work every fraction of a second; each answer leases it the profile's next
//! window, up to `lookahead` seconds ahead, at a share of 1/n of the rate (n = runners taking
//! leases). The runner carries the fraction of an arrival a window leaves over into its next
//! one, so n runners start the profile's total to within n journeys. A runner that joins later
//! begins where the others' windows leave room for it, so no window is leased twice.
use std::collections::HashMap;

use super::profile::Profile;

/// One window of a profile leased to one runner: arrival `j` (1..=count) of it is due at
/// `profile.time_at(profile.integral(from) + (j - carry_in) / share)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lease {
    pub from: f64,
    pub to: f64,
    pub share: f64,
    pub carry_in: f64,
    pub count: u64,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    until: f64,
    carry: f64,
    /// The share of its last window.
    share: f64,
}

#[derive(Debug)]
pub struct Leaser {
    profile: Profile,
    lookahead: f64,
    runners: HashMap<i64, Held>,
    /// The furthest point of the profile leased to any runner.
    frontier: f64,
    /// Journeys leased so far, over all runners.
    pub leased: u64,
}

impl Leaser {
    pub fn new(profile: Profile, lookahead: f64) -> Self {
        Leaser {
            profile,
            lookahead,
            runners: HashMap::new(),
            frontier: 0.0,
            leased: 0,
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// True once `elapsed` seconds have passed the profile's end.
    pub fn over(&self, elapsed: f64) -> bool {
        elapsed >= self.profile.duration()
    }

    /// The next window for `runner_id` at `elapsed` seconds into the profile, with `runners`
    /// taking leases; None when it already holds the window up to the lookahead.
    pub fn lease(&mut self, runner_id: i64, elapsed: f64, runners: usize) -> Option<Lease> {
        let share = 1.0 / runners.max(1) as f64;
        if self
            .runners
            .get(&runner_id)
            .is_some_and(|h| h.until + self.lookahead < elapsed)
        {
            // Silent for longer than a window: the others were counted without it meanwhile,
            // so it rejoins as a new runner instead of catching up on what they covered.
            self.runners.remove(&runner_id);
        }
        if !self.runners.contains_key(&runner_id) {
            let until = self.start_for_new(elapsed, share);
            // Runners sharing a window start out of phase, so their journeys interleave
            // instead of n starting at the same instant.
            let phase = (self.runners.len() as f64 * share).fract();
            self.runners.insert(
                runner_id,
                Held {
                    until,
                    carry: phase,
                    share,
                },
            );
        }
        let held = self.runners.get_mut(&runner_id).expect("inserted above");
        let to = (elapsed + self.lookahead).min(self.profile.duration());
        if to <= held.until {
            return None;
        }
        let from = held.until;
        let accrued = share * (self.profile.integral(to) - self.profile.integral(from));
        let x = held.carry + accrued;
        // Float noise must not lose an arrival that is due exactly at `to`.
        let count = (x + 1e-9).floor().max(0.0);
        let lease = Lease {
            from,
            to,
            share,
            carry_in: held.carry,
            count: count as u64,
        };
        held.until = to;
        held.share = share;
        held.carry = (x - count).max(0.0);
        self.frontier = self.frontier.max(to);
        self.leased += lease.count;
        Some(lease)
    }

    /// Where a runner's first window begins: the earliest point (from `lookahead` before now)
    /// where the shares already leased leave room for its own, so that runners starting
    /// together all begin at 0 and a runner joining later begins after the others' windows.
    fn start_for_new(&self, elapsed: f64, share: f64) -> f64 {
        let floor = (elapsed - self.lookahead).max(0.0);
        if self.runners.is_empty() {
            return self.frontier.max(floor);
        }
        let mut candidates: Vec<f64> = self.runners.values().map(|h| h.until).collect();
        candidates.push(floor);
        candidates.retain(|c| *c >= floor);
        candidates.sort_by(f64::total_cmp);
        for c in candidates {
            let density: f64 = self
                .runners
                .values()
                .filter(|h| h.until > c)
                .map(|h| h.share)
                .sum();
            if density + share <= 1.0 + 1e-9 {
                return c;
            }
        }
        self.frontier
    }

    /// A runner left (said bye, or stopped answering): what it held is not leased again.
    pub fn remove_runner(&mut self, runner_id: i64) {
        self.runners.remove(&runner_id);
    }
}

impl Lease {
    /// Seconds into the profile at which arrival `j` (1..=count) of this lease is due.
    pub fn due(&self, profile: &Profile, j: u64) -> f64 {
        let x = profile.integral(self.from) + (j as f64 - self.carry_in) / self.share;
        profile
            .time_at(x)
            .unwrap_or(self.to)
            .clamp(self.from, self.to)
    }
}
