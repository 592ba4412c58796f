//! `mite.collector.Collector` and `mite.recorder.Recorder` for Python callers (custom processors,
//! tests), over the same native writers the pipeline uses.
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::errors::{collector_err, recorder_err, CollectorError, RecorderError};
use crate::collector::{self, CollectorConfig};
use crate::py::support::encode::pack;
use crate::recorder;

/// The writer's first failure as a Python caller gets it: the path and the reason (the failure
/// stays with the writer, which logs only its first).
fn failed(failure: Option<&collector::PathError>) -> String {
    failure.map_or_else(|| "write failed".to_string(), |f| f.to_string())
}

#[pyclass(module = "mite.collector", name = "Collector", unsendable)]
pub struct Collector {
    inner: collector::Collector,
    filter_fn: Option<Py<PyAny>>,
}

#[pymethods]
impl Collector {
    #[new]
    #[pyo3(signature = (target_dir=None, roll_after=100000, collector_id=None, filter_fn=None, use_json=false))]
    fn new(
        target_dir: Option<PathBuf>,
        roll_after: u64,
        collector_id: Option<&Bound<'_, PyAny>>,
        filter_fn: Option<Py<PyAny>>,
        use_json: bool,
    ) -> PyResult<Self> {
        let collector_id = collector_id
            // mite 2.11 leaves any falsy id (None, 0, "") out of rolled file names.
            .filter(|c| c.is_truthy().unwrap_or(false))
            .map(|c| c.str().map(|s| s.to_string()))
            .transpose()?;
        let cfg = CollectorConfig {
            dir: target_dir.unwrap_or_else(|| PathBuf::from("collector_data")),
            roll_after,
            collector_id,
            use_json,
        };
        Ok(Collector {
            inner: collector::Collector::open(cfg)
                .map_err(|e| collector_err(collector::Error::File(e)))?,
            filter_fn,
        })
    }

    fn process_raw_message(&mut self, py: Python<'_>, raw: &[u8]) -> PyResult<()> {
        let keep = match &self.filter_fn {
            Some(f) => f
                .bind(py)
                .call1((pyo3::types::PyBytes::new(py, raw),))?
                .is_truthy()?,
            None => true,
        };
        let lost = self.inner.lost_frames();
        self.inner.process(raw, keep);
        self.inner.flush();
        if self.inner.lost_frames() > lost {
            return Err(CollectorError::new_err(failed(self.inner.failure.as_ref())));
        }
        Ok(())
    }
}

#[pyclass(module = "mite.recorder", name = "Recorder", unsendable)]
pub struct Recorder(recorder::Recorder);

#[pymethods]
impl Recorder {
    #[new]
    #[pyo3(signature = (target_dir=None))]
    fn new(target_dir: Option<PathBuf>) -> PyResult<Self> {
        let dir = target_dir.unwrap_or_else(|| PathBuf::from("recorded_data"));
        let rec =
            recorder::Recorder::open(dir).map_err(|e| recorder_err(recorder::Error::File(e)))?;
        Ok(Recorder(rec))
    }

    fn process_message(&mut self, msg: &Bound<'_, PyDict>) -> PyResult<()> {
        let Some(t) = msg.get_item("type")? else {
            return Ok(());
        };
        let Ok(t) = t.extract::<String>() else {
            return Ok(());
        };
        if (t == "data_created" || t == "purge_data")
            && self.0.process(&pack(msg.as_any())?, &t) == recorder::Outcome::Failed
        {
            return Err(RecorderError::new_err(failed(self.0.failure.as_ref())));
        }
        Ok(())
    }
}
