//! Unit tests of the pipeline: batch order, what reaches each consumer, malformed frames.
use std::path::Path;

use rmpv::Value;

use super::*;
use crate::collector::CollectorConfig;
use crate::report::console::ConsoleConfig;

fn frame(pairs: &[(&str, Value)]) -> Vec<u8> {
    let map = pairs
        .iter()
        .map(|(k, v)| (Value::from(*k), v.clone()))
        .collect();
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &Value::Map(map)).unwrap();
    out
}

fn msg(kind: &str, i: i64) -> Vec<u8> {
    frame(&[("type", kind.into()), ("i", i.into())])
}

fn config() -> PipelineConfig {
    PipelineConfig {
        console: ConsoleConfig {
            period_secs: 60.0,
            ..ConsoleConfig::default()
        },
        ..PipelineConfig::default()
    }
}

fn collecting(dir: &Path) -> PipelineConfig {
    PipelineConfig {
        collector: Some(CollectorConfig {
            dir: dir.to_path_buf(),
            roll_after: 1_000_000,
            collector_id: None,
            use_json: false,
        }),
        ..config()
    }
}

/// Every msgpack value in a collector file, in order; the file must hold whole frames only.
fn frames_in(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut rest = &bytes[..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let before = rest.len();
        rmpv::decode::read_value(&mut rest).expect("a whole frame");
        out.push(bytes[bytes.len() - before..bytes.len() - rest.len()].to_vec());
    }
    out
}

fn run(cfg: PipelineConfig, frames: &[Vec<u8>]) -> Finished {
    let pipeline = Pipeline::start(cfg).unwrap();
    let inbox = pipeline.inbox();
    for f in frames {
        inbox.push(f.clone());
    }
    pipeline.finish()
}

/// A PULL socket bound on loopback, and its address for the pipeline's `forward`.
fn pull(ctx: &zmq::Context) -> (zmq::Socket, String) {
    let sock = ctx.socket(zmq::PULL).unwrap();
    sock.set_linger(0).unwrap();
    sock.set_rcvtimeo(60_000).unwrap(); // generous: a loaded machine, not a timing assert
    sock.bind("tcp://127.0.0.1:*").unwrap();
    let addr = sock.get_last_endpoint().unwrap().unwrap();
    (sock, addr)
}

#[test]
fn a_full_batch_travels_whole_and_a_partial_one_cannot_overtake_it() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let inbox = Inbox::new(tx);
    for i in 0..inbox::BATCH + 10 {
        inbox.push(vec![i as u8]);
    }
    // The full batch is still in the channel: the partial one must wait behind it.
    assert!(inbox.take_if_idle().is_empty());
    let Ok(Item::Batch(full)) = rx.try_recv() else {
        panic!("a full batch is sent as one item")
    };
    assert_eq!(full.len(), inbox::BATCH);
    assert!(full.iter().enumerate().all(|(i, f)| f == &[i as u8]));
    let rest = inbox.take_if_idle();
    let want: Vec<Vec<u8>> = (inbox::BATCH..inbox::BATCH + 10)
        .map(|i| vec![i as u8])
        .collect();
    assert_eq!(rest, want);
    assert!(inbox.take_if_idle().is_empty(), "a frame is taken once");
}

#[test]
fn an_item_is_sent_after_the_frames_pushed_before_it() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let inbox = Inbox::new(tx);
    inbox.push(vec![1]);
    inbox.push(vec![2]);
    inbox.send(Item::Close);
    assert!(matches!(rx.try_recv(), Ok(Item::Batch(b)) if b == vec![vec![1], vec![2]]));
    assert!(matches!(rx.try_recv(), Ok(Item::Close)));
    assert!(rx.try_recv().is_err());
}

#[test]
fn every_frame_sent_before_finish_reaches_the_collector_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    // Several full batches and a partial one, all pushed before `finish`.
    let frames: Vec<Vec<u8>> = (0..1000).map(|i| msg("txn", i)).collect();
    let done = run(collecting(tmp.path()), &frames);
    assert_eq!(done.totals.received, 1000);
    assert_eq!(done.totals.collected, 1000);
    assert_eq!(done.totals.malformed, 0);
    assert_eq!(frames_in(&tmp.path().join("current")), frames);
}

#[test]
fn a_frame_that_is_not_a_map_is_counted_malformed_and_the_rest_go_on() {
    let tmp = tempfile::tempdir().unwrap();
    let mut not_a_map = Vec::new();
    rmpv::encode::write_value(&mut not_a_map, &Value::from(vec![Value::from(1)])).unwrap();
    let truncated = msg("http_metrics", 1)[..5].to_vec();
    let request = frame(&[("type", "http_metrics".into()), ("total_time", 0.5.into())]);
    let cfg = PipelineConfig {
        collector: None,
        ..config()
    };
    let done = run(cfg, &[not_a_map.clone(), truncated, request.clone()]);
    assert_eq!(done.totals.received, 3);
    assert_eq!(done.totals.malformed, 2);
    assert_eq!(
        done.stats.req_total, 1,
        "the frame after the bad ones is still counted"
    );

    // The collector stores what it is given (it is the collector component that vets frames
    // from the network); a message without a `type` is not malformed.
    let untyped = frame(&[("i", 1.into())]);
    let done = run(
        collecting(tmp.path()),
        &[not_a_map.clone(), untyped.clone(), request.clone()],
    );
    assert_eq!((done.totals.malformed, done.totals.collected), (1, 3));
    assert_eq!(
        frames_in(&tmp.path().join("current")),
        vec![not_a_map, untyped, request]
    );
}

