//! `mite collector` and `mite recorder` fed from their sockets: native loops with the GIL
//! released (taken only to call a `--collector-filter`, once per batch).
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use super::errors::{collector_err, recorder_err, transport_err};
use crate::bus::scan::{self, MapIter};
use crate::collector::{self, Collector, CollectorConfig};
use crate::log;
use crate::recorder::{self, Outcome, Recorder};
use crate::report::log::Level;
use crate::transport::{self, signals, Counts, Role, Transport};

const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// What a receiving component does with good frames, and every 200 ms.
trait Handler {
    fn frames(&mut self, frames: Vec<Vec<u8>>, counts: &mut Counts);
    /// Flushes, and brings `counts` up to date with what reached the files.
    fn tick(&mut self, _counts: &mut Counts) {}
    /// The `totals:` line logged at the end.
    fn totals(&self, counts: &Counts) -> String {
        counts.line(&[])
    }
}

/// Receives until SIGINT/SIGTERM, handing good frames to `h`; bad frames are counted.
fn pump(address: &str, logger: &str, h: &mut dyn Handler) -> Result<Counts, transport::Error> {
    let transport = Transport::new();
    let sock = transport.socket(zmq::SocketType::PULL, address, Role::Connect)?;
    signals::catch_stop();
    let max = transport::max_frame_bytes();
    let mut counts = Counts::default();
    let mut last = Instant::now();
    loop {
        let stopping = signals::stop_requested().is_some();
        let frames = transport::recv_burst(&sock, if stopping { 0 } else { 100 }, 4096)
            .map_err(|e| transport::Error::recv(address, e))?;
        let good: Vec<Vec<u8>> = frames
            .into_iter()
            .filter(|raw| transport::admit(raw, max, &mut counts, logger))
            .collect();
        let got = !good.is_empty();
        if got {
            h.frames(good, &mut counts);
        }
        if last.elapsed() >= FLUSH_EVERY || stopping {
            h.tick(&mut counts);
            last = Instant::now();
        }
        if stopping && !got {
            break;
        }
    }
    crate::report::throttle::flush();
    log!(Level::Info, logger, "run", "{}", h.totals(&counts));
    Ok(counts)
}

fn to_py(py: Python<'_>, c: Counts) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("received", c.received)?;
    d.set_item("written", c.written)?;
    d.set_item("dropped", c.dropped())?;
    Ok(d)
}

struct CollectorHandler {
    collector: Collector,
    filter: Option<Py<PyAny>>,
    /// JSON conversions that failed, as already added to the counts.
    malformed_seen: u64,
}

impl Handler for CollectorHandler {
    fn frames(&mut self, frames: Vec<Vec<u8>>, counts: &mut Counts) {
        let verdicts: Vec<bool> = match &self.filter {
            None => vec![true; frames.len()],
            Some(f) => Python::attach(|py| {
                frames
                    .iter()
                    .map(|raw| {
                        f.bind(py)
                            .call1((PyBytes::new(py, raw),))
                            .and_then(|v| v.is_truthy())
                            .unwrap_or_else(|e| {
                                log!(
                                    Level::Error,
                                    "mite.collector",
                                    "filter",
                                    "--collector-filter raised {e}; frame kept"
                                );
                                true
                            })
                    })
                    .collect()
            }),
        };
        for (raw, keep) in frames.iter().zip(verdicts) {
            self.collector.process(raw, keep);
            counts.ignored += u64::from(!keep);
        }
    }

    fn tick(&mut self, counts: &mut Counts) {
        let c = &mut self.collector;
        c.flush();
        counts.written = c.written;
        counts.full = c.lost.full;
        counts.unwritable = c.lost.unwritable;
        counts.malformed += c.malformed - self.malformed_seen;
        self.malformed_seen = c.malformed;
    }
}

/// `mite collector`: raw frames to `DIR/current`, rolled every `roll_after` messages.
#[pyfunction]
#[pyo3(signature = (address, dir, roll_after, use_json=false, filter=None))]
pub fn run_collector<'py>(
    py: Python<'py>,
    address: String,
    dir: PathBuf,
    roll_after: u64,
    use_json: bool,
    filter: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let collector = Collector::open(CollectorConfig {
        dir,
        roll_after,
        collector_id: None,
        use_json,
    })
    .map_err(|e| collector_err(collector::Error::Folder(e)))?;
    let mut h = CollectorHandler {
        collector,
        filter,
        malformed_seen: 0,
    };
    let r = py.detach(|| pump(&address, "mite.collector", &mut h));
    // A lost write is the run's verdict even when the socket failed afterwards.
    h.collector.verdict().map_err(collector_err)?;
    to_py(py, r.map_err(|e| collector_err(e.into()))?)
}

