//! The HTML report: one self-contained file (inline CSS and SVG charts, no script, no fetch; a
//! Content-Security-Policy forbids any) from the same JSON summary the CI reads, so the two agree.
use serde_json::Value;

use super::charts::{line_chart, Series, PALETTE};
use super::summary::{percentile_key, PERCENTILES};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON number as the report shows it: whole numbers plain, others to 3 decimals.
pub fn shown(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        Value::Number(n) => format!("{:.3}", n.as_f64().unwrap_or(0.0)),
        Value::String(s) => esc(s),
        Value::Bool(b) => b.to_string(),
        other => esc(&other.to_string()),
    }
}

fn cell(key: &str, v: &Value) -> String {
    format!("<td data-key=\"{}\">{}</td>", esc(key), shown(v))
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}\
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.pass{color:#15803d}.fail{color:#b91c1c;font-weight:bold}\
figure{margin:0 0 20px}.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:18px;height:3px;margin:0 5px 3px 0}";

fn latency_head() -> String {
    let mut h = String::from("<th>count</th><th>min ms</th><th>mean ms</th><th>max ms</th>");
    for p in PERCENTILES {
        h.push_str(&format!("<th>p{p} ms</th>"));
    }
    h
}

fn latency_cells(t: &Value) -> String {
    let mut row = cell("count", &t["count"]);
    for k in ["min_ms", "mean_ms", "max_ms"] {
        row.push_str(&cell(k, &t[k]));
    }
    for p in PERCENTILES {
        let k = percentile_key(p);
        row.push_str(&cell(&format!("p{k}"), &t["percentiles_ms"][&k]));
    }
    row
}

fn groups(id: &str, title: &str, items: &Value) -> String {
    let mut out = format!(
        "<h2>{title}</h2><table id=\"{id}\"><tr><th>name</th><th>requests</th><th>req/s</th><th>errors</th><th>finished</th><th>failed</th>{}</tr>",
        latency_head()
    );
    for g in items.as_array().into_iter().flatten() {
        out.push_str(&format!(
            "<tr data-name=\"{}\"><td>{}</td>{}{}{}{}{}{}</tr>",
            esc(g["name"].as_str().unwrap_or("")),
            esc(g["name"].as_str().unwrap_or("")),
            cell("requests", &g["requests"]),
            cell("requests_per_s", &g["requests_per_s"]),
            cell("errors", &g["errors"]),
            cell("finished", &g["finished"]),
            cell("failed", &g["failed"]),
            latency_cells(&g["latency"]),
        ));
    }
    out + "</table>"
}

fn points(seconds: &[Value], ys: &Value) -> Vec<(f64, f64)> {
    seconds
        .iter()
        .zip(ys.as_array().into_iter().flatten())
        .filter_map(|(x, y)| Some((x.as_f64()?, y.as_f64()?)))
        .collect()
}

fn figure(id: &str, title: &str, y_label: &str, series: Vec<(String, Vec<(f64, f64)>)>) -> String {
    let series: Vec<Series> = series
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .enumerate()
        .map(|(i, (name, points))| Series {
            name,
            colour: PALETTE[i % PALETTE.len()],
            points,
        })
        .collect();
    let svg = line_chart(y_label, &series)
        .unwrap_or_else(|e| format!("<p>chart failed: {}</p>", esc(&e)));
    let legend: String = series
        .iter()
        .map(|s| {
            let c = s.colour;
            format!(
                "<span><i style=\"background:rgb({},{},{})\"></i>{}</span>",
                c.0,
                c.1,
                c.2,
                esc(&s.name)
            )
        })
        .collect();
    format!(
        "<figure class=\"chart\" id=\"{id}\" data-series=\"{}\"><figcaption><b>{title}</b> <span class=\"legend\">{legend}</span></figcaption>{svg}</figure>",
        series.len()
    )
}

fn charts(s: &Value) -> String {
    let series = &s["series"];
    let secs: Vec<Value> = series["second"].as_array().cloned().unwrap_or_default();
    let mut out = String::from("<h2>Over time</h2>");
    out.push_str(&figure(
        "chart-throughput",
        "Throughput",
        "per second",
        vec![
            ("requests/s".into(), points(&secs, &series["requests"])),
            ("journeys/s".into(), points(&secs, &series["journeys"])),
        ],
    ));
    out.push_str(&figure(
        "chart-latency",
        "Response time percentiles",
        "ms",
        ["p50", "p95", "p99"]
            .iter()
            .map(|p| (p.to_string(), points(&secs, &series[format!("{p}_ms")])))
            .collect(),
    ));
    let errors: Vec<(String, Vec<(f64, f64)>)> = series["errors"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), points(&secs, v)))
        .collect();
    out.push_str(&figure(
        "chart-errors",
        "Errors by type",
        "per second",
        errors,
    ));
    out.push_str(&figure(
        "chart-volume",
        "Required vs actual journeys",
        "journeys",
        vec![
            ("required".into(), points(&secs, &series["required"])),
            ("actual".into(), points(&secs, &series["actual"])),
        ],
    ));
    out
}

