//! The run record: every message of a run folded into HDR histograms (per transaction, journey and
//! URL) and per-second series; the one source of the end report's percentiles, the JSON summary,
//! the HTML report and the thresholds.
use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::message::{map_total, Message, REQUEST_TYPES};

/// Significant digits of every histogram: values are kept to within 1 part in 1024 (under 0.1%).
// NOTE: 3 digits keeps a whole run's histogram near 40 KiB (microseconds up to an hour);
// 4 digits would be ten times that per transaction and URL, for no decision a report supports.
pub const SIGFIG: u8 = 3;
/// Seconds a second stays open for late messages before its percentiles are taken.
const OPEN_SECONDS: i64 = 5;
/// Distinct transactions, journeys and URLs kept by name; the rest are counted under `OTHER`.
pub const MAX_NAMES: usize = 1000;
pub const OTHER: &str = "(other)";
pub const ROOT: &str = "__root__";

fn histogram() -> Histogram<u64> {
    Histogram::new(SIGFIG).expect("3 significant digits is a valid precision")
}

/// Records `v`, growing the histogram's range as needed (`saturating_record` would clamp it).
fn record_into(h: &mut Histogram<u64>, v: u64) {
    if h.record(v).is_err() {
        h.saturating_record(v);
    }
}

/// A recorded value in seconds, as the low end of its bucket.
fn low(h: &Histogram<u64>, v: u64) -> f64 {
    h.lowest_equivalent(v) as f64 / 1e6
}

fn micros(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        (secs * 1e6).round() as u64
    } else {
        0
    }
}

/// Times of one kind (response times or durations), recorded in microseconds.
#[derive(Clone, Debug)]
pub struct Times {
    pub hist: Histogram<u64>,
}

impl Default for Times {
    fn default() -> Self {
        Times { hist: histogram() }
    }
}

impl Times {
    pub fn record(&mut self, secs: f64) {
        record_into(&mut self.hist, micros(secs));
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The value at percentile `p` (0-100] in seconds: the value its rank falls on, as the low
    /// end of its bucket (within 1/1024 below the recorded value; exact for round ones).
    pub fn percentile(&self, p: f64) -> Option<f64> {
        (self.count() > 0).then(|| low(&self.hist, self.hist.value_at_quantile(p / 100.0)))
    }

    pub fn min(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.hist.min() as f64 / 1e6)
    }

    pub fn max(&self) -> Option<f64> {
        (self.count() > 0).then(|| low(&self.hist, self.hist.max()))
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.hist.mean() / 1e6)
    }

    pub fn stdev(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.hist.stdev() / 1e6)
    }

    /// Percent of values strictly within one standard deviation of `mean` (seconds).
    pub fn within(&self, mean: f64, sd: f64) -> f64 {
        if self.count() == 0 {
            return 0.0;
        }
        let inside: u64 = self
            .hist
            .iter_recorded()
            .filter(|v| ((v.value_iterated_to() as f64 / 1e6) - mean).abs() < sd)
            .map(|v| v.count_at_value())
            .sum();
        inside as f64 / self.count() as f64 * 100.0
    }
}

/// Requests (and the errors raised) under one name.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub requests: u64,
    /// `error` and `exception` messages (for URLs: responses with status 400 or more).
    pub errors: u64,
    pub bytes: f64,
    pub latency: Times,
    /// Finished transactions (`txn` messages) and those that ended with an error.
    pub finished: u64,
    pub failed: u64,
    pub duration: Times,
    /// Arrival-rate journeys due but not started (`dropped_journeys` messages).
    pub dropped: u64,
}

/// One second of the run.
#[derive(Clone, Debug, Default)]
pub struct Second {
    pub requests: u64,
    pub errors: BTreeMap<String, u64>,
    pub journeys: u64,
    /// p50, p95, p99 of the second's response times, in seconds.
    pub latency: Option<[f64; 3]>,
    pub required: Option<f64>,
    pub actual: Option<f64>,
}

