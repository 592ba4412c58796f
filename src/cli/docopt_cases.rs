//! Conformance with the reference: maps that docopt 0.6.2 built from mite 2.11.0's docstring,
//! compared key by key with ours.
//!
//! The tables below are generated, not hand-written: each case is the argv and the keys whose value
//! differs from `BASELINE` (the map with nothing given). Regenerate with the reference installed:
//! for each argv, `docopt.docopt(mite.__main__.__doc__, argv=argv)`, record `ok` (the map), `help`
//! (printed the docstring) or `error` (SystemExit with the usage), and print these tables.

use super::{parse, OptValue, Outcome};

/// A docopt value as a const: Bool, Str, None, List.
#[derive(Debug)]
enum V {
    B(bool),
    S(&'static str),
    N,
    L(&'static [&'static str]),
}
use V::{B, L, N, S};

type Case = (&'static [&'static str], &'static [(&'static str, V)]);

impl V {
    fn to_opt(&self) -> OptValue {
        match self {
            B(b) => OptValue::Bool(*b),
            S(s) => OptValue::Str(s.to_string()),
            N => OptValue::None,
            L(items) => OptValue::List(items.iter().map(|s| s.to_string()).collect()),
        }
    }
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn sorted(map: &[(String, OptValue)]) -> Vec<(String, OptValue)> {
    let mut map = map.to_vec();
    map.sort_by(|a, b| a.0.cmp(&b.0));
    map
}

#[test]
fn accepted_argv_gives_docopts_map() {
    for (args, diff) in ACCEPTED {
        let mut expected: Vec<(String, OptValue)> = BASELINE
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_opt()))
            .collect();
        for (key, value) in diff.iter() {
            let slot = expected.iter_mut().find(|(k, _)| k == key).unwrap();
            slot.1 = value.to_opt();
        }
        let Outcome::Run(inv) = parse(&argv(args)) else {
            panic!("{args:?} was rejected: {:?}", parse(&argv(args)));
        };
        assert_eq!(sorted(&inv.opts), sorted(&expected), "argv {args:?}");
    }
}

#[test]
fn argv_docopt_rejects_is_a_usage_error() {
    for args in REJECTED {
        match parse(&argv(args)) {
            Outcome::Exit {
                code: 2,
                stdout,
                stderr,
            } => {
                assert!(stdout.is_empty(), "{args:?}");
                assert!(stderr.starts_with("mite: error: "), "{args:?}: {stderr}");
                assert_eq!(stderr.lines().count(), 2, "{args:?}: {stderr}");
            }
            other => panic!("{args:?} should fail: {other:?}"),
        }
    }
}

#[test]
fn argv_docopt_answers_with_help_prints_help() {
    for args in HELP {
        let outcome = parse(&argv(args));
        let Outcome::Exit {
            code: 0, stdout, ..
        } = outcome
        else {
            panic!("{args:?}: {outcome:?}");
        };
        assert_eq!(stdout, super::spec::HELP, "{args:?}");
    }
}

