//! The runner and controller cores: starting journeys and accounting for them (`core.rs`), and the
//! controller's work and runner tracking (`control.rs`), arrival-rate leases and the runner's
//! timer (`arrival.rs`) over the state it keeps (`leased.rs`).
pub mod arrival;
pub mod control;
pub mod core;
pub mod leased;

use pyo3::prelude::*;

/// Adds `RunnerCore`, its done-callback type, the trackers, `plan_work` and the spawn limiter.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<core::RunnerCore>()?;
    m.add_class::<core::Done>()?;
    m.add_class::<arrival::Tick>()?;
    m.add_class::<arrival::ArrivalPlan>()?;
    m.add_class::<control::WorkTracker>()?;
    m.add_class::<control::RunnerTracker>()?;
    m.add_class::<control::SpawnLimiter>()?;
    m.add_function(wrap_pyfunction!(control::plan_work, m)?)
}