/// Everything a run's messages said, kept in bounded memory.
#[derive(Debug, Default)]
pub struct RunRecord {
    pub first_time: Option<f64>,
    pub last_time: Option<f64>,
    pub messages: u64,
    pub all: Group,
    pub transactions: BTreeMap<String, Group>,
    pub journeys: BTreeMap<String, Group>,
    /// Keyed `METHOD URL`.
    pub urls: BTreeMap<String, Group>,
    pub errors_by_type: BTreeMap<String, u64>,
    pub status_codes: BTreeMap<u16, u64>,
    /// Keyed by whole epoch second.
    pub seconds: BTreeMap<i64, Second>,
    open: BTreeMap<i64, Histogram<u64>>,
    spare: Vec<Histogram<u64>>,
    /// The `test` named by the first message that names one.
    pub test: Option<String>,
    /// The `METHOD URL` key, built here so a request allocates nothing once its URL is known.
    scratch: String,
    /// The run's configuration as shown in the report, in order.
    pub config: Vec<(String, String)>,
}

/// A transaction as users name it: the runner's `__root__ :: ` prefix left out.
pub fn short_name(name: &str) -> &str {
    name.strip_prefix("__root__ :: ").unwrap_or(name)
}

fn entry<'m>(map: &'m mut BTreeMap<String, Group>, name: &str) -> &'m mut Group {
    if !map.contains_key(name) {
        let name = if map.len() >= MAX_NAMES { OTHER } else { name };
        return map.entry(name.to_string()).or_default();
    }
    map.get_mut(name).expect("checked above")
}

impl RunRecord {
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one message in; `now` stands in for a message without a `time`.
    pub fn add(&mut self, m: &Message<'_>, now: f64) {
        let Some(msg_type) = m.msg_type else { return };
        self.messages += 1;
        if self.test.is_none() {
            self.test = m.test.map(str::to_string);
        }
        let time = m.time.filter(|t| t.is_finite()).unwrap_or(now);
        self.first_time = Some(self.first_time.map_or(time, |f| f.min(time)));
        self.last_time = Some(self.last_time.map_or(time, |l| l.max(time)));
        let sec = time.floor() as i64;
        if REQUEST_TYPES.contains(&msg_type) {
            self.request(m, sec);
        } else if msg_type == "error" || msg_type == "exception" {
            let kind = m.ex_type.unwrap_or(msg_type);
            *self.errors_by_type.entry(kind.to_string()).or_default() += 1;
            *self.second(sec).errors.entry(kind.to_string()).or_default() += 1;
            self.all.errors += 1;
            if let Some(t) = m.transaction.filter(|t| *t != ROOT) {
                entry(&mut self.transactions, short_name(t)).errors += 1;
            }
            if let Some(j) = m.journey {
                entry(&mut self.journeys, j).errors += 1;
            }
        } else if msg_type == "txn" {
            self.txn(m, sec);
        } else if msg_type == "dropped_journeys" {
            let n = m.count.filter(|c| c.is_finite() && *c > 0.0).unwrap_or(0.0) as u64;
            self.all.dropped += n;
            if let Some(j) = m.journey {
                entry(&mut self.journeys, j).dropped += n;
            }
        } else if msg_type == "controller_report" {
            let s = self.second(sec);
            s.required = m.required.and_then(map_total).or(s.required);
            s.actual = m.actual.and_then(map_total).or(s.actual);
        }
    }

    fn request(&mut self, m: &Message<'_>, sec: i64) {
        let t = m.total_time.unwrap_or(0.0);
        let bytes = m.download_size.unwrap_or(0.0);
        let count = |g: &mut Group| {
            g.requests += 1;
            g.bytes += bytes;
            g.latency.record(t);
        };
        count(&mut self.all);
        if let Some(name) = m.transaction.filter(|t| *t != ROOT) {
            count(entry(&mut self.transactions, short_name(name)));
        }
        if let Some(name) = m.journey {
            count(entry(&mut self.journeys, name));
        }
        if let Some(url) = m.effective_url {
            self.scratch.clear();
            self.scratch.push_str(m.method.unwrap_or("-"));
            self.scratch.push(' ');
            self.scratch.push_str(url);
            let g = entry(&mut self.urls, &self.scratch);
            count(g);
            if m.response_code.is_some_and(|c| c >= 400.0) {
                g.errors += 1;
            }
        }
        if let Some(code) = m.response_code {
            *self.status_codes.entry(code as u16).or_default() += 1;
        }
        self.second(sec).requests += 1;
        if let Some(h) = self.histogram_for(sec) {
            record_into(h, micros(t));
        }
    }

