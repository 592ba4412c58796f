//! The end of a test: the `--report` tables and the threshold checks that set exit status 1.
use crate::report::console::RequestStats;
use crate::report::table::Table;

/// The threshold options (0 means unset, as in mite 2.11).
#[derive(Clone, Debug, Default)]
pub struct Thresholds {
    pub max_errors: u64,
    pub max_response_time_ms: u64,
    pub mean_response_time_ms: u64,
    pub stddev_response_time_ms: u64,
    pub stddev_req_sec: u64,
    /// `--benchmark-percentiles`: (percentile, threshold in ms).
    pub percentiles: Vec<(u32, u64)>,
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Sample standard deviation; 0 below two samples (where Python's `statistics` raises).
fn stdev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

fn within_stdev(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let (m, s) = (mean(xs), stdev(xs));
    xs.iter().filter(|x| (*x - m).abs() < s).count() as f64 / xs.len() as f64 * 100.0
}

/// `statistics.quantiles(data, n=100)` with its default "exclusive" method.
pub fn percentiles(data: &[f64]) -> Vec<f64> {
    let mut d = data.to_vec();
    d.sort_by(f64::total_cmp);
    let (n, ld) = (100i64, d.len() as i64);
    if ld == 0 {
        return Vec::new();
    }
    if ld == 1 {
        return vec![d[0]; 99];
    }
    let m = ld + 1;
    (1..n)
        .map(|i| {
            let j = (i * m / n).clamp(1, ld - 1);
            let delta = i * m - j * n;
            (d[(j - 1) as usize] * (n - delta) as f64 + d[j as usize] * delta as f64) / n as f64
        })
        .collect()
}

/// `1.23ms` below a second, `1.234s` above, as the report prints times.
pub fn time_unit(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.2}ms", secs * 1000.0)
    } else {
        format!("{secs:.3}s")
    }
}

fn colour(result: f64, threshold: u64) -> String {
    let text = time_unit(result);
    match threshold {
        0 => text,
        t if result * 1000.0 >= t as f64 => format!("\x1b[91m{text}\x1b[0m"),
        _ => format!("\x1b[92m{text}\x1b[0m"),
    }
}

fn per_sec(n: f64) -> String {
    if n >= 1000.0 {
        format!("{:.2}K", n / 1000.0)
    } else {
        format!("{n:.2}")
    }
}

fn bytes(mut size: f64) -> (f64, &'static str) {
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size < 1024.0 {
            return (size, unit);
        }
        size /= 1024.0;
    }
    (size, "PB")
}

/// (percentile, threshold, measured seconds) for each `--benchmark-percentiles` entry.
pub fn percentile_results(st: &RequestStats, th: &Thresholds) -> Vec<(u32, u64, f64)> {
    let q = percentiles(&st.resp_time_store);
    if q.is_empty() {
        return Vec::new();
    }
    th.percentiles
        .iter()
        .map(|(p, t)| (*p, *t, q[(*p as usize).clamp(1, 99) - 1]))
        .collect()
}

/// The `--report` text, as mite 2.11 prints it.
pub fn render_report(st: &RequestStats, th: &Thresholds, completed: f64) -> String {
    let pr = percentile_results(st, th);
    let standard = ["", "Avg", "Min", "Max", "Std Dev", "+/- Std Dev"];
    let mut header: Vec<String> = standard.iter().map(|s| s.to_string()).collect();
    header.extend(pr.iter().map(|(p, _, _)| format!("{p} %tile")));
    let mut latency = Table::new(header);
    let rt = &st.resp_time_store;
    let mut row = vec![
        "Latency".to_string(),
        time_unit(mean(rt)),
        time_unit(st.resp_time_min),
        time_unit(st.resp_time_max),
        time_unit(stdev(rt)),
        format!("{:.2}%", within_stdev(rt)),
    ];
    row.extend(pr.iter().map(|(_, t, r)| colour(*r, *t)));
    latency.row(row, true);
    if pr.iter().any(|(_, t, _)| *t != 0) {
        let mut r: Vec<String> = vec!["Test Thresholds".into()];
        r.extend(std::iter::repeat_n("-".to_string(), standard.len() - 1));
        r.extend(pr.iter().map(|(_, t, _)| {
            if *t != 0 {
                format!("{t}ms")
            } else {
                "-".into()
            }
        }));
        latency.row(r, false);
    }
    let mut requests = Table::new(standard);
    let rs = &st.req_sec_store;
    requests.row(
        [
            "Req/Sec".to_string(),
            per_sec(mean(rs)),
            per_sec(st.req_sec_min),
            per_sec(st.req_sec_max),
            per_sec(stdev(rs)),
            format!("{:.2}%", within_stdev(rs)),
        ],
        false,
    );
    let (amount, unit) = bytes(st.data_transferred);
    format!(
        "\n{eq20} MITE Benchmark Report {eq20}\n\n{}\n\n{}\n\n{eq27} Summary {eq27}\n{} requests in {:.2}s, {:.2} {} data transferred\n\n",
        latency.render(),
        requests.render(),
        st.req_total,
        completed - st.init_time,
        amount,
        unit,
        eq20 = "=".repeat(20),
        eq27 = "=".repeat(27),
    )
}

