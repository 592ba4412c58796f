//! The HTTP engine for Python: `CurlEngine` (one per event loop) submits requests and resolves
//! their futures on the loop thread; `RawResponse` carries a finished transfer to Python.
use std::collections::HashMap;
use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString, PyTuple};
use pyo3::{intern, IntoPyObjectExt};

use super::context::{Context, Fields};
use crate::http::{Engine, HttpVersion, InlineEngine, RequestSpec, SessionId, Transfer};

static ACURL_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn acurl_error(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    Ok(ACURL_ERROR
        .get_or_try_init(py, || {
            py.import("acurl._errors")?
                .getattr("AcurlError")
                .map(Bound::unbind)
        })?
        .bind(py))
}

/// One libcurl engine thread and the futures waiting on it. Used from the loop thread (a
/// session's finaliser may run on another thread; closing a session is only a channel send).
#[pyclass(module = "mite._native")]
pub struct CurlEngine {
    engine: Option<Backend>,
    loop_: Py<PyAny>,
    pending: HashMap<u64, Py<PyAny>>,
    next_token: u64,
    /// Loop-thread mode: the pending `call_later` for libcurl's timer, and whether a pump is queued.
    timer: Option<Py<PyAny>>,
    pump_queued: bool,
}

/// Where libcurl runs: its own thread (the default), or the loop thread itself.
enum Backend {
    Thread(Engine),
    Inline(LoopEngine),
}

/// The loop-thread engine behind a mutex. libcurl handles may move between threads but must
/// never be used by two at once; the mutex guarantees that (a session's finaliser can run on
/// another thread), so sharing is sound although the handles are raw pointers.
struct LoopEngine(std::sync::Mutex<InlineEngine>);

// SAFETY: every access goes through the mutex (see above).
unsafe impl Send for LoopEngine {}
// SAFETY: as above.
unsafe impl Sync for LoopEngine {}

