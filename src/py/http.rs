//! The HTTP engine for Python: `CurlEngine` (one per event loop) submits requests and resolves
//! their futures on the loop thread, and `http_metrics` is written from libcurl's numbers here.
//! The objects journeys touch live beside it: `http_session.rs` (acurl's `Session`),
//! `http_request.rs` (the awaitable a request is), `http_response.rs` (acurl's `Response`).
use std::collections::HashMap;
use std::time::Instant;

use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict};
use pyo3::{intern, IntoPyObjectExt};

use super::context::{Context, Fields};
use super::http_future::{run_in_context, RequestFuture};
use crate::http::{Engine, InlineEngine, RequestSpec, SessionId, Transfer, TransferError};

/// A Python object found once by module and name (acurl's helpers, `json`, asyncio).
pub(crate) fn lookup<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<&'py Bound<'py, PyAny>> {
    Ok(cell
        .get_or_try_init(py, || py.import(module)?.getattr(name).map(Bound::unbind))?
        .bind(py))
}

/// `acurl.AcurlError(message, code)` for a transfer libcurl could not complete.
pub(crate) fn acurl_error(py: Python<'_>, e: &TransferError) -> PyResult<PyErr> {
    static ACURL_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cls = lookup(py, &ACURL_ERROR, "acurl._errors", "AcurlError")?;
    Ok(PyErr::from_value(cls.call1((e.to_string(), e.code))?))
}

/// One libcurl engine and the requests waiting on it. Used from the loop thread (a session's
/// finaliser may run on another thread; closing a session is only a channel send).
#[pyclass(module = "mite._native")]
pub struct CurlEngine {
    engine: Option<Backend>,
    loop_: Py<PyAny>,
    /// The request waiting on each transfer in flight.
    pending: HashMap<u64, Py<RequestFuture>>,
    next_token: u64,
    /// Loop-thread mode: the pending `call_later` for libcurl's timer (and when it fires), and
    /// whether a pump is queued.
    timer: Option<(Py<PyAny>, Instant)>,
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

impl CurlEngine {
    fn backend(&self) -> PyResult<&Backend> {
        self.engine
            .as_ref()
            .ok_or_else(|| PyOSError::new_err("the HTTP engine is closed"))
    }

    fn inline(e: &LoopEngine) -> std::sync::MutexGuard<'_, InlineEngine> {
        e.0.lock().expect("inline engine lock")
    }

    /// Starts a transfer whose outcome `drain` hands to `future`. Returns the loop.
    pub(crate) fn submit(
        slf: &Bound<'_, Self>,
        session: SessionId,
        spec: RequestSpec,
        future: Py<RequestFuture>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let mut this = slf.borrow_mut();
        let start = crate::report::log::unix_now() as i64;
        let token = this.next_token;
        let queue_pump = match this.backend()? {
            Backend::Thread(e) => {
                // NOTE: woken at once (a no-op while the engine thread is busy, which it nearly
                // always is under load). Deferring the wake-up to the end of the loop iteration
                // (one `call_soon` per iteration) was measured too: no gain in requests/s over
                // alternating runs, and a handle per iteration more on the loop thread.
                e.submit(token, session, spec, start);
                e.wake();
                false
            }
            Backend::Inline(e) => {
                // NOTE: started by one pump per loop iteration. Starting each transfer inside
                // `submit` instead (no extra iteration, no handle) measured no better: 9,853–
                // 13,342 requests/s over five runs, against 10,421–18,888 before.
                Self::inline(e).submit(token, session, &spec, start);
                !this.pump_queued
            }
        };
        this.next_token += 1;
        this.pending.insert(token, future);
        let event_loop = this.loop_.clone_ref(py);
        if queue_pump {
            // One pump per loop iteration starts every request submitted in it.
            this.pump_queued = true;
            drop(this);
            event_loop.bind(py).call_method1(
                intern!(py, "call_soon"),
                (slf.getattr(intern!(py, "drain"))?,),
            )?;
        }
        Ok(event_loop)
    }

    /// Loop-thread mode: makes sure `drain` runs by libcurl's next deadline.
    ///
    /// NOTE: a timer already armed at or before that deadline is kept (firing early only
    /// costs an empty pump, which re-arms); cancelling and re-creating the `call_later` handle
    /// after every pump cost a handle per loop iteration.
    fn arm_timer(
        slf: &Bound<'_, Self>,
        this: &mut PyRefMut<'_, Self>,
        next: Option<Instant>,
    ) -> PyResult<()> {
        let py = slf.py();
        let Some(at) = next else {
            return Ok(());
        };
        if let Some((_, armed)) = &this.timer {
            if *armed <= at {
                return Ok(());
            }
        }
        if let Some((old, _)) = this.timer.take() {
            old.bind(py).call_method0(intern!(py, "cancel"))?;
        }
        let delay = at.saturating_duration_since(Instant::now()).as_secs_f64();
        let fire = slf.getattr(intern!(py, "_timer_fired"))?;
        let handle = this
            .loop_
            .bind(py)
            .call_method1(intern!(py, "call_later"), (delay, fire))?;
        this.timer = Some((handle.unbind(), at));
        Ok(())
    }

