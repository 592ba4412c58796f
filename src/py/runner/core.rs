//! The runner's hot path: start journeys as asyncio tasks and account for their completion,
//! with the root transaction opened and closed here instead of in a wrapper coroutine.
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyList, PySet, PyString, PyTuple};

use super::leased::Arrivals;
use crate::py::context::ctx::{Context, Ids, StopSource, Target};
use crate::py::context::sink::MessageSink;
use crate::py::context::transaction::{classify, report_exception, send_txn};
use crate::py::support::txnvar;
use crate::report::log::unix_now;

fn root_name(py: Python<'_>) -> &Bound<'_, PyString> {
    static ROOT: pyo3::sync::PyOnceLock<Py<PyString>> = pyo3::sync::PyOnceLock::new();
    ROOT.get_or_init(py, || PyString::intern(py, "__root__").unbind())
        .bind(py)
}

/// A journey function and whether it needs the Python wrapper (fixtures, `--debugging`).
struct Journey {
    func: Py<PyAny>,
    spec: Py<PyString>,
    wrapped: bool,
}

#[pyclass(module = "mite._native")]
pub struct RunnerCore {
    pub(super) sink: Py<PyAny>,
    config: Py<PyAny>,
    pub(super) test: Py<PyAny>,
    pub(super) runner_id: Py<PyAny>,
    debug: bool,
    stop: Arc<AtomicBool>,
    pub(super) work: BTreeMap<i64, i64>,
    pub(super) completed: Vec<(i64, Py<PyAny>)>,
    next_context_id: i64,
    journeys: HashMap<String, Arc<Journey>>,
    create_task: Py<PyAny>,
    /// The loop `create_task` belongs to (its `__self__`), given to every context.
    pub(super) event_loop: Option<Py<PyAny>>,
    spec_import: Py<PyAny>,
    /// `async def wrapper(ctx, journey, args)` for journeys that need Python around them.
    wrapper: Py<PyAny>,
    waiter: Option<Py<PyAny>>,
    /// A BaseException (not Exception) that escaped a journey: the runner re-raises it.
    pub(super) fatal: Option<Py<PyAny>>,
    /// The running journeys' tasks. asyncio keeps only weak references to tasks, so a task
    /// whose awaited future is reachable only from the task itself (a connection handshake,
    /// say) could be collected by the cycle GC mid-journey and its journey never finish.
    tasks: Py<PySet>,
    /// Arrival-rate journeys leased to this runner, and the timer that starts them.
    pub(super) arrivals: Arrivals,
}

#[pymethods]
impl RunnerCore {
    #[new]
    #[pyo3(signature = (sink, config, test, runner_id, create_task, spec_import, wrapper, debug=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        sink: Py<PyAny>,
        config: Py<PyAny>,
        test: Py<PyAny>,
        runner_id: Py<PyAny>,
        create_task: Py<PyAny>,
        spec_import: Py<PyAny>,
        wrapper: Py<PyAny>,
        debug: bool,
    ) -> PyResult<Self> {
        let event_loop = create_task
            .bind(py)
            .getattr("__self__")
            .ok()
            .map(Bound::unbind);
        Ok(RunnerCore {
            sink,
            config,
            test,
            runner_id,
            debug,
            stop: Arc::new(AtomicBool::new(false)),
            work: BTreeMap::new(),
            completed: Vec::new(),
            next_context_id: 1,
            journeys: HashMap::new(),
            create_task,
            event_loop,
            spec_import,
            wrapper,
            waiter: None,
            fatal: None,
            tasks: PySet::empty(py)?.unbind(),
            arrivals: Arrivals::default(),
        })
    }

    /// Starts one task per `(scenario_id, scenario_data_id, journey_spec, args)`.
    fn spawn(slf: &Bound<'_, Self>, work: &Bound<'_, PyAny>) -> PyResult<()> {
        for item in work.try_iter()? {
            let item = item?;
            let (scenario_id, data_id, spec, args): (i64, Bound<PyAny>, String, Bound<PyAny>) =
                item.extract()?;
            Self::spawn_one(slf, scenario_id, data_id, &spec, args, None)?;
        }
        Ok(())
    }

    /// Journeys running now, per scenario id.
    fn current_work(&self) -> BTreeMap<i64, i64> {
        self.work.clone()
    }

    /// Number of journeys running now.
    fn running(&self) -> i64 {
        self.work.values().sum()
    }

    /// `(scenario_id, scenario_data_id)` of journeys finished since the last call.
    fn take_completed<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let done = std::mem::take(&mut self.completed);
        PyList::new(py, done)
    }

    /// The future the next completion resolves (the runner also arms a timeout on it).
    fn set_waiter(&mut self, fut: Py<PyAny>) {
        self.waiter = Some(fut);
    }

    /// A BaseException that escaped a journey, if any.
    fn take_fatal(&mut self) -> Option<Py<PyAny>> {
        self.fatal.take()
    }

    fn set_stop(&self, stop: bool) {
        self.stop.store(stop, Ordering::Relaxed);
    }

    #[getter]
    pub(super) fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

