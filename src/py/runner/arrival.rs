//! Arrival-rate journeys across the interpreter boundary: the controller's `ArrivalPlan` (one
//! profile leased to the runners) and the runner's side, `RunnerCore.add_leases` and the loop
//! timer that starts each journey at its scheduled time with no Python of its own.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::core::RunnerCore;
use super::leased::Scenario;
use crate::py::context::sink::MessageSink;
use crate::py::support::encode::pack;
use crate::report::log::unix_now;
use crate::schedule::{ArrivalQueue, Lease, Leaser, Profile, Segment};

type Segments = Vec<(f64, f64, f64)>;
/// A lease on the wire: `(scenario_id, journey_spec, segments, from, to, share, carry_in,
/// count, elapsed, cap, data)`; `data` is `[(data_id, data), ...]` or None without a datapool.
type WireLease = (
    i64,
    String,
    Segments,
    f64,
    f64,
    f64,
    f64,
    u64,
    f64,
    Option<u64>,
    Option<Vec<(Py<PyAny>, Py<PyAny>)>>,
);

fn profile_of(segments: Segments) -> PyResult<Profile> {
    segments
        .into_iter()
        .map(|(d, f, t)| Segment::new(d, f, t).map_err(|e| PyValueError::new_err(e.to_string())))
        .collect::<PyResult<Vec<_>>>()
        .map(Profile::new)
}

/// The controller's view of one arrival-rate scenario: which window each runner holds.
#[pyclass(module = "mite.scenario", name = "ArrivalPlan")]
pub struct ArrivalPlan(Leaser);

#[pymethods]
impl ArrivalPlan {
    #[new]
    #[pyo3(signature = (segments, lookahead=2.0))]
    fn new(segments: Segments, lookahead: f64) -> PyResult<Self> {
        Ok(ArrivalPlan(Leaser::new(profile_of(segments)?, lookahead)))
    }

    /// `(from, to, share, carry_in, count)` of the next window for `runner_id`, or None.
    fn lease(
        &mut self,
        runner_id: i64,
        elapsed: f64,
        runners: usize,
    ) -> Option<(f64, f64, f64, f64, u64)> {
        self.0
            .lease(runner_id, elapsed, runners)
            .map(|l| (l.from, l.to, l.share, l.carry_in, l.count))
    }

    fn over(&self, elapsed: f64) -> bool {
        self.0.over(elapsed)
    }

    fn remove_runner(&mut self, runner_id: i64) {
        self.0.remove_runner(runner_id);
    }

    #[getter]
    fn segments(&self) -> Segments {
        self.0.profile().segments().collect()
    }

    #[getter]
    fn duration(&self) -> f64 {
        self.0.profile().duration()
    }

    /// Journeys the whole profile asks for.
    #[getter]
    fn total(&self) -> f64 {
        self.0.profile().total()
    }

    /// Journeys leased to runners so far.
    #[getter]
    fn leased(&self) -> u64 {
        self.0.leased
    }
}

/// The loop callback that starts due journeys (a native callable: no Python frame per tick).
#[pyclass(frozen, module = "mite._native")]
pub struct Tick {
    core: Py<RunnerCore>,
}

#[pymethods]
impl Tick {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        RunnerCore::tick(self.core.bind(py))
    }
}

fn loop_of<'py>(core: &Bound<'py, RunnerCore>) -> PyResult<Bound<'py, PyAny>> {
    let py = core.py();
    core.borrow()
        .event_loop
        .as_ref()
        .map(|l| l.bind(py).clone())
        .ok_or_else(|| PyRuntimeError::new_err("arrival-rate work needs the runner's event loop"))
}

