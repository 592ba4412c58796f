//! The distributed components' Python face: their sockets, the `run_*` entry points of the
//! native loops, and the collector's and recorder's files for Python callers.
pub mod errors;
pub mod files;
pub mod receivers;
pub mod services;

use pyo3::prelude::*;

/// Adds `Socket`, `Collector`, `Recorder`, the `run_*` functions and their exception classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<files::Collector>()?;
    m.add_class::<files::Recorder>()?;
    m.add_class::<services::Socket>()?;
    m.add_function(wrap_pyfunction!(services::max_frame_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(services::run_duplicator, m)?)?;
    m.add_function(wrap_pyfunction!(services::run_exporter, m)?)?;
    m.add_function(wrap_pyfunction!(services::run_stats, m)?)?;
    m.add_function(wrap_pyfunction!(receivers::run_collector, m)?)?;
    m.add_function(wrap_pyfunction!(receivers::run_recorder, m)?)?;
    m.add_function(wrap_pyfunction!(receivers::run_receiver, m)?)
}