impl RunnerCore {
    /// Starts one journey as a task. `start` (unix seconds) is its root transaction's start
    /// when it was scheduled for then (an arrival-rate journey); otherwise now.
    pub(super) fn spawn_one(
        slf: &Bound<'_, Self>,
        scenario_id: i64,
        data_id: Bound<'_, PyAny>,
        spec: &str,
        args: Bound<'_, PyAny>,
        start: Option<f64>,
    ) -> PyResult<()> {
        let py = slf.py();
        let journey = slf.borrow_mut().journey(py, spec)?;
        let ctx = slf
            .borrow_mut()
            .context(py, scenario_id, &data_id, &journey)?;
        let args = if args.is_none() {
            PyTuple::empty(py)
        } else {
            PyTuple::new(py, args.try_iter()?.collect::<PyResult<Vec<_>>>()?)?
        };
        let (task, root) = if journey.wrapped {
            let coro =
                slf.borrow()
                    .wrapper
                    .bind(py)
                    .call1((ctx.bind(py), journey.func.bind(py), args))?;
            (slf.borrow().create_task.bind(py).call1((coro,))?, None)
        } else {
            let txn_id = ctx.get().next_txn_id();
            let root = PyTuple::new(
                py,
                [
                    root_name(py).clone().into_any(),
                    txn_id.into_pyobject(py)?.into_any(),
                ],
            )?;
            let mut call_args = vec![ctx.bind(py).clone().into_any()];
            call_args.extend(args.iter());
            let coro = match journey.func.bind(py).call1(PyTuple::new(py, call_args)?) {
                Ok(coro) => coro,
                Err(err) => {
                    // As in mite 2.11, a journey that fails when called (wrong arguments, say)
                    // fails inside its root transaction: reported, and the run goes on.
                    let (name, id) = (root.get_item(0)?, root.get_item(1)?);
                    let start = start.unwrap_or_else(unix_now);
                    let exc = err.value(py).clone().into_any();
                    report_exception(py, ctx.get(), &exc, Some((&name, &id)))?;
                    send_txn(py, ctx.get(), start, true, Some((&name, &id)))?;
                    if !data_id.is_none() {
                        slf.borrow_mut()
                            .completed
                            .push((scenario_id, data_id.unbind()));
                    }
                    return Ok(());
                }
            };
            // The task copies the current context, so it starts inside the root transaction.
            let token = txnvar::set(py, root.as_any())?;
            let task = slf.borrow().create_task.bind(py).call1((&coro,));
            txnvar::reset(py, &token)?;
            let task = task.map_err(|e| {
                if e.is_instance_of::<PyTypeError>(py) {
                    let got = coro
                        .get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default();
                    PyTypeError::new_err(format!(
                        "journey {spec} is not an async function (calling it returned {got})"
                    ))
                } else {
                    e
                }
            })?;
            (task, Some((root.unbind(), start.unwrap_or_else(unix_now))))
        };
        *slf.borrow_mut().work.entry(scenario_id).or_default() += 1;
        let done = Done {
            core: slf.clone().unbind(),
            ctx,
            scenario_id,
            data_id: data_id.unbind(),
            root,
        };
        task.call_method1(intern!(py, "add_done_callback"), (done,))?;
        slf.borrow().tasks.bind(py).add(&task)?;
        Ok(())
    }