#[pymethods]
impl RunnerCore {
    /// Queues leased arrival-rate journeys (see `WireLease`) and arms the timer.
    fn add_leases(slf: &Bound<'_, Self>, leases: &Bound<'_, PyAny>) -> PyResult<()> {
        // The loop's own clock may be cached per iteration and counted in whole milliseconds
        // (uvloop): the profile's second 0 is placed with the precise monotonic clock it is
        // read from, and with unix time at the same moment, so no journey fires before the
        // time its root transaction says it started.
        let py = slf.py();
        let now: f64 = py
            .import(intern!(py, "time"))?
            .call_method0(intern!(py, "monotonic"))?
            .extract()?;
        let unix = unix_now();
        for item in leases.try_iter()? {
            let (sid, spec, segments, from, to, share, carry_in, count, elapsed, cap, data): WireLease =
                item?.extract()?;
            let lease = Lease {
                from,
                to,
                share,
                carry_in,
                count,
            };
            let mut core = slf.borrow_mut();
            let scenario = match core.arrivals.scenarios.entry(sid) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(Scenario {
                    spec,
                    // The controller's clock read `elapsed` into the profile when it answered.
                    queue: ArrivalQueue::new(profile_of(segments)?, now - elapsed),
                    unix_base: unix - elapsed,
                }),
            };
            scenario.queue.cap = cap;
            let expected = data.is_some();
            scenario
                .queue
                .push_lease(&lease, data.unwrap_or_default(), expected);
        }
        Self::arm(slf)
    }

    /// The loop's clock when the soonest of this runner's leases runs out (None: none will,
    /// or every profile is leased to its end): the runner asks for more before then.
    fn lease_horizon(&self) -> Option<f64> {
        self.arrivals
            .scenarios
            .values()
            .filter(|s| !s.queue.fully_leased())
            .map(|s| s.queue.horizon)
            .min_by(f64::total_cmp)
    }

    /// Arrival-rate journeys this runner dropped (due while its cap was reached, or without a
    /// datapool item).
    #[getter]
    fn dropped_journeys(&self) -> u64 {
        self.arrivals.dropped
    }

    /// Stops starting arrival-rate journeys: what is queued is dropped uncounted, its datapool
    /// items handed back with the next work request.
    fn clear_arrivals(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let mut core = slf.borrow_mut();
        if let Some((_, handle)) = core.arrivals.timer.take() {
            handle.bind(py).call_method0(intern!(py, "cancel"))?;
        }
        let mut back = Vec::new();
        for (sid, mut scenario) in core.arrivals.scenarios.drain() {
            for arrival in scenario.queue.clear() {
                if let Some((data_id, _)) = arrival.item {
                    back.push((sid, data_id));
                }
            }
        }
        core.completed.extend(back);
        // The timer's callback holds the core: dropping it here breaks that cycle.
        core.arrivals.tick = None;
        Ok(())
    }

    /// True while leased journeys wait for their time.
    fn arrivals_pending(&self) -> bool {
        self.arrivals
            .scenarios
            .values()
            .any(|s| s.queue.next_due().is_some())
    }
}

impl RunnerCore {
    fn tick(slf: &Bound<'_, Self>) -> PyResult<()> {
        slf.borrow_mut().arrivals.timer = None;
        if let Err(err) = Self::fire(slf) {
            // As a failing spawn in the runner loop would: the runner re-raises it and stops.
            let py = slf.py();
            let _ = Self::clear_arrivals(slf);
            let mut core = slf.borrow_mut();
            core.fatal = Some(err.value(py).clone().into_any().unbind());
            core.wake(py)?;
            return Ok(());
        }
        Self::arm(slf)
    }