fn msg_type(raw: &[u8]) -> Option<&str> {
    MapIter::new(raw)
        .ok()?
        .filter_map(Result::ok)
        .find(|(k, _)| scan::as_str(*k) == Some("type"))
        .and_then(|(_, v)| scan::as_str(v))
}

struct RecorderHandler(Recorder);

impl Handler for RecorderHandler {
    fn frames(&mut self, frames: Vec<Vec<u8>>, counts: &mut Counts) {
        for raw in &frames {
            let Some(t) = msg_type(raw).filter(|t| *t == "data_created" || *t == "purge_data")
            else {
                counts.ignored += 1;
                continue;
            };
            match self.0.process(raw, t) {
                Outcome::Appended | Outcome::Purged => counts.written += 1,
                Outcome::Ignored => counts.ignored += 1,
                Outcome::Refused => counts.refused += 1,
                Outcome::Failed => {}
            }
        }
    }

    fn tick(&mut self, counts: &mut Counts) {
        counts.full = self.0.lost.full;
        counts.unwritable = self.0.lost.unwritable;
    }
}

/// `mite recorder`: `data_created` appends to `DIR/NAME.msgpack`, `purge_data` deletes it.
#[pyfunction]
pub fn run_recorder(py: Python<'_>, address: String, dir: PathBuf) -> PyResult<Bound<'_, PyDict>> {
    let recorder = Recorder::open(dir).map_err(|e| recorder_err(recorder::Error::Folder(e)))?;
    let mut h = RecorderHandler(recorder);
    let r = py.detach(|| pump(&address, "mite.recorder", &mut h));
    h.0.verdict().map_err(recorder_err)?;
    to_py(py, r.map_err(|e| recorder_err(e.into()))?)
}

/// `mite receiver`'s processors: each frame goes to the `process_raw_message` methods as bytes,
/// then decoded to the `process_message` methods. A processor that raises is logged (with its
/// stack) and counted; the others still get the frame.
struct ProcessorHandler {
    listeners: Vec<Py<PyAny>>,
    raw_listeners: Vec<Py<PyAny>>,
    failed: u64,
}

impl ProcessorHandler {
    fn call(&mut self, py: Python<'_>, listener: &Py<PyAny>, arg: &Bound<'_, PyAny>) {
        if let Err(e) = listener.bind(py).call1((arg,)) {
            self.failed += 1;
            let stack = py
                .import("traceback")
                .and_then(|tb| tb.call_method1("format_exception", (e.value(py),)))
                .and_then(|lines| PyString::new(py, "").call_method1("join", (lines,)))
                .map(|s| s.to_string())
                .unwrap_or_else(|_| e.to_string());
            let name = listener
                .bind(py)
                .repr()
                .map(|r| r.to_string())
                .unwrap_or_default();
            log!(
                Level::Error,
                RECEIVER_LOGGER,
                "receiver",
                "processor {name} raised\n{}",
                stack.trim_end()
            );
        }
    }
}

impl Handler for ProcessorHandler {
    fn frames(&mut self, frames: Vec<Vec<u8>>, counts: &mut Counts) {
        let raw_listeners = std::mem::take(&mut self.raw_listeners);
        let listeners = std::mem::take(&mut self.listeners);
        Python::attach(|py| {
            for raw in &frames {
                let bytes = PyBytes::new(py, raw);
                for l in &raw_listeners {
                    self.call(py, l, bytes.as_any());
                }
                if listeners.is_empty() {
                    counts.written += 1;
                    continue;
                }
                // Admission already checked the frame; a value Python cannot make is malformed.
                let Ok(msg) = crate::py::support::decode::unpack(py, raw) else {
                    counts.malformed += 1;
                    continue;
                };
                for l in &listeners {
                    self.call(py, l, &msg);
                }
                counts.written += 1;
            }
        });
        self.raw_listeners = raw_listeners;
        self.listeners = listeners;
    }

    // NOTE: the receiver's line keeps the keys it always had (received, malformed, failed);
    // `malformed` counts every frame admission skipped (oversize ones too).
    fn totals(&self, c: &Counts) -> String {
        format!(
            "totals: received={} malformed={} failed={}",
            c.received,
            c.malformed + c.oversize,
            self.failed
        )
    }
}

const RECEIVER_LOGGER: &str = "mite.cli.services";

/// `mite receiver`: every frame on `address` to the processors' methods, until SIGINT/SIGTERM.
#[pyfunction]
pub fn run_receiver<'py>(
    py: Python<'py>,
    address: String,
    listeners: Vec<Py<PyAny>>,
    raw_listeners: Vec<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut h = ProcessorHandler {
        listeners,
        raw_listeners,
        failed: 0,
    };
    let r = py.detach(|| pump(&address, RECEIVER_LOGGER, &mut h));
    let c = r.map_err(transport_err)?;
    let d = to_py(py, c)?;
    d.set_item("failed", h.failed)?;
    Ok(d)
}