    fn journey(&mut self, py: Python<'_>, spec: &str) -> PyResult<Arc<Journey>> {
        if let Some(j) = self.journeys.get(spec) {
            return Ok(j.clone());
        }
        let func = self.spec_import.bind(py).call1((spec,))?;
        let fixture = func
            .getattr("_fixture")
            .ok()
            .is_some_and(|f| f.is_truthy().unwrap_or(false));
        let j = Arc::new(Journey {
            func: func.unbind(),
            spec: PyString::new(py, spec).unbind(),
            wrapped: fixture || self.debug,
        });
        self.journeys.insert(spec.to_owned(), j.clone());
        Ok(j)
    }

    fn context(
        &mut self,
        py: Python<'_>,
        scenario_id: i64,
        data_id: &Bound<'_, PyAny>,
        journey: &Journey,
    ) -> PyResult<Py<Context>> {
        let context_id = self.next_context_id;
        self.next_context_id += 1;
        let values = vec![
            self.test.clone_ref(py),
            self.runner_id.clone_ref(py),
            journey.spec.clone_ref(py).into_any(),
            context_id.into_pyobject(py)?.into_any().unbind(),
            scenario_id.into_pyobject(py)?.into_any().unbind(),
            data_id.clone().unbind(),
        ];
        let ids = Ids::runner(values, py)?;
        let sink = self.sink.bind(py);
        let target = match sink.cast::<MessageSink>() {
            Ok(s) => Target::Native(s.clone().unbind()),
            Err(_) => Target::Python(sink.clone().unbind()),
        };
        let stop = StopSource::Flag(self.stop.clone());
        Py::new(
            py,
            Context::native(target, self.config.clone_ref(py), ids, stop, self.debug)
                .on_loop(self.event_loop.as_ref().map(|l| l.clone_ref(py))),
        )
    }

    fn finished(&mut self, py: Python<'_>, scenario_id: i64, data_id: Py<PyAny>) -> PyResult<()> {
        if let Some(n) = self.work.get_mut(&scenario_id) {
            *n -= 1;
            if *n <= 0 {
                self.work.remove(&scenario_id);
            }
        }
        if !data_id.is_none(py) {
            self.completed.push((scenario_id, data_id));
        }
        // An arrival-rate journey's end changes nothing the runner asks the controller for:
        // only a closed-model journey's end wakes it (its datapool item waits for the next ask).
        if self.arrivals.has(scenario_id) {
            return Ok(());
        }
        self.wake(py)
    }

    /// Resolves the runner loop's waiter, if it waits.
    pub(super) fn wake(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(w) = self.waiter.take() {
            let w = w.bind(py);
            if !w.call_method0(intern!(py, "done"))?.is_truthy()? {
                w.call_method1(intern!(py, "set_result"), (py.None(),))?;
            }
        }
        Ok(())
    }
}

/// The done-callback of one journey task.
#[pyclass(frozen, module = "mite._native")]
pub struct Done {
    core: Py<RunnerCore>,
    ctx: Py<Context>,
    scenario_id: i64,
    data_id: Py<PyAny>,
    /// The root transaction opened at spawn: its `(name, id)` and start time.
    root: Option<(Py<PyTuple>, f64)>,
}

#[pymethods]
impl Done {
    fn __call__(&self, task: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = task.py();
        let outcome = self.close_root(py, task);
        self.core.bind(py).borrow().tasks.bind(py).discard(task)?;
        self.core.bind(py).borrow_mut().finished(
            py,
            self.scenario_id,
            self.data_id.clone_ref(py),
        )?;
        outcome
    }
}

impl Done {
    fn close_root(&self, py: Python<'_>, task: &Bound<'_, PyAny>) -> PyResult<()> {
        let exc = if task.call_method0(intern!(py, "cancelled"))?.is_truthy()? {
            None
        } else {
            Some(task.call_method0(intern!(py, "exception"))?)
        };
        let exc = exc.filter(|e| !e.is_none());
        if let Some(e) = &exc {
            if !e.is_instance_of::<pyo3::exceptions::PyException>() {
                self.core.bind(py).borrow_mut().fatal = Some(e.clone().unbind());
            }
        }
        let Some((root, start)) = &self.root else {
            return Ok(());
        };
        let root = root.bind(py);
        let (name, id) = (root.get_item(0)?, root.get_item(1)?);
        let txn = Some((&name, &id));
        let ctx = self.ctx.get();
        let (had_error, needs_report) = exc.as_ref().map_or((false, false), classify);
        if let (true, Some(e)) = (needs_report, &exc) {
            report_exception(py, ctx, e, txn)?;
        }
        send_txn(py, ctx, *start, had_error, txn)
    }
}
