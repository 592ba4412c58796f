//! `--threshold` expressions, k6-style: `[TRANSACTION:]METRIC OP VALUE`, parsed up front and
//! judged against the run record at the end.
//!
//! METRIC is `p(N)`, `med`, `avg`, `min`, `max` (response times of the requests sent inside the
//! transaction, or of every request; VALUE in `us`, `ms` (the default) or `s`), `count` and `rate`
//! (requests, and requests per second; `/s` optional), `errors` (`error` and `exception` messages)
//! or `error_rate` (the share of the transaction's runs, or of all journeys, that ended with an
//! error; `1%` or `0.01`). OP is one of `<`, `<=`, `>`, `>=`, `==`, `!=`.
use std::fmt;

use super::record::RunRecord;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    Percentile(f64),
    Avg,
    Min,
    Max,
    Count,
    Rate,
    Errors,
    ErrorRate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// One parsed expression; `limit` is in seconds, a count, per second, or a ratio (0..1).
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub text: String,
    pub transaction: Option<String>,
    pub metric: Metric,
    pub op: Op,
    pub limit: f64,
}

/// A malformed expression: names it and what was expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("--threshold '{text}': expected {expected}")]
pub struct ParseError {
    pub text: String,
    pub expected: String,
}

/// The verdict on one threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub threshold: Threshold,
    /// In the metric's unit (seconds for times); None when nothing was measured.
    pub actual: Option<f64>,
    pub passed: bool,
}

const OPS: [(&str, Op); 6] = [
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("<", Op::Lt),
    (">", Op::Gt),
];

const SHAPE: &str = "[TRANSACTION:]METRIC OP VALUE, e.g. 'checkout:p(95)<250ms'";

impl Metric {
    fn parse(s: &str) -> Option<Metric> {
        Some(match s {
            "avg" => Metric::Avg,
            "min" => Metric::Min,
            "max" => Metric::Max,
            "med" => Metric::Percentile(50.0),
            "count" => Metric::Count,
            "rate" => Metric::Rate,
            "errors" => Metric::Errors,
            "error_rate" => Metric::ErrorRate,
            _ => {
                let n: f64 = s
                    .strip_prefix("p(")?
                    .strip_suffix(')')?
                    .trim()
                    .parse()
                    .ok()?;
                return (n > 0.0 && n <= 100.0).then_some(Metric::Percentile(n));
            }
        })
    }

    fn is_time(self) -> bool {
        matches!(
            self,
            Metric::Percentile(_) | Metric::Avg | Metric::Min | Metric::Max
        )
    }

    pub fn name(self) -> String {
        match self {
            Metric::Percentile(p) => format!("p({p})"),
            Metric::Avg => "avg".into(),
            Metric::Min => "min".into(),
            Metric::Max => "max".into(),
            Metric::Count => "count".into(),
            Metric::Rate => "rate".into(),
            Metric::Errors => "errors".into(),
            Metric::ErrorRate => "error_rate".into(),
        }
    }

    /// `actual` as the expression would write it.
    pub fn format(self, actual: f64) -> String {
        match self {
            m if m.is_time() => format!("{:.3}ms", actual * 1000.0),
            Metric::Rate => format!("{actual:.2}/s"),
            Metric::ErrorRate => format!("{:.2}%", actual * 100.0),
            _ => format!("{actual}"),
        }
    }
}

fn number(s: &str) -> Option<f64> {
    let n: f64 = s.trim().parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(n)
}

