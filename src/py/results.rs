//! The results' Python face: `ResultsRequest` (thresholds and report paths, checked when made, so
//! a bad one stops the run before it starts) and `report_folder` (`mite report COLLECTOR_DIR`).
use std::path::PathBuf;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::report::summary::threshold_table;
use crate::results::folder::read_folder;
use crate::results::{Outputs, Published, RunRecord, Threshold};

/// `--threshold`s, `--json-summary` and `--html-report`, parsed.
#[pyclass(frozen, module = "mite._native")]
#[derive(Clone)]
pub struct ResultsRequest {
    outputs: Outputs,
}

#[pymethods]
impl ResultsRequest {
    /// Raises ValueError with one line naming a malformed threshold and what was expected.
    #[new]
    #[pyo3(signature = (*, thresholds=Vec::new(), json_summary=None, html_report=None, config=Vec::new()))]
    fn new(
        thresholds: Vec<String>,
        json_summary: Option<PathBuf>,
        html_report: Option<PathBuf>,
        config: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let thresholds = thresholds
            .iter()
            .map(|t| t.parse::<Threshold>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(ResultsRequest {
            outputs: Outputs {
                thresholds,
                json_summary,
                html_report,
                config,
            },
        })
    }
}

impl ResultsRequest {
    /// Judges and writes what was asked for from a finished run's record.
    pub fn write(&self, rec: &mut RunRecord, source: &str, skipped_bytes: u64) -> Published {
        self.outputs.publish(rec, source, skipped_bytes)
    }
}

/// Sets the keys every caller of `publish` reads: `broken`, `thresholds` (the table for stdout) and
/// `report_failures`.
pub fn published_into(out: &Bound<'_, PyDict>, p: Published) -> PyResult<()> {
    out.set_item("broken", p.broken)?;
    out.set_item("thresholds", threshold_table(&p.verdicts))?;
    out.set_item("report_failures", p.failures)
}

/// `mite report COLLECTOR_DIR`: reads the folder, then judges and writes as a local run does.
#[pyfunction]
pub fn report_folder<'py>(
    py: Python<'py>,
    dir: PathBuf,
    request: PyRef<'py, ResultsRequest>,
) -> PyResult<Bound<'py, PyDict>> {
    let request: ResultsRequest = (*request).clone();
    let (read, published, requests) = py
        .detach(|| {
            let mut rec = RunRecord::new();
            rec.config
                .push(("collector folder".into(), dir.display().to_string()));
            let read = read_folder(&dir, &mut rec)?;
            rec.config.push(("files".into(), read.files.to_string()));
            let published = request.write(&mut rec, "collector folder", read.skipped_bytes);
            Ok((read, published, rec.all.requests))
        })
        .map_err(|e: crate::results::folder::FolderError| PyOSError::new_err(e.to_string()))?;
    let out = PyDict::new(py);
    out.set_item("files", read.files)?;
    out.set_item("frames", read.frames)?;
    out.set_item("skipped_bytes", read.skipped_bytes)?;
    out.set_item("requests", requests)?;
    published_into(&out, published)?;
    Ok(out)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ResultsRequest>()?;
    m.add_function(wrap_pyfunction!(report_folder, m)?)
}
