//! The `mite._native` extension: this file only registers what the modules below provide.
pub mod bus;
pub mod cli;
pub mod collector;
pub mod control;
pub mod duplicator;
pub mod exporter;
pub mod http;
pub mod pipeline;
pub mod py;
pub mod recorder;
pub mod report;
pub mod stats;
pub mod transport;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    py::register(m)
}