#[test]
fn requests_and_errors_reach_the_request_stats_and_nothing_else_does() {
    let frames = vec![
        frame(&[
            ("type", "http_metrics".into()),
            ("total_time", 0.25.into()),
            ("download_size", 100.into()),
        ]),
        frame(&[
            ("type", "http_metrics".into()),
            ("total_time", 0.75.into()),
            ("download_size", 20.into()),
        ]),
        frame(&[("type", "error".into()), ("journey", "m:j".into())]),
        frame(&[("type", "exception".into()), ("journey", "m:j".into())]),
        msg("txn", 1),
        msg("data_created", 2), // no recorder: ignored
    ];
    let done = run(config(), &frames);
    assert_eq!(done.totals.received, 6);
    assert_eq!(done.stats.req_total, 2);
    assert_eq!(done.stats.error_total, 2);
    assert_eq!(done.stats.data_transferred, 120.0);
    assert_eq!(done.stats.resp_time_max, 0.75);
    assert_eq!(done.totals.recorded + done.totals.refused, 0);
}

#[test]
fn data_created_reaches_the_recorder_and_bad_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let created = |name: &str, n: i64| {
        frame(&[
            ("type", "data_created".into()),
            ("name", name.into()),
            ("data", Value::from(vec![Value::from(n)])),
        ])
    };
    let cfg = PipelineConfig {
        recorder_dir: Some(tmp.path().join("rec")),
        ..config()
    };
    let done = run(
        cfg,
        &[
            created("users", 1),
            created("../escape", 2),
            created("users", 3),
            msg("txn", 4),
        ],
    );
    assert_eq!((done.totals.recorded, done.totals.refused), (2, 1));
    let mut want = Vec::new();
    for n in [1, 3] {
        rmpv::encode::write_value(&mut want, &Value::from(vec![Value::from(n)])).unwrap();
    }
    assert_eq!(
        std::fs::read(tmp.path().join("rec/users.msgpack")).unwrap(),
        want
    );
    assert!(!tmp.path().join("escape.msgpack").exists());
}

#[test]
fn with_a_filter_only_the_verdicts_reach_the_collector() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = PipelineConfig {
        collector_filtered: true,
        ..collecting(tmp.path())
    };
    let pipeline = Pipeline::start(cfg).unwrap();
    let inbox = pipeline.inbox();
    let (kept, dropped) = (msg("txn", 1), msg("txn", 2));
    inbox.push(kept.clone()); // the stats and the log see it; the collector waits for a verdict
    inbox.send(Item::Collect {
        raw: kept.clone(),
        keep: true,
    });
    inbox.send(Item::Collect {
        raw: dropped,
        keep: false,
    });
    let done = pipeline.finish();
    assert_eq!((done.totals.received, done.totals.collected), (1, 1));
    assert_eq!(frames_in(&tmp.path().join("current")), vec![kept]);
}

#[test]
fn forwarded_frames_arrive_whole_in_order_and_are_counted_by_type() {
    let ctx = zmq::Context::new();
    let (sock, addr) = pull(&ctx);
    let frames: Vec<Vec<u8>> = (0..600)
        .map(|i| msg(if i % 3 == 0 { "error" } else { "txn" }, i))
        .collect();
    let cfg = PipelineConfig {
        forward: Some(addr),
        ..config()
    };
    let done = run(cfg, &frames);
    let got: Vec<Vec<u8>> = (0..600).map(|_| sock.recv_bytes(0).unwrap()).collect();
    assert_eq!(got, frames);
    assert_eq!(
        (done.totals.forwarded, done.totals.forward_dropped),
        (600, 0)
    );
    let by_type: Vec<(&str, u64)> = done
        .totals
        .by_type
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(by_type, vec![("error", 200), ("txn", 400)]);
}

#[test]
fn a_partial_batch_is_forwarded_while_the_run_goes_on() {
    // What a runner killed with SIGKILL has sent: frames leave without waiting for `finish`
    // (nor for a full batch). How soon is a speed question (MAX_WAIT; `make faults`).
    let ctx = zmq::Context::new();
    let (sock, addr) = pull(&ctx);
    let cfg = PipelineConfig {
        forward: Some(addr),
        ..config()
    };
    let pipeline = Pipeline::start(cfg).unwrap();
    let frames: Vec<Vec<u8>> = (0..3).map(|i| msg("txn", i)).collect();
    for f in &frames {
        pipeline.inbox().push(f.clone());
    }
    let got: Vec<Vec<u8>> = (0..3)
        .map(|_| sock.recv_bytes(0).expect("forwarded before finish"))
        .collect();
    assert_eq!(got, frames);
    assert_eq!(pipeline.finish().totals.forwarded, 3);
}
