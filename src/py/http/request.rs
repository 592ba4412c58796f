//! What `session.get(url, ...)` returns: a native coroutine. It checks the arguments as acurl's
//! `_outer_request` did (errors surface when awaited, as they did from the coroutine), submits
//! the transfer when first awaited and yields a `RequestFuture` (`future.rs`) to the task.
//! Resumed, it builds the `Response`, runs the callbacks (and `http_metrics`) inside the
//! awaiting task, and follows redirects. Two Python objects per request (this and its future)
//! instead of two coroutines, a `Request`, two response objects and a loop future.
use pyo3::exceptions::{PyRuntimeError, PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use pyo3::{PyTraverseError, PyVisit};

use super::acurl::{acurl_error, request_error};
use super::args::{method_bytes, plan, Args, Plan};
use super::engine::CurlEngine;
use super::future::RequestFuture;
use super::response::Response;
use super::session::Session;
use crate::py::support::aio::thrown;

// Not boxed: the state lives inside the Python object and moves only within it; a box would be
// one more allocation per request.
#[allow(clippy::large_enum_variant)]
enum State {
    /// Not awaited yet: the checked request, or the error to raise when awaited.
    New(PyResult<Plan>),
    /// Waiting for a transfer; `prev` is the redirect that led here.
    Waiting {
        plan: Plan,
        prev: Option<Py<Response>>,
    },
    Done,
}

#[pyclass(module = "acurl", name = "RequestCoroutine")]
pub struct RequestCoro {
    session: Py<Session>,
    state: State,
    /// What the awaiting task waits on (made at the first hop, reused by redirects).
    future: Option<Py<RequestFuture>>,
}

impl RequestCoro {
    pub fn new<'py>(
        session: &Bound<'py, Session>,
        method: Py<PyBytes>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Self> {
        Self::with_method(session, Some(method), url, kwargs)
    }

    pub fn with_method<'py>(
        session: &Bound<'py, Session>,
        method: Option<Py<PyBytes>>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Self> {
        let args = Args::parse(kwargs)?;
        Ok(RequestCoro {
            session: session.clone().unbind(),
            state: State::New(plan(session, method, url, args)),
            future: None,
        })
    }

    /// Starts the transfer for `plan`'s current hop; its future is then what to wait on.
    fn submit(slf: &Bound<'_, Self>, plan: &Plan) -> PyResult<()> {
        let py = slf.py();
        let (session, future) = {
            let this = slf.borrow();
            (
                this.session.clone_ref(py),
                this.future.as_ref().map(|f| f.clone_ref(py)),
            )
        };
        let (engine, id) = {
            let s = session.bind(py).borrow();
            (s.engine.clone_ref(py), s.id()?)
        };
        let future = match future {
            Some(f) => f,
            None => {
                let f = Py::new(py, RequestFuture::default())?;
                slf.borrow_mut().future = Some(f.clone_ref(py));
                f
            }
        };
        let event_loop =
            CurlEngine::submit(engine.bind(py), id, plan.spec.clone(), future.clone_ref(py))?;
        future.bind(py).borrow_mut().restart(event_loop);
        Ok(())
    }

    /// One step: the future to wait on (as `await future` yields it), or StopIteration carrying
    /// the response.
    fn step(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::advance(slf)?;
        let py = slf.py();
        let future = slf
            .borrow()
            .future
            .as_ref()
            .map(|f| f.clone_ref(py))
            .ok_or_else(|| PyRuntimeError::new_err("the request has not started"))?;
        // What `await future` sets before yielding it: the task then waits on it.
        future.bind(py).borrow_mut().blocking = true;
        Ok(future.into_any())
    }

    fn advance(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let state = std::mem::replace(&mut slf.borrow_mut().state, State::Done);
        let (mut plan, prev) = match state {
            State::Done => {
                return Err(PyRuntimeError::new_err(
                    "cannot reuse already awaited coroutine",
                ))
            }
            State::New(plan) => {
                let plan = plan?;
                Self::submit(slf, &plan)?;
                slf.borrow_mut().state = State::Waiting { plan, prev: None };
                return Ok(());
            }
            State::Waiting { plan, prev } => (plan, prev),
        };
        let outcome = slf
            .borrow()
            .future
            .as_ref()
            .and_then(|f| f.bind(py).borrow_mut().outcome.take());
        let transfer = match outcome {
            // Stepped before the transfer finished (not by its wake-up): wait on.
            None => {
                slf.borrow_mut().state = State::Waiting { plan, prev };
                return Ok(());
            }
            Some(Err(e)) => return Err(acurl_error(py, &e)?),
            Some(Ok(t)) => t,
        };
        let session = slf.borrow().session.clone_ref(py);
        let response = Bound::new(
            py,
            Response::new(
                transfer,
                plan.hop.clone_ref(py),
                plan.asked.clone(),
                session.clone_ref(py).into_any(),
            ),
        )?;
        Session::notify(session.bind(py), &response)?;
        if let Some(p) = prev {
            response.get().set_prev(p);
        }
        let r = response.get();
        if !(plan.allow_redirects && r.is_redirect()) {
            return Err(PyStopIteration::new_err(response.unbind()));
        }
        if plan.redirects_left <= 0.0 {
            return Err(request_error(py, "Max Redirects")?);
        }
        plan.redirects_left -= 1.0;
        if matches!(r.transfer.status, 301..=303) {
            plan.hop.method = method_bytes(py, b"GET")?;
            plan.hop.data = None;
            plan.spec.method = b"GET".to_vec();
            plan.spec.body = None;
        }
        let to = r.transfer.redirect_url.clone().unwrap_or_default();
        plan.hop.url = PyString::new(py, &to).into_any().unbind();
        plan.spec.url = to;
        Self::submit(slf, &plan)?;
        slf.borrow_mut().state = State::Waiting {
            plan,
            prev: Some(response.unbind()),
        };
        Ok(())
    }
}

#[pymethods]
impl RequestCoro {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::step(slf)
    }

    fn send(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if !value.is_none() && matches!(slf.borrow().state, State::New(_)) {
            return Err(PyTypeError::new_err(
                "can't send non-None value to a just-started coroutine",
            ));
        }
        Self::step(slf)
    }

    /// Raises `typ` (or `typ(val)`) here: the request is abandoned (its transfer finishes on
    /// the engine and is dropped).
    #[pyo3(signature = (typ, val=None, tb=None))]
    fn throw(
        &mut self,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.state = State::Done;
        Err(thrown(typ, val, tb)?)
    }

    fn close(&mut self) {
        self.state = State::Done;
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.session)?;
        if let State::Waiting { prev, .. } = &self.state {
            visit.call(prev)?;
        }
        visit.call(&self.future)?;
        Ok(())
    }

    fn __clear__(&mut self) {
        self.state = State::Done;
        self.future = None;
    }
}

