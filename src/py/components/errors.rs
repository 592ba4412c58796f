//! One Python exception class per component error. All are `ComponentError`, an `OSError`, so
//! `mite.cli.commands.exit_status` maps them (exit 1) in one place and Python callers that catch
//! `OSError` (as with mite 2.11's collector and recorder) still do.
use pyo3::create_exception;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;

use crate::{collector, duplicator, exporter, recorder, stats, transport};

create_exception!(
    mite._native,
    ComponentError,
    PyOSError,
    "A component could not run."
);
create_exception!(
    mite._native,
    TransportError,
    ComponentError,
    "A socket could not be opened, bound, connected or read."
);
create_exception!(
    mite._native,
    DuplicatorError,
    ComponentError,
    "`mite duplicator` could not run."
);
create_exception!(
    mite._native,
    StatsError,
    ComponentError,
    "`mite stats` could not run."
);
create_exception!(
    mite._native,
    ExporterError,
    ComponentError,
    "`mite prometheus_exporter` could not run."
);
create_exception!(
    mite._native,
    CollectorError,
    ComponentError,
    "The collector could not open its folder or write its files."
);
create_exception!(
    mite._native,
    RecorderError,
    ComponentError,
    "The recorder could not open its folder or write its files."
);

pub fn transport_err(e: transport::Error) -> PyErr {
    TransportError::new_err(e.to_string())
}

pub fn duplicator_err(e: duplicator::Error) -> PyErr {
    match e {
        duplicator::Error::Transport(t) => transport_err(t),
    }
}

pub fn stats_err(e: stats::Error) -> PyErr {
    match e {
        stats::Error::Transport(t) => transport_err(t),
    }
}

pub fn exporter_err(e: exporter::Error) -> PyErr {
    match e {
        exporter::Error::Transport(t) => transport_err(t),
        other => ExporterError::new_err(other.to_string()),
    }
}

pub fn collector_err(e: collector::Error) -> PyErr {
    match e {
        collector::Error::Transport(t) => transport_err(t),
        other => CollectorError::new_err(other.to_string()),
    }
}

pub fn recorder_err(e: recorder::Error) -> PyErr {
    match e {
        recorder::Error::Transport(t) => transport_err(t),
        other => RecorderError::new_err(other.to_string()),
    }
}

/// Adds the exception classes to `mite._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ComponentError", py.get_type::<ComponentError>())?;
    m.add("TransportError", py.get_type::<TransportError>())?;
    m.add("DuplicatorError", py.get_type::<DuplicatorError>())?;
    m.add("StatsError", py.get_type::<StatsError>())?;
    m.add("ExporterError", py.get_type::<ExporterError>())?;
    m.add("CollectorError", py.get_type::<CollectorError>())?;
    m.add("RecorderError", py.get_type::<RecorderError>())
}
