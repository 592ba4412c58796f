//! A request's arguments, checked and converted as acurl's `_outer_request` did, in its order:
//! the `RequestSpec` the engine needs, and what `response.request` reports later.
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};

use super::acurl::helpers;
use super::response::{Asked, Hop};
use super::session::Session;
use crate::http::{HttpVersion, RequestSpec};
use crate::py::support::lookup::lookup;

const METHODS: [&[u8]; 7] = [
    b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS",
];

/// The shared `bytes` object for one of the seven verbs (any other is made anew).
pub fn method_bytes(py: Python<'_>, method: &[u8]) -> PyResult<Py<PyBytes>> {
    static CACHE: [PyOnceLock<Py<PyBytes>>; 7] = [const { PyOnceLock::new() }; 7];
    match METHODS.iter().position(|m| *m == method) {
        Some(i) => Ok(CACHE[i]
            .get_or_init(py, || PyBytes::new(py, method).unbind())
            .clone_ref(py)),
        None => Ok(PyBytes::new(py, method).unbind()),
    }
}

/// Everything one request needs, checked.
pub struct Plan {
    pub spec: RequestSpec,
    pub asked: Arc<Asked>,
    pub hop: Hop,
    pub allow_redirects: bool,
    pub redirects_left: f64,
}

/// The keyword arguments acurl's request methods take.
#[derive(Default)]
pub struct Args<'py> {
    headers: Option<Bound<'py, PyAny>>,
    cookies: Option<Bound<'py, PyAny>>,
    auth: Option<Bound<'py, PyAny>>,
    data: Option<Bound<'py, PyAny>>,
    json: Option<Bound<'py, PyAny>>,
    cert: Option<Bound<'py, PyAny>>,
    allow_redirects: Option<Bound<'py, PyAny>>,
    max_redirects: Option<Bound<'py, PyAny>>,
    timeout: Option<Bound<'py, PyAny>>,
    http_version: Option<Bound<'py, PyAny>>,
}

impl<'py> Args<'py> {
    /// Unknown names fail at once, as binding a Python call's arguments does.
    pub fn parse(kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<Self> {
        let mut a = Args::default();
        for (k, v) in kwargs.into_iter().flat_map(|d| d.iter()) {
            let v = (!v.is_none()).then_some(v);
            let slot = match k.cast::<PyString>().ok().and_then(|s| s.to_str().ok()) {
                Some("headers") => &mut a.headers,
                Some("cookies") => &mut a.cookies,
                Some("auth") => &mut a.auth,
                Some("data") => &mut a.data,
                Some("json") => &mut a.json,
                Some("cert") => &mut a.cert,
                Some("allow_redirects") => {
                    // an explicit None is falsy, not the default
                    a.allow_redirects = Some(v.unwrap_or_else(|| k.py().None().into_bound(k.py())));
                    continue;
                }
                Some("max_redirects") => &mut a.max_redirects,
                Some("timeout") => &mut a.timeout,
                Some("http_version") => &mut a.http_version,
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "_outer_request() got an unexpected keyword argument '{}'",
                        k.str()?
                    )))
                }
            };
            *slot = v;
        }
        Ok(a)
    }
}

/// `str.encode()` (UTF-8) for text; anything else is asked to `.encode()` itself.
fn encoded(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(s.to_str()?.as_bytes().to_vec()),
        Err(_) => obj.call_method0(intern!(obj.py(), "encode"))?.extract(),
    }
}

