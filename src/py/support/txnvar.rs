//! The `active_transaction` ContextVar, reached through CPython's C API so a transaction costs
//! no Python-level call.
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static VAR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The process-wide `mite.context.active_transaction` variable.
pub fn var(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    let v = VAR.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        // SAFETY: the name is a NUL-terminated literal; the result is a new reference or NULL.
        let ptr =
            unsafe { ffi::PyContextVar_New(c"active_transaction".as_ptr(), std::ptr::null_mut()) };
        // SAFETY: ptr is a new reference (or NULL with an exception set).
        Ok(unsafe { Bound::from_owned_ptr_or_err(py, ptr)? }.unbind())
    })?;
    Ok(v.bind(py))
}

/// The current value, or `None` when no transaction is open in this context.
pub fn get<'py>(py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let var = var(py)?;
    let mut out: *mut ffi::PyObject = std::ptr::null_mut();
    // SAFETY: var is a ContextVar; out receives a new reference or stays NULL.
    let rc = unsafe { ffi::PyContextVar_Get(var.as_ptr(), std::ptr::null_mut(), &mut out) };
    if rc < 0 {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a non-NULL out is a new reference we now own.
    Ok(unsafe { Bound::from_owned_ptr_or_opt(py, out) })
}

/// Sets the value in the current context; returns the token that undoes it.
pub fn set<'py>(py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let var = var(py)?;
    // SAFETY: both pointers are live objects; the token is a new reference or NULL on error.
    unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyContextVar_Set(var.as_ptr(), value.as_ptr())) }
}

/// Restores the value a `set` replaced.
pub fn reset(py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<()> {
    let var = var(py)?;
    // SAFETY: token came from PyContextVar_Set on this variable.
    if unsafe { ffi::PyContextVar_Reset(var.as_ptr(), token.as_ptr()) } < 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(())
}
