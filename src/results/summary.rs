//! The JSON summary (`--json-summary`, `mite report --json-summary`): the record's numbers for CI,
//! in the schema documented in docs/RESULTS.md. Times are milliseconds.
use serde_json::{json, Map, Value};

use super::record::{Group, RunRecord, Times};
use super::threshold::Verdict;

/// Bumped when a field changes meaning or goes away; new fields do not bump it.
pub const VERSION: u64 = 1;
/// The percentiles every latency block carries.
pub const PERCENTILES: [f64; 7] = [50.0, 75.0, 90.0, 95.0, 98.0, 99.0, 99.9];

fn ms(secs: Option<f64>) -> Value {
    // Whole microseconds over 1000: the same decimal the HTML report prints.
    secs.map_or(Value::Null, |s| json!((s * 1e6).round() / 1000.0))
}

/// `99.9` -> `"99.9"`, `50.0` -> `"50"`.
pub fn percentile_key(p: f64) -> String {
    format!("{p}")
}

pub fn times(t: &Times) -> Value {
    let mut pct = Map::new();
    for p in PERCENTILES {
        pct.insert(percentile_key(p), ms(t.percentile(p)));
    }
    json!({
        "count": t.count(),
        "min_ms": ms(t.min()),
        "mean_ms": ms(t.mean()),
        "max_ms": ms(t.max()),
        "stdev_ms": ms(t.stdev()),
        "percentiles_ms": pct,
    })
}

fn group(rec: &RunRecord, name: &str, g: &Group) -> Value {
    json!({
        "name": name,
        "requests": g.requests,
        "requests_per_s": rec.rate(g.requests),
        "errors": g.errors,
        "finished": g.finished,
        "failed": g.failed,
        "dropped": g.dropped,
        "bytes": g.bytes as u64,
        "latency": times(&g.latency),
        "duration": times(&g.duration),
    })
}

fn series(rec: &RunRecord) -> Value {
    let start = rec.seconds.keys().next().copied().unwrap_or(0);
    let secs: Vec<&crate::results::record::Second> = rec.seconds.values().collect();
    let lat = |i: usize| -> Vec<Value> {
        secs.iter()
            .map(|s| s.latency.map_or(Value::Null, |l| ms(Some(l[i]))))
            .collect()
    };
    let opt = |f: fn(&crate::results::record::Second) -> Option<f64>| -> Vec<Value> {
        secs.iter()
            .map(|s| f(s).map_or(Value::Null, |v| json!(v)))
            .collect()
    };
    let mut errors = Map::new();
    for kind in rec.errors_by_type.keys() {
        let counts: Vec<u64> = secs
            .iter()
            .map(|s| s.errors.get(kind).copied().unwrap_or(0))
            .collect();
        errors.insert(kind.clone(), json!(counts));
    }
    json!({
        "second": rec.seconds.keys().map(|k| k - start).collect::<Vec<_>>(),
        "start_time": start,
        "requests": secs.iter().map(|s| s.requests).collect::<Vec<_>>(),
        "journeys": secs.iter().map(|s| s.journeys).collect::<Vec<_>>(),
        "p50_ms": lat(0),
        "p95_ms": lat(1),
        "p99_ms": lat(2),
        "errors": errors,
        "required": opt(|s| s.required),
        "actual": opt(|s| s.actual),
    })
}

/// The whole summary; `skipped_bytes` is what a collector folder's torn frames lost.
pub fn summary(rec: &RunRecord, verdicts: &[Verdict], source: &str, skipped_bytes: u64) -> Value {
    let config: Map<String, Value> = rec
        .config
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let all = &rec.all;
    json!({
        "version": VERSION,
        "generator": format!("mite {}", env!("CARGO_PKG_VERSION")),
        "source": source,
        "config": config,
        "start_time": rec.first_time,
        "end_time": rec.last_time,
        "duration_s": rec.duration(),
        "messages": rec.messages,
        "skipped_bytes": skipped_bytes,
        "totals": {
            "requests": all.requests,
            "requests_per_s": rec.rate(all.requests),
            "errors": all.errors,
            "errors_per_s": rec.rate(all.errors),
            "journeys": all.finished,
            "journeys_failed": all.failed,
            "journeys_dropped": all.dropped,
            "bytes": all.bytes as u64,
        },
        "errors_by_type": rec.errors_by_type,
        "status_codes": rec.status_codes.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<Map<_, _>>(),
        "latency": times(&all.latency),
        "journey_duration": times(&all.duration),
        "transactions": rec.transactions.iter().map(|(n, g)| group(rec, n, g)).collect::<Vec<_>>(),
        "journeys": rec.journeys.iter().map(|(n, g)| group(rec, n, g)).collect::<Vec<_>>(),
        "urls": rec.urls.iter().map(|(n, g)| group(rec, n, g)).collect::<Vec<_>>(),
        "thresholds": verdicts.iter().map(|v| json!({
            "expression": v.threshold.text,
            "transaction": v.threshold.transaction,
            "metric": v.threshold.metric.name(),
            "actual": v.actual,
            "shown": v.shown(),
            "passed": v.passed,
        })).collect::<Vec<_>>(),
        "series": series(rec),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Message;

    #[test]
    fn the_summary_carries_version_totals_and_series() {
        let mut rec = RunRecord::new();
        for i in 0..3 {
            let m = Message {
                msg_type: Some("http_metrics"),
                time: Some(50.0 + f64::from(i)),
                total_time: Some(0.0102),
                effective_url: Some("http://h/"),
                method: Some("GET"),
                response_code: Some(200.0),
                ..Default::default()
            };
            rec.add(&m, 0.0);
        }
        rec.finish();
        let t: crate::results::Threshold = "p(95)<20ms".parse().unwrap();
        let v = summary(&rec, &[t.judge(&rec)], "local run", 0);
        assert_eq!(v["version"], 1);
        assert_eq!(v["totals"]["requests"], 3);
        assert_eq!(v["latency"]["percentiles_ms"]["95"], 10.2);
        assert_eq!(v["urls"][0]["name"], "GET http://h/");
        assert_eq!(v["series"]["requests"], json!([1, 1, 1]));
        assert_eq!(v["series"]["second"], json!([0, 1, 2]));
        assert_eq!(v["thresholds"][0]["passed"], true);
        assert_eq!(v["status_codes"]["200"], 3);
    }
}
