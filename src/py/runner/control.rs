//! Python-facing wrappers of the controller's bookkeeping (`control/`).
use std::collections::BTreeMap;

use pyo3::prelude::*;

use crate::control::{self, PlanInput};
use crate::report::log::unix_now;

#[pyclass(module = "mite.controller", name = "WorkTracker")]
#[derive(Default)]
pub struct WorkTracker(control::WorkTracker);

#[pymethods]
impl WorkTracker {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    fn set_actual(&mut self, runner_id: i64, work: BTreeMap<i64, i64>) {
        self.0.set_actual(runner_id, &work);
    }

    fn add_assumed(&mut self, runner_id: i64, work: BTreeMap<i64, i64>) {
        self.0.add_assumed(runner_id, &work);
    }

    fn get_total_work(&mut self, runner_ids: Vec<i64>) -> BTreeMap<i64, i64> {
        self.0.total_work(&runner_ids).clone()
    }

    fn get_runner_total(&self, runner_id: i64) -> i64 {
        self.0.runner_total(runner_id)
    }

    fn remove_runner(&mut self, runner_id: i64) {
        self.0.remove_runner(runner_id);
    }
}

#[pyclass(module = "mite.controller", name = "RunnerTracker")]
pub struct RunnerTracker(control::RunnerTracker);

#[pymethods]
impl RunnerTracker {
    #[new]
    #[pyo3(signature = (timeout=10.0))]
    fn new(timeout: f64) -> Self {
        RunnerTracker(control::RunnerTracker::new(timeout))
    }

    fn update(&mut self, runner_id: i64) {
        self.0.update(runner_id, unix_now());
    }

    fn get_hit_rate(&mut self) -> f64 {
        self.0.hit_rate(unix_now())
    }

    fn remove_runner(&mut self, runner_id: i64) {
        self.0.remove_runner(runner_id);
    }

    fn get_active(&self) -> Vec<i64> {
        self.0.active(unix_now())
    }

    fn get_active_count(&self) -> usize {
        self.0.active(unix_now()).len()
    }
}

/// The shuffled scenario ids short of their volume, and how many of them the volume allows now.
#[pyfunction]
#[pyo3(signature = (required, current, runner_current, num_runners, runner_max))]
pub fn plan_work(
    required: BTreeMap<i64, i64>,
    current: BTreeMap<i64, i64>,
    runner_current: i64,
    num_runners: usize,
    runner_max: Option<i64>,
) -> (Vec<i64>, usize) {
    let input = PlanInput {
        required: &required,
        current: &current,
        runner_current,
        num_runners,
        runner_max,
    };
    control::plan_work(&input, &mut rand::rng())
}

/// `--spawn-rate` as a token bucket; `now` is `time.monotonic()` (passed in so tests set it).
#[pyclass(module = "mite.scenario", name = "SpawnLimiter")]
pub struct SpawnLimiter(control::SpawnBucket);

#[pymethods]
impl SpawnLimiter {
    #[new]
    fn new(rate: f64, capacity: f64) -> Self {
        SpawnLimiter(control::SpawnBucket::new(rate, capacity))
    }

    fn grant(&mut self, want: usize, runners: usize, now: f64) -> usize {
        self.0.grant(want, runners, now)
    }

    fn refund(&mut self, unused: usize) {
        self.0.refund(unused);
    }

    fn available(&mut self, now: f64) -> usize {
        self.0.available(now)
    }
}
