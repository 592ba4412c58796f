//! The exporter's running totals, merged from stats dumps with mite 2.11's rules: counters add
//! up, gauges take the latest value, histograms add bin counts, sums and counts. Numbers keep
//! Python's int/float distinction because the text shows it (`5` vs `5.0`).
use rmpv::Value;

use crate::stats::{encode_value, Num};

/// A metric value: a number, or whatever else a dump carried (printed as Python's `str()`).
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Num(Num),
    Other(Value),
}

impl Val {
    fn of(v: &Value) -> Val {
        match v {
            Value::Integer(i) => i
                .as_i64()
                .map(|i| Val::Num(Num::Int(i)))
                .unwrap_or_else(|| Val::Num(Num::Float(i.as_f64().unwrap_or(f64::NAN)))),
            Value::Boolean(b) => Val::Num(Num::Int(i64::from(*b))),
            Value::F32(f) => Val::Num(Num::Float(f64::from(*f))),
            Value::F64(f) => Val::Num(Num::Float(*f)),
            other => Val::Other(other.clone()),
        }
    }

    /// `self + v`; a non-number stays as it was (Python would raise; one bad dump must not
    /// take the exporter down).
    fn add(&mut self, v: &Value) {
        if let (Val::Num(a), Val::Num(b)) = (&*self, Val::of(v)) {
            *self = Val::Num(a.plus(b));
        }
    }
}

/// One label tuple: its decoded values (for printing and sorting) under its canonical bytes.
pub struct Series<T> {
    pub key: Vec<Value>,
    pub value: T,
}

/// Label tuples in first-seen order.
pub struct Serieses<T> {
    index: std::collections::HashMap<Vec<u8>, usize>,
    pub items: Vec<Series<T>>,
}

impl<T> Serieses<T> {
    fn new() -> Self {
        Serieses {
            index: Default::default(),
            items: Vec::new(),
        }
    }

    fn entry(&mut self, key: &Value, make: impl FnOnce() -> T) -> &mut T {
        let bytes = encode_value(key);
        let i = *self.index.entry(bytes).or_insert_with(|| {
            let values = match key {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            self.items.push(Series {
                key: values,
                value: make(),
            });
            self.items.len() - 1
        });
        &mut self.items[i].value
    }

    pub fn get(&self, key: &Value) -> Option<&T> {
        self.index
            .get(&encode_value(key))
            .map(|&i| &self.items[i].value)
    }
}

pub enum Metric {
    Counter(Serieses<Val>),
    Gauge(Serieses<Val>),
    Histogram {
        bins: Vec<f64>,
        bin_counts: Serieses<Vec<Val>>,
        sums: Serieses<Val>,
        totals: Serieses<Val>,
        /// Merged HDR snapshots (`exporter::quantiles`), from our stats only.
        hdr: Box<Serieses<hdrhistogram::Histogram<u64>>>,
    },
}

pub struct Stat {
    pub name: String,
    pub labels: Vec<Value>,
    pub metric: Metric,
}

fn field<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter()
        .rev()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn pairs(v: Option<&Value>) -> &[(Value, Value)] {
    v.and_then(Value::as_map).map(Vec::as_slice).unwrap_or(&[])
}

/// Every stat seen, in first-seen order.
#[derive(Default)]
pub struct Model {
    pub stats: Vec<Stat>,
    /// HDR snapshots skipped as malformed.
    pub bad_snapshots: u64,
}

impl Model {
    /// Merges one stats message (a list of dumps); false when it is not one.
    /// Merges a list of dumps; `NotDumps` when it is not one, `BadName` when a stat's name or
    /// a label name could not be written as Prometheus text (those stats are left out).
    pub fn merge(&mut self, msg: &Value) -> Merged {
        let Some(dumps) = msg.as_array() else {
            return Merged::NotDumps;
        };
        let mut out = Merged::Ok;
        for dump in dumps {
            match self.merge_one(dump) {
                Merged::Ok => {}
                bad if out == Merged::Ok => out = bad,
                _ => {}
            }
        }
        out
    }