#[rustfmt::skip]
const BASELINE: &[(&str, V)] = &[
    ("--add-to-config", L(&[])),
    ("--benchmark-percentiles", S("50:0,90:0,98:0,99:0")),
    ("--collector-dir", S("collector_data")),
    ("--collector-filter", N),
    ("--collector-roll", S("100000")),
    ("--collector-socket", S("tcp://127.0.0.1:14303")),
    ("--collector-use-json", B(false)),
    ("--config", S("mite.config:default_config_loader")),
    ("--controller-socket", S("tcp://127.0.0.1:14301")),
    ("--debugging", B(false)),
    ("--delay-start-seconds", S("0")),
    ("--exclude-working-directory", B(false)),
    ("--help", B(false)),
    ("--hide-constant-logs", B(false)),
    ("--include-buckets", B(false)),
    ("--influxdb", N),
    ("--journey-logging", B(false)),
    ("--log-level", S("INFO")),
    ("--logging-webhook", N),
    ("--max-errors-threshold", S("0")),
    ("--max-loop-delay", S("1")),
    ("--max-response-time-threshold", S("0")),
    ("--mean-response-time-threshold", S("0")),
    ("--memory-tracing", B(false)),
    ("--message-backend", S("ZMQ")),
    ("--message-processors", S("mite.logoutput:HttpStatsOutput,mite.logoutput:MsgOutput")),
    ("--message-socket", S("tcp://127.0.0.1:14302")),
    ("--min-loop-delay", S("0")),
    ("--prettify-timestamps", B(false)),
    ("--processor", L(&[])),
    ("--recorder-dir", S("recorder_data")),
    ("--recorder-socket", S("tcp://127.0.0.1:14306")),
    ("--report", B(false)),
    ("--runner-max-journeys", N),
    // Beyond mite 2.11 (not in its docstring): runner processes of a local run.
    ("--runners", S("1")),
    ("--sleep-time", S("1")),
    ("--spawn-rate", S("1000")),
    ("--standard-deviation-req-sec-threshold", S("0")),
    ("--standard-deviation-response-time-threshold", S("0")),
    ("--stats-exclude-processors", N),
    ("--stats-in-socket", S("tcp://127.0.0.1:14304")),
    ("--stats-include-processors", N),
    ("--stats-out-socket", S("tcp://127.0.0.1:14305")),
    ("--version", B(false)),
    ("--volume", S("1")),
    ("--web-address", S("127.0.0.1:9301")),
    ("CONVERTED_FILE_PATH", N),
    ("DATAPOOL_SPEC", N),
    ("HAR_FILE_PATH", N),
    ("JOURNEY_SPEC", N),
    ("MSGPACK_FILE_PATH", N),
    ("OUT_SOCKET", L(&[])),
    ("RECEIVE_SOCKET", N),
    ("SCENARIO_SPEC", N),
    ("cat", B(false)),
    ("collector", B(false)),
    ("controller", B(false)),
    ("duplicator", B(false)),
    ("har", B(false)),
    ("influxdb", B(false)),
    ("influxdb_exporter", B(false)),
    ("init", B(false)),
    ("journey", B(false)),
    ("prometheus_exporter", B(false)),
    ("receiver", B(false)),
    ("recorder", B(false)),
    ("run", B(false)),
    ("runner", B(false)),
    ("scenario", B(false)),
    ("stats", B(false)),
    ("test", B(false)),
    ("uncat", B(false)),
];

