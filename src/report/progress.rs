//! The live status area of a local run on a terminal: elapsed time, the volume model's required vs
//! actual journeys, requests/s, errors and the last window's percentiles, redrawn once a second.
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rmpv::Value;

/// How often the area is redrawn, and so the length of the window its rates and percentiles cover.
const REDRAW: Duration = Duration::from_secs(1);

/// The area being drawn. Every line written to stderr meanwhile goes through `write_stderr`, which
/// clears the area, writes the line and draws the area again below it, so neither tears the other.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Writes `bytes` (whole lines) to stderr, above the status area if one is shown.
pub fn write_stderr(bytes: &[u8]) {
    let write = || {
        let _ = std::io::stderr().lock().write_all(bytes);
    };
    // The lock is held while writing so `Progress::finish` cannot clear the area half-way.
    let shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    match shown.as_ref() {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// What the area shows, kept by the pipeline thread from the messages it already reads.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    window_start: Instant,
    /// Response times of the current window, in microseconds (3 significant digits).
    window: Histogram<u64>,
    window_requests: u64,
    window_errors: u64,
    requests: u64,
    errors: u64,
    /// Journeys the volume models ask for and journeys running, from the last `controller_report`.
    required: Option<(u64, u64)>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("requests", &self.requests)
            .finish()
    }
}

impl Progress {
    /// Starts drawing on stderr (indicatif draws nothing when stderr is not a terminal).
    pub fn start() -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        Self::with_bar(bar)
    }

    fn with_bar(bar: ProgressBar) -> Progress {
        bar.set_style(ProgressStyle::with_template("{msg}").expect("a valid template"));
        let now = Instant::now();
        let mut p = Progress {
            bar,
            started: now,
            window_start: now,
            window: Histogram::new(3).expect("3 significant digits are supported"),
            window_requests: 0,
            window_errors: 0,
            requests: 0,
            errors: 0,
            required: None,
        };
        p.draw(now);
        p
    }

    /// Counts one request-like message of `total_time` seconds.
    pub fn request(&mut self, total_time: f64) {
        self.requests += 1;
        self.window_requests += 1;
        let us = (total_time.max(0.0) * 1e6).round().max(1.0) as u64;
        // `record` grows the histogram to fit; `saturating_record` would clamp instead.
        if self.window.record(us).is_err() {
            self.window.saturating_record(us);
        }
    }

    /// Counts one `error` or `exception` message.
    pub fn error(&mut self) {
        self.errors += 1;
        self.window_errors += 1;
    }

    /// Reads the totals of a `controller_report` frame's `required` and `actual` maps.
    pub fn controller_report(&mut self, raw: &[u8]) {
        let Ok(Value::Map(entries)) = rmpv::decode::read_value(&mut &raw[..]) else {
            return;
        };
        let sum = |key: &str| -> Option<u64> {
            let (_, v) = entries.iter().find(|(k, _)| k.as_str() == Some(key))?;
            Some(v.as_map()?.iter().filter_map(|(_, n)| n.as_u64()).sum())
        };
        if let (Some(required), Some(actual)) = (sum("required"), sum("actual")) {
            self.required = Some((required, actual));
        }
    }

    /// Redraws if a second has passed since the last frame.
    pub fn tick(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.window_start) >= REDRAW {
            self.draw(now);
        }
    }

    fn draw(&mut self, now: Instant) {
        let frame = self.render(now);
        self.window.reset();
        self.window_requests = 0;
        self.window_errors = 0;
        self.window_start = now;
        self.bar.set_message(frame);
    }

    /// The two lines of the area.
    fn render(&self, now: Instant) -> String {
        let elapsed = now.duration_since(self.started).as_secs();
        let window = now.duration_since(self.window_start).as_secs_f64();
        let journeys = match self.required {
            Some((required, actual)) => format!("journeys required {required} actual {actual}"),
            None => "journeys required - actual -".into(),
        };
        let rate = if window > 0.0 {
            self.window_requests as f64 / window
        } else {
            0.0
        };
        let q = |q: f64| {
            if self.window.is_empty() {
                "-".to_string()
            } else {
                ms(self.window.value_at_quantile(q))
            }
        };
        format!(
            "mite {:02}:{:02}:{:02}  {journeys}  requests {}  errors {}\n\
             last {window:.1} s: {rate:.1} req/s  errors {}  p50 {}  p95 {}  p99 {}",
            elapsed / 3600,
            elapsed / 60 % 60,
            elapsed % 60,
            self.requests,
            self.errors,
            self.window_errors,
            q(0.50),
            q(0.95),
            q(0.99),
        )
    }

    /// Clears the area for good, so what follows starts on a clean line.
    pub fn finish(self) {
        let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
        *shown = None;
        self.bar.finish_and_clear();
    }
}

/// A response time in microseconds, as milliseconds with three significant digits at most.
fn ms(us: u64) -> String {
    let ms = us as f64 / 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden() -> Progress {
        Progress::with_bar(ProgressBar::hidden())
    }

    fn report(required: &[(i64, i64)], actual: &[(i64, i64)]) -> Vec<u8> {
        let map = |pairs: &[(i64, i64)]| {
            Value::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (Value::from(*k), Value::from(*v)))
                    .collect(),
            )
        };
        let msg = Value::Map(vec![
            ("type".into(), "controller_report".into()),
            ("required".into(), map(required)),
            ("actual".into(), map(actual)),
            ("num_runners".into(), 1.into()),
        ]);
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &msg).unwrap();
        out
    }

    #[test]
    fn the_window_shows_its_percentiles_and_then_starts_again() {
        let mut p = hidden();
        for ms in 1..=100 {
            p.request(ms as f64 / 1000.0);
        }
        p.error();
        let start = p.window_start;
        let text = p.render(start + Duration::from_secs(2));
        assert!(text.contains("requests 100  errors 1"), "{text}");
        assert!(text.contains("50.0 req/s  errors 1"), "{text}");
        assert!(
            text.contains("p50 50.0 ms  p95 95.0 ms  p99 99.0 ms"),
            "{text}"
        );
        p.draw(start + Duration::from_secs(2));
        let next = p.render(p.window_start + Duration::from_secs(1));
        assert!(next.contains("0.0 req/s  errors 0  p50 -"), "{next}");
        assert!(next.contains("requests 100  errors 1"), "{next}");
        assert_eq!(next.lines().count(), 2);
    }

    #[test]
    fn controller_reports_give_required_and_actual_journeys() {
        let mut p = hidden();
        assert!(p.render(Instant::now()).contains("required - actual -"));
        p.controller_report(&report(&[(1, 10), (2, 5)], &[(1, 9), (2, 5)]));
        assert!(p
            .render(Instant::now())
            .contains("journeys required 15 actual 14"));
        p.controller_report(b"\xc1 not msgpack");
        assert_eq!(p.required, Some((15, 14)));
    }

    #[test]
    fn elapsed_time_and_units_read_naturally() {
        let p = hidden();
        let text = p.render(p.started + Duration::from_secs(3725));
        assert!(text.starts_with("mite 01:02:05  "), "{text}");
        assert_eq!(ms(1_234), "1.23 ms");
        assert_eq!(ms(12_345), "12.3 ms");
        assert_eq!(ms(1_234_567), "1235 ms");
    }
}