    /// Starts (or drops) every queued journey that is due.
    fn fire(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let now: f64 = loop_of(slf)?.call_method0(intern!(py, "time"))?.extract()?;
        let unix = unix_now();
        let mut start = Vec::new();
        let mut dropped = Vec::new();
        {
            let mut guard = slf.borrow_mut();
            let core = &mut *guard;
            for (sid, scenario) in core.arrivals.scenarios.iter_mut() {
                let in_flight = core.work.get(sid).copied().unwrap_or(0).max(0) as u64;
                // Half a millisecond early is on time: the loop's timer is no finer.
                let due = scenario.queue.take_due(now, in_flight);
                if !due.dropped.is_empty() {
                    dropped.push((*sid, scenario.spec.clone(), due.dropped.len()));
                }
                for arrival in due.dropped {
                    if let Some((data_id, _)) = arrival.item {
                        core.completed.push((*sid, data_id));
                    }
                }
                for arrival in due.start {
                    // Its root transaction starts when it was due: a late start shows in its
                    // duration instead of hiding (coordinated omission). One fixed mapping of
                    // the profile's clock to unix time per scenario keeps the scheduled times
                    // exactly as far apart as the schedule says, however late a tick runs.
                    let scheduled =
                        (scenario.unix_base + scenario.queue.elapsed(arrival.due)).min(unix);
                    start.push((*sid, scenario.spec.clone(), arrival, scheduled));
                }
            }
        }
        for (sid, spec, arrival, scheduled) in start {
            let (data_id, args) = match arrival.item {
                Some((id, data)) => (id.into_bound(py), data.into_bound(py)),
                None => (py.None().into_bound(py), py.None().into_bound(py)),
            };
            Self::spawn_one(slf, sid, data_id, &spec, args, Some(scheduled))?;
        }
        for (sid, spec, count) in dropped {
            slf.borrow_mut().arrivals.dropped += count as u64;
            Self::send_dropped(slf, sid, &spec, count, unix)?;
        }
        Ok(())
    }

    /// A `dropped_journeys` message: journeys due but not started (the cap on journeys in
    /// flight was reached, or the datapool had no item for them).
    fn send_dropped(
        slf: &Bound<'_, Self>,
        scenario_id: i64,
        spec: &str,
        count: usize,
        time: f64,
    ) -> PyResult<()> {
        let py = slf.py();
        let core = slf.borrow();
        let msg = PyDict::new(py);
        msg.set_item("type", "dropped_journeys")?;
        msg.set_item("time", time)?;
        msg.set_item("test", core.test.bind(py))?;
        msg.set_item("runner_id", core.runner_id.bind(py))?;
        msg.set_item("journey", spec)?;
        msg.set_item("scenario_id", scenario_id)?;
        msg.set_item("count", count)?;
        let sink = core.sink.bind(py);
        match sink.cast::<MessageSink>() {
            Ok(native) => native.get().push(pack(msg.as_any())?),
            Err(_) => {
                sink.call1((msg,))?;
            }
        }
        Ok(())
    }

    /// Arms the loop timer for the soonest queued journey, unless it is armed for sooner.
    fn arm(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let next = slf
            .borrow()
            .arrivals
            .scenarios
            .values()
            .filter_map(|s| s.queue.next_due())
            .min_by(f64::total_cmp);
        let Some(next) = next else { return Ok(()) };
        let mut core = slf.borrow_mut();
        if let Some((when, handle)) = &core.arrivals.timer {
            if *when <= next {
                return Ok(());
            }
            handle.bind(py).call_method0(intern!(py, "cancel"))?;
        }
        let tick = match &core.arrivals.tick {
            Some(t) => t.clone_ref(py),
            None => {
                let t = Py::new(
                    py,
                    Tick {
                        core: slf.clone().unbind(),
                    },
                )?
                .into_any();
                core.arrivals.tick = Some(t.clone_ref(py));
                t
            }
        };
        let event_loop = core
            .event_loop
            .as_ref()
            .map(|l| l.bind(py).clone())
            .ok_or_else(|| {
                PyRuntimeError::new_err("arrival-rate work needs the runner's event loop")
            })?;
        let handle = event_loop.call_method1(intern!(py, "call_at"), (next, tick))?;
        core.arrivals.timer = Some((next, handle.unbind()));
        Ok(())
    }
}
