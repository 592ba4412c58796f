//! `acurl.Session` (one cookie jar on one engine) and the journey sessions `@mite_http` hands
//! out: a session, found or made for the running loop, in one native call per journey. The
//! request methods (`get`, `post`, ...) are defined with the request they make (`request.rs`).
use std::collections::HashMap;

use pyo3::exceptions::{PyAttributeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use pyo3::{intern, PyTraverseError, PyVisit};

use super::acurl::helpers;
use super::engine::CurlEngine;
use super::metrics::send_http_metrics;
use super::response::Response;
use crate::http::SessionId;
use crate::py::context::ctx::Context;
use crate::py::support::aio::running_loop;

/// What `@mite_http` adds to a session: the context its `http_metrics` go to, the
/// `cb(response, additional_metrics)` callback and the metrics dict (made when first wanted).
struct JourneyHooks {
    ctx: Py<PyAny>,
    callback: Option<Py<PyAny>>,
    metrics: Option<Py<PyAny>>,
}

#[pyclass(module = "acurl", name = "Session", dict, weakref, subclass)]
pub struct Session {
    pub engine: Py<CurlEngine>,
    id: Option<SessionId>,
    pub timeout: Option<Py<PyAny>>,
    pub http_version: Option<Py<PyAny>>,
    pub verify: bool,
    response_callback: Option<Py<PyAny>>,
    journey: Option<JourneyHooks>,
}

impl Session {
    fn make(engine: &Bound<'_, CurlEngine>, verify: bool) -> PyResult<Self> {
        Ok(Session {
            engine: engine.clone().unbind(),
            id: Some(engine.borrow().open()?),
            timeout: None,
            http_version: None,
            verify,
            response_callback: None,
            journey: None,
        })
    }

    /// The session id, or an error once closed.
    pub fn id(&self) -> PyResult<SessionId> {
        self.id
            .ok_or_else(|| PyValueError::new_err("the session is closed"))
    }

    /// Runs the callbacks for one response: acurl's `response_callback(r)`, or for a journey
    /// session the journey's `cb(r, additional_metrics)` and then its `http_metrics` message.
    pub fn notify(slf: &Bound<'_, Self>, response: &Bound<'_, Response>) -> PyResult<()> {
        let py = slf.py();
        let (acurl_cb, ctx, cb) = {
            let s = slf.borrow();
            match &s.journey {
                None => (
                    s.response_callback.as_ref().map(|c| c.clone_ref(py)),
                    None,
                    None,
                ),
                Some(j) => (
                    None,
                    Some(j.ctx.clone_ref(py)),
                    j.callback.as_ref().map(|c| c.clone_ref(py)),
                ),
            }
        };
        if let Some(cb) = acurl_cb {
            cb.call1(py, (response,))?;
        }
        let Some(ctx) = ctx else {
            return Ok(());
        };
        if let Some(cb) = cb {
            let metrics = Self::metrics(slf)?;
            cb.call1(py, (response, metrics))?;
        }
        let metrics = slf
            .borrow()
            .journey
            .as_ref()
            .and_then(|j| j.metrics.as_ref().map(|m| m.clone_ref(py)));
        let r = response.get();
        send_http_metrics(
            ctx.bind(py),
            &r.transfer,
            r.hop.method.bind(py).as_bytes(),
            metrics.as_ref().map(|m| m.bind(py)),
        )
    }

    /// The journey's `additional_metrics`, made when first asked for.
    fn metrics(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let mut s = slf.borrow_mut();
        let Some(j) = s.journey.as_mut() else {
            return Err(PyAttributeError::new_err(
                "'Session' object has no attribute 'additional_metrics'",
            ));
        };
        Ok(j.metrics
            .get_or_insert_with(|| PyDict::new(py).into_any().unbind())
            .clone_ref(py))
    }

    fn close_now(&mut self, py: Python<'_>) {
        if let Some(id) = self.id.take() {
            if let Ok(engine) = self.engine.bind(py).try_borrow() {
                engine.close_session(id);
            }
        }
    }
}

fn cookie_dict<'py>(py: Python<'py>, lines: Vec<String>) -> PyResult<Bound<'py, PyAny>> {
    let parse = helpers(py)?.parse_cookie_string.bind(py);
    let d = PyDict::new(py);
    for line in lines {
        let c = parse.call1((line,))?;
        d.set_item(
            c.getattr(intern!(py, "name"))?,
            c.getattr(intern!(py, "value"))?,
        )?;
    }
    Ok(d.into_any())
}