fn bytes_list(items: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Vec<u8>>> {
    let Some(items) = items.filter(|i| !i.is_none()) else {
        return Ok(Vec::new());
    };
    items.try_iter()?.map(|i| i?.extract::<Vec<u8>>()).collect()
}

fn pair(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<(String, String)>> {
    obj.filter(|o| !o.is_none())
        .map(|o| o.extract::<(String, String)>())
        .transpose()
}

impl CurlEngine {
    fn backend(&self) -> PyResult<&Backend> {
        self.engine
            .as_ref()
            .ok_or_else(|| PyOSError::new_err("the HTTP engine is closed"))
    }

    fn inline(e: &LoopEngine) -> std::sync::MutexGuard<'_, InlineEngine> {
        e.0.lock().expect("inline engine lock")
    }
}

#[pymethods]
impl CurlEngine {
    /// `inline=True` drives libcurl on the loop thread instead of an engine thread.
    #[new]
    #[pyo3(signature = (loop_, inline=false))]
    fn new(loop_: Py<PyAny>, inline: bool) -> PyResult<Self> {
        let os = |e: std::io::Error| PyOSError::new_err(e.to_string());
        let backend = if inline {
            Backend::Inline(LoopEngine(std::sync::Mutex::new(
                InlineEngine::start().map_err(os)?,
            )))
        } else {
            Backend::Thread(Engine::start().map_err(os)?)
        };
        Ok(CurlEngine {
            engine: Some(backend),
            loop_,
            pending: HashMap::new(),
            next_token: 1,
            timer: None,
            pump_queued: false,
        })
    }

    /// The descriptor to watch with `loop.add_reader(fd, engine.drain)`.
    #[getter]
    fn fd(&self) -> PyResult<i32> {
        Ok(match self.backend()? {
            Backend::Thread(e) => e.fd(),
            Backend::Inline(e) => Self::inline(e).fd(),
        })
    }

    fn open_session(&self) -> PyResult<SessionId> {
        Ok(match self.backend()? {
            Backend::Thread(e) => e.open_session(),
            Backend::Inline(e) => Self::inline(e).open_session(),
        })
    }

    fn close_session(&self, session: SessionId) {
        match &self.engine {
            Some(Backend::Thread(e)) => e.close_session(session),
            Some(Backend::Inline(e)) => Self::inline(e).close_session(session),
            None => {}
        }
    }

    /// The session's cookie-file lines.
    fn cookies(&self, py: Python<'_>, session: SessionId) -> PyResult<Vec<String>> {
        Ok(match self.backend()? {
            Backend::Thread(e) => py.detach(|| e.cookies(session)),
            Backend::Inline(e) => Self::inline(e).cookies(session),
        })
    }

    fn erase_cookies(&self, session: SessionId) -> PyResult<()> {
        match self.backend()? {
            Backend::Thread(e) => e.erase_cookies(session),
            Backend::Inline(e) => Self::inline(e).erase_cookies(session),
        }
        Ok(())
    }

    /// Starts a transfer; returns the future its `RawResponse` (or AcurlError) resolves.
    #[pyo3(signature = (session, method, url, headers=None, cookies=None, auth=None, data=None,
        cert=None, timeout=None, http_version=None, verify=false))]
    #[allow(clippy::too_many_arguments)]
    fn request<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
        session: SessionId,
        method: Vec<u8>,
        url: String,
        headers: Option<&Bound<'py, PyAny>>,
        cookies: Option<&Bound<'py, PyAny>>,
        auth: Option<&Bound<'py, PyAny>>,
        data: Option<Vec<u8>>,
        cert: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
        http_version: Option<&str>,
        verify: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let http_version = match http_version {
            None => HttpVersion::Default,
            Some(v) => HttpVersion::parse(v).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "http_version must be one of '1.0', '1.1', '2', '2-prior-knowledge', not {v:?}"
                ))
            })?,
        };
        let timeout = match timeout {
            Some(t) if !(t.is_finite() && t > 0.0) => {
                return Err(PyValueError::new_err(format!(
                    "timeout must be a positive number of seconds, not {t}"
                )))
            }
            Some(t) => Some(Duration::from_secs_f64(t)),
            None => None,
        };
        let spec = RequestSpec {
            method,
            url,
            headers: bytes_list(headers)?,
            body: data,
            cookies: bytes_list(cookies)?,
            auth: pair(auth)?,
            cert: pair(cert)?,
            timeout,
            http_version,
            verify,
        };
        let mut this = slf.borrow_mut();
        let fut = this
            .loop_
            .bind(py)
            .call_method0(intern!(py, "create_future"))?;
        let token = this.next_token;
        this.next_token += 1;
        let start = crate::report::log::unix_now() as i64;
        let queue_pump = match this.backend()? {
            Backend::Thread(e) => {
                e.submit(token, session, spec, start);
                false
            }
            Backend::Inline(e) => {
                Self::inline(e).submit(token, session, &spec, start);
                !this.pump_queued
            }
        };
        this.pending.insert(token, fut.clone().unbind());
        if queue_pump {
            // One pump per loop iteration starts every request submitted in it.
            this.pump_queued = true;
            let loop_ = this.loop_.clone_ref(py);
            drop(this);
            loop_.bind(py).call_method1(
                intern!(py, "call_soon"),
                (slf.getattr(intern!(py, "drain"))?,),
            )?;
        }
        Ok(fut)
    }

    /// Resolves the futures of every finished transfer (the eventfd's reader callback). In
    /// loop-thread mode it first drives libcurl, then re-arms libcurl's timer.
    fn drain(slf: &Bound<'_, Self>, py: Python<'_>) -> PyResult<()> {
        let mut this = slf.borrow_mut();
        this.pump_queued = false;
        let done = match &this.engine {
            Some(Backend::Thread(e)) => e.take_done(),
            Some(Backend::Inline(e)) => {
                let mut e = Self::inline(e);
                e.pump();
                e.take_done()
            }
            None => return Ok(()),
        };
        if let Some(Backend::Inline(e)) = &this.engine {
            let next = Self::inline(e).next_timer();
            if let Some(old) = this.timer.take() {
                old.bind(py).call_method0(intern!(py, "cancel"))?;
            }
            if let Some(d) = next {
                let drain = slf.getattr(intern!(py, "drain"))?;
                let handle = this
                    .loop_
                    .bind(py)
                    .call_method1(intern!(py, "call_later"), (d.as_secs_f64(), drain))?;
                this.timer = Some(handle.unbind());
            }
        }
        for c in done {
            let Some(fut) = this.pending.remove(&c.token) else {
                continue;
            };
            let fut = fut.bind(py);
            if fut.call_method0(intern!(py, "done"))?.is_truthy()? {
                continue; // cancelled while in flight
            }
            match c.result {
                Ok(t) => {
                    fut.call_method1(intern!(py, "set_result"), (RawResponse::from(t),))?;
                }
                Err(e) => {
                    let err = acurl_error(py)?.call1((e.to_string(), e.code))?;
                    fut.call_method1(intern!(py, "set_exception"), (err,))?;
                }
            }
        }
        Ok(())
    }

    /// Requests still in flight.
    #[getter]
    fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Stops the engine (in-flight futures are left unresolved).
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(t) = self.timer.take() {
            t.bind(py).call_method0(intern!(py, "cancel"))?;
        }
        self.engine = None;
        Ok(())
    }
}

/// How many fields `http_metrics` has before the response callback's.
pub const HTTP_FIELDS: usize = 12;

const HTTP_NAMES: [&str; HTTP_FIELDS] = [
    "start_time",
    "effective_url",
    "response_code",
    "dns_time",
    "connect_time",
    "tls_time",
    "transfer_start_time",
    "first_byte_time",
    "total_time",
    "primary_ip",
    "method",
    "download_size",
];