    fn txn(&mut self, m: &Message<'_>, sec: i64) {
        let Some(name) = m.transaction else { return };
        let duration = match (m.start_time, m.end_time) {
            (Some(s), Some(e)) => Some(e - s),
            _ => None,
        };
        let finish = |g: &mut Group| {
            g.finished += 1;
            g.failed += u64::from(m.had_error);
            if let Some(d) = duration {
                g.duration.record(d);
            }
        };
        if name == ROOT {
            self.all.finished += 1;
            self.all.failed += u64::from(m.had_error);
            if let Some(d) = duration {
                self.all.duration.record(d);
            }
            if let Some(j) = m.journey {
                finish(entry(&mut self.journeys, j));
            }
            self.second(sec).journeys += 1;
        } else {
            finish(entry(&mut self.transactions, short_name(name)));
        }
    }

    fn second(&mut self, sec: i64) -> &mut Second {
        self.seconds.entry(sec).or_default()
    }

    /// The open histogram of `sec`, closing seconds that are now too old; None when `sec` itself
    /// was closed already (a message that arrived more than `OPEN_SECONDS` late).
    fn histogram_for(&mut self, sec: i64) -> Option<&mut Histogram<u64>> {
        let newest = self
            .open
            .keys()
            .next_back()
            .copied()
            .unwrap_or(sec)
            .max(sec);
        while let Some((&oldest, _)) = self.open.first_key_value() {
            if oldest > newest - OPEN_SECONDS {
                break;
            }
            self.close(oldest);
        }
        if sec <= newest - OPEN_SECONDS {
            return None;
        }
        if !self.open.contains_key(&sec) {
            let h = self.spare.pop().unwrap_or_else(histogram);
            self.open.insert(sec, h);
        }
        self.open.get_mut(&sec)
    }

    fn close(&mut self, sec: i64) {
        let Some(mut h) = self.open.remove(&sec) else {
            return;
        };
        if !h.is_empty() {
            let q = |p: f64| low(&h, h.value_at_quantile(p));
            self.second(sec).latency = Some([q(0.5), q(0.95), q(0.99)]);
        }
        h.reset();
        self.spare.push(h);
    }

    /// Closes every open second; call once the last message is in.
    pub fn finish(&mut self) {
        let open: Vec<i64> = self.open.keys().copied().collect();
        for sec in open {
            self.close(sec);
        }
    }

    /// Seconds from the first message to the last (at least a microsecond).
    pub fn duration(&self) -> f64 {
        match (self.first_time, self.last_time) {
            (Some(f), Some(l)) => (l - f).max(1e-6),
            _ => 0.0,
        }
    }

    /// `count` per second of the run.
    pub fn rate(&self, count: u64) -> f64 {
        let d = self.duration();
        if d > 0.0 {
            count as f64 / d
        } else {
            0.0
        }
    }

