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

/// `mite cat FILE`: JSON lines on stdout; a malformed frame ends it with one line and status 1.
fn cat_file(inv: &cli::Invocation) -> i32 {
    let path = inv.str_opt("MSGPACK_FILE_PATH").unwrap_or_default();
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("mite: error: cannot read {path}: {e}");
            return 1;
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = crate::collector::cat::cat(&data, inv.flag("--prettify-timestamps"), &mut out);
    let _ = out.flush();
    match result {
        Ok(Ok(_)) => 0,
        // A closed pipe (`mite cat f | head`) is a normal way to stop reading.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("mite: error: {e}");
            1
        }
        Ok(Err(offset)) => {
            eprintln!("mite: error: {path}: malformed msgpack at byte {offset}; the frames before it were printed");
            1
        }
    }
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
        Command::Cat => Ok(cat_file(&inv)),
        Command::Har => py
            .import("mite.har_to_mite")?
            .getattr("har")?
            .call1((opts,))?
            .extract(),
        Command::Uncat => py
            .import("mite.cli.cat")?
            .getattr("uncat")?
            .call1((opts,))?
            .extract(),
        Command::Controller
        | Command::Runner
        | Command::Duplicator
        | Command::Collector
        | Command::Recorder
        | Command::Stats
        | Command::Receiver
        | Command::PrometheusExporter => py
            .import("mite.cli.components")?
            .getattr("run")?
            .call1((opts, inv.command.words()))?
            .extract(),
        // InfluxDB output is Python over the standard library (mite/influxdb/).
        Command::InfluxdbExporter | Command::InfluxdbInit => py
            .import("mite.cli.influxdb")?
            .getattr("run")?
            .call1((opts, inv.command.words()))?
            .extract(),
    }
}

/// Adds `main`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(main, m)?)
}
