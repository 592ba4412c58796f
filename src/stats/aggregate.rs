//! One stat's running numbers between dumps, updated from messages with mite 2.11's semantics,
//! and its dump encoded as Python's msgpack would encode the dict mite 2.11 builds.
use super::canon;
use super::hdr;
use super::num::Num;
use super::spec::{Kind, Message, Source, StatSpec, EMPTY};
use super::table::Table;
use crate::bus::scan::{MapIter, Raw};

enum State {
    Counter(Table<Num>),
    Gauge(Table<Vec<u8>>),
    Histogram {
        bin_counts: Table<Vec<i64>>,
        sums: Table<Num>,
        totals: Table<i64>,
        /// HDR snapshots per label tuple, when asked for (`stats::hdr`).
        hdr: Option<Box<Table<hdrhistogram::Histogram<u64>>>>,
    },
}

/// Stats beyond mite 2.11's set (`mite.stats._OMIT_WHEN_EMPTY` names the same ones).
pub const OMIT_WHEN_EMPTY: &[&str] = &["mite_dropped_journeys_total"];

/// A stat and its numbers since the last dump.
pub struct Stat {
    spec: StatSpec,
    state: State,
    /// Matching messages whose value could not be used (missing, or not a number where one is
    /// needed); mite 2.11's stats process would have died on them.
    pub unusable: u64,
    key: Vec<u8>,
}

fn array_header(n: usize, out: &mut Vec<u8>) {
    let _ = rmp::encode::write_array_len(out, n as u32);
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = rmp::encode::write_str(out, s);
}

/// A dump's map header with `fields` entries, then its `type` and `name` entries.
fn head(out: &mut Vec<u8>, fields: u32, kind: &str, name: &str) {
    let _ = rmp::encode::write_map_len(out, fields);
    for s in ["type", kind, "name", name] {
        write_str(out, s);
    }
}

/// A table as a msgpack map: its keys are already encoded, its values encoded by `value`.
fn table<V>(out: &mut Vec<u8>, t: &Table<V>, value: impl Fn(&V, &mut Vec<u8>)) {
    let _ = rmp::encode::write_map_len(out, t.len() as u32);
    for (k, v) in t.iter() {
        out.extend_from_slice(k);
        value(v, out);
    }
}

/// The dump's last entry: `labels`, the stat's label names.
fn labels(out: &mut Vec<u8>, spec: &StatSpec) {
    write_str(out, "labels");
    array_header(spec.labels.len(), out);
    for l in &spec.labels {
        write_str(out, l);
    }
}

impl Stat {
    pub fn new(mut spec: StatSpec) -> Stat {
        let state = match &mut spec.kind {
            Kind::Counter | Kind::Accumulator => State::Counter(Table::new()),
            Kind::Gauge => State::Gauge(Table::new()),
            Kind::Histogram(bins) => {
                bins.sort_by(f64::total_cmp);
                State::Histogram {
                    bin_counts: Table::new(),
                    sums: Table::new(),
                    totals: Table::new(),
                    hdr: None,
                }
            }
        };
        Stat {
            spec,
            state,
            unusable: 0,
            key: Vec::new(),
        }
    }

    /// Keeps HDR snapshots beside a histogram's bins (nothing for other kinds).
    pub fn with_hdr(mut self) -> Stat {
        if let State::Histogram { hdr, .. } = &mut self.state {
            *hdr = Some(Box::new(Table::new()));
        }
        self
    }