/// Writes mite 2.11's `http_metrics` fields, in its order and msgpack types (`start_time` an
/// int, `method` bin, `download_size` a float).
pub fn write_http_fields(out: &mut Vec<u8>, t: &Transfer, method: &[u8]) {
    let w = |out: &mut Vec<u8>, k: &str| super::encode::write_str(out, k);
    let f = |out: &mut Vec<u8>, v: f64| rmp::encode::write_f64(out, v).expect("Vec write");
    w(out, "start_time");
    rmp::encode::write_sint(out, t.start_time).expect("Vec write");
    w(out, "effective_url");
    w(out, &t.effective_url);
    w(out, "response_code");
    rmp::encode::write_uint(out, u64::from(t.status)).expect("Vec write");
    for (name, v) in [
        ("dns_time", t.timings.namelookup),
        ("connect_time", t.timings.connect),
        ("tls_time", t.timings.appconnect),
        ("transfer_start_time", t.timings.pretransfer),
        ("first_byte_time", t.timings.starttransfer),
        ("total_time", t.timings.total),
    ] {
        w(out, name);
        f(out, v);
    }
    w(out, "primary_ip");
    w(out, &t.primary_ip);
    w(out, "method");
    rmp::encode::write_bin(out, method).expect("Vec write");
    w(out, "download_size");
    f(out, t.download_size);
}

/// The same fields as a dict, for contexts that hand messages to Python.
pub fn http_fields_dict<'py>(
    py: Python<'py>,
    t: &Transfer,
    method: &[u8],
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    let values: [Bound<'py, PyAny>; HTTP_FIELDS] = [
        t.start_time.into_bound_py_any(py)?,
        t.effective_url.as_str().into_bound_py_any(py)?,
        t.status.into_bound_py_any(py)?,
        t.timings.namelookup.into_bound_py_any(py)?,
        t.timings.connect.into_bound_py_any(py)?,
        t.timings.appconnect.into_bound_py_any(py)?,
        t.timings.pretransfer.into_bound_py_any(py)?,
        t.timings.starttransfer.into_bound_py_any(py)?,
        t.timings.total.into_bound_py_any(py)?,
        t.primary_ip.as_str().into_bound_py_any(py)?,
        PyBytes::new(py, method).into_any(),
        t.download_size.into_bound_py_any(py)?,
    ];
    for (k, v) in HTTP_NAMES.iter().zip(values) {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// A finished transfer; acurl's `Response` reads it.
#[pyclass(module = "mite._native", frozen)]
pub struct RawResponse(Transfer);

impl From<Transfer> for RawResponse {
    fn from(t: Transfer) -> Self {
        RawResponse(t)
    }
}

#[pymethods]
impl RawResponse {
    #[getter]
    fn status_code(&self) -> u32 {
        self.0.status
    }
    #[getter]
    fn url(&self) -> &str {
        &self.0.effective_url
    }
    #[getter]
    fn redirect_url(&self) -> Option<&str> {
        self.0.redirect_url.as_deref()
    }
    /// The raw header block as text.
    #[getter]
    fn header<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::new(py, &String::from_utf8_lossy(&self.0.header))
    }
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.body)
    }
    #[getter]
    fn total_time(&self) -> f64 {
        self.0.timings.total
    }
    #[getter]
    fn namelookup_time(&self) -> f64 {
        self.0.timings.namelookup
    }
    #[getter]
    fn connect_time(&self) -> f64 {
        self.0.timings.connect
    }
    #[getter]
    fn appconnect_time(&self) -> f64 {
        self.0.timings.appconnect
    }
    #[getter]
    fn pretransfer_time(&self) -> f64 {
        self.0.timings.pretransfer
    }
    #[getter]
    fn starttransfer_time(&self) -> f64 {
        self.0.timings.starttransfer
    }
    #[getter]
    fn download_size(&self) -> f64 {
        self.0.download_size
    }
    #[getter]
    fn upload_size(&self) -> f64 {
        self.0.upload_size
    }
    #[getter]
    fn primary_ip(&self) -> &str {
        &self.0.primary_ip
    }
    #[getter]
    fn start_time(&self) -> i64 {
        self.0.start_time
    }

    /// Sends this response's `http_metrics` through `ctx` (mite_http's message, built natively).
    #[pyo3(signature = (ctx, method, extra=None))]
    fn send_metrics(
        &self,
        ctx: &Bound<'_, Context>,
        method: &[u8],
        extra: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<()> {
        let py = ctx.py();
        if let Some(e) = extra {
            for k in HTTP_NAMES {
                if e.contains(k)? {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "send() got multiple values for keyword argument '{k}'"
                    )));
                }
            }
        }
        let fields = Fields::Http {
            transfer: &self.0,
            method,
            extra: extra.filter(|e| !e.is_empty()),
        };
        ctx.get()
            .send_with(py, intern!(py, "http_metrics").as_any(), fields, None)
    }

    /// `(name, value)` of the final header block (interim `1xx` blocks and the status line left out).
    fn headers_tuple<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let text = String::from_utf8_lossy(&self.0.header);
        let blocks: Vec<&str> = text
            .split("\r\n\r\n")
            .filter(|b| !b.trim().is_empty())
            .collect();
        let last = blocks.last().copied().unwrap_or("");
        let mut pairs = Vec::new();
        for line in last.split("\r\n").skip(1) {
            if line.is_empty() {
                continue;
            }
            let item = match line.split_once(": ") {
                Some((k, v)) => PyTuple::new(py, [k, v])?,
                None => PyTuple::new(py, [line])?,
            };
            pairs.push(item.into_bound_py_any(py)?);
        }
        PyTuple::new(py, pairs)
    }
}
