//! `acurl.Response`: one finished transfer. It keeps libcurl's numbers and bytes as they came
//! and makes Python objects only for what is read (`body`, `headers`, `request`, ...).
use std::sync::{Arc, OnceLock};

use pyo3::exceptions::{PyDeprecationWarning, PyIndexError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use pyo3::{intern, IntoPyObjectExt, PyTraverseError, PyVisit};

use super::acurl::helpers;
use crate::http::{headers, Transfer};
use crate::py::support::lookup::lookup;

/// What a request asked for that stays the same across its redirects (for `response.request`).
pub struct Asked {
    /// `Name: value` lines as sent.
    pub headers: Vec<Vec<u8>>,
    /// Cookie-file lines given with `cookies=`.
    pub cookies: Vec<Vec<u8>>,
    pub auth: Option<Py<PyAny>>,
    pub cert: Option<Py<PyAny>>,
}

/// What one hop asked: the method and data change to GET and nothing on 301/302/303.
pub struct Hop {
    pub method: Py<PyBytes>,
    pub url: Py<PyAny>,
    pub data: Option<Py<PyBytes>>,
}

impl Hop {
    pub fn clone_ref(&self, py: Python<'_>) -> Hop {
        Hop {
            method: self.method.clone_ref(py),
            url: self.url.clone_ref(py),
            data: self.data.as_ref().map(|d| d.clone_ref(py)),
        }
    }
}

#[pyclass(frozen, module = "acurl", name = "Response")]
pub struct Response {
    pub transfer: Transfer,
    pub hop: Hop,
    asked: Arc<Asked>,
    session: Py<PyAny>,
    prev: OnceLock<Py<Response>>,
    body: PyOnceLock<Py<PyBytes>>,
    request: OnceLock<Py<PyAny>>,
}

impl Response {
    pub fn new(transfer: Transfer, hop: Hop, asked: Arc<Asked>, session: Py<PyAny>) -> Self {
        Response {
            transfer,
            hop,
            asked,
            session,
            prev: OnceLock::new(),
            body: PyOnceLock::new(),
            request: OnceLock::new(),
        }
    }

    /// Links the response this redirect followed (set after the callbacks saw this one).
    pub fn set_prev(&self, prev: Py<Response>) {
        let _ = self.prev.set(prev);
    }

    /// A 3xx with somewhere to go.
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.transfer.status) && self.transfer.redirect_url.is_some()
    }

    fn header_pairs(&self) -> Vec<(String, Option<String>)> {
        headers::header_pairs(&self.transfer.header)
    }

    fn grouped(&self) -> Vec<(String, String)> {
        headers::grouped(&self.transfer.header)
    }

    fn encoding_of(&self) -> PyResult<String> {
        headers::encoding(&self.transfer.header)
            .ok_or_else(|| PyIndexError::new_err("list index out of range"))
    }

    fn body_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.body
            .get_or_init(py, || PyBytes::new(py, &self.transfer.body).unbind())
            .bind(py)
            .clone()
    }
}

fn lines_tuple<'py>(py: Python<'py>, lines: &[Vec<u8>]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, lines.iter().map(|l| PyBytes::new(py, l)))
}