    fn merge_one(&mut self, dump: &Value) -> Merged {
        let Some(m) = dump.as_map() else {
            return Merged::NotDumps;
        };
        let (Some(name), Some(kind)) = (
            field(m, "name").map(crate::bus::pyfmt::py_str),
            field(m, "type").and_then(Value::as_str),
        ) else {
            return Merged::NotDumps;
        };
        let label_names = field(m, "labels").and_then(Value::as_array);
        if !metric_name(&name)
            || !label_names
                .is_none_or(|l| l.iter().all(|n| label_name(&crate::bus::pyfmt::py_str(n))))
        {
            return Merged::BadName(name);
        }
        let pos = match self.stats.iter().position(|s| s.name == name) {
            Some(p) => p,
            None => {
                let metric = match kind {
                    "Counter" => Metric::Counter(Serieses::new()),
                    "Gauge" => Metric::Gauge(Serieses::new()),
                    "Histogram" => Metric::Histogram {
                        bins: field(m, "bins")
                            .and_then(Value::as_array)
                            .map(|b| b.iter().filter_map(Value::as_f64).collect())
                            .unwrap_or_default(),
                        bin_counts: Serieses::new(),
                        sums: Serieses::new(),
                        totals: Serieses::new(),
                        hdr: Box::new(Serieses::new()),
                    },
                    _ => return Merged::NotDumps,
                };
                let labels = field(m, "labels")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                self.stats.push(Stat {
                    name,
                    labels,
                    metric,
                });
                // The first dump seeds the values as they are (mite 2.11 builds its
                // defaultdict from it); later ones go through the update rules below.
                let stat = self.stats.last_mut().expect("just pushed");
                self.bad_snapshots += merge_snapshots(stat, m);
                return match seed(stat, m) {
                    true => Merged::Ok,
                    false => Merged::NotDumps,
                };
            }
        };
        self.bad_snapshots += merge_snapshots(&mut self.stats[pos], m);
        update(&mut self.stats[pos], m);
        Merged::Ok
    }
}

/// What merging a message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merged {
    Ok,
    NotDumps,
    BadName(String),
}

/// Prometheus' metric name grammar: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn metric_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Prometheus' label name grammar: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn label_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Adds a histogram dump's HDR snapshots (`exporter::quantiles`); returns how many were bad.
fn merge_snapshots(stat: &mut Stat, m: &[(Value, Value)]) -> u64 {
    let Metric::Histogram { hdr, .. } = &mut stat.metric else {
        return 0;
    };
    // Decoded before a series is made, so a bad snapshot leaves no empty series behind.
    let (snapshots, mut bad) = super::quantiles::decode(field(m, "hdr"));
    for (key, h) in snapshots {
        if hdr
            .entry(key, crate::stats::hdr::new_histogram)
            .add(&h)
            .is_err()
        {
            bad += 1;
        }
    }
    bad
}

fn seed(stat: &mut Stat, m: &[(Value, Value)]) -> bool {
    match &mut stat.metric {
        Metric::Counter(s) | Metric::Gauge(s) => {
            for (k, v) in pairs(field(m, "metrics")) {
                *s.entry(k, || Val::Num(Num::Float(0.0))) = Val::of(v);
            }
        }
        Metric::Histogram {
            bin_counts,
            sums,
            totals,
            ..
        } => {
            for (k, v) in pairs(field(m, "bin_counts")) {
                let counts = v
                    .as_array()
                    .map(|a| a.iter().map(Val::of).collect())
                    .unwrap_or_default();
                *bin_counts.entry(k, Vec::new) = counts;
            }
            for (k, v) in pairs(field(m, "sums")) {
                *sums.entry(k, || Val::Num(Num::Float(0.0))) = Val::of(v);
            }
            for (k, v) in pairs(field(m, "total_counts")) {
                *totals.entry(k, || Val::Num(Num::Int(0))) = Val::of(v);
            }
        }
    }
    true
}

fn update(stat: &mut Stat, m: &[(Value, Value)]) {
    match &mut stat.metric {
        Metric::Counter(s) => {
            for (k, v) in pairs(field(m, "metrics")) {
                s.entry(k, || Val::Num(Num::Float(0.0))).add(v);
            }
        }
        Metric::Gauge(s) => {
            for (k, v) in pairs(field(m, "metrics")) {
                *s.entry(k, || Val::Num(Num::Float(0.0))) = Val::of(v);
            }
        }
        Metric::Histogram {
            bins,
            bin_counts,
            sums,
            totals,
            ..
        } => {
            for (k, v) in pairs(field(m, "total_counts")) {
                totals.entry(k, || Val::Num(Num::Int(0))).add(v);
            }
            for (k, v) in pairs(field(m, "sums")) {
                sums.entry(k, || Val::Num(Num::Float(0.0))).add(v);
            }
            let n = bins.len();
            for (k, v) in pairs(field(m, "bin_counts")) {
                let counts = bin_counts.entry(k, || vec![Val::Num(Num::Int(0)); n]);
                for (i, c) in v
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                {
                    if let Some(slot) = counts.get_mut(i) {
                        slot.add(c);
                    }
                }
            }
        }
    }
}
