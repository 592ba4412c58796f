//! The `mite` command: parse argv natively, then run the command with docopt's option map.
use std::io::Write;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::cli::{self, Command, OptValue, Outcome};
use crate::report::log::{set_level, Level};

fn opts_dict<'py>(py: Python<'py>, opts: &[(String, OptValue)]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in opts {
        match v {
            OptValue::Bool(b) => d.set_item(k, *b)?,
            OptValue::Str(s) => d.set_item(k, s)?,
            OptValue::None => d.set_item(k, py.None())?,
            OptValue::List(items) => d.set_item(k, PyList::new(py, items)?)?,
        }
    }
    Ok(d)
}

/// Runs `mite ARGS...`; returns the exit status.
#[pyfunction]
pub fn main(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    let inv = match cli::parse(&argv) {
        Outcome::Exit {
            code,
            stdout,
            stderr,
        } => {
            let _ = std::io::stdout().write_all(stdout.as_bytes());
            let _ = std::io::stderr().write_all(stderr.as_bytes());
            return Ok(code);
        }
        Outcome::Run(inv) => inv,
    };
    if let Some(level) = inv.str_opt("--log-level").and_then(Level::parse) {
        set_level(level);
    }
    let opts = opts_dict(py, &inv.opts)?;
    match inv.command {
        Command::ScenarioTest | Command::JourneyTest | Command::JourneyRun => py
            .import("mite.cli.test")?
            .getattr("run")?
            .call1((opts,))?
            .extract(),
        other => {
            eprintln!(
                "mite: error: `mite {}` is not available in this build yet",
                other.words()
            );
            Ok(1)
        }
    }
}
