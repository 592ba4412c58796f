//! `@mite_http` itself: the decorated journey (`HttpJourney`) and the coroutine a call returns
//! (`JourneyCoro`). That coroutine opens the journey's session when first stepped, drives the
//! journey's own coroutine with `PyIter_Send`, and closes the session however it ends: what
//! `async def wrapper(ctx, *a, **kw): open; try: return await func(ctx, *a, **kw) finally: close`
//! did, without a Python frame, a coroutine and the `*args, **kwargs` repacking per journey.
use pyo3::exceptions::{PyRuntimeError, PyStopIteration, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pyo3::{intern, PyTraverseError, PyVisit};

use super::session::{JourneySessions, Session};
use crate::py::support::aio::{awaitable_iter, thrown};

/// A journey decorated with `@mite_http` (attributes such as `__name__`, `__wrapped__` and
/// fixture markers live in its `__dict__`, set by `functools.update_wrapper`).
#[pyclass(module = "mite_http", name = "HttpJourney", dict, weakref)]
pub struct HttpJourney {
    func: Py<PyAny>,
    sessions: Py<JourneySessions>,
}

#[pymethods]
impl HttpJourney {
    #[new]
    fn new(func: Py<PyAny>, sessions: Py<JourneySessions>) -> Self {
        HttpJourney { func, sessions }
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<JourneyCoro> {
        let (ctx, rest) = if !args.is_empty() {
            (args.get_item(0)?, args.get_slice(1, args.len()))
        } else {
            match kwargs.map(|k| k.get_item("ctx")).transpose()?.flatten() {
                Some(ctx) => {
                    let k = kwargs.expect("ctx came from kwargs");
                    k.del_item("ctx")?;
                    (ctx, PyTuple::empty(py))
                }
                None => {
                    return Err(PyTypeError::new_err(
                        "wrapper() missing 1 required positional argument: 'ctx'",
                    ))
                }
            }
        };
        Ok(JourneyCoro {
            func: self.func.clone_ref(py),
            sessions: self.sessions.clone_ref(py),
            ctx: ctx.unbind(),
            args: rest.unbind(),
            kwargs: kwargs.filter(|k| !k.is_empty()).map(|k| k.clone().unbind()),
            state: State::New,
        })
    }

    /// Methods decorated with `@mite_http` bind like functions.
    fn __get__(
        slf: &Bound<'_, Self>,
        obj: Option<&Bound<'_, PyAny>>,
        _owner: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        match obj.filter(|o| !o.is_none()) {
            None => Ok(slf.clone().into_any().unbind()),
            Some(o) => Ok(py
                .import("types")?
                .getattr("MethodType")?
                .call1((slf, o))?
                .unbind()),
        }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.func)?;
        visit.call(&self.sessions)
    }
}

enum State {
    New,
    Running {
        inner: Py<PyAny>,
        session: Py<Session>,
    },
    Done,
}

/// One run of a decorated journey.
#[pyclass(module = "mite_http", name = "JourneyCoroutine")]
pub struct JourneyCoro {
    func: Py<PyAny>,
    sessions: Py<JourneySessions>,
    ctx: Py<PyAny>,
    args: Py<PyTuple>,
    kwargs: Option<Py<PyDict>>,
    state: State,
}

impl JourneyCoro {
    /// Ends the run: the session is closed and `ctx.http` taken away, whatever happened.
    fn finish(&mut self, py: Python<'_>, outcome: PyResult<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        if let State::Running { session, .. } = std::mem::replace(&mut self.state, State::Done) {
            self.sessions
                .bind(py)
                .borrow()
                .close(self.ctx.bind(py), session.bind(py))?;
        }
        outcome
    }

    fn start(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let session = self
            .sessions
            .bind(py)
            .borrow_mut()
            .open(self.ctx.bind(py))?;
        let session = session.unbind();
        let func = self.func.bind(py);
        let ctx = self.ctx.bind(py);
        let args = self.args.bind(py);
        let called = if args.is_empty() && self.kwargs.is_none() {
            // The usual journey: `journey(ctx)`, a vectorcall without an argument tuple.
            func.call1((ctx,))
        } else {
            let mut call_args = Vec::with_capacity(1 + args.len());
            call_args.push(ctx.clone());
            call_args.extend(args.iter());
            func.call(
                PyTuple::new(py, call_args)?,
                self.kwargs.as_ref().map(|k| k.bind(py)),
            )
        }
        .and_then(awaitable_iter);
        match called {
            Ok(inner) => {
                self.state = State::Running {
                    inner: inner.unbind(),
                    session,
                };
                Ok(py.None())
            }
            Err(e) => {
                self.state = State::Running {
                    inner: py.None(),
                    session,
                };
                self.finish(py, Err(e))
            }
        }
    }

    fn step(&mut self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if matches!(self.state, State::New) {
            if !value.is_none() {
                return Err(PyTypeError::new_err(
                    "can't send non-None value to a just-started coroutine",
                ));
            }
            self.start(py)?;
        }
        let inner = match &self.state {
            State::Running { inner, .. } => inner.clone_ref(py),
            _ => {
                return Err(PyRuntimeError::new_err(
                    "cannot reuse already awaited coroutine",
                ))
            }
        };
        let mut result: *mut ffi::PyObject = std::ptr::null_mut();
        // SAFETY: inner is the journey's awaitable iterator and value a live object; result
        // receives a new reference (or stays NULL with an exception set on error).
        let status = unsafe { ffi::PyIter_Send(inner.as_ptr(), value.as_ptr(), &mut result) };
        match status {
            ffi::PySendResult::PYGEN_NEXT => {
                // SAFETY: a new reference from PyIter_Send.
                Ok(unsafe { Bound::from_owned_ptr(py, result) }.unbind())
            }
            ffi::PySendResult::PYGEN_RETURN => {
                // SAFETY: as above.
                let value = unsafe { Bound::from_owned_ptr(py, result) }.unbind();
                self.finish(py, Err(PyStopIteration::new_err((value,))))
            }
            ffi::PySendResult::PYGEN_ERROR => {
                let err = PyErr::fetch(py);
                self.finish(py, Err(err))
            }
        }
    }
}