#[rustfmt::skip]
const ACCEPTED: &[Case] = &[
    (&["scenario", "test", "mite.example:scenario"], &[("SCENARIO_SPEC", S("mite.example:scenario")), ("scenario", B(true)), ("test", B(true))]),
    (&["--spawn-rate=50", "scenario", "test", "mite.example:scenario"], &[("--spawn-rate", S("50")), ("SCENARIO_SPEC", S("mite.example:scenario")), ("scenario", B(true)), ("test", B(true))]),
    (&["scenario", "test", "--spawn-rate", "50", "mite.example:scenario", "--report"], &[("--report", B(true)), ("--spawn-rate", S("50")), ("SCENARIO_SPEC", S("mite.example:scenario")), ("scenario", B(true)), ("test", B(true))]),
    (&["scenario", "test", "x", "--add-to-config=a:1", "--add-to-config", "b:2", "--add-to-config=c:d:e"], &[("--add-to-config", L(&["a:1", "b:2", "c:d:e"])), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    (&["--add-to-config=first", "scenario", "test", "x", "--add-to-config=second"], &[("--add-to-config", L(&["first", "second"])), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    (&["scenario", "test", "x", "--message-processors=", "--memory-tracing", "--influxdb=2"], &[("--influxdb", S("2")), ("--memory-tracing", B(true)), ("--message-processors", S("")), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    (&["scenario", "test", "x", "--max-errors-threshold=5", "--max-response-time-threshold", "300", "--mean-response-time-threshold=100", "--standard-deviation-response-time-threshold=7", "--standard-deviation-req-sec-threshold=9"], &[("--max-errors-threshold", S("5")), ("--max-response-time-threshold", S("300")), ("--mean-response-time-threshold", S("100")), ("--standard-deviation-req-sec-threshold", S("9")), ("--standard-deviation-response-time-threshold", S("7")), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    (&["scenario", "test", "x", "--benchmark-percentiles=50:100,95:300", "--report", "--hide-constant-logs", "--journey-logging"], &[("--benchmark-percentiles", S("50:100,95:300")), ("--hide-constant-logs", B(true)), ("--journey-logging", B(true)), ("--report", B(true)), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    (&["scenario", "test", "test"], &[("SCENARIO_SPEC", S("test")), ("scenario", B(true)), ("test", B(true))]),
    (&["journey", "test", "mite.example:journey"], &[("JOURNEY_SPEC", S("mite.example:journey")), ("journey", B(true)), ("test", B(true))]),
    (&["journey", "test", "mite.example:journey", "mite.example:datapool"], &[("DATAPOOL_SPEC", S("mite.example:datapool")), ("JOURNEY_SPEC", S("mite.example:journey")), ("journey", B(true)), ("test", B(true))]),
    (&["journey", "test", "mite.example:journey", "mite.example:datapool", "--add-to-config=test_msg:Hello"], &[("--add-to-config", L(&["test_msg:Hello"])), ("DATAPOOL_SPEC", S("mite.example:datapool")), ("JOURNEY_SPEC", S("mite.example:journey")), ("journey", B(true)), ("test", B(true))]),
    (&["--volume", "5", "journey", "run", "j", "dp", "--message-processors=a:B"], &[("--message-processors", S("a:B")), ("--volume", S("5")), ("DATAPOOL_SPEC", S("dp")), ("JOURNEY_SPEC", S("j")), ("journey", B(true)), ("run", B(true))]),
    (&["journey", "run", "j", "--volume=0", "--debugging", "--exclude-working-directory"], &[("--debugging", B(true)), ("--exclude-working-directory", B(true)), ("--volume", S("0")), ("JOURNEY_SPEC", S("j")), ("journey", B(true)), ("run", B(true))]),
    (&["controller", "mite.example:scenario", "--controller-socket=tcp://0.0.0.0:14301"], &[("--controller-socket", S("tcp://0.0.0.0:14301")), ("SCENARIO_SPEC", S("mite.example:scenario")), ("controller", B(true))]),
    (&["controller", "s", "--message-socket=tcp://a:1", "--logging-webhook=http://h/", "--add-to-config=x:1", "--add-to-config=y:2"], &[("--add-to-config", L(&["x:1", "y:2"])), ("--logging-webhook", S("http://h/")), ("--message-socket", S("tcp://a:1")), ("SCENARIO_SPEC", S("s")), ("controller", B(true))]),
    (&["--delay-start-seconds=2.5", "controller", "s", "--max-loop-delay", "0.5", "--min-loop-delay=0.01"], &[("--delay-start-seconds", S("2.5")), ("--max-loop-delay", S("0.5")), ("--min-loop-delay", S("0.01")), ("SCENARIO_SPEC", S("s")), ("controller", B(true))]),
    (&["runner", "--controller-socket=tcp://10.11.12.13:14301", "--message-socket=tcp://10.11.12.13:14302"], &[("--controller-socket", S("tcp://10.11.12.13:14301")), ("--message-socket", S("tcp://10.11.12.13:14302")), ("runner", B(true))]),
    (&["runner", "--runner-max-journeys=10", "--spawn-rate", "20", "--log-level=DEBUG"], &[("--log-level", S("DEBUG")), ("--runner-max-journeys", S("10")), ("--spawn-rate", S("20")), ("runner", B(true))]),
    (&["duplicator", "--message-socket=tcp://0.0.0.0:14302", "tcp://127.0.0.1:14303", "tcp://127.0.0.1:14304"], &[("--message-socket", S("tcp://0.0.0.0:14302")), ("OUT_SOCKET", L(&["tcp://127.0.0.1:14303", "tcp://127.0.0.1:14304"])), ("duplicator", B(true))]),
    (&["duplicator", "a"], &[("OUT_SOCKET", L(&["a"])), ("duplicator", B(true))]),
    (&["duplicator", "a", "b", "c", "d", "e"], &[("OUT_SOCKET", L(&["a", "b", "c", "d", "e"])), ("duplicator", B(true))]),
    (&["collector", "--collector-socket=tcp://x:1", "--collector-filter=m:f", "--collector-roll=10", "--collector-dir=out", "--collector-use-json"], &[("--collector-dir", S("out")), ("--collector-filter", S("m:f")), ("--collector-roll", S("10")), ("--collector-socket", S("tcp://x:1")), ("--collector-use-json", B(true)), ("collector", B(true))]),
    (&["collector"], &[("collector", B(true))]),
    (&["recorder", "--recorder-socket=tcp://r:1", "--recorder-dir=rec"], &[("--recorder-dir", S("rec")), ("--recorder-socket", S("tcp://r:1")), ("recorder", B(true))]),
    (&["stats", "--stats-in-socket=tcp://0.0.0.0:14303", "--stats-out-socket=tcp://0.0.0.0:14305"], &[("--stats-in-socket", S("tcp://0.0.0.0:14303")), ("--stats-out-socket", S("tcp://0.0.0.0:14305")), ("stats", B(true))]),
    (&["stats", "--stats-include-processors=a,b", "--stats-exclude-processors=c"], &[("--stats-exclude-processors", S("c")), ("--stats-include-processors", S("a,b")), ("stats", B(true))]),
    (&["receiver", "tcp://127.0.0.1:14303"], &[("RECEIVE_SOCKET", S("tcp://127.0.0.1:14303")), ("receiver", B(true))]),
    (&["receiver", "tcp://x:1", "--processor=a:B", "--processor", "c:D"], &[("--processor", L(&["a:B", "c:D"])), ("RECEIVE_SOCKET", S("tcp://x:1")), ("receiver", B(true))]),
    (&["--processor=first", "receiver", "s", "--proc", "second"], &[("--processor", L(&["first", "second"])), ("RECEIVE_SOCKET", S("s")), ("receiver", B(true))]),
    (&["prometheus_exporter", "--web-address=0.0.0.0:9000", "--stats-out-socket=tcp://s:1"], &[("--stats-out-socket", S("tcp://s:1")), ("--web-address", S("0.0.0.0:9000")), ("prometheus_exporter", B(true))]),
    (&["prometheus_exporter", "--web-address=[::1]:9301"], &[("--web-address", S("[::1]:9301")), ("prometheus_exporter", B(true))]),
    (&["influxdb_exporter", "--include-buckets"], &[("--include-buckets", B(true)), ("influxdb_exporter", B(true))]),
    (&["influxdb_exporter", "--stats-out-socket=tcp://s:2"], &[("--stats-out-socket", S("tcp://s:2")), ("influxdb_exporter", B(true))]),
    (&["har", "in.har", "out.py"], &[("CONVERTED_FILE_PATH", S("out.py")), ("HAR_FILE_PATH", S("in.har")), ("har", B(true))]),
    (&["har", "in.har", "out.py", "--sleep-time=0.5"], &[("--sleep-time", S("0.5")), ("CONVERTED_FILE_PATH", S("out.py")), ("HAR_FILE_PATH", S("in.har")), ("har", B(true))]),
    (&["cat", "--prettify-timestamps", "data.msgpack"], &[("--prettify-timestamps", B(true)), ("MSGPACK_FILE_PATH", S("data.msgpack")), ("cat", B(true))]),
    (&["cat", "data.msgpack"], &[("MSGPACK_FILE_PATH", S("data.msgpack")), ("cat", B(true))]),
    (&["uncat"], &[("uncat", B(true))]),
    (&["uncat", "--message-backend=ZMQ", "--config=my.mod:loader"], &[("--config", S("my.mod:loader")), ("uncat", B(true))]),
    (&["influxdb", "init"], &[("influxdb", B(true)), ("init", B(true))]),
    (&["influxdb", "init", "--influxdb=3"], &[("--influxdb", S("3")), ("influxdb", B(true)), ("init", B(true))]),
    (&["--spawn=7", "--vol", "3", "--debug", "uncat"], &[("--debugging", B(true)), ("--spawn-rate", S("7")), ("--volume", S("3")), ("uncat", B(true))]),
    (&["runner", "--config", "--help"], &[("--config", S("--help")), ("runner", B(true))]),
    (&["cat", "-"], &[("MSGPACK_FILE_PATH", S("-")), ("cat", B(true))]),
    (&["scenario", "test", "x", "--log-level=warning"], &[("--log-level", S("warning")), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    (&["scenario", "test", "x", "--config=a=b"], &[("--config", S("a=b")), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    (&["cat", "--"], &[("MSGPACK_FILE_PATH", S("--")), ("cat", B(true))]),
    (&["har", "--", "-in.har"], &[("CONVERTED_FILE_PATH", S("-in.har")), ("HAR_FILE_PATH", S("--")), ("har", B(true))]),
    (&["journey", "test", "j", "--"], &[("DATAPOOL_SPEC", S("--")), ("JOURNEY_SPEC", S("j")), ("journey", B(true)), ("test", B(true))]),
    (&["duplicator", "--", "a", "--b"], &[("OUT_SOCKET", L(&["--", "a", "--b"])), ("duplicator", B(true))]),
    (&["--config", "--", "cat", "--"], &[("--config", S("--")), ("MSGPACK_FILE_PATH", S("--")), ("cat", B(true))]),
    (&["duplicator", "--message-socket", "--", "a"], &[("--message-socket", S("--")), ("OUT_SOCKET", L(&["a"])), ("duplicator", B(true))]),
    (&["journey", "--volume=3", "run", "j"], &[("--volume", S("3")), ("JOURNEY_SPEC", S("j")), ("journey", B(true)), ("run", B(true))]),
    (&["runner", "--config", "-h"], &[("--config", S("-h")), ("runner", B(true))]),
    (&["scenario", "--report", "test", "--log-level", "INFO", "x", "--memory-tracing"], &[("--memory-tracing", B(true)), ("--report", B(true)), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    // Beyond mite 2.11: --runners on scenario test and journey test, before or after the words.
    (&["scenario", "test", "x", "--runners=2"], &[("--runners", S("2")), ("SCENARIO_SPEC", S("x")), ("scenario", B(true)), ("test", B(true))]),
    (&["--runners", "auto", "journey", "test", "j", "dp"], &[("--runners", S("auto")), ("DATAPOOL_SPEC", S("dp")), ("JOURNEY_SPEC", S("j")), ("journey", B(true)), ("test", B(true))]),
    (&["--include-buckets", "--journey-logging", "--hide-constant-logs", "--report", "--debugging", "--exclude-working-directory", "uncat"], &[("--debugging", B(true)), ("--exclude-working-directory", B(true)), ("--hide-constant-logs", B(true)), ("--include-buckets", B(true)), ("--journey-logging", B(true)), ("--report", B(true)), ("uncat", B(true))]),
];

#[rustfmt::skip]
const REJECTED: &[&[&str]] = &[
    &[],
    &["foo"],
    &["scenario"],
    &["scenario", "x"],
    &["scenario", "test"],
    &["journey"],
    &["journey", "test"],
    &["journey", "walk", "j"],
    &["har", "a"],
    &["har", "a", "b", "c"],
    &["runner", "extra"],
    &["runner", "--sleep-time=3"],
    &["scenario", "test", "x", "--web-address=1.2.3.4:5"],
    &["journey", "run", "j", "--influxdb=2"],
    &["scenario", "test", "x", "--processor=a"],
    &["--report", "--report", "uncat"],
    &["--spawn-rate=1", "--spawn-rate=2", "uncat"],
    &["uncat", "--collector-dir=x"],
    &["--bogus", "uncat"],
    &["uncat", "-x"],
    &["--h", "uncat"],
    &["--co=1", "uncat"],
    &["--report=1", "uncat"],
    &["uncat", "--spawn-rate"],
    &["uncat", "--", "--report"],
    &["test", "scenario", "x"],
    &["influxdb"],
    &["influxdb_exporter", "--influxdb=1"],
    &["duplicator"],
    &["cat"],
    &["receiver"],
    &["controller"],
    &["uncat", "--"],
    &["har", "--", "-in.har", "-out.py"],
    &["journey", "test", "j", "--", "--notanoption"],
    &["scenario", "test", "--", "x"],
    // Beyond mite 2.11: --runners belongs to scenario test and journey test only.
    &["journey", "run", "j", "--runners=2"],
    &["runner", "--runners=2"],
    &["--runners=2", "uncat"],
];

#[rustfmt::skip]
const HELP: &[&[&str]] = &[
    &["--help"],
    &["-h"],
    &["--he"],
    &["scenario", "test", "--help"],
    &["foo", "--help"],
    &["runner", "--sleep-time=3", "-h"],
    &["--spawn-rate=abc", "--help"],
];