    pub fn spec(&self) -> &StatSpec {
        &self.spec
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// True for a stat mite 2.11 does not have, with nothing to dump: it is left out of the
    /// dump, so a dump of 2.11's messages stays byte-identical to 2.11's.
    pub fn omitted(&self) -> bool {
        OMIT_WHEN_EMPTY.contains(&self.spec.name.as_str())
            && match &self.state {
                State::Counter(t) => t.len() == 0,
                State::Gauge(t) => t.len() == 0,
                State::Histogram { totals, .. } => totals.len() == 0,
            }
    }

    /// Updates the numbers from one message.
    pub fn process(&mut self, msg: &Message<'_>) {
        if !msg.type_in(&self.spec.types) {
            return;
        }
        match &self.spec.source {
            Source::Fields { labels, value_key } => {
                let mut key = std::mem::take(&mut self.key);
                key.clear();
                array_header(labels.len(), &mut key);
                for label in labels {
                    canon::push(msg.get(label).unwrap_or(EMPTY), &mut key);
                }
                let value = match value_key {
                    None => Some(Raw(b"\x01")),
                    Some(k) => msg.get(k),
                };
                match value {
                    Some(v) => self.add(&key, v),
                    None => self.unusable += 1,
                }
                self.key = key;
            }
            Source::Report { dict_key } => {
                let Some(map) = msg.get(dict_key) else {
                    self.unusable += 1;
                    return;
                };
                let Ok(entries) = MapIter::new(map.0) else {
                    self.unusable += 1;
                    return;
                };
                let test = msg.get("test").unwrap_or(EMPTY);
                for entry in entries {
                    let Ok((scenario_id, value)) = entry else {
                        self.unusable += 1;
                        return;
                    };
                    let mut key = Vec::with_capacity(32);
                    array_header(2, &mut key);
                    canon::push(test, &mut key);
                    canon::push(scenario_id, &mut key);
                    self.add(&key, value);
                }
            }
        }
    }

    fn add(&mut self, key: &[u8], value: Raw<'_>) {
        let kind = &self.spec.kind;
        match &mut self.state {
            State::Counter(t) => {
                let step = if *kind == Kind::Counter {
                    Some(Num::Int(1))
                } else {
                    Num::from_raw(value)
                };
                match step {
                    Some(n) => {
                        let slot = t.entry(key, || Num::ZERO);
                        *slot = slot.plus(n);
                    }
                    None => self.unusable += 1,
                }
            }
            State::Gauge(t) => {
                let mut v = Vec::with_capacity(value.0.len());
                canon::push(value, &mut v);
                *t.entry(key, Vec::new) = v;
            }
            State::Histogram {
                bin_counts,
                sums,
                totals,
                hdr: snapshots,
            } => {
                let Some(n) = Num::from_raw(value) else {
                    self.unusable += 1;
                    return;
                };
                let Kind::Histogram(bins) = kind else {
                    unreachable!("histogram state has histogram kind")
                };
                let slot = sums.entry(key, || Num::ZERO);
                *slot = slot.plus(n);
                *totals.entry(key, || 0) += 1;
                let x = n.as_f64();
                if let Some(t) = snapshots {
                    hdr::record(t.entry(key, hdr::new_histogram), x);
                }
                if let Some(first) = bins.iter().position(|b| x <= *b) {
                    let counts = bin_counts.entry(key, || vec![0; bins.len()]);
                    for c in &mut counts[first..] {
                        *c += 1;
                    }
                }
            }
        }
    }

    /// Appends this stat's dump (a msgpack map, mite 2.11's keys in its order) and clears the
    /// numbers.
    pub fn dump(&mut self, out: &mut Vec<u8>) {
        let spec = &self.spec;
        match &mut self.state {
            State::Counter(t) => {
                head(out, 4, "Counter", &spec.name);
                write_str(out, "metrics");
                table(out, t, |v, out| v.encode(out));
                labels(out, spec);
                t.clear();
            }
            State::Gauge(t) => {
                head(out, 4, "Gauge", &spec.name);
                write_str(out, "metrics");
                table(out, t, |v, out| out.extend_from_slice(v));
                labels(out, spec);
                t.clear();
            }
            State::Histogram {
                bin_counts,
                sums,
                totals,
                hdr: snapshots,
            } => {
                let Kind::Histogram(bins) = &spec.kind else {
                    unreachable!("histogram state has histogram kind")
                };
                head(
                    out,
                    7 + u32::from(snapshots.is_some()),
                    "Histogram",
                    &spec.name,
                );
                write_str(out, "bin_counts");
                table(out, bin_counts, |counts, out| {
                    array_header(counts.len(), out);
                    for c in counts {
                        let _ = rmp::encode::write_sint(out, *c);
                    }
                });
                write_str(out, "sums");
                table(out, sums, |v, out| v.encode(out));
                write_str(out, "total_counts");
                table(out, totals, |v, out| {
                    let _ = rmp::encode::write_sint(out, *v);
                });
                write_str(out, "bins");
                array_header(bins.len(), out);
                for b in bins.iter() {
                    let _ = rmp::encode::write_f64(out, *b);
                }
                labels(out, spec);
                if let Some(t) = snapshots {
                    // After mite 2.11's keys: a reader of those sees the same dump.
                    write_str(out, "hdr");
                    table(out, t, |h, out| {
                        let _ = rmp::encode::write_bin(out, &hdr::encode(h));
                    });
                    t.clear();
                }
                bin_counts.clear();
                sums.clear();
                totals.clear();
            }
        }
    }
}
