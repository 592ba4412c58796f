//! The command line's native half: `parse_args` parses argv once with mite 2.11's docopt grammar
//! (`crate::cli`) and hands back the command words and docopt's option map; `mite.cli.commands`
//! dispatches on them. `cat_file` is `mite cat`, which needs no Python.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::cli::{self, OptValue, Outcome};
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

/// `(words, opts)` for a command to run (`("scenario test", {...})`), or `(code, stdout,
/// stderr)` when the command line itself is the answer (`--help`, `--version`, a usage error).
/// Also sets the native log level from `--log-level`.
#[pyfunction]
pub fn parse_args<'py>(py: Python<'py>, argv: Vec<String>) -> PyResult<Bound<'py, PyTuple>> {
    match cli::parse(&argv) {
        Outcome::Exit {
            code,
            stdout,
            stderr,
        } => (code, stdout, stderr).into_pyobject(py),
        Outcome::Run(inv) => {
            if let Some(level) = inv.str_opt("--log-level").and_then(Level::parse) {
                set_level(level);
            }
            (inv.command.words(), opts_dict(py, &inv.opts)?).into_pyobject(py)
        }
    }
}

/// `mite cat FILE`: JSON lines on stdout; a malformed frame ends it with one line and status 1.
#[pyfunction]
#[pyo3(signature = (path, prettify_timestamps=false))]
pub fn cat_file(py: Python<'_>, path: &str, prettify_timestamps: bool) -> i32 {
    py.detach(|| cat(path, prettify_timestamps))
}

fn cat(path: &str, prettify: bool) -> i32 {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match crate::collector::cat::cat_file(path, prettify, &mut out) {
        Ok(()) => 0,
        Err(line) => {
            eprintln!("mite: error: {line}");
            1
        }
    }
}

/// Adds `parse_args` and `cat_file`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parse_args, m)?)?;
    m.add_function(wrap_pyfunction!(cat_file, m)?)
}