#[pymethods]
impl Session {
    /// `Session(wrapper, timeout=None, http_version=None, verify=False)`; `wrapper` is the
    /// `CurlWrapper` (or anything with its `_engine`).
    #[new]
    #[pyo3(signature = (wrapper, timeout=None, http_version=None, verify=false))]
    fn new(
        wrapper: &Bound<'_, PyAny>,
        timeout: Option<Py<PyAny>>,
        http_version: Option<Py<PyAny>>,
        verify: bool,
    ) -> PyResult<Self> {
        let engine = match wrapper.cast::<CurlEngine>() {
            Ok(e) => e.clone(),
            Err(_) => wrapper
                .getattr(intern!(wrapper.py(), "_engine"))?
                .cast_into::<CurlEngine>()?,
        };
        let mut s = Session::make(&engine, verify)?;
        s.timeout = timeout;
        s.http_version = http_version;
        Ok(s)
    }

    /// Releases the cookie jar (also done when the session is collected).
    fn close(&mut self, py: Python<'_>) {
        self.close_now(py);
    }

    /// The jar's cookie-file lines (none once the session is closed).
    fn _cookie_lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.id {
            None => Ok(PyTuple::empty(py).into_any()),
            Some(id) => {
                let lines = self.engine.bind(py).borrow().cookies(py, id)?;
                Ok(PyList::new(py, lines)?.into_any())
            }
        }
    }

    /// name -> value of every cookie in the session's jar.
    fn cookies<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let lines = match self.id {
            None => Vec::new(),
            Some(id) => self.engine.bind(py).borrow().cookies(py, id)?,
        };
        cookie_dict(py, lines)
    }

    fn erase_all_cookies(&self, py: Python<'_>) -> PyResult<()> {
        self.engine.bind(py).borrow().erase_cookies(self.id()?)
    }

    /// acurl: `cb(response)` after each response. On a journey's session (`ctx.http`):
    /// `cb(response, additional_metrics)` before each `http_metrics` message.
    fn set_response_callback(&mut self, callback: Option<Py<PyAny>>) {
        match &mut self.journey {
            Some(j) => j.callback = callback,
            None => self.response_callback = callback,
        }
    }

    #[getter(response_callback)]
    fn get_response_callback(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.response_callback.as_ref().map(|c| c.clone_ref(py))
    }

    #[setter(response_callback)]
    fn set_response_callback_attr(&mut self, callback: Option<Py<PyAny>>) {
        self.response_callback = callback;
    }

    /// A journey session's extra `http_metrics` fields (kept for the whole journey).
    #[getter]
    fn additional_metrics(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Self::metrics(slf)
    }

    #[setter]
    fn set_additional_metrics(&mut self, value: Py<PyAny>) -> PyResult<()> {
        match &mut self.journey {
            Some(j) => {
                j.metrics = Some(value);
                Ok(())
            }
            None => Err(PyAttributeError::new_err(
                "'Session' object has no attribute 'additional_metrics'",
            )),
        }
    }

    /// Ends a journey's session: forgets its context and callback, releases the jar.
    fn _release(&mut self, py: Python<'_>) {
        self.journey = None;
        self.response_callback = None;
        self.close_now(py);
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.engine)?;
        visit.call(&self.timeout)?;
        visit.call(&self.http_version)?;
        visit.call(&self.response_callback)?;
        if let Some(j) = &self.journey {
            visit.call(&j.ctx)?;
            visit.call(&j.callback)?;
            visit.call(&j.metrics)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.response_callback = None;
        self.journey = None;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.id.is_some() {
            Python::attach(|py| self.close_now(py));
        }
    }
}