    /// The group a threshold or table names: the whole run when `name` is None.
    pub fn transaction(&self, name: Option<&str>) -> Option<&Group> {
        match name {
            None => Some(&self.all),
            Some(n) => self.transactions.get(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<'a>(msg_type: &'a str, time: f64) -> Message<'a> {
        Message {
            msg_type: Some(msg_type),
            time: Some(time),
            ..Default::default()
        }
    }

    #[test]
    fn percentiles_are_within_the_stated_precision() {
        let mut rec = RunRecord::new();
        // 1 ms .. 1000 ms, one each: the exact nearest-rank p95 is 950 ms, p99 990 ms.
        for i in 1..=1000 {
            let mut m = msg("http_metrics", 1000.0 + f64::from(i) / 100.0);
            m.total_time = Some(f64::from(i) / 1000.0);
            m.transaction = Some("__root__ :: checkout");
            m.effective_url = Some("http://x/a");
            m.method = Some("GET");
            m.response_code = Some(if i % 100 == 0 { 500.0 } else { 200.0 });
            rec.add(&m, 0.0);
        }
        rec.finish();
        let all = &rec.all.latency;
        for (p, exact) in [(50.0, 0.5), (95.0, 0.95), (99.0, 0.99), (100.0, 1.0)] {
            let got = all.percentile(p).unwrap();
            assert!(
                (got - exact).abs() <= exact / 1024.0,
                "p{p}: {got} vs {exact}"
            );
        }
        assert_eq!(rec.transactions["checkout"].requests, 1000);
        assert_eq!(rec.urls["GET http://x/a"].errors, 10);
        assert_eq!(rec.status_codes[&500], 10);
        // Ten seconds of messages, each second closed with its own percentiles.
        assert_eq!(rec.seconds.len(), 11);
        let lat: Vec<_> = rec.seconds.values().filter_map(|s| s.latency).collect();
        assert_eq!(lat.len(), 11);
        assert!(
            lat[1][0] > lat[0][2],
            "later seconds hold the slower requests"
        );
        assert!((rec.duration() - 9.99).abs() < 1e-9);
    }

    #[test]
    fn errors_txns_and_controller_reports_are_counted() {
        let mut rec = RunRecord::new();
        let mut e = msg("exception", 10.5);
        e.ex_type = Some("ValueError");
        e.transaction = Some("pay");
        e.journey = Some("j:a");
        rec.add(&e, 0.0);
        rec.add(&msg("error", 11.0), 0.0);
        let mut t = msg("txn", 11.2);
        t.transaction = Some("pay");
        t.start_time = Some(10.0);
        t.end_time = Some(10.25);
        t.had_error = true;
        rec.add(&t, 0.0);
        t.transaction = Some(ROOT);
        t.journey = Some("j:a");
        rec.add(&t, 0.0);
        let raw = {
            let v = rmpv::Value::Map(vec![(rmpv::Value::from(1), rmpv::Value::from(7))]);
            let mut out = Vec::new();
            rmpv::encode::write_value(&mut out, &v).unwrap();
            out
        };
        let mut c = msg("controller_report", 11.9);
        c.required = Some(crate::bus::scan::Raw(&raw));
        c.actual = Some(crate::bus::scan::Raw(&raw));
        rec.add(&c, 0.0);
        rec.finish();
        assert_eq!(rec.errors_by_type["ValueError"], 1);
        assert_eq!(rec.errors_by_type["error"], 1);
        let pay = &rec.transactions["pay"];
        assert_eq!((pay.errors, pay.finished, pay.failed), (1, 1, 1));
        let d = pay.duration.percentile(50.0).unwrap();
        assert!((d - 0.25).abs() <= 0.25 / 1024.0, "{d}");
        assert_eq!(rec.journeys["j:a"].failed, 1);
        assert_eq!(rec.all.finished, 1);
        assert_eq!(rec.seconds[&11].required, Some(7.0));
        assert_eq!(rec.seconds[&11].journeys, 1);
        assert!(!rec.transactions.contains_key(ROOT));
    }

    #[test]
    fn names_beyond_the_cap_are_lumped_together() {
        let mut rec = RunRecord::new();
        for i in 0..MAX_NAMES + 5 {
            let url = format!("http://x/{i}");
            let mut m = msg("http_metrics", 1.0);
            m.effective_url = Some(&url);
            rec.add(&m, 0.0);
        }
        assert_eq!(rec.urls.len(), MAX_NAMES + 1);
        assert_eq!(rec.urls[OTHER].requests, 5);
    }
}
