//! `/metrics` text exactly as mite 2.11's exporter writes it (a space between the name and the
//! labels, label values as Python's `str()`, `le="%.6f"`, blocks separated by a blank line).
// NOTE: prometheus-client's encoder cannot produce this: it omits that space, formats numbers
// its own way. Dashboards built on mite 2.11 query these exact strings. Newlines in label values
// are escaped as the format requires (mite 2.11 wrote them raw; see COMPATIBILITY).
use std::cmp::Ordering;
use std::fmt::Write;

use rmpv::Value;

use super::model::{Metric, Model, Series, Val};
use super::quantiles::QUANTILES;
use crate::bus::float::py_float_repr;
use crate::bus::pyfmt::py_str;
use crate::stats::hdr;
use crate::stats::Num;

fn val_str(v: &Val) -> String {
    match v {
        Val::Num(Num::Int(i)) => i.to_string(),
        Val::Num(Num::Float(f)) => py_float_repr(*f),
        Val::Other(o) => py_str(o),
    }
}

/// Python's `"%.6f" % x`.
fn fixed6(v: &Val) -> String {
    let f = match v {
        Val::Num(n) => n.as_f64(),
        Val::Other(o) => o.as_f64().unwrap_or(f64::NAN),
    };
    if f.is_nan() {
        "nan".into()
    } else {
        format!("{f:.6}")
    }
}

/// `k1="v1",k2="v2"` from `dict(zip(labels, key))`: a repeated name keeps its first place and
/// its last value, as a dict does.
fn label_text(names: &[Value], key: &[Value]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (n, v) in names.iter().zip(key) {
        let n = py_str(n);
        // The text format's escapes: a raw newline would end the line and start a forged one.
        let v = py_str(v)
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        match pairs.iter_mut().find(|(k, _)| *k == n) {
            Some(slot) => slot.1 = v,
            None => pairs.push((n, v)),
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"{v}\"");
    }
    out
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Nil => 0,
        Value::Boolean(_) | Value::Integer(_) | Value::F32(_) | Value::F64(_) => 1,
        Value::String(_) => 2,
        Value::Binary(_) => 3,
        Value::Array(_) => 4,
        _ => 5,
    }
}

/// Python's ordering of label values; types Python cannot compare are ordered by kind instead
/// of failing the whole page as mite 2.11 does.
fn py_cmp(a: &Value, b: &Value) -> Ordering {
    let num = |v: &Value| match v {
        Value::Boolean(b) => Some(f64::from(u8::from(*b))),
        Value::Integer(i) => i.as_f64(),
        Value::F32(f) => Some(f64::from(*f)),
        Value::F64(f) => Some(*f),
        _ => None,
    };
    if let (Value::Integer(x), Value::Integer(y)) = (a, b) {
        if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
            return x.cmp(&y);
        }
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Binary(x), Value::Binary(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => seq_cmp(x, y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => rank(a).cmp(&rank(b)),
        },
    }
}

