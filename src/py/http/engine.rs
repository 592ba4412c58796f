//! `CurlEngine`: the loop thread's handle to one HTTP engine thread (`crate::http::Engine`). It
//! submits requests and, when the engine's eventfd fires, hands each finished transfer to the
//! `RequestFuture` waiting on it and steps the waiting task at once.
use std::collections::HashMap;

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;

use super::future::RequestFuture;
use crate::http::{Engine, RequestSpec, SessionId};
use crate::py::support::aio::run_in_context;

/// One libcurl engine thread and the requests waiting on it. Used from the loop thread (a
/// session's finaliser may run on another thread; closing a session is only a channel send).
#[pyclass(module = "mite._native")]
pub struct CurlEngine {
    engine: Option<Engine>,
    loop_: Py<PyAny>,
    /// The request waiting on each transfer in flight.
    pending: HashMap<u64, Py<RequestFuture>>,
    next_token: u64,
}

impl CurlEngine {
    fn engine(&self) -> PyResult<&Engine> {
        self.engine
            .as_ref()
            .ok_or_else(|| PyOSError::new_err("the HTTP engine is closed"))
    }

    /// Starts a transfer whose outcome `drain` hands to `future`. Returns the loop.
    pub fn submit(
        slf: &Bound<'_, Self>,
        session: SessionId,
        spec: RequestSpec,
        future: Py<RequestFuture>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let mut this = slf.borrow_mut();
        let start = crate::report::log::unix_now() as i64;
        let token = this.next_token;
        let engine = this.engine()?;
        // NOTE: woken at once (a no-op while the engine thread is busy, which it nearly always
        // is under load). Deferring the wake-up to the end of the loop iteration (one
        // `call_soon` per iteration) was measured too: no gain in requests/s over alternating
        // runs, and a handle per iteration more on the loop thread.
        engine.submit(token, session, spec, start);
        engine.wake();
        this.next_token += 1;
        this.pending.insert(token, future);
        Ok(this.loop_.clone_ref(py))
    }

    pub fn open(&self) -> PyResult<SessionId> {
        Ok(self.engine()?.open_session())
    }
}

#[pymethods]
impl CurlEngine {
    #[new]
    fn new(loop_: Py<PyAny>) -> PyResult<Self> {
        let engine = Engine::start().map_err(|e| PyOSError::new_err(e.to_string()))?;
        Ok(CurlEngine {
            engine: Some(engine),
            loop_,
            pending: HashMap::new(),
            next_token: 1,
        })
    }

    /// The descriptor to watch with `loop.add_reader(fd, engine.drain)`.
    #[getter]
    fn fd(&self) -> PyResult<i32> {
        Ok(self.engine()?.fd())
    }

    /// The event loop this engine resolves futures on.
    #[getter(r#loop)]
    fn event_loop(&self, py: Python<'_>) -> Py<PyAny> {
        self.loop_.clone_ref(py)
    }

    fn open_session(&self) -> PyResult<SessionId> {
        self.open()
    }

    pub fn close_session(&self, session: SessionId) {
        if let Some(e) = &self.engine {
            e.close_session(session);
        }
    }

    /// The session's cookie-file lines.
    pub fn cookies(&self, py: Python<'_>, session: SessionId) -> PyResult<Vec<String>> {
        let e = self.engine()?;
        Ok(py.detach(|| e.cookies(session)))
    }

    pub fn erase_cookies(&self, session: SessionId) -> PyResult<()> {
        self.engine()?.erase_cookies(session);
        Ok(())
    }

    /// Hands every finished transfer to its request and wakes its task (the eventfd's reader
    /// callback).
    fn drain(slf: &Bound<'_, Self>, py: Python<'_>) -> PyResult<()> {
        let mut this = slf.borrow_mut();
        let done = match &this.engine {
            Some(e) => e.take_done(),
            None => return Ok(()),
        };
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

    /// Requests still in flight.
    #[getter]
    fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Stops the engine thread (in-flight requests are left unresolved).
    fn close(&mut self) {
        self.engine = None;
    }
}

/// Whether `drain` yields the CPU after waking tasks: on unless `MITE_HTTP_YIELD=0`.
fn yield_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("MITE_HTTP_YIELD").map_or(true, |v| v.trim() != "0"))
}