#[pymethods]
impl Response {
    #[getter]
    fn status_code(&self) -> u32 {
        self.transfer.status
    }
    #[getter]
    fn response_code(&self, py: Python<'_>) -> PyResult<u32> {
        PyErr::warn(
            py,
            &py.get_type::<PyDeprecationWarning>(),
            c"Deprecated: Please consider using the status_code method instead",
            1,
        )?;
        Ok(self.transfer.status)
    }
    #[getter]
    fn url(&self) -> &str {
        &self.transfer.effective_url
    }
    #[getter]
    fn redirect_url(&self) -> Option<&str> {
        self.transfer.redirect_url.as_deref()
    }
    #[getter]
    fn total_time(&self) -> f64 {
        self.transfer.timings.total
    }
    #[getter]
    fn namelookup_time(&self) -> f64 {
        self.transfer.timings.namelookup
    }
    #[getter]
    fn connect_time(&self) -> f64 {
        self.transfer.timings.connect
    }
    #[getter]
    fn appconnect_time(&self) -> f64 {
        self.transfer.timings.appconnect
    }
    #[getter]
    fn pretransfer_time(&self) -> f64 {
        self.transfer.timings.pretransfer
    }
    #[getter]
    fn starttransfer_time(&self) -> f64 {
        self.transfer.timings.starttransfer
    }
    #[getter]
    fn download_size(&self) -> f64 {
        self.transfer.download_size
    }
    #[getter]
    fn upload_size(&self) -> f64 {
        self.transfer.upload_size
    }
    #[getter]
    fn primary_ip(&self) -> &str {
        &self.transfer.primary_ip
    }
    #[getter]
    fn start_time(&self) -> i64 {
        self.transfer.start_time
    }

    /// The raw header block as text.
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::new(py, &String::from_utf8_lossy(&self.transfer.header))
    }

    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.body_bytes(py)
    }

    #[getter]
    fn headers_tuple<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let pairs = self
            .header_pairs()
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => PyTuple::new(py, [k, v]),
                None => PyTuple::new(py, [k]),
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, pairs)
    }

    /// Case-insensitive; repeated headers (Set-Cookie too) joined with ", ", as acurl does.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = PyDict::new(py);
        for (k, v) in self.grouped() {
            d.set_item(k, v)?;
        }
        helpers(py)?.case_insensitive_dict.bind(py).call1((d,))
    }

    #[getter]
    fn encoding(&self) -> PyResult<String> {
        self.encoding_of()
    }

    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let encoding = self.encoding_of()?;
        self.body_bytes(py)
            .call_method1(intern!(py, "decode"), (encoding,))
    }

    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        lookup(py, &LOADS, "json", "loads")?.call1((self.body_bytes(py),))
    }

    /// The session's whole jar, as acurl reports it.
    #[getter]
    fn cookies<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.session.bind(py).call_method0(intern!(py, "cookies"))
    }

    /// The responses this one was redirected from, oldest first.
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut chain = Vec::new();
        let mut cur = self.prev.get().map(|p| p.clone_ref(py));
        while let Some(r) = cur {
            cur = r.get().prev.get().map(|p| p.clone_ref(py));
            chain.push(r);
        }
        chain.reverse();
        PyList::new(py, chain)
    }

    /// What was asked (`acurl.Request`), made when first read.
    #[getter]
    fn request<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(r) = self.request.get() {
            return Ok(r.bind(py).clone());
        }
        let cls = helpers(py)?.request.bind(py);
        let a = &self.asked;
        let args = (
            self.hop.method.clone_ref(py),
            self.hop.url.clone_ref(py),
            lines_tuple(py, &a.headers)?,
            lines_tuple(py, &a.cookies)?,
            a.auth
                .as_ref()
                .map(|x| x.clone_ref(py))
                .into_bound_py_any(py)?,
            self.hop
                .data
                .as_ref()
                .map(|x| x.clone_ref(py))
                .into_bound_py_any(py)?,
            a.cert
                .as_ref()
                .map(|x| x.clone_ref(py))
                .into_bound_py_any(py)?,
            self.session.clone_ref(py),
        );
        let made = cls.call1(args)?;
        // Made under the GIL: no other thread can have set it meanwhile.
        let _ = self.request.set(made.clone().unbind());
        Ok(made)
    }

    fn __repr__(&self) -> String {
        format!(
            "<Response [{}] {}>",
            self.transfer.status, self.transfer.effective_url
        )
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.session)?;
        if let Some(p) = self.prev.get() {
            visit.call(p)?;
        }
        if let Some(r) = self.request.get() {
            visit.call(r)?;
        }
        Ok(())
    }
}