fn pairs(id: &str, title: &str, head: &str, map: &Value) -> String {
    let mut out =
        format!("<h2>{title}</h2><table id=\"{id}\"><tr><th>{head}</th><th>count</th></tr>");
    for (k, v) in map.as_object().into_iter().flatten() {
        out.push_str(&format!(
            "<tr data-name=\"{0}\"><td>{0}</td>{1}</tr>",
            esc(k),
            cell("count", v)
        ));
    }
    out + "</table>"
}

/// The report page for a summary made by `summary::summary`.
pub fn render(s: &Value) -> String {
    let title = s["config"]["test"].as_str().unwrap_or("mite run");
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>mite report: {}</title><style>{STYLE}</style></head><body>\n<h1>mite report: {}</h1>",
        esc(title),
        esc(title)
    );
    out.push_str("<h2>Configuration</h2><table id=\"config\">");
    for (k, v) in s["config"].as_object().into_iter().flatten() {
        out.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(k),
            shown(v)
        ));
    }
    out.push_str("</table>");
    let t = &s["totals"];
    out.push_str("<h2>Summary</h2><table id=\"summary\"><tr>");
    let keys = [
        "requests",
        "requests_per_s",
        "errors",
        "errors_per_s",
        "journeys",
        "journeys_failed",
        "journeys_dropped",
        "bytes",
    ];
    for k in keys {
        out.push_str(&format!("<th>{}</th>", k.replace('_', " ")));
    }
    out.push_str("<th>duration s</th></tr><tr>");
    for k in keys {
        out.push_str(&cell(k, &t[k]));
    }
    out.push_str(&cell("duration_s", &s["duration_s"]));
    out.push_str("</tr></table>");
    if s["skipped_bytes"].as_u64().unwrap_or(0) > 0 {
        out.push_str(&format!(
            "<p id=\"skipped\">{} bytes of torn frames were skipped.</p>",
            s["skipped_bytes"]
        ));
    }
    out.push_str(&format!(
        "<h2>Response times</h2><table id=\"latency\"><tr><th></th>{}</tr><tr><td>all requests</td>{}</tr><tr><td>journeys</td>{}</tr></table>",
        latency_head(),
        latency_cells(&s["latency"]),
        latency_cells(&s["journey_duration"])
    ));
    if let Some(verdicts) = s["thresholds"].as_array().filter(|v| !v.is_empty()) {
        out.push_str("<h2>Thresholds</h2><table id=\"thresholds\"><tr><th>expression</th><th>measured</th><th>result</th></tr>");
        for v in verdicts {
            let passed = v["passed"].as_bool().unwrap_or(false);
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                esc(v["expression"].as_str().unwrap_or("")),
                esc(v["shown"].as_str().unwrap_or("")),
                if passed { "pass" } else { "fail" },
                if passed { "pass" } else { "FAIL" }
            ));
        }
        out.push_str("</table>");
    }
    out.push_str(&pairs(
        "errors",
        "Errors by type",
        "type",
        &s["errors_by_type"],
    ));
    out.push_str(&pairs(
        "status-codes",
        "HTTP status codes",
        "status",
        &s["status_codes"],
    ));
    out.push_str(&charts(s));
    out.push_str(&groups("transactions", "Transactions", &s["transactions"]));
    out.push_str(&groups("journeys", "Journeys", &s["journeys"]));
    out.push_str(&groups("urls", "URLs", &s["urls"]));
    out.push_str("\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{summary::summary, Message, RunRecord};

    #[test]
    fn the_page_is_self_contained_and_escapes_names() {
        let mut rec = RunRecord::new();
        rec.config.push(("test".into(), "<demo>".into()));
        for i in 0..5 {
            let m = Message {
                msg_type: Some("http_metrics"),
                time: Some(10.0 + f64::from(i)),
                total_time: Some(0.002),
                effective_url: Some("http://h/?a=<b>"),
                method: Some("GET"),
                ..Default::default()
            };
            rec.add(&m, 0.0);
        }
        rec.finish();
        let page = render(&summary(&rec, &[], "local run", 0));
        assert!(page.contains("<title>mite report: &lt;demo&gt;</title>"));
        assert!(page.contains("GET http://h/?a=&lt;b&gt;"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("http://h/?a=<b>"));
        assert!(page.contains("id=\"chart-latency\" data-series=\"3\""));
        assert!(page.contains("id=\"chart-errors\" data-series=\"0\""));
    }
}
