//! `ctx.transaction(name)`: an async context manager whose enter and exit never suspend, so it
//! costs no coroutine and no task switch; exceptions are reported as mite 2.11 reports them.
//! `Context.transaction` is defined here, beside what it makes, so the context does not depend
//! on its transactions.
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};

use super::ctx::Context;
use crate::py::message::{Kwargs, TxnFields};
use crate::py::support::aio::{ready, Ready};
use crate::py::support::txnvar;
use crate::report::log::unix_now;

#[pyclass(module = "mite.context")]
pub struct Transaction {
    ctx: Py<Context>,
    name: Py<PyString>,
    token: Option<Py<PyAny>>,
    start: f64,
}

impl Transaction {
    pub fn new(ctx: Py<Context>, name: Py<PyString>) -> Self {
        Transaction {
            ctx,
            name,
            token: None,
            start: 0.0,
        }
    }
}

fn helper<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    static MODULE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let m = MODULE.get_or_try_init(py, || {
        py.import("mite.context").map(|m| m.into_any().unbind())
    })?;
    m.bind(py).getattr(name)
}

/// Sends `error` (a MiteError, with its fields) or `exception` (with the stack trace) for `exc`,
/// then marks it handled. `txn` names the transaction when the ContextVar is not set.
pub fn report_exception(
    py: Python<'_>,
    ctx: &Context,
    exc: &Bound<'_, PyAny>,
    txn: Option<(&Bound<'_, PyAny>, &Bound<'_, PyAny>)>,
) -> PyResult<()> {
    static MITE_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let mite_error = MITE_ERROR
        .get_or_try_init(py, || {
            py.import("mite.exceptions")?
                .getattr("MiteError")
                .map(Bound::unbind)
        })?
        .bind(py);
    let is_mite_error = exc.is_instance(mite_error)?;
    let described = helper(py, "_describe_exception")?.call1((exc, !is_mite_error))?;
    let (message, ex_type, location, stacktrace): (
        Bound<PyAny>,
        Bound<PyAny>,
        Bound<PyAny>,
        Bound<PyAny>,
    ) = described.extract()?;
    let fields = PyDict::new(py);
    fields.set_item("message", message)?;
    fields.set_item("ex_type", ex_type)?;
    fields.set_item("location", location)?;
    let kind = if is_mite_error {
        if let Ok(extra) = exc.getattr("fields") {
            if let Ok(extra) = extra.cast::<PyDict>() {
                fields.update(extra.as_mapping())?;
            }
        }
        "error"
    } else {
        fields.set_item("stacktrace", stacktrace)?;
        "exception"
    };
    ctx.send_with(
        py,
        PyString::new(py, kind).as_any(),
        &Kwargs(Some(&fields)),
        txn,
    )?;
    if ctx.debug {
        // Runs the PYTHONPOSTMORTEM hook, then raises SystemExit(1), as mite 2.11 does.
        helper(py, "_post_mortem")?.call0()?;
    }
    exc.setattr("handled", true)
}

/// Whether `exc` counts as an error (`except Exception`), and whether it still needs reporting.
pub fn classify(exc: &Bound<'_, PyAny>) -> (bool, bool) {
    if exc.is_none() || !exc.is_instance_of::<PyException>() {
        return (false, false);
    }
    (
        true,
        !exc.hasattr(pyo3::intern!(exc.py(), "handled"))
            .unwrap_or(false),
    )
}

/// Sends the `txn` message that closes a transaction.
pub fn send_txn(
    py: Python<'_>,
    ctx: &Context,
    start: f64,
    had_error: bool,
    txn: Option<(&Bound<'_, PyAny>, &Bound<'_, PyAny>)>,
) -> PyResult<()> {
    let fields = TxnFields {
        start,
        end: unix_now(),
        had_error,
    };
    static TXN: PyOnceLock<Py<PyString>> = PyOnceLock::new();
    let kind = TXN
        .get_or_init(py, || PyString::intern(py, "txn").unbind())
        .bind(py);
    ctx.send_with(py, kind.as_any(), &fields, txn)
}

#[pymethods]
impl Transaction {
    fn __aenter__(mut slf: PyRefMut<'_, Self>) -> PyResult<Py<Ready>> {
        let py = slf.py();
        let parent = txnvar::get(py)?;
        let parent_name = parent
            .as_ref()
            .and_then(|p| p.cast::<PyTuple>().ok().and_then(|t| t.get_item(0).ok()))
            .filter(|n| n.is_truthy().unwrap_or(false));
        let full = match parent_name {
            Some(p) => {
                PyString::new(py, &format!("{} :: {}", p.str()?, slf.name.bind(py))).into_any()
            }
            None => slf.name.bind(py).clone().into_any(),
        };
        let id = slf.ctx.get().next_txn_id();
        let value = PyTuple::new(py, [full, id.into_pyobject(py)?.into_any()])?;
        slf.token = Some(txnvar::set(py, value.as_any())?.unbind());
        slf.start = unix_now();
        ready(py)
    }

    #[pyo3(signature = (_exc_type=None, exc=None, _tb=None))]
    fn __aexit__(
        mut slf: PyRefMut<'_, Self>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<Ready>> {
        let py = slf.py();
        let ctx = slf.ctx.clone_ref(py);
        let ctx = ctx.get();
        let (had_error, needs_report) = exc.map_or((false, false), classify);
        let reported = match (needs_report, exc) {
            (true, Some(e)) => report_exception(py, ctx, e, None),
            _ => Ok(()),
        };
        // As a `finally:` — the txn message and the reset happen even if reporting failed.
        let sent = send_txn(py, ctx, slf.start, had_error, None);
        if let Some(token) = slf.token.take() {
            txnvar::reset(py, token.bind(py))?;
        }
        reported?;
        sent?;
        ready(py)
    }
}

#[pymethods]
impl Context {
    /// `async with ctx.transaction(name):` — nested names join with " :: ".
    fn transaction(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<Transaction> {
        let name = match name.cast::<PyString>() {
            Ok(s) => s.clone(),
            Err(_) => name.str()?,
        };
        Ok(Transaction::new(slf.clone().unbind(), name.unbind()))
    }
}