fn seq_cmp(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = py_cmp(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn simple_block(name: &str, kind: &str, labels: &[Value], items: &[Series<Val>]) -> String {
    let mut lines = vec![format!("# TYPE {name} {kind}")];
    for s in items {
        lines.push(format!(
            "{name} {{{}}} {}",
            label_text(labels, &s.key),
            val_str(&s.value)
        ));
    }
    lines.join("\n")
}

/// The whole `/metrics` body.
pub fn render(model: &Model) -> String {
    let mut blocks = Vec::with_capacity(model.stats.len());
    let mut quantile_blocks = Vec::new();
    for stat in &model.stats {
        let name = &stat.name;
        blocks.push(match &stat.metric {
            Metric::Counter(s) => simple_block(name, "counter", &stat.labels, &s.items),
            Metric::Gauge(s) => simple_block(name, "gauge", &stat.labels, &s.items),
            Metric::Histogram {
                bins,
                bin_counts,
                sums,
                totals,
                hdr,
            } => {
                if !hdr.items.is_empty() {
                    // Its own family after the histogram's, so 2.11's block is unchanged.
                    quantile_blocks.push(quantile_block(name, &stat.labels, &hdr.items));
                }
                let mut lines = vec![format!("# TYPE {name} histogram")];
                let mut order: Vec<&Series<Val>> = sums.items.iter().collect();
                order.sort_by(|a, b| seq_cmp(&a.key, &b.key));
                let zero = Val::Num(Num::Int(0));
                for s in order {
                    let key = Value::Array(s.key.clone());
                    let labels = label_text(&stat.labels, &s.key);
                    let total = totals.get(&key).unwrap_or(&zero);
                    let counts = bin_counts.get(&key);
                    for (i, bin) in bins.iter().enumerate() {
                        let count = match counts {
                            Some(c) => match c.get(i) {
                                Some(v) => v.clone(),
                                None => break,
                            },
                            None => zero.clone(),
                        };
                        lines.push(format!(
                            "{name}_bucket{{{labels},le=\"{}\"}} {}",
                            fixed6(&Val::Num(Num::Float(*bin))),
                            val_str(&count)
                        ));
                    }
                    lines.push(format!(
                        "{name}_bucket{{{labels},le=\"+Inf\"}} {}",
                        val_str(total)
                    ));
                    lines.push(format!("{name}_sum{{{labels}}} {}", fixed6(&s.value)));
                    lines.push(format!("{name}_count{{{labels}}} {}", val_str(total)));
                }
                lines.join("\n")
            }
        });
        blocks.append(&mut quantile_blocks);
    }
    blocks.join("\n\n")
}

/// `<name>_quantile{labels,quantile="0.99"} seconds`: exact percentiles from merged HDR
/// snapshots, the highest value within 0.1% of the true one (docs/COMPATIBILITY.md).
fn quantile_block(
    name: &str,
    labels: &[Value],
    items: &[Series<hdrhistogram::Histogram<u64>>],
) -> String {
    let mut lines = vec![format!("# TYPE {name}_quantile gauge")];
    let mut order: Vec<&Series<_>> = items.iter().collect();
    order.sort_by(|a, b| seq_cmp(&a.key, &b.key));
    for s in order {
        let labels = label_text(labels, &s.key);
        let sep = if labels.is_empty() { "" } else { "," };
        for q in QUANTILES {
            lines.push(format!(
                "{name}_quantile{{{labels}{sep}quantile=\"{q}\"}} {}",
                py_float_repr(hdr::quantile_seconds(&s.value, q))
            ));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmpv::Value as V;

    fn m(pairs: Vec<(&str, V)>) -> V {
        V::Map(pairs.into_iter().map(|(k, v)| (V::from(k), v)).collect())
    }

    #[test]
    fn counters_add_gauges_overwrite_histograms_accumulate() {
        let labels = V::Array(vec![V::from("method"), V::from("ok")]);
        let k1 = V::Array(vec![V::Binary(b"GET".to_vec()), V::Boolean(false)]);
        let k2 = V::Array(vec![V::Binary(b"POST".to_vec()), V::Nil]);
        let hist = |sum: f64| {
            m(vec![
                ("type", V::from("Histogram")),
                ("name", V::from("h")),
                (
                    "bin_counts",
                    V::Map(vec![(
                        V::Array(vec![V::from("t")]),
                        V::Array(vec![V::from(1), V::from(2)]),
                    )]),
                ),
                (
                    "sums",
                    V::Map(vec![(V::Array(vec![V::from("t")]), V::F64(sum))]),
                ),
                (
                    "total_counts",
                    V::Map(vec![(V::Array(vec![V::from("t")]), V::from(3))]),
                ),
                ("bins", V::Array(vec![V::F64(0.1), V::F64(1.0)])),
                ("labels", V::Array(vec![V::from("transaction")])),
            ])
        };
        let dump1 = V::Array(vec![
            m(vec![
                ("type", V::from("Counter")),
                ("name", V::from("c")),
                ("metrics", V::Map(vec![(k1.clone(), V::from(2))])),
                ("labels", labels.clone()),
            ]),
            m(vec![
                ("type", V::from("Gauge")),
                ("name", V::from("g")),
                (
                    "metrics",
                    V::Map(vec![(V::Array(vec![V::from("a\"b")]), V::from(4))]),
                ),
                ("labels", V::Array(vec![V::from("test")])),
            ]),
            hist(0.25),
        ]);
        let dump2 = V::Array(vec![
            m(vec![
                ("type", V::from("Counter")),
                ("name", V::from("c")),
                ("metrics", V::Map(vec![(k1, V::from(3)), (k2, V::from(1))])),
                ("labels", labels),
            ]),
            m(vec![
                ("type", V::from("Gauge")),
                ("name", V::from("g")),
                (
                    "metrics",
                    V::Map(vec![(V::Array(vec![V::from("a\"b")]), V::from(1))]),
                ),
                ("labels", V::Array(vec![V::from("test")])),
            ]),
            hist(0.5),
        ]);
        let mut model = Model::default();
        assert_eq!(model.merge(&dump1), super::super::model::Merged::Ok);
        assert_eq!(model.merge(&dump2), super::super::model::Merged::Ok);
        let want = "# TYPE c counter\n\
c {method=\"b'GET'\",ok=\"False\"} 5\n\
c {method=\"b'POST'\",ok=\"None\"} 1.0\n\
\n\
# TYPE g gauge\n\
g {test=\"a\\\"b\"} 1\n\
\n\
# TYPE h histogram\n\
h_bucket{transaction=\"t\",le=\"0.100000\"} 2\n\
h_bucket{transaction=\"t\",le=\"1.000000\"} 4\n\
h_bucket{transaction=\"t\",le=\"+Inf\"} 6\n\
h_sum{transaction=\"t\"} 0.750000\n\
h_count{transaction=\"t\"} 6";
        assert_eq!(render(&model), want);
    }

    #[test]
    fn newlines_cannot_forge_lines_and_bad_names_are_left_out() {
        use super::super::model::Merged;
        use rmpv::Value as V;
        let m = |pairs: Vec<(&str, V)>| {
            V::Map(pairs.into_iter().map(|(k, v)| (V::from(k), v)).collect())
        };
        let gauge = |name: &str, label: &str, value: &str| {
            m(vec![
                ("type", V::from("Gauge")),
                ("name", V::from(name)),
                (
                    "metrics",
                    V::Map(vec![(V::Array(vec![V::from(value)]), V::from(1))]),
                ),
                ("labels", V::Array(vec![V::from(label)])),
            ])
        };
        let mut model = Model::default();
        let injected = "x\"} 1\nforged_metric 666\n#";
        assert_eq!(
            model.merge(&V::Array(vec![gauge("g", "test", injected)])),
            Merged::Ok
        );
        for (name, label) in [
            ("bad\nname 1", "test"),
            ("ok_name", "bad label"),
            ("1st", "test"),
        ] {
            assert_eq!(
                model.merge(&V::Array(vec![gauge(name, label, "v")])),
                Merged::BadName(name.to_string()),
                "{name:?} {label:?}"
            );
        }
        let text = render(&model);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.contains(r##"g {test="x\"} 1\nforged_metric 666\n#"} 1"##),
            "{text}"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("forged_metric")),
            "{text}"
        );
    }
}