/// One loop's engine: the loop (kept alive), its `CurlWrapper`, the engine, TLS checks on.
struct LoopEntry {
    event_loop: Py<PyAny>,
    wrapper: Py<PyAny>,
    engine: Py<CurlEngine>,
    verify: bool,
}

/// The engines `@mite_http` journeys use: one per event loop, made by `factory(loop)`
/// (which returns `(CurlWrapper, verify)`) the first time a loop is seen.
#[pyclass(module = "mite._native")]
pub struct JourneySessions {
    factory: Py<PyAny>,
    /// Keyed by the loop's address; the loop is kept alive by the entry, so it is not reused.
    engines: HashMap<usize, LoopEntry>,
    last: Option<(usize, Py<CurlEngine>, bool)>,
}

#[pymethods]
impl JourneySessions {
    #[new]
    fn new(factory: Py<PyAny>) -> Self {
        JourneySessions {
            factory,
            engines: HashMap::new(),
            last: None,
        }
    }

    /// A fresh session (empty jar) for the journey on the running loop, set as `ctx.http`.
    pub fn open<'py>(&mut self, ctx: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Session>> {
        let py = ctx.py();
        let runner_loop = ctx
            .cast::<Context>()
            .ok()
            .and_then(|c| c.get().known_loop(py));
        let loop_ = match runner_loop {
            Some(l) => l,
            None => running_loop(py)?,
        };
        let key = loop_.as_ptr() as usize;
        let (engine, verify) = match &self.last {
            Some((k, e, v)) if *k == key => (e.clone_ref(py), *v),
            _ => {
                if !self.engines.contains_key(&key) {
                    let made = self.factory.bind(py).call1((&loop_,))?;
                    let (wrapper, verify): (Bound<PyAny>, bool) = made.extract()?;
                    let engine = wrapper
                        .getattr(intern!(py, "_engine"))?
                        .cast_into::<CurlEngine>()?;
                    self.engines.insert(
                        key,
                        LoopEntry {
                            event_loop: loop_.unbind(),
                            wrapper: wrapper.unbind(),
                            engine: engine.unbind(),
                            verify,
                        },
                    );
                }
                let e = &self.engines[&key];
                self.last = Some((key, e.engine.clone_ref(py), e.verify));
                (e.engine.clone_ref(py), e.verify)
            }
        };
        let mut s = Session::make(engine.bind(py), verify)?;
        s.journey = Some(JourneyHooks {
            ctx: ctx.clone().unbind(),
            callback: None,
            metrics: None,
        });
        let s = Bound::new(py, s)?;
        ctx.setattr(intern!(py, "http"), &s)?;
        Ok(s)
    }

    /// Ends the journey's session and takes `ctx.http` away (even when the journey raised).
    pub fn close(&self, ctx: &Bound<'_, PyAny>, session: &Bound<'_, Session>) -> PyResult<()> {
        session.borrow_mut()._release(ctx.py());
        ctx.delattr(intern!(ctx.py(), "http"))
    }

    /// The `CurlWrapper` made for `loop`, if any.
    fn wrapper_for(&self, py: Python<'_>, r#loop: &Bound<'_, PyAny>) -> Option<Py<PyAny>> {
        self.engines
            .get(&(r#loop.as_ptr() as usize))
            .map(|e| e.wrapper.clone_ref(py))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.factory)?;
        if let Some((_, e, _)) = &self.last {
            visit.call(e)?;
        }
        for e in self.engines.values() {
            visit.call(&e.event_loop)?;
            visit.call(&e.wrapper)?;
            visit.call(&e.engine)?;
        }
        Ok(())
    }
}
