//! `Inlet`: the PULL socket a local run with `--runners=N` binds for its runner processes; a
//! native thread feeds their frames into the run's own pipeline (no Python per frame).
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::py::context::sink::MessageSink;
use crate::transport::{self, Counts, Role, Transport};

const LOGGER: &str = "mite.runners";
/// `expected` before `finish` names a count: none yet.
const UNKNOWN: u64 = u64::MAX;

struct Shared {
    stop: AtomicBool,
    /// Frames the runners said they forwarded, once known (`UNKNOWN` otherwise).
    expected: AtomicU64,
    quiet: AtomicU64,
    received: AtomicU64,
}

#[pyclass(module = "mite._native")]
pub struct Inlet {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<Result<Counts, String>>>,
    address: String,
}

#[pymethods]
impl Inlet {
    /// `Inlet(sink, address)`: binds a PULL socket at `address` and starts passing every good
    /// frame that arrives to `sink`, as if sent in this process.
    #[new]
    fn new(py: Python<'_>, sink: Py<MessageSink>, address: String) -> PyResult<Self> {
        let t = Transport::new();
        let sock = t
            .socket(zmq::SocketType::PULL, &address, Role::Bind)
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            expected: AtomicU64::new(UNKNOWN),
            quiet: AtomicU64::new(500),
            received: AtomicU64::new(0),
        });
        let sink = sink.clone_ref(py);
        let s = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("mite-inlet".into())
            .spawn(move || {
                let r = pump(&sock, &sink, &s);
                drop(sock);
                drop(t);
                r
            })
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        Ok(Inlet {
            shared,
            handle: Some(handle),
            address,
        })
    }

    #[getter]
    fn address(&self) -> &str {
        &self.address
    }

    /// Frames received so far.
    #[getter]
    fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    /// Stops after the frames still on their way: until `expected` frames have arrived in all
    /// (when every runner said how many it forwarded), or else until nothing has arrived for
    /// `quiet_ms`; never longer than `max_ms`. Returns the counts.
    #[pyo3(signature = (*, expected=None, quiet_ms=500, max_ms=10_000))]
    fn finish<'py>(
        &mut self,
        py: Python<'py>,
        expected: Option<u64>,
        quiet_ms: u64,
        max_ms: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let handle = self
            .handle
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("inlet already finished"))?;
        let s = &self.shared;
        s.expected
            .store(expected.unwrap_or(UNKNOWN), Ordering::Relaxed);
        s.quiet.store(quiet_ms, Ordering::Relaxed);
        s.stop.store(true, Ordering::Release);
        let deadline = Instant::now() + Duration::from_millis(max_ms);
        let counts = py.detach(|| {
            while !handle.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if !handle.is_finished() {
                // Past the deadline: tell the thread to go now.
                s.expected.store(0, Ordering::Relaxed);
            }
            handle.join()
        });
        let counts = counts
            .map_err(|_| PyRuntimeError::new_err("the inlet thread panicked"))?
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        let d = PyDict::new(py);
        d.set_item("received", counts.received)?;
        d.set_item("forwarded", counts.forwarded)?;
        d.set_item("dropped", counts.dropped())?;
        d.set_item("expected", expected)?;
        Ok(d)
    }
}

/// Receives until told to stop and the stop condition holds (see `Inlet::finish`).
fn pump(sock: &zmq::Socket, sink: &Py<MessageSink>, s: &Shared) -> Result<Counts, String> {
    let max = transport::max_frame_bytes();
    let sink = sink.get();
    let mut counts = Counts::default();
    let mut last_frame = Instant::now();
    let mut stop_seen: Option<Instant> = None;
    loop {
        let stopping = s.stop.load(Ordering::Acquire);
        if stopping && stop_seen.is_none() {
            stop_seen = Some(Instant::now());
        }
        let frames = transport::recv_burst(sock, if stopping { 20 } else { 100 }, 4096)
            .map_err(|e| format!("receiving from the runners: {e}"))?;
        if !frames.is_empty() {
            last_frame = Instant::now();
        }
        for raw in frames {
            if transport::admit(&raw, max, &mut counts, LOGGER) {
                counts.forwarded += 1;
                sink.push(raw);
            }
        }
        s.received.store(counts.received, Ordering::Relaxed);
        let Some(since) = stop_seen else { continue };
        let expected = s.expected.load(Ordering::Relaxed);
        if expected != UNKNOWN {
            if counts.received >= expected {
                break;
            }
        } else {
            let quiet = Duration::from_millis(s.quiet.load(Ordering::Relaxed));
            if last_frame.elapsed() >= quiet && since.elapsed() >= quiet {
                break;
            }
        }
    }
    Ok(counts)
}
