use rmpv::Value as V;

use super::*;

fn frame(pairs: &[(&str, V)]) -> Vec<u8> {
    let v = V::Map(
        pairs
            .iter()
            .map(|(k, v)| (V::from(*k), v.clone()))
            .collect(),
    );
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &v).unwrap();
    out
}

fn fields(labels: &[&str], value_key: Option<&str>) -> Source {
    Source::Fields {
        labels: labels.iter().map(|s| s.to_string()).collect(),
        value_key: value_key.map(str::to_string),
    }
}

fn spec(name: &str, kind: Kind, types: &[&str], labels: &[&str], source: Source) -> StatSpec {
    StatSpec {
        name: name.into(),
        kind,
        types: types.iter().map(|s| s.to_string()).collect(),
        labels: labels.iter().map(|s| s.to_string()).collect(),
        source,
    }
}

fn decode(b: &[u8]) -> V {
    rmpv::decode::read_value(&mut &b[..]).unwrap()
}

fn get<'a>(m: &'a V, key: &str) -> &'a V {
    m.as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
        .unwrap()
}

#[test]
fn counter_and_histogram_dump_like_mite() {
    let labels = ["test", "journey", "transaction", "method", "response_code"];
    let mut agg = Aggregator::new(
        vec![
            spec(
                "mite_http_response_total",
                Kind::Counter,
                &["http_metrics"],
                &labels,
                fields(&labels, None),
            ),
            spec(
                "mite_http_response_time_seconds",
                Kind::Histogram(vec![1.0, 0.1]),
                &["http_metrics"],
                &["transaction"],
                fields(&["transaction"], Some("total_time")),
            ),
        ],
        vec![Slot::Native(0), Slot::Native(1)],
    );
    let m = |t: f64| {
        frame(&[
            ("type", V::from("http_metrics")),
            ("test", V::from("t")),
            ("transaction", V::from("x")),
            ("method", V::Binary(b"GET".to_vec())),
            ("response_code", V::from(200)),
            ("total_time", V::F64(t)),
        ])
    };
    assert_eq!(agg.process(&m(0.05)), Verdict::Used);
    assert_eq!(agg.process(&m(0.5)), Verdict::Used);
    assert_eq!(agg.process(&m(5.0)), Verdict::Used);
    assert_eq!(
        agg.process(&frame(&[("type", V::from("txn"))])),
        Verdict::Used
    );
    assert_eq!(agg.process(b"\x91\x01"), Verdict::NotAMessage);
    let dump = decode(&agg.dump(Vec::new()));
    let dumps = dump.as_array().unwrap();
    let counter = &dumps[0];
    assert_eq!(get(counter, "type").as_str(), Some("Counter"));
    let key = V::Array(vec![
        V::from("t"),
        V::from(""),
        V::from("x"),
        V::Binary(b"GET".to_vec()),
        V::from(200),
    ]);
    assert_eq!(get(counter, "metrics"), &V::Map(vec![(key, V::from(3))]));
    let hist = &dumps[1];
    let k = V::Array(vec![V::from("x")]);
    assert_eq!(get(hist, "bins"), &V::Array(vec![V::F64(0.1), V::F64(1.0)]));
    assert_eq!(
        get(hist, "bin_counts"),
        &V::Map(vec![(k.clone(), V::Array(vec![V::from(1), V::from(2)]))])
    );
    assert_eq!(get(hist, "sums"), &V::Map(vec![(k.clone(), V::F64(5.55))]));
    assert_eq!(get(hist, "total_counts"), &V::Map(vec![(k, V::from(3))]));
    // A dump clears the numbers.
    let again = decode(&agg.dump(Vec::new()));
    assert_eq!(
        get(&again.as_array().unwrap()[0], "metrics"),
        &V::Map(vec![])
    );
}

#[test]
fn controller_report_gauges_and_external_slots() {
    let mut agg = Aggregator::new(
        vec![
            spec(
                "mite_actual_count",
                Kind::Gauge,
                &["controller_report"],
                &["test", "scenario_id"],
                Source::Report {
                    dict_key: "actual".into(),
                },
            ),
            spec(
                "mite_runner_count",
                Kind::Gauge,
                &["controller_report"],
                &["test"],
                fields(&["test"], Some("num_runners")),
            ),
        ],
        vec![Slot::Native(0), Slot::External(0), Slot::Native(1)],
    );
    let report = |n: i64| {
        frame(&[
            ("type", V::from("controller_report")),
            ("test", V::from("s")),
            (
                "actual",
                V::Map(vec![(V::from(1), V::from(n)), (V::from(2), V::from(0))]),
            ),
            ("num_runners", V::from(2)),
        ])
    };
    agg.process(&report(5));
    agg.process(&report(7));
    let dump = decode(&agg.dump(vec![b"\x80".to_vec()]));
    let dumps = dump.as_array().unwrap();
    assert_eq!(dumps.len(), 3);
    assert_eq!(
        get(&dumps[0], "metrics"),
        &V::Map(vec![
            (V::Array(vec![V::from("s"), V::from(1)]), V::from(7)),
            (V::Array(vec![V::from("s"), V::from(2)]), V::from(0)),
        ])
    );
    assert_eq!(dumps[1], V::Map(vec![]));
    assert_eq!(
        get(&dumps[2], "metrics"),
        &V::Map(vec![(V::Array(vec![V::from("s")]), V::from(2))])
    );
}

