//! Request statistics kept as mite's HttpStatsOutput keeps them, printed every period.
use std::collections::BTreeMap;

use crate::log;
use crate::report::log::Level;
use crate::report::progress::Progress;

pub use crate::results::message::REQUEST_TYPES;

/// How the periodic lines are printed.
#[derive(Clone, Debug, Default)]
pub struct ConsoleConfig {
    pub enabled: bool,
    pub hide_constant_logs: bool,
    pub journey_logging: bool,
    pub period_secs: f64,
    /// Keep every response time for the end report's exact percentiles (`--report`); without
    /// it memory stays flat however long the test runs.
    pub keep_samples: bool,
    /// Draw the live status area (`report::progress`): local runs on a terminal.
    pub progress: bool,
}

/// Count, mean and spread of a series without keeping it (Welford's method).
#[derive(Clone, Copy, Debug, Default)]
pub struct Running {
    pub count: u64,
    mean: f64,
    m2: f64,
}

impl Running {
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        let d = x - self.mean;
        self.mean += d / self.count as f64;
        self.m2 += d * (x - self.mean);
    }

    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Sample standard deviation; 0 below two samples.
    pub fn stdev(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            (self.m2 / (self.count - 1) as f64).sqrt()
        }
    }
}

/// Running totals, the current period, and everything the end report needs.
#[derive(Debug, Default)]
pub struct RequestStats {
    pub cfg: ConsoleConfig,
    pub init_time: f64,
    period_start: Option<f64>,
    pub req_total: u64,
    req_recent: u64,
    pub error_total: u64,
    error_recent: u64,
    resp_time_recent: Vec<f64>,
    /// Every response time of the test, for percentiles at the end (with `keep_samples`).
    pub resp_time_store: Vec<f64>,
    /// Mean and spread of every response time, kept either way (for the thresholds).
    pub resp_times: Running,
    pub req_sec_store: Vec<f64>,
    pub resp_time_min: f64,
    pub resp_time_max: f64,
    pub req_sec_min: f64,
    pub req_sec_max: f64,
    pub data_transferred: f64,
    error_journeys: BTreeMap<String, u64>,
    /// The live status area, fed from the same calls (`report::progress`).
    pub live: Option<Progress>,
}

impl RequestStats {
    /// Starts counting at `now`.
    pub fn new(cfg: ConsoleConfig, now: f64) -> Self {
        RequestStats {
            live: cfg.progress.then(Progress::start),
            cfg,
            init_time: now,
            ..Default::default()
        }
    }

    /// Counts one request-like message.
    pub fn request(&mut self, now: f64, total_time: f64, download_size: f64) {
        self.period_start.get_or_insert(now);
        self.resp_time_recent.push(total_time);
        self.data_transferred += download_size;
        self.req_total += 1;
        self.req_recent += 1;
        if let Some(p) = self.live.as_mut() {
            p.request(total_time);
        }
    }

    /// Counts one `error` or `exception` message.
    pub fn error(&mut self, now: f64, journey: Option<&str>) {
        self.period_start.get_or_insert(now);
        self.error_total += 1;
        self.error_recent += 1;
        if let Some(p) = self.live.as_mut() {
            p.error();
        }
        if self.cfg.journey_logging {
            *self
                .error_journeys
                .entry(journey.unwrap_or("None").to_string())
                .or_default() += 1;
        }
    }

    /// Any message starts the first period, as in mite 2.11.
    pub fn seen(&mut self, now: f64) {
        self.period_start.get_or_insert(now);
    }

    /// Closes the period if it is over; prints its lines when `print` is set.
    pub fn tick(&mut self, now: f64) {
        if let Some(p) = self.live.as_mut() {
            p.tick();
        }
        if let Some(start) = self.period_start {
            if start + self.cfg.period_secs < now {
                self.close_period(now, true);
            }
        }
    }

    /// Folds the last, partial period in, so the report covers the whole test.
    pub fn finish(&mut self, now: f64) {
        if let Some(p) = self.live.take() {
            p.finish();
        }
        if self.period_start.is_some() && (self.req_recent > 0 || self.error_recent > 0) {
            self.close_period(now, false);
        }
    }

    fn close_period(&mut self, now: f64, print: bool) {
        let start = self.period_start.unwrap_or(now);
        let dt = (now - start).max(f64::MIN_POSITIVE);
        if !self.resp_time_recent.is_empty() {
            let (lo, hi) = self
                .resp_time_recent
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            for t in &self.resp_time_recent {
                self.resp_times.add(*t);
            }
            if self.cfg.keep_samples {
                self.resp_time_store
                    .extend_from_slice(&self.resp_time_recent);
            }
            self.resp_time_min = if self.resp_time_min == 0.0 {
                lo
            } else {
                self.resp_time_min.min(lo)
            };
            self.resp_time_max = self.resp_time_max.max(hi);
        }
        if self.req_recent > 0 {
            let req_sec = self.req_recent as f64 / dt;
            self.req_sec_store.push(req_sec);
            self.req_sec_min = if self.req_sec_min == 0.0 {
                req_sec
            } else {
                self.req_sec_min.min(req_sec)
            };
            self.req_sec_max = self.req_sec_max.max(req_sec);
        }
        if print && self.cfg.enabled {
            self.print(dt);
        }
        self.period_start = Some(now);
        self.resp_time_recent.clear();
        self.req_recent = 0;
        self.error_recent = 0;
    }