/// The limit in the metric's base unit, or what was expected of it.
fn limit(metric: Metric, value: &str) -> Result<f64, &'static str> {
    let v = value.trim();
    let found = if metric.is_time() {
        [("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("", 1e-3)]
            .iter()
            .find_map(|(unit, scale)| Some(number(v.strip_suffix(unit)?)? * scale))
    } else {
        match metric {
            Metric::Rate => number(v.strip_suffix("/s").unwrap_or(v)),
            Metric::ErrorRate => match v.strip_suffix('%') {
                Some(pct) => number(pct).filter(|n| *n <= 100.0).map(|n| n / 100.0),
                None => number(v).filter(|n| *n <= 1.0),
            },
            _ => number(v).filter(|n| n.fract() == 0.0),
        }
    };
    found.ok_or(match metric {
        m if m.is_time() => "a time such as 250ms, 1.5s or 800us after the operator",
        Metric::Rate => "a number of requests per second such as 100 or 100/s after the operator",
        Metric::ErrorRate => "a share such as 1% or 0.01 after the operator",
        _ => "a whole number after the operator",
    })
}

impl std::str::FromStr for Threshold {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let fail = |expected: &str| ParseError {
            text: text.to_string(),
            expected: expected.to_string(),
        };
        let at = text
            .find(['<', '>', '=', '!'])
            .ok_or_else(|| fail(&format!("an operator (<, <=, >, >=, ==, !=) in {SHAPE}")))?;
        let (left, rest) = text.split_at(at);
        let (op_text, op) = OPS
            .iter()
            .find(|(o, _)| rest.starts_with(o))
            .ok_or_else(|| fail("an operator: <, <=, >, >=, == or !="))?;
        let value = &rest[op_text.len()..];
        let (transaction, metric_text) = match left.rsplit_once(':') {
            Some((t, _)) if t.trim().is_empty() => {
                return Err(fail(&format!("a transaction name before ':' in {SHAPE}")))
            }
            Some((t, m)) => (Some(t.trim().to_string()), m.trim()),
            None => (None, left.trim()),
        };
        let metric = Metric::parse(metric_text).ok_or_else(|| {
            fail(&format!(
                "a metric p(N) with 0 < N <= 100, med, avg, min, max, count, rate, errors or error_rate before the operator, got '{metric_text}'"
            ))
        })?;
        let limit = limit(metric, value).map_err(fail)?;
        Ok(Threshold {
            text: text.to_string(),
            transaction,
            metric,
            op: *op,
            limit,
        })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Threshold {
    /// The measured value of this threshold's metric, or None when nothing was measured.
    pub fn actual(&self, rec: &RunRecord) -> Option<f64> {
        let g = rec.transaction(self.transaction.as_deref())?;
        let lat = &g.latency;
        match self.metric {
            Metric::Percentile(p) => lat.percentile(p),
            Metric::Avg => lat.mean(),
            Metric::Min => lat.min(),
            Metric::Max => lat.max(),
            Metric::Count => Some(g.requests as f64),
            Metric::Rate => Some(rec.rate(g.requests)),
            Metric::Errors => Some(g.errors as f64),
            Metric::ErrorRate => (g.finished > 0).then(|| g.failed as f64 / g.finished as f64),
        }
    }

    /// Judges the run; a threshold on nothing measured fails (a misspelt name must not pass).
    pub fn judge(&self, rec: &RunRecord) -> Verdict {
        let actual = self.actual(rec);
        let passed = actual.is_some_and(|a| match self.op {
            Op::Lt => a < self.limit,
            Op::Le => a <= self.limit,
            Op::Gt => a > self.limit,
            Op::Ge => a >= self.limit,
            Op::Eq => a == self.limit,
            Op::Ne => a != self.limit,
        });
        Verdict {
            threshold: self.clone(),
            actual,
            passed,
        }
    }
}

impl Verdict {
    /// `12.000ms`, or why there is no value.
    pub fn shown(&self) -> String {
        match self.actual {
            Some(a) => self.threshold.metric.format(a),
            None => match &self.threshold.transaction {
                Some(t) => format!("no data for transaction '{t}'"),
                None => "no data".to_string(),
            },
        }
    }

    /// The line logged for a broken threshold.
    pub fn broken_line(&self) -> String {
        format!(
            "Threshold '{}' broken: {} was {}",
            self.threshold.text,
            self.threshold.metric.name(),
            self.shown()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Message;

    fn parse(s: &str) -> Result<Threshold, ParseError> {
        s.parse()
    }

    #[test]
    fn expressions_parse_with_units_and_nested_names() {
        let t = parse("checkout:p(95)<250ms").unwrap();
        assert_eq!(t.transaction.as_deref(), Some("checkout"));
        assert_eq!((t.metric, t.op), (Metric::Percentile(95.0), Op::Lt));
        assert!((t.limit - 0.25).abs() < 1e-12);
        let t = parse("a :: b:p(99.9) <= 1.5s").unwrap();
        assert_eq!(t.transaction.as_deref(), Some("a :: b"));
        assert_eq!(t.metric, Metric::Percentile(99.9));
        assert_eq!((t.op, t.limit), (Op::Le, 1.5));
        assert!((parse("avg<800us").unwrap().limit - 800e-6).abs() < 1e-15);
        assert_eq!(parse("med<20").unwrap().limit, 0.02);
        assert_eq!(parse("error_rate<1%").unwrap().limit, 0.01);
        assert_eq!(parse("x:error_rate<=0.05").unwrap().limit, 0.05);
        assert_eq!(parse("rate>=100/s").unwrap().op, Op::Ge);
        assert_eq!(parse("errors==0").unwrap().metric, Metric::Errors);
        assert_eq!(parse("count!=3").unwrap().op, Op::Ne);
    }

    #[test]
    fn malformed_expressions_name_the_expression_and_what_was_expected() {
        let cases = [
            ("p95<250ms", "a metric p(N)"),
            ("checkout:p(95)", "an operator"),
            ("checkout:p(0)<1ms", "0 < N <= 100"),
            ("p(95)<fast", "a time such as 250ms"),
            ("p(95)=<3", "an operator: <"),
            (":p(95)<3", "a transaction name"),
            ("error_rate<150%", "a share such as 1%"),
            ("errors<1.5", "a whole number"),
            ("rate>-1", "requests per second"),
        ];
        for (text, expected) in cases {
            let e = parse(text).unwrap_err();
            let line = e.to_string();
            assert!(
                line.starts_with(&format!("--threshold '{text}': expected ")),
                "{line}"
            );
            assert!(line.contains(expected), "{text}: {line}");
            assert_eq!(line.lines().count(), 1);
        }
    }

    #[test]
    fn verdicts_compare_measured_values_and_fail_without_data() {
        let mut rec = RunRecord::new();
        for (i, t) in [0.1, 0.2, 0.3, 0.4096].iter().enumerate() {
            let m = Message {
                msg_type: Some("http_metrics"),
                time: Some(100.0 + i as f64),
                total_time: Some(*t),
                transaction: Some("checkout"),
                ..Default::default()
            };
            rec.add(&m, 0.0);
        }
        rec.finish();
        let judge = |s: &str| parse(s).unwrap().judge(&rec);
        assert!(judge("checkout:p(50)<250ms").passed);
        assert!(!judge("checkout:p(95)<250ms").passed);
        assert_eq!(judge("checkout:p(95)<250ms").shown(), "409.600ms");
        assert!(judge("checkout:count==4").passed);
        assert!(judge("max<=409.6ms").passed);
        let v = judge("missing:p(95)<1s");
        assert!(!v.passed);
        assert_eq!(
            v.broken_line(),
            "Threshold 'missing:p(95)<1s' broken: p(95) was no data for transaction 'missing'"
        );
        assert!(
            !judge("error_rate<1%").passed,
            "no journeys finished: no data"
        );
    }
}