/// acurl's request methods: each makes the coroutine above.
#[pymethods]
impl Session {
    #[pyo3(signature = (url, **kwargs))]
    fn get<'py>(
        slf: &Bound<'py, Self>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<RequestCoro> {
        verb(slf, b"GET", url, kwargs)
    }

    #[pyo3(signature = (url, **kwargs))]
    fn post<'py>(
        slf: &Bound<'py, Self>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<RequestCoro> {
        verb(slf, b"POST", url, kwargs)
    }

    #[pyo3(signature = (url, **kwargs))]
    fn put<'py>(
        slf: &Bound<'py, Self>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<RequestCoro> {
        verb(slf, b"PUT", url, kwargs)
    }

    #[pyo3(signature = (url, **kwargs))]
    fn patch<'py>(
        slf: &Bound<'py, Self>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<RequestCoro> {
        verb(slf, b"PATCH", url, kwargs)
    }

    #[pyo3(signature = (url, **kwargs))]
    fn delete<'py>(
        slf: &Bound<'py, Self>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<RequestCoro> {
        verb(slf, b"DELETE", url, kwargs)
    }

    #[pyo3(signature = (url, **kwargs))]
    fn head<'py>(
        slf: &Bound<'py, Self>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<RequestCoro> {
        verb(slf, b"HEAD", url, kwargs)
    }

    #[pyo3(signature = (url, **kwargs))]
    fn options<'py>(
        slf: &Bound<'py, Self>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<RequestCoro> {
        verb(slf, b"OPTIONS", url, kwargs)
    }

    /// acurl's generic entry point: `method` is bytes (`b"GET"`).
    #[pyo3(signature = (method, url, **kwargs))]
    fn _outer_request<'py>(
        slf: &Bound<'py, Self>,
        method: &Bound<'py, PyAny>,
        url: &Bound<'py, PyAny>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<RequestCoro> {
        let method = method.cast::<PyBytes>().ok().map(|m| m.clone().unbind());
        RequestCoro::with_method(slf, method, url, kwargs)
    }
}

fn verb<'py>(
    session: &Bound<'py, Session>,
    method: &'static [u8],
    url: &Bound<'py, PyAny>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<RequestCoro> {
    RequestCoro::new(session, method_bytes(session.py(), method)?, url, kwargs)
}
