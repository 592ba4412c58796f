//! What a run (or `mite report`) asked for at the end: thresholds judged, the JSON summary and the
//! HTML report written (each to a temporary file renamed into place, so a reader never sees half).
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::record::RunRecord;
use super::threshold::{Threshold, Verdict};
use super::{html, summary};

/// The outputs and thresholds asked for on the command line.
#[derive(Clone, Debug, Default)]
pub struct Outputs {
    pub thresholds: Vec<Threshold>,
    pub json_summary: Option<PathBuf>,
    pub html_report: Option<PathBuf>,
    pub config: Vec<(String, String)>,
}

/// What publishing did.
#[derive(Debug, Default)]
pub struct Published {
    /// A line for each broken threshold.
    pub broken: Vec<String>,
    /// Every threshold's verdict, in the order given.
    pub verdicts: Vec<Verdict>,
    /// A line for each file that could not be written, naming it.
    pub failures: Vec<String>,
}

fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

impl Outputs {
    pub fn publish(&self, rec: &mut RunRecord, source: &str, skipped_bytes: u64) -> Published {
        rec.finish();
        if let Some(test) = rec.test.clone() {
            if !rec.config.iter().any(|(k, _)| k == "test") {
                rec.config.insert(0, ("test".into(), test));
            }
        }
        for (k, v) in &self.config {
            rec.config.push((k.clone(), v.clone()));
        }
        let verdicts: Vec<_> = self.thresholds.iter().map(|t| t.judge(rec)).collect();
        let mut out = Published {
            broken: verdicts
                .iter()
                .filter(|v| !v.passed)
                .map(|v| v.broken_line())
                .collect(),
            ..Default::default()
        };
        if self.json_summary.is_none() && self.html_report.is_none() {
            out.verdicts = verdicts;
            return out;
        }
        let doc = summary::summary(rec, &verdicts, source, skipped_bytes);
        out.verdicts = verdicts;
        let mut write = |option: &str, path: &Option<PathBuf>, text: &dyn Fn() -> String| {
            if let Some(p) = path {
                if let Err(e) = write_atomically(p, &text()) {
                    out.failures
                        .push(format!("{option} could not write {}: {e}", p.display()));
                }
            }
        };
        write("--json-summary", &self.json_summary, &|| {
            serde_json::to_string_pretty(&doc).expect("a JSON value serialises") + "\n"
        });
        write("--html-report", &self.html_report, &|| html::render(&doc));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_and_failures_named() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("s.json");
        let outputs = Outputs {
            thresholds: vec!["errors==0".parse().unwrap(), "p(99)<1ms".parse().unwrap()],
            json_summary: Some(json.clone()),
            html_report: Some(dir.path().join("missing").join("r.html")),
            config: vec![("command".into(), "mite x".into())],
        };
        let mut rec = RunRecord::new();
        let out = outputs.publish(&mut rec, "local run", 0);
        assert_eq!(out.broken.len(), 1, "{:?}", out.broken);
        assert_eq!(out.verdicts.len(), 2);
        let doc: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(doc["config"]["command"], "mite x");
        assert_eq!(out.failures.len(), 1);
        assert!(out.failures[0].starts_with("--html-report could not write "));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