/// Every threshold the run broke, each as the line mite 2.11 logs for it.
pub fn broken_thresholds(st: &RequestStats, th: &Thresholds, with_report: bool) -> Vec<String> {
    let mut out = Vec::new();
    if th.max_errors < st.error_total {
        out.push(format!("Error count exceeded: {}", st.error_total));
    }
    let checks = [
        (
            th.max_response_time_ms,
            st.resp_time_max * 1000.0,
            "Max response time exceeded: {}ms",
        ),
        (
            th.mean_response_time_ms,
            st.resp_times.mean() * 1000.0,
            "Mean response time exceeded: {}ms",
        ),
        (
            th.stddev_response_time_ms,
            st.resp_times.stdev() * 1000.0,
            "Response time standard deviation exceeded: {}ms",
        ),
        (
            th.stddev_req_sec,
            stdev(&st.req_sec_store),
            "Request per second exceeded: {}",
        ),
    ];
    for (limit, value, text) in checks {
        if limit != 0 && value > limit as f64 {
            out.push(text.replace("{}", &crate::bus::float::py_float_repr(value)));
        }
    }
    // NOTE: mite 2.11 checks percentile thresholds only when the report is printed; kept so.
    if with_report {
        for (p, t, r) in percentile_results(st, th) {
            if t != 0 && r * 1000.0 >= t as f64 {
                out.push(format!(
                    "Response time at {p}th percentile exceeded {t}ms: {}",
                    time_unit(r)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::console::ConsoleConfig;

    #[test]
    fn quantiles_match_python_exclusive_method() {
        // Python: statistics.quantiles(range(1, 11), n=100) -> [0] 0.11, [49] 5.5, [89] 9.9, [98] 10.89
        let q = percentiles(&[10.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        assert_eq!(q.len(), 99);
        assert!((q[49] - 5.5).abs() < 1e-12);
        assert!((q[0] - 0.11).abs() < 1e-12, "{}", q[0]);
        assert!((q[98] - 10.89).abs() < 1e-12, "{}", q[98]);
        assert!((q[89] - 9.9).abs() < 1e-9, "{}", q[89]);
    }

    #[test]
    fn the_req_sec_threshold_reads_the_spread_of_the_per_period_rates() {
        let mut st = RequestStats::new(
            ConsoleConfig {
                period_secs: 2.0,
                ..Default::default()
            },
            0.0,
        );
        for _ in 0..10 {
            st.request(0.0, 0.1, 0.0);
        }
        st.tick(2.5); // 10 requests in 2.5 s: 4 per second
        st.request(3.0, 0.1, 0.0);
        st.finish(5.0); // 1 in 2.5 s: 0.4 per second
        assert_eq!(st.req_sec_store, vec![4.0, 0.4]);
        let limit = |n| Thresholds {
            stddev_req_sec: n,
            ..Default::default()
        };
        // statistics.stdev([4.0, 0.4]) == 2.545584412271571
        assert_eq!(
            broken_thresholds(&st, &limit(2), false),
            vec!["Request per second exceeded: 2.545584412271571".to_string()]
        );
        assert!(broken_thresholds(&st, &limit(3), false).is_empty());
        assert!(
            broken_thresholds(&st, &limit(0), false).is_empty(),
            "0: no threshold"
        );
    }

    #[test]
    fn thresholds_report_each_breach() {
        let mut st = RequestStats::new(
            ConsoleConfig {
                period_secs: 2.0,
                keep_samples: true,
                ..Default::default()
            },
            0.0,
        );
        st.request(0.0, 0.2, 0.0);
        st.request(0.0, 0.4, 0.0);
        st.error(0.0, None);
        st.finish(1.0);
        let th = Thresholds {
            max_response_time_ms: 300,
            percentiles: vec![(50, 100)],
            ..Default::default()
        };
        let broken = broken_thresholds(&st, &th, true);
        assert_eq!(broken[0], "Error count exceeded: 1");
        assert_eq!(broken[1], "Max response time exceeded: 400.0ms");
        assert!(
            broken[2].starts_with("Response time at 50th percentile exceeded 100ms"),
            "{broken:?}"
        );
        let report = render_report(&st, &th, 1.0);
        assert!(report.contains("MITE Benchmark Report"));
        assert!(report.contains("2 requests in 1.00s, 0.00 B data transferred"));
        assert!(report.contains("| Test Thresholds |"));
    }
}
