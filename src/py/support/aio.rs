//! asyncio's protocols spoken natively: an awaitable that is already done, what `await x`
//! iterates, the exception a coroutine's `throw` raises, running a callback in a task's context,
//! and the running loop.
use pyo3::exceptions::{PyBaseException, PyTypeError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};

use super::lookup::lookup;

/// An awaitable that is already done and yields `None`.
#[pyclass(frozen, module = "mite._native")]
pub struct Ready;

#[pymethods]
impl Ready {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self) -> Option<()> {
        None
    }
}

static READY: PyOnceLock<Py<Ready>> = PyOnceLock::new();

/// The shared finished awaitable (it holds no state, so one serves every await).
pub fn ready(py: Python<'_>) -> PyResult<Py<Ready>> {
    Ok(READY
        .get_or_try_init(py, || Py::new(py, Ready))?
        .clone_ref(py))
}

/// What `await x` iterates: a coroutine itself, else `x.__await__()`.
pub fn awaitable_iter<'py>(obj: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: a type check on a live object.
    if unsafe { ffi::PyCoro_CheckExact(obj.as_ptr()) } != 0 {
        return Ok(obj);
    }
    let py = obj.py();
    match obj.getattr(intern!(py, "__await__")) {
        Ok(m) => m.call0(),
        Err(_) => Err(PyTypeError::new_err(format!(
            "object {} can't be used in 'await' expression",
            obj.get_type().name()?
        ))),
    }
}

/// The exception `throw(typ, val, tb)` raises, built as a coroutine's `throw` builds it.
pub fn thrown(
    typ: &Bound<'_, PyAny>,
    val: Option<&Bound<'_, PyAny>>,
    tb: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyErr> {
    let py = typ.py();
    let exc = if typ.is_instance_of::<PyBaseException>() {
        typ.clone()
    } else if let Ok(cls) = typ.cast::<PyType>() {
        match val.filter(|v| !v.is_none()) {
            Some(v) if v.is_instance(cls)? => v.clone(),
            Some(v) if v.is_instance_of::<PyTuple>() => cls.call1(v.cast::<PyTuple>()?)?,
            Some(v) => cls.call1((v,))?,
            None => cls.call0()?,
        }
    } else {
        return Err(PyTypeError::new_err(
            "exceptions must be classes or instances deriving from BaseException",
        ));
    };
    if let Some(tb) = tb.filter(|t| !t.is_none()) {
        exc.call_method1(intern!(py, "with_traceback"), (tb,))?;
    }
    Ok(PyErr::from_value(exc))
}

/// Runs `callback(arg)` inside `context` (as `context.run(callback, arg)`), or plainly.
pub fn run_in_context(
    py: Python<'_>,
    callback: &Py<PyAny>,
    context: Option<&Py<PyAny>>,
    arg: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let Some(ctx) = context.filter(|c| !c.is_none(py)) else {
        callback.call1(py, (arg,))?;
        return Ok(());
    };
    // SAFETY: ctx is a contextvars.Context (asyncio hands over the task's); the Enter is paired
    // with an Exit on the same thread below.
    if unsafe { ffi::PyContext_Enter(ctx.as_ptr()) } < 0 {
        return Err(PyErr::fetch(py));
    }
    let called = callback.call1(py, (arg,));
    // SAFETY: the context entered just above.
    let exited = unsafe { ffi::PyContext_Exit(ctx.as_ptr()) };
    called?;
    if exited < 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(())
}

/// `asyncio.get_running_loop()`.
pub fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    lookup(py, &GET, "asyncio", "get_running_loop")?.call0()
}

/// `asyncio.CancelledError(*args)` and `asyncio.InvalidStateError(message)`.
pub fn cancelled_error(py: Python<'_>, msg: Option<&Py<PyAny>>) -> PyResult<PyErr> {
    static CANCELLED: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cls = lookup(py, &CANCELLED, "asyncio", "CancelledError")?;
    let exc = match msg {
        Some(m) => cls.call1((m,))?,
        None => cls.call0()?,
    };
    Ok(PyErr::from_value(exc))
}

pub fn invalid_state(py: Python<'_>, message: &str) -> PyResult<PyErr> {
    static INVALID: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cls = lookup(py, &INVALID, "asyncio", "InvalidStateError")?;
    Ok(PyErr::from_value(cls.call1((message,))?))
}
