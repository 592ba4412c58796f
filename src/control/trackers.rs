//! Work and runner tracking with mite 2.11's semantics.
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Journeys per scenario id.
pub type Work = BTreeMap<i64, i64>;

/// What every runner is doing, as reported (actual) or as handed out since (assumed).
#[derive(Default, Debug)]
pub struct WorkTracker {
    per_runner: HashMap<i64, Work>,
    total: Work,
}

impl WorkTracker {
    /// Replaces a runner's work with what it reported.
    pub fn set_actual(&mut self, runner_id: i64, work: &Work) {
        if let Some(old) = self.per_runner.get(&runner_id) {
            for (k, v) in old {
                *self.total.entry(*k).or_default() -= v;
            }
        }
        for (k, v) in work {
            *self.total.entry(*k).or_default() += v;
        }
        self.per_runner.insert(runner_id, work.clone());
    }

    /// Work just handed out is assumed to be running until the runner reports.
    pub fn add_assumed(&mut self, runner_id: i64, work: &Work) {
        let current = self.per_runner.entry(runner_id).or_default();
        for (k, v) in work {
            *current.entry(*k).or_default() += v;
            *self.total.entry(*k).or_default() += v;
        }
    }

    /// Total work of the live runners; runners not listed are forgotten.
    pub fn total_work(&mut self, live: &[i64]) -> &Work {
        let gone: Vec<i64> = self
            .per_runner
            .keys()
            .filter(|r| !live.contains(r))
            .copied()
            .collect();
        for r in gone {
            self.remove_runner(r);
        }
        &self.total
    }

    /// Journeys one runner has, all scenarios together.
    pub fn runner_total(&self, runner_id: i64) -> i64 {
        self.per_runner
            .get(&runner_id)
            .map_or(0, |w| w.values().sum())
    }

    /// Forgets a runner and its work.
    pub fn remove_runner(&mut self, runner_id: i64) {
        if let Some(old) = self.per_runner.remove(&runner_id) {
            for (k, v) in old {
                *self.total.entry(k).or_default() -= v;
            }
        }
    }
}

/// When each runner was last heard from, and how often runners call in.
#[derive(Debug)]
pub struct RunnerTracker {
    hits: VecDeque<f64>,
    last_seen: BTreeMap<i64, f64>,
    timeout: f64,
}

impl RunnerTracker {
    pub fn new(timeout: f64) -> Self {
        RunnerTracker {
            hits: VecDeque::new(),
            last_seen: BTreeMap::new(),
            timeout,
        }
    }

    /// Records a request from `runner_id` at time `now`.
    pub fn update(&mut self, runner_id: i64, now: f64) {
        self.last_seen.insert(runner_id, now);
        self.hits.push_back(now);
        self.expire(now);
    }

    fn expire(&mut self, now: f64) {
        while self.hits.front().is_some_and(|t| *t < now - self.timeout) {
            self.hits.pop_front();
        }
    }

    /// Requests per second over the timeout window.
    pub fn hit_rate(&mut self, now: f64) -> f64 {
        self.expire(now);
        self.hits.len() as f64 / self.timeout
    }

    pub fn remove_runner(&mut self, runner_id: i64) {
        self.last_seen.remove(&runner_id);
    }

    /// Runners heard from within the timeout, in id order.
    pub fn active(&self, now: f64) -> Vec<i64> {
        self.last_seen
            .iter()
            .filter(|(_, t)| **t + self.timeout > now)
            .map(|(r, _)| *r)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(pairs: &[(i64, i64)]) -> Work {
        pairs.iter().copied().collect()
    }

    #[test]
    fn actual_replaces_and_assumed_adds() {
        let mut t = WorkTracker::default();
        t.set_actual(1, &w(&[(1, 3)]));
        t.add_assumed(1, &w(&[(1, 2), (2, 1)]));
        t.set_actual(2, &w(&[(1, 1)]));
        assert_eq!(t.total_work(&[1, 2]), &w(&[(1, 6), (2, 1)]));
        assert_eq!(t.runner_total(1), 6);
        t.set_actual(1, &w(&[(2, 1)]));
        assert_eq!(t.total_work(&[1, 2]), &w(&[(1, 1), (2, 1)]));
        assert_eq!(t.total_work(&[2]), &w(&[(1, 1), (2, 0)]));
        assert_eq!(t.runner_total(1), 0);
    }

    #[test]
    fn runners_expire_and_hits_are_windowed() {
        let mut r = RunnerTracker::new(10.0);
        r.update(1, 100.0);
        r.update(2, 105.0);
        assert_eq!(r.active(106.0), vec![1, 2]);
        assert_eq!(r.active(111.0), vec![2]);
        assert_eq!(r.hit_rate(106.0), 0.2);
        assert_eq!(r.hit_rate(112.0), 0.1);
        r.remove_runner(2);
        assert_eq!(r.active(106.0), vec![1]);
    }
}
