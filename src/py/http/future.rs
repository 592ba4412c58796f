//! What a task waiting on an HTTP request waits on: asyncio's future protocol (the task yields
//! it, registers its wake-up with `add_done_callback`, reads `result()`), kept native.
//! `CurlEngine.drain` (`engine.rs`) puts the transfer's outcome here and runs the wake-ups at once.
//!
//! NOTE: not an asyncio Future. That would cost, per request, the Future, the `call_soon` handle
//! its `set_result` schedules and a pass of that handle through the loop's ready queue before the
//! task is stepped; here `drain` steps the task directly, in the task's context, as the future's
//! callback would have one iteration later. It is a separate object from the request coroutine
//! because asyncio (`ensure_future`, `gather`) takes anything with `_asyncio_future_blocking` for
//! a future, and the coroutine must stay a coroutine to them.
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::{intern, PyTraverseError, PyVisit};

use crate::http::{Transfer, TransferError};
use crate::py::support::aio::{cancelled_error, invalid_state};

type Callbacks = Vec<(Py<PyAny>, Option<Py<PyAny>>)>;

#[pyclass(module = "acurl", name = "RequestFuture")]
#[derive(Default)]
pub struct RequestFuture {
    /// The loop the engine resolves on (`get_loop()`).
    event_loop: Option<Py<PyAny>>,
    /// `(callback, context)` pairs from `add_done_callback`.
    callbacks: Callbacks,
    pub blocking: bool,
    /// `cancel(msg)` was called: the message.
    cancelled: Option<Option<Py<PyAny>>>,
    /// The transfer's outcome, until the request coroutine takes it.
    pub outcome: Option<Result<Transfer, TransferError>>,
}

impl RequestFuture {
    /// Waits for a new transfer (the first, or a redirect's).
    pub fn restart(&mut self, event_loop: Py<PyAny>) {
        *self = RequestFuture {
            event_loop: Some(event_loop),
            ..RequestFuture::default()
        };
    }

    /// The transfer is over: keeps its outcome and takes the wake-ups to run.
    pub fn complete(&mut self, outcome: Result<Transfer, TransferError>) -> Callbacks {
        if self.cancelled.is_some() {
            return Vec::new(); // abandoned: nobody waits for it
        }
        self.outcome = Some(outcome);
        std::mem::take(&mut self.callbacks)
    }

    fn is_done(&self) -> bool {
        self.cancelled.is_some() || self.outcome.is_some()
    }

    fn event_loop(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.event_loop
            .as_ref()
            .map(|l| l.clone_ref(py))
            .ok_or_else(|| PyRuntimeError::new_err("the request has not started"))
    }

    /// `loop.call_soon(callback, self, context=context)`.
    fn schedule(
        slf: &Bound<'_, Self>,
        event_loop: &Py<PyAny>,
        callback: Py<PyAny>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let py = slf.py();
        let kwargs = PyDict::new(py);
        kwargs.set_item("context", context)?;
        event_loop.call_method(py, intern!(py, "call_soon"), (callback, slf), Some(&kwargs))?;
        Ok(())
    }
}

#[pymethods]
impl RequestFuture {
    #[getter(_asyncio_future_blocking)]
    fn future_blocking(&self) -> bool {
        self.blocking
    }

    #[setter(_asyncio_future_blocking)]
    fn set_future_blocking(&mut self, value: bool) {
        self.blocking = value;
    }

    fn get_loop(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.event_loop(py)
    }

    #[pyo3(signature = (callback, *, context=None))]
    fn add_done_callback(
        slf: &Bound<'_, Self>,
        callback: Py<PyAny>,
        context: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let py = slf.py();
        let mut this = slf.borrow_mut();
        if !this.is_done() {
            this.callbacks.push((callback, context));
            return Ok(());
        }
        // Done already: scheduled at once, as asyncio's futures do.
        let event_loop = this.event_loop(py)?;
        drop(this);
        Self::schedule(slf, &event_loop, callback, context)
    }

    fn remove_done_callback(&mut self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> usize {
        let before = self.callbacks.len();
        self.callbacks
            .retain(|(c, _)| !c.bind(py).eq(callback).unwrap_or(false));
        before - self.callbacks.len()
    }

    fn done(&self) -> bool {
        self.is_done()
    }

    fn cancelled(&self) -> bool {
        self.cancelled.is_some()
    }

    /// The task stops waiting: its wake-ups are scheduled and `result()` raises CancelledError
    /// (the transfer itself finishes on the engine and is dropped).
    #[pyo3(signature = (msg=None))]
    fn cancel(slf: &Bound<'_, Self>, msg: Option<Py<PyAny>>) -> PyResult<bool> {
        let py = slf.py();
        let mut this = slf.borrow_mut();
        if this.is_done() {
            return Ok(false);
        }
        this.cancelled = Some(msg);
        let callbacks = std::mem::take(&mut this.callbacks);
        let event_loop = this.event_loop(py)?;
        drop(this);
        for (callback, context) in callbacks {
            Self::schedule(slf, &event_loop, callback, context)?;
        }
        Ok(true)
    }

    /// None once the transfer is done (the response comes from the request's next step).
    fn result(&self, py: Python<'_>) -> PyResult<()> {
        if let Some(msg) = &self.cancelled {
            return Err(cancelled_error(py, msg.as_ref())?);
        }
        if self.outcome.is_none() {
            return Err(invalid_state(py, "Result is not ready.")?);
        }
        Ok(())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.event_loop)?;
        for (c, ctx) in &self.callbacks {
            visit.call(c)?;
            visit.call(ctx)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.callbacks.clear();
        self.event_loop = None;
    }
}
