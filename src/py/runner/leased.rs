//! The runner's leased arrival-rate journeys, kept in `RunnerCore` (`arrival.rs` fills and
//! drains them).
use std::collections::HashMap;

use pyo3::prelude::*;

use crate::schedule::ArrivalQueue;

/// One scenario's leased journeys on a runner.
pub struct Scenario {
    pub spec: String,
    pub queue: ArrivalQueue<(Py<PyAny>, Py<PyAny>)>,
    /// Unix time at the profile's second 0 (fixed with the queue's clock, by the first lease).
    pub unix_base: f64,
}

/// The runner's arrival-rate state, kept in `RunnerCore`.
#[derive(Default)]
pub struct Arrivals {
    pub scenarios: HashMap<i64, Scenario>,
    /// The armed loop timer: when (the loop's clock) and its handle.
    pub timer: Option<(f64, Py<PyAny>)>,
    /// The timer's callback (`arrival::Tick`), made once.
    pub tick: Option<Py<PyAny>>,
    /// Journeys dropped so far, over all scenarios.
    pub dropped: u64,
}

impl Arrivals {
    pub fn has(&self, scenario_id: i64) -> bool {
        self.scenarios.contains_key(&scenario_id)
    }
}
