//! The pure-Python parts of acurl the native objects call (its exceptions, `Request`, the
//! case-insensitive dict, cookie parsing). `acurl` hands them over when it is imported
//! (`_native._bind_acurl(...)`), so the dependency runs one way, `acurl` → `mite._native`, and a
//! helper renamed in `acurl` fails at its import rather than at the first request that needs it.
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::http::TransferError;

pub struct Helpers {
    pub acurl_error: Py<PyAny>,
    pub request_error: Py<PyAny>,
    pub request: Py<PyAny>,
    pub case_insensitive_dict: Py<PyAny>,
    pub parse_cookie_string: Py<PyAny>,
    pub session_cookie_for_url: Py<PyAny>,
}

static HELPERS: PyOnceLock<Helpers> = PyOnceLock::new();

/// acurl's helpers; an error if `acurl` was never imported.
pub fn helpers(py: Python<'_>) -> PyResult<&Helpers> {
    HELPERS
        .get(py)
        .ok_or_else(|| PyRuntimeError::new_err("acurl is not imported: import acurl first"))
}

/// Called once by `acurl/__init__.py` (a second call, from a reload, keeps the first set).
#[pyfunction]
#[pyo3(name = "_bind_acurl")]
#[pyo3(signature = (*, AcurlError, RequestError, Request, CaseInsensitiveDict, parse_cookie_string, session_cookie_for_url))]
#[allow(non_snake_case)]
pub fn bind_acurl(
    py: Python<'_>,
    AcurlError: Py<PyAny>,
    RequestError: Py<PyAny>,
    Request: Py<PyAny>,
    CaseInsensitiveDict: Py<PyAny>,
    parse_cookie_string: Py<PyAny>,
    session_cookie_for_url: Py<PyAny>,
) {
    let _ = HELPERS.set(
        py,
        Helpers {
            acurl_error: AcurlError,
            request_error: RequestError,
            request: Request,
            case_insensitive_dict: CaseInsensitiveDict,
            parse_cookie_string,
            session_cookie_for_url,
        },
    );
}

/// `acurl.AcurlError(message, code)` for a transfer libcurl could not complete.
pub fn acurl_error(py: Python<'_>, e: &TransferError) -> PyResult<PyErr> {
    let cls = helpers(py)?.acurl_error.bind(py);
    Ok(PyErr::from_value(cls.call1((e.to_string(), e.code))?))
}

/// `acurl.RequestError(message)`.
pub fn request_error(py: Python<'_>, message: &str) -> PyResult<PyErr> {
    let cls = helpers(py)?.request_error.bind(py);
    Ok(PyErr::from_value(cls.call1((message,))?))
}