    pub(crate) fn open(&self) -> PyResult<SessionId> {
        Ok(match self.backend()? {
            Backend::Thread(e) => e.open_session(),
            Backend::Inline(e) => Self::inline(e).open_session(),
        })
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

    /// The event loop this engine resolves futures on.
    #[getter(r#loop)]
    fn event_loop(&self, py: Python<'_>) -> Py<PyAny> {
        self.loop_.clone_ref(py)
    }

    fn open_session(&self) -> PyResult<SessionId> {
        self.open()
    }

    pub(crate) fn close_session(&self, session: SessionId) {
        match &self.engine {
            Some(Backend::Thread(e)) => e.close_session(session),
            Some(Backend::Inline(e)) => Self::inline(e).close_session(session),
            None => {}
        }
    }

    /// The session's cookie-file lines.
    pub(crate) fn cookies(&self, py: Python<'_>, session: SessionId) -> PyResult<Vec<String>> {
        Ok(match self.backend()? {
            Backend::Thread(e) => py.detach(|| e.cookies(session)),
            Backend::Inline(e) => Self::inline(e).cookies(session),
        })
    }

    pub(crate) fn erase_cookies(&self, session: SessionId) -> PyResult<()> {
        match self.backend()? {
            Backend::Thread(e) => e.erase_cookies(session),
            Backend::Inline(e) => Self::inline(e).erase_cookies(session),
        }
        Ok(())
    }

    /// Hands every finished transfer to its request and wakes its task (the eventfd's reader
    /// callback). In loop-thread mode it first drives libcurl, then re-arms libcurl's timer.
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
            Self::arm_timer(slf, &mut this, next)?;
        }
        let mut wake = Vec::with_capacity(done.len());
        for c in done {
            let Some(future) = this.pending.remove(&c.token) else {
                continue;
            };
            let callbacks = match future.bind(py).try_borrow_mut() {
                Ok(mut f) => f.complete(c.result),
                Err(_) => continue,
            };
            wake.push((future, callbacks));
        }
        drop(this);
        let yield_after = !wake.is_empty() && yield_enabled();
        // Each waiting task is stepped here, in its own context, as a future's done-callbacks
        // would be (one loop iteration later).
        for (future, callbacks) in wake {
            for (callback, context) in callbacks {
                if let Err(e) = run_in_context(py, &callback, context.as_ref(), future.bind(py)) {
                    e.write_unraisable(py, Some(future.bind(py).as_any()));
                }
            }
        }
        if yield_after {
            // NOTE: lets a thread waiting for this CPU run now instead of after the loop's next
            // stretch of work. On the perf journey (2 vCPUs, nginx beside mite), `perf sched
            // timehist` showed nginx and the loop thread stacked on one CPU, nginx waiting up to
            // ~1.2 ms for it, while the libcurl thread's CPU sat idle waiting for nginx's
            // answers: 19-21% of the machine idle (`vmstat`). With the yield: 15-16%, and
            // requests/s higher in 9 of 10 alternating rounds (median +5.7%). When nothing else
            // waits for the CPU it is one cheap system call per batch of completions.
            // SAFETY: no arguments; cannot fail on Linux.
            unsafe { libc::sched_yield() };
        }
        Ok(())
    }

    /// Loop-thread mode: libcurl's timer is due (the `call_later` armed by `drain`).
    fn _timer_fired(slf: &Bound<'_, Self>, py: Python<'_>) -> PyResult<()> {
        slf.borrow_mut().timer = None;
        Self::drain(slf, py)
    }

    /// Requests still in flight.
    #[getter]
    fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Stops the engine (in-flight requests are left unresolved).
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some((t, _)) = self.timer.take() {
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
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
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

/// Sends one response's `http_metrics` through `ctx` with the response callback's fields:
/// written straight to msgpack for mite's own context, as `ctx.send(...)` for any other.
pub fn send_http_metrics(
    ctx: &Bound<'_, PyAny>,
    t: &Transfer,
    method: &[u8],
    extra: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let py = ctx.py();
    let extra = match extra {
        None => None,
        Some(e) => match e.cast::<PyDict>() {
            Ok(d) => Some(d.clone()),
            // Any mapping works with `**`, as in mite 2.11.
            Err(_) => Some(PyDict::from_sequence(
                &e.call_method0(intern!(py, "items"))?,
            )?),
        },
    };
    let extra = extra.filter(|e| !e.is_empty());
    if let Some(e) = &extra {
        for k in HTTP_NAMES {
            if e.contains(k)? {
                return Err(PyTypeError::new_err(format!(
                    "send() got multiple values for keyword argument '{k}'"
                )));
            }
        }
    }
    match ctx.cast::<Context>() {
        Ok(native) => {
            let fields = Fields::Http {
                transfer: t,
                method,
                extra: extra.as_ref(),
            };
            native
                .get()
                .send_with(py, intern!(py, "http_metrics").as_any(), fields, None)
        }
        Err(_) => {
            let kwargs = http_fields_dict(py, t, method)?;
            if let Some(e) = &extra {
                kwargs.update(e.as_mapping())?;
            }
            ctx.call_method(intern!(py, "send"), ("http_metrics",), Some(&kwargs))?;
            Ok(())
        }
    }
}

/// Whether `drain` yields the CPU after waking tasks: on unless `MITE_HTTP_YIELD=0`.
fn yield_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("MITE_HTTP_YIELD").map_or(true, |v| v.trim() != "0"))
}
