//! Exact percentiles at the exporter: the HDR snapshots our stats put in a histogram's dumps
//! (`stats::hdr`, under `hdr`) merged per label tuple; `text` shows them as `<name>_quantile`.
use hdrhistogram::Histogram;
use rmpv::Value;

use crate::log_throttled;
use crate::report::log::Level;
use crate::stats::hdr;

/// The quantiles shown for every label tuple.
pub const QUANTILES: [f64; 6] = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999];

/// The snapshots of a dump's `hdr` map, decoded (absent in mite 2.11's dumps: none), and how
/// many were skipped as malformed.
pub fn decode(field: Option<&Value>) -> (Vec<(&Value, Histogram<u64>)>, u64) {
    let Some(field) = field else {
        return (Vec::new(), 0);
    };
    let Some(pairs) = field.as_map() else {
        return (Vec::new(), skipped("a dump's hdr field is not a map"));
    };
    let mut bad = 0;
    let mut out = Vec::with_capacity(pairs.len());
    for (key, snapshot) in pairs {
        match snapshot {
            Value::Binary(bytes) => match hdr::decode(bytes) {
                Ok(h) => out.push((key, h)),
                Err(e) => bad += skipped(&e.to_string()),
            },
            _ => bad += skipped("an HDR snapshot is not bytes"),
        }
    }
    (out, bad)
}

fn skipped(why: &str) -> u64 {
    log_throttled!(
        Level::Warning,
        "mite.web.prometheus",
        "merge",
        "skipped an HDR snapshot",
        "skipped an HDR snapshot: {why}"
    );
    1
}

#[cfg(test)]
mod tests {
    use rmpv::Value as V;

    use crate::exporter::{render, Model};
    use crate::stats::hdr;

    fn dump(values: &[(&str, &[f64])], with_hdr: bool) -> V {
        let key = |t: &str| V::Array(vec![V::from(t)]);
        let mut fields = vec![
            (V::from("type"), V::from("Histogram")),
            (V::from("name"), V::from("h_seconds")),
            (
                V::from("bin_counts"),
                V::Map(
                    values
                        .iter()
                        .map(|(t, v)| (key(t), V::Array(vec![V::from(v.len())])))
                        .collect(),
                ),
            ),
            (
                V::from("sums"),
                V::Map(
                    values
                        .iter()
                        .map(|(t, v)| (key(t), V::F64(v.iter().sum())))
                        .collect(),
                ),
            ),
            (
                V::from("total_counts"),
                V::Map(
                    values
                        .iter()
                        .map(|(t, v)| (key(t), V::from(v.len())))
                        .collect(),
                ),
            ),
            (V::from("bins"), V::Array(vec![V::F64(100.0)])),
            (V::from("labels"), V::Array(vec![V::from("transaction")])),
        ];
        if with_hdr {
            let snapshots = values
                .iter()
                .map(|(t, v)| {
                    let mut h = hdr::new_histogram();
                    for x in *v {
                        hdr::record(&mut h, *x);
                    }
                    (key(t), V::Binary(hdr::encode(&h)))
                })
                .collect();
            fields.push((V::from("hdr"), V::Map(snapshots)));
        }
        V::Array(vec![V::Map(fields)])
    }

    fn quantile(body: &str, txn: &str, q: &str) -> f64 {
        let head = format!("h_seconds_quantile{{transaction=\"{txn}\",quantile=\"{q}\"}} ");
        body.lines()
            .find_map(|l| l.strip_prefix(&head))
            .unwrap_or_else(|| panic!("no {head} in\n{body}"))
            .parse()
            .unwrap()
    }

    #[test]
    fn snapshots_from_several_stats_merge_into_exact_quantiles() {
        let a: Vec<f64> = (1..=500).map(|i| f64::from(i) / 1000.0).collect();
        let b: Vec<f64> = (501..=1000).map(|i| f64::from(i) / 1000.0).collect();
        let mut model = Model::default();
        model.merge(&dump(&[("t", &a)], true));
        model.merge(&dump(&[("t", &b), ("u", &[2.0])], true));
        let body = render(&model);
        assert!(
            body.contains("h_seconds_count{transaction=\"t\"} 1000"),
            "{body}"
        );
        assert!(
            body.contains("\n\n# TYPE h_seconds_quantile gauge\n"),
            "{body}"
        );
        for (q, exact) in [("0.5", 0.5), ("0.99", 0.99), ("0.999", 0.999)] {
            let got = quantile(&body, "t", q);
            assert!(got >= exact && got <= exact * 1.001, "{q}: {got}");
        }
        assert_eq!(quantile(&body, "u", "0.5"), quantile(&body, "u", "0.999"));
        assert_eq!(model.bad_snapshots, 0);
    }

    #[test]
    fn dumps_without_snapshots_show_the_histogram_alone() {
        let mut model = Model::default();
        model.merge(&dump(&[("t", &[0.1, 0.2])], false));
        let body = render(&model);
        assert!(!body.contains("quantile"), "{body}");
        assert!(body.contains("h_seconds_count{transaction=\"t\"} 2"));
    }

    #[test]
    fn a_bad_snapshot_is_skipped_and_counted_the_rest_merged() {
        let mut model = Model::default();
        let mut bad = dump(&[("t", &[0.1]), ("u", &[0.2])], true);
        if let V::Array(dumps) = &mut bad {
            if let V::Map(fields) = &mut dumps[0] {
                if let V::Map(snapshots) = &mut fields.last_mut().unwrap().1 {
                    snapshots[0].1 = V::Binary(b"not a snapshot".to_vec());
                }
            }
        }
        model.merge(&bad);
        assert_eq!(model.bad_snapshots, 1);
        let body = render(&model);
        assert!(
            body.contains("h_seconds_count{transaction=\"t\"} 1"),
            "{body}"
        );
        assert!(quantile(&body, "u", "0.5") >= 0.2);
        assert!(
            !body.contains("h_seconds_quantile{transaction=\"t\""),
            "{body}"
        );
    }
}
