//! `MessageSink`: where contexts put encoded frames, and the local pipeline that drains it.
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::collector::CollectorConfig;
use crate::pipeline::{Inbox, Item, Pipeline, PipelineConfig};
use crate::py::results::{published_into, ResultsRequest};
use crate::py::support::encode::pack;
use crate::report::console::ConsoleConfig;
use crate::report::summary::{broken_thresholds, render_report, Thresholds};

/// The sending end: cheap to call from the loop thread (an encode and a channel push).
#[pyclass(frozen, module = "mite._native")]
pub struct MessageSink {
    inbox: Arc<Inbox>,
    /// Frames kept for Python consumers, which run on the loop thread in batches.
    tap: Option<Mutex<Vec<Vec<u8>>>>,
    sent: AtomicU64,
}

impl MessageSink {
    /// Queues one encoded message.
    pub fn push(&self, frame: Vec<u8>) {
        if let Some(tap) = &self.tap {
            tap.lock().expect("tap lock").push(frame.clone());
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        // NOTE: the pipeline reads until `finish`; a frame pushed after it is not delivered.
        self.inbox.push(frame);
    }
}

#[pymethods]
impl MessageSink {
    /// `sender.send(msg)`: encode a dict (or any packable value) and queue it.
    fn send(&self, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.push(pack(msg)?);
        Ok(())
    }

    /// Queues an already-encoded frame.
    fn send_raw(&self, raw: &[u8]) {
        self.push(raw.to_vec());
    }

    /// Hands the collector a frame with the `--collector-filter` verdict.
    fn collect(&self, raw: &[u8], keep: bool) {
        self.inbox.send(Item::Collect {
            raw: raw.to_vec(),
            keep,
        });
    }

    /// Takes the frames waiting for Python consumers.
    fn take_tapped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let frames = match &self.tap {
            Some(tap) => std::mem::take(&mut *tap.lock().expect("tap lock")),
            None => Vec::new(),
        };
        PyList::new(py, frames.iter().map(|f| PyBytes::new(py, f)))
    }

    #[getter]
    fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

/// The pipeline thread, owned by the local test command.
#[pyclass(module = "mite._native")]
pub struct LocalPipeline {
    pipeline: Option<Pipeline>,
    sink: Py<MessageSink>,
}

#[pymethods]
impl LocalPipeline {
    #[new]
    #[pyo3(signature = (*, collector_dir=None, collector_roll=100000, collector_use_json=false,
        collector_filtered=false, recorder_dir=None, console=true, hide_constant_logs=false,
        journey_logging=false, log_messages=true, tap=false, keep_samples=false, forward=None,
        record=false, progress=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        collector_dir: Option<PathBuf>,
        collector_roll: u64,
        collector_use_json: bool,
        collector_filtered: bool,
        recorder_dir: Option<PathBuf>,
        console: bool,
        hide_constant_logs: bool,
        journey_logging: bool,
        log_messages: bool,
        tap: bool,
        keep_samples: bool,
        forward: Option<String>,
        record: bool,
        progress: bool,
    ) -> PyResult<Self> {
        let cfg = PipelineConfig {
            collector: collector_dir.map(|dir| CollectorConfig {
                dir,
                roll_after: collector_roll,
                collector_id: None,
                use_json: collector_use_json,
            }),
            collector_filtered,
            recorder_dir,
            console: ConsoleConfig {
                enabled: console,
                hide_constant_logs,
                journey_logging,
                period_secs: 2.0,
                keep_samples,
                progress,
            },
            log_messages,
            record,
            forward,
        };
        let pipeline = Pipeline::start(cfg).map_err(|e| PyOSError::new_err(e.to_string()))?;
        let sink = MessageSink {
            inbox: pipeline.inbox(),
            tap: tap.then(|| Mutex::new(Vec::new())),
            sent: AtomicU64::new(0),
        };
        Ok(LocalPipeline {
            pipeline: Some(pipeline),
            sink: Py::new(py, sink)?,
        })
    }

    #[getter]
    fn sink(&self, py: Python<'_>) -> Py<MessageSink> {
        self.sink.clone_ref(py)
    }

    /// Writes `text` to stderr above the live status area (as is when there is none).
    fn write_stderr(&self, py: Python<'_>, text: &str) {
        py.detach(|| crate::report::progress::write_stderr(text.as_bytes()));
    }

    /// Stops the thread after it has handled everything sent; returns the report text (if asked),
    /// the broken thresholds and the message totals.
    #[pyo3(signature = (*, report, max_errors=0, max_response_time_ms=0, mean_response_time_ms=0,
        stddev_response_time_ms=0, stddev_req_sec=0, percentiles=Vec::new(), results=None))]
    #[allow(clippy::too_many_arguments)]
    fn finish<'py>(
        &mut self,
        py: Python<'py>,
        report: bool,
        max_errors: u64,
        max_response_time_ms: u64,
        mean_response_time_ms: u64,
        stddev_response_time_ms: u64,
        stddev_req_sec: u64,
        percentiles: Vec<(u32, u64)>,
        results: Option<PyRef<'py, ResultsRequest>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let pipeline = self
            .pipeline
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("pipeline already finished"))?;
        let done = py.detach(|| pipeline.finish());
        let completed = crate::report::log::unix_now();
        let th = Thresholds {
            max_errors,
            max_response_time_ms,
            mean_response_time_ms,
            stddev_response_time_ms,
            stddev_req_sec,
            percentiles,
        };
        let out = PyDict::new(py);
        out.set_item(
            "report",
            report.then(|| render_report(&done.stats, &done.record, &th, completed)),
        )?;
        let mut broken = broken_thresholds(&done.stats, &done.record, &th, report);
        let mut record = done.record;
        let results: Option<ResultsRequest> = results.map(|r| (*r).clone());
        let mut published = match results {
            Some(req) => py.detach(|| req.write(&mut record, "local run", 0)),
            None => Default::default(),
        };
        broken.append(&mut published.broken);
        published.broken = broken;
        published_into(&out, published)?;
        out.set_item("requests", done.stats.req_total)?;
        out.set_item("errors", done.stats.error_total)?;
        let t = &done.totals;
        out.set_item("sent", self.sink.get().sent.load(Ordering::Relaxed))?;
        out.set_item("received", t.received)?;
        out.set_item("malformed", t.malformed)?;
        out.set_item("collected", t.collected)?;
        out.set_item("recorded", t.recorded)?;
        out.set_item("refused", t.refused)?;
        out.set_item("io_errors", t.io_errors)?;
        out.set_item("write_failures", PyList::new(py, &t.write_failures)?)?;
        out.set_item("forwarded", t.forwarded)?;
        out.set_item("forward_dropped", t.forward_dropped)?;
        let by_type = PyDict::new(py);
        for (k, v) in &t.by_type {
            by_type.set_item(k, v)?;
        }
        out.set_item("by_type", by_type)?;
        Ok(out)
    }
}