#[test]
fn unusable_values_are_counted_not_fatal() {
    let mut agg = Aggregator::new(
        vec![spec(
            "h",
            Kind::Histogram(vec![1.0]),
            &["m"],
            &["a"],
            fields(&["a"], Some("v")),
        )],
        vec![Slot::Native(0)],
    );
    agg.process(&frame(&[("type", V::from("m")), ("v", V::from("slow"))]));
    agg.process(&frame(&[("type", V::from("m"))]));
    agg.process(&frame(&[("type", V::from("m")), ("v", V::from(2))]));
    assert_eq!(agg.unusable(), 2);
    let dump = decode(&agg.dump(Vec::new()));
    let h = &dump.as_array().unwrap()[0];
    // Above every bin: in sums and counts, not in bin_counts (as mite 2.11).
    assert_eq!(get(h, "bin_counts"), &V::Map(vec![]));
    assert_eq!(
        get(h, "sums"),
        &V::Map(vec![(V::Array(vec![V::from("")]), V::from(2))])
    );
}

#[test]
fn a_map_as_a_label_value_is_refused_before_any_stat_counts_it() {
    let mut agg = Aggregator::new(
        vec![spec(
            "c",
            Kind::Counter,
            &["m"],
            &["test"],
            fields(&["test"], None),
        )],
        vec![Slot::Native(0)],
    );
    let map = V::Map(vec![(V::from("a"), V::from(1))]);
    let bad = frame(&[("type", V::from("m")), ("test", map.clone())]);
    assert_eq!(agg.process(&bad), Verdict::BadLabel);
    let nested = frame(&[
        ("type", V::from("m")),
        ("test", V::Array(vec![V::from(1), map.clone()])),
    ]);
    assert_eq!(agg.process(&nested), Verdict::BadLabel);
    // Arrays are tuples to the exporters: hashable.
    let tuple = frame(&[("type", V::from("m")), ("test", V::Array(vec![V::from(1)]))]);
    assert_eq!(agg.process(&tuple), Verdict::Used);
    // Another type's messages are not this stat's business.
    let other = frame(&[("type", V::from("n")), ("test", map)]);
    assert_eq!(agg.process(&other), Verdict::Used);
    let dump = decode(&agg.dump(Vec::new()));
    let metrics = get(&dump.as_array().unwrap()[0], "metrics");
    assert_eq!(metrics.as_map().unwrap().len(), 1, "{metrics}");
}

#[test]
fn histograms_ship_hdr_snapshots_after_2_11s_keys_when_asked() {
    let hist = || {
        spec(
            "mite_http_response_time_seconds",
            Kind::Histogram(vec![0.1, 1.0]),
            &["http_metrics"],
            &["transaction"],
            fields(&["transaction"], Some("total_time")),
        )
    };
    let msg = |txn: &str, t: f64| {
        frame(&[
            ("type", V::from("http_metrics")),
            ("transaction", V::from(txn)),
            ("total_time", V::F64(t)),
        ])
    };
    let mut with = Aggregator::with_snapshots(vec![hist()], vec![Slot::Native(0)], true);
    let mut without = Aggregator::with_snapshots(vec![hist()], vec![Slot::Native(0)], false);
    for (txn, t) in [("a", 0.05), ("a", 0.5), ("b", 2.0)] {
        assert_eq!(with.process(&msg(txn, t)), Verdict::Used);
        assert_eq!(without.process(&msg(txn, t)), Verdict::Used);
    }
    let dump = decode(&with.dump(Vec::new()));
    let stat = &dump.as_array().unwrap()[0];
    let keys: Vec<&str> = stat
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str().unwrap())
        .collect();
    let keys_2_11 = [
        "type",
        "name",
        "bin_counts",
        "sums",
        "total_counts",
        "bins",
        "labels",
    ];
    assert_eq!(keys[..7], keys_2_11);
    assert_eq!(keys[7..], ["hdr"]);
    let snapshots = get(stat, "hdr").as_map().unwrap();
    assert_eq!(snapshots.len(), 2);
    let (key, bytes) = &snapshots[0];
    assert_eq!(key, &V::Array(vec![V::from("a")]));
    let h = hdr::decode(bytes.as_slice().unwrap()).unwrap();
    assert_eq!(h.len(), 2);
    assert!((hdr::quantile_seconds(&h, 1.0) - 0.5).abs() <= 0.5 * 0.001);
    // Without snapshots the dump is mite 2.11's, key for key; the numbers are the same.
    let plain = decode(&without.dump(Vec::new()));
    let plain = &plain.as_array().unwrap()[0];
    assert_eq!(plain.as_map().unwrap().len(), 7);
    for k in keys_2_11 {
        assert_eq!(get(plain, k), get(stat, k), "{k}");
    }
    // A dump starts the snapshots again, like the bins.
    with.process(&msg("a", 0.2));
    let next = decode(&with.dump(Vec::new()));
    let snapshots = get(&next.as_array().unwrap()[0], "hdr").as_map().unwrap();
    assert_eq!(snapshots.len(), 1);
    let h = hdr::decode(snapshots[0].1.as_slice().unwrap()).unwrap();
    assert_eq!(h.len(), 1);
}