#[pymethods]
impl JourneyCoro {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.step(py, &py.None().into_bound(py))
    }

    fn send(&mut self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.step(py, value)
    }

    #[pyo3(signature = (typ, val=None, tb=None))]
    fn throw(
        &mut self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let inner = match &self.state {
            State::Running { inner, .. } => inner.clone_ref(py),
            _ => {
                self.state = State::Done;
                return Err(thrown(typ, val, tb)?);
            }
        };
        let thrown = inner
            .bind(py)
            .call_method1(intern!(py, "throw"), (typ, val, tb));
        match thrown {
            Ok(yielded) => Ok(yielded.unbind()),
            Err(e) if e.is_instance_of::<PyStopIteration>(py) => {
                let value = e.value(py).getattr(intern!(py, "value"))?.unbind();
                self.finish(py, Err(PyStopIteration::new_err((value,))))
            }
            Err(e) => self.finish(py, Err(e)),
        }
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        let closed = match &self.state {
            State::Running { inner, .. } => {
                let inner = inner.clone_ref(py);
                match inner.bind(py).getattr(intern!(py, "close")) {
                    Ok(close) => close.call0().map(|_| ()),
                    Err(_) => Ok(()),
                }
            }
            _ => Ok(()),
        };
        self.finish(py, closed.map(|()| py.None())).map(|_| ())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.func)?;
        visit.call(&self.sessions)?;
        visit.call(&self.ctx)?;
        visit.call(&self.args)?;
        visit.call(&self.kwargs)?;
        if let State::Running { inner, session } = &self.state {
            visit.call(inner)?;
            visit.call(session)?;
        }
        Ok(())
    }
}