/// A 2-tuple of str (`auth=`, `cert=`), or the ValueError acurl raised.
fn str_pair(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(String, String)> {
    if let Ok(t) = obj.cast::<PyTuple>() {
        if t.len() == 2 {
            if let (Ok(a), Ok(b)) = (
                t.get_item(0)?.cast::<PyString>().map(|s| s.to_string()),
                t.get_item(1)?.cast::<PyString>().map(|s| s.to_string()),
            ) {
                return Ok((a, b));
            }
        }
    }
    Err(PyValueError::new_err(format!(
        "{what} must be a 2-tuple of strings but it was: {}",
        obj.str()?
    )))
}

fn positive_seconds(t: &Bound<'_, PyAny>) -> PyResult<Duration> {
    crate::http::timeout(t.extract()?).map_err(PyValueError::new_err)
}

fn http_version(v: &Bound<'_, PyAny>) -> PyResult<HttpVersion> {
    let s: String = v.extract()?;
    HttpVersion::parse(&s).ok_or_else(|| {
        PyValueError::new_err(format!(
            "http_version must be one of '1.0', '1.1', '2', '2-prior-knowledge', not {s:?}"
        ))
    })
}

/// Checks and converts the arguments in the order acurl's `_outer_request` did.
pub fn plan<'py>(
    session: &Bound<'py, Session>,
    method: Option<Py<PyBytes>>,
    url: &Bound<'py, PyAny>,
    a: Args<'py>,
) -> PyResult<Plan> {
    let py = session.py();
    let method = method.ok_or_else(|| PyValueError::new_err("method must be bytes"))?;
    let url_text = url
        .cast::<PyString>()
        .map_err(|_| PyValueError::new_err("url must be a string"))?
        .to_str()?
        .to_string();
    let headers = match &a.headers {
        None => None,
        Some(h) if h.is_exact_instance_of::<PyDict>() => Some(h.clone().cast_into::<PyDict>()?),
        Some(h) => Some(py.get_type::<PyDict>().call1((h,))?.cast_into::<PyDict>()?),
    };
    let mut json_content_type = false;
    let data: Option<Bound<'py, PyBytes>> = if let Some(j) = &a.json {
        if a.data.is_some() {
            return Err(PyValueError::new_err(
                "use only one or none of data or json",
            ));
        }
        static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let text = lookup(py, &DUMPS, "json", "dumps")?.call1((j,))?;
        json_content_type = !headers
            .as_ref()
            .map(|h| h.contains("Content-Type"))
            .transpose()?
            .unwrap_or(false);
        Some(PyBytes::new(py, &encoded(&text)?))
    } else {
        match &a.data {
            None => None,
            Some(d) if d.is_instance_of::<PyString>() => Some(PyBytes::new(py, &encoded(d)?)),
            Some(d) => Some(
                d.cast::<PyBytes>()
                    .map_err(|_| PyValueError::new_err("data must be str or bytes"))?
                    .clone(),
            ),
        }
    };
    let auth = a.auth.as_ref().map(|x| str_pair(x, "auth")).transpose()?;
    let cert = a.cert.as_ref().map(|x| str_pair(x, "cert")).transpose()?;
    let mut header_lines = Vec::new();
    for (k, v) in headers.iter().flat_map(|h| h.iter()) {
        let mut line = encoded(&k)?;
        line.extend_from_slice(b": ");
        line.extend_from_slice(&encoded(&v)?);
        header_lines.push(line);
    }
    if json_content_type {
        header_lines.push(b"Content-Type: application/json".to_vec());
    }
    let mut cookie_lines = Vec::new();
    if let Some(c) = a.cookies.as_ref().filter(|c| c.is_truthy().unwrap_or(true)) {
        let for_url = helpers(py)?.session_cookie_for_url.bind(py);
        for item in c.call_method0(intern!(py, "items"))?.try_iter()? {
            let (k, v): (Bound<PyAny>, Bound<PyAny>) = item?.extract()?;
            let cookie = for_url.call1((url, k, v))?;
            cookie_lines.push(cookie.call_method0(intern!(py, "format"))?.extract()?);
        }
    }
    let s = session.borrow();
    let timeout = match &a.timeout {
        Some(t) => Some(positive_seconds(t)?),
        None => match &s.timeout {
            Some(t) if !t.is_none(py) => Some(positive_seconds(t.bind(py))?),
            _ => None,
        },
    };
    let version = match &a.http_version {
        Some(v) => http_version(v)?,
        None => match &s.http_version {
            Some(v) if !v.is_none(py) => http_version(v.bind(py))?,
            _ => HttpVersion::Default,
        },
    };
    let allow_redirects = match &a.allow_redirects {
        None => true,
        Some(v) => v.is_truthy()?,
    };
    let redirects_left = match &a.max_redirects {
        None => 5.0,
        Some(m) => m.extract::<f64>()?,
    };
    let spec = RequestSpec {
        method: method.bind(py).as_bytes().to_vec(),
        url: url_text,
        headers: header_lines.clone(),
        body: data.as_ref().map(|d| d.as_bytes().to_vec()),
        cookies: cookie_lines.clone(),
        auth,
        cert,
        timeout,
        http_version: version,
        verify: s.verify,
    };
    Ok(Plan {
        spec,
        asked: Arc::new(Asked {
            headers: header_lines,
            cookies: cookie_lines,
            auth: a.auth.map(Bound::unbind),
            cert: a.cert.map(Bound::unbind),
        }),
        hop: Hop {
            method,
            url: url.clone().unbind(),
            data: data.map(Bound::unbind),
        },
        allow_redirects,
        redirects_left,
    })
}