    fn print(&mut self, dt: f64) {
        const NAME: &str = "Http Stats";
        self.resp_time_recent.sort_by(f64::total_cmp);
        if !self.cfg.hide_constant_logs {
            log!(
                Level::Info,
                NAME,
                "print_output",
                "Total> #Reqs:{} #Errs:{}",
                self.req_total,
                self.error_total
            );
        }
        if self.cfg.journey_logging {
            for (journey, n) in &self.error_journeys {
                log!(
                    Level::Info,
                    NAME,
                    "print_output",
                    "Total errors for {journey} :{n}"
                );
            }
        }
        if !self.cfg.hide_constant_logs {
            let p = |q: f64| pct(&self.resp_time_recent, q);
            log!(
                Level::Info,
                NAME,
                "print_output",
                "Last {} Secs> #Reqs:{} #Errs:{} Req/S:{:.1} min:{} 25%:{} 50%:{} 75%:{} 90%:{} 99%:{} 99.9%:{} max:{}",
                self.cfg.period_secs,
                self.req_recent,
                self.error_recent,
                self.req_recent as f64 / dt,
                p(0.0),
                p(25.0),
                p(50.0),
                p(75.0),
                p(90.0),
                p(99.0),
                p(99.9),
                p(100.0)
            );
        }
    }
}

/// Linear-interpolated percentile of sorted samples, formatted `%.6f` (or `None` when empty).
pub fn pct(sorted: &[f64], percentile: f64) -> String {
    if sorted.is_empty() {
        return "None".into();
    }
    let index = percentile / 100.0 * (sorted.len() - 1) as f64;
    let (lo, frac) = (index.floor() as usize, index.fract());
    if frac == 0.0 {
        return format!("{:.6}", sorted[lo]);
    }
    let (a, b) = (sorted[lo], sorted[lo + 1]);
    format!("{:.6}", a + (b - a) * frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> RequestStats {
        RequestStats::new(
            ConsoleConfig {
                enabled: false,
                period_secs: 2.0,
                keep_samples: true,
                ..Default::default()
            },
            0.0,
        )
    }

    #[test]
    fn percentiles_interpolate_like_mite() {
        let s = [0.1, 0.2, 0.3, 0.4];
        assert_eq!(pct(&s, 0.0), "0.100000");
        assert_eq!(pct(&s, 50.0), "0.250000");
        assert_eq!(pct(&s, 100.0), "0.400000");
        assert_eq!(pct(&[], 50.0), "None");
    }

    #[test]
    fn periods_fold_into_the_store_and_finish_keeps_the_tail() {
        let mut st = stats();
        st.request(0.0, 0.5, 100.0);
        st.request(1.0, 0.1, 100.0);
        st.tick(1.5); // period not over yet
        assert!(st.resp_time_store.is_empty());
        st.tick(2.5);
        assert_eq!(st.resp_time_store.len(), 2);
        assert_eq!(st.req_sec_store, vec![2.0 / 2.5]);
        st.request(3.0, 0.9, 0.0);
        st.finish(3.5);
        assert_eq!(st.resp_time_store.len(), 3);
        assert_eq!((st.resp_time_min, st.resp_time_max), (0.1, 0.9));
        assert_eq!(st.req_total, 3);
        assert_eq!(st.data_transferred, 200.0);
    }

    #[test]
    fn running_stats_match_the_two_pass_figures_and_keep_no_samples() {
        let mut st = RequestStats::new(
            ConsoleConfig {
                period_secs: 2.0,
                ..Default::default()
            },
            0.0,
        );
        for t in [0.1, 0.2, 0.3, 0.6] {
            st.request(0.0, t, 0.0);
        }
        st.finish(1.0);
        assert!(
            st.resp_time_store.is_empty(),
            "samples kept without keep_samples"
        );
        assert_eq!(st.resp_times.count, 4);
        assert!((st.resp_times.mean() - 0.3).abs() < 1e-12);
        // Python: statistics.stdev([0.1, 0.2, 0.3, 0.6]) == 0.21602468994692867
        assert!((st.resp_times.stdev() - 0.21602468994692867).abs() < 1e-12);
    }

    #[test]
    fn errors_count_per_journey_when_asked() {
        let mut st = stats();
        st.cfg.journey_logging = true;
        st.error(0.0, Some("a:j"));
        st.error(0.0, Some("a:j"));
        st.error(0.0, None);
        assert_eq!(st.error_total, 3);
        assert_eq!(st.error_journeys.get("a:j"), Some(&2));
    }
}
