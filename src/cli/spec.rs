//! The grammar as data: mite 2.11.0's options, usage lines and help text, transcribed from its docstring.
//!
//! Everything else in `cli/` is driven by these tables, so a change to the interface is a change here
//! (and `tests.rs` checks the tables against the embedded help text, which is the reference's docstring).

/// Which usage line matched; one per `mite [options] ...` line of the help text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    ScenarioTest,
    JourneyTest,
    JourneyRun,
    Controller,
    Runner,
    Duplicator,
    Collector,
    Recorder,
    Stats,
    Receiver,
    PrometheusExporter,
    InfluxdbExporter,
    Har,
    Cat,
    Uncat,
    InfluxdbInit,
}

impl Command {
    /// The command words as typed, e.g. `"journey test"`; handy for log lines.
    pub fn words(self) -> String {
        let line = LINES.iter().find(|l| l.command == self);
        line.map(|l| l.words.join(" ")).unwrap_or_default()
    }
}

/// The reference's `mite --help` output, byte for byte (docopt prints the docstring itself).
pub(crate) const HELP: &str = include_str!("help.txt");

/// How docopt stores an option in the map: a flag is a bool, a valued option a string or None,
/// and an option written `[--x=V]...` in a usage line a list of every occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Flag,
    Value,
    List,
}

pub(crate) struct OptSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
}

const fn flag(name: &'static str) -> OptSpec {
    OptSpec {
        name,
        kind: Kind::Flag,
        default: None,
    }
}
const fn value(name: &'static str, default: Option<&'static str>) -> OptSpec {
    OptSpec {
        name,
        kind: Kind::Value,
        default,
    }
}
const fn list(name: &'static str) -> OptSpec {
    OptSpec {
        name,
        kind: Kind::List,
        default: None,
    }
}

/// Every option docopt knows, in the order of the help text's Options section. `--processor` is
/// not in that section; docopt learns it from the `receiver` usage line, so it comes last.
pub(crate) const OPTIONS: &[OptSpec] = &[
    flag("--help"),
    flag("--version"),
    flag("--debugging"),
    flag("--memory-tracing"),
    value("--log-level", Some("INFO")),
    value("--config", Some("mite.config:default_config_loader")),
    list("--add-to-config"),
    value("--spawn-rate", Some("1000")),
    value("--max-loop-delay", Some("1")),
    value("--min-loop-delay", Some("0")),
    value("--runner-max-journeys", None),
    // Beyond mite 2.11: runner processes of one local run (docs/COMPATIBILITY.md).
    value("--runners", Some("1")),
    value("--controller-socket", Some("tcp://127.0.0.1:14301")),
    value("--message-socket", Some("tcp://127.0.0.1:14302")),
    value("--collector-socket", Some("tcp://127.0.0.1:14303")),
    value("--stats-in-socket", Some("tcp://127.0.0.1:14304")),
    value("--stats-out-socket", Some("tcp://127.0.0.1:14305")),
    value("--stats-include-processors", None),
    value("--stats-exclude-processors", None),
    value("--recorder-socket", Some("tcp://127.0.0.1:14306")),
    value("--delay-start-seconds", Some("0")),
    value("--volume", Some("1")),
    value("--web-address", Some("127.0.0.1:9301")),
    value("--message-backend", Some("ZMQ")),
    flag("--exclude-working-directory"),
    value("--collector-dir", Some("collector_data")),
    value("--collector-filter", None),
    value("--collector-roll", Some("100000")),
    flag("--collector-use-json"),
    value("--recorder-dir", Some("recorder_data")),
    value("--sleep-time", Some("1")),
    value("--logging-webhook", None),
    value(
        "--message-processors",
        Some("mite.logoutput:HttpStatsOutput,mite.logoutput:MsgOutput"),
    ),
    flag("--prettify-timestamps"),
    flag("--journey-logging"),
    flag("--report"),
    flag("--hide-constant-logs"),
    value("--max-errors-threshold", Some("0")),
    value("--max-response-time-threshold", Some("0")),
    value("--mean-response-time-threshold", Some("0")),
    value("--standard-deviation-response-time-threshold", Some("0")),
    value("--standard-deviation-req-sec-threshold", Some("0")),
    value("--benchmark-percentiles", Some("50:0,90:0,98:0,99:0")),
    value("--influxdb", None),
    flag("--include-buckets"),
    list("--processor"),
];

/// How many values a positional of a usage line takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arity {
    One,
    Optional,
    OneOrMore,
}

/// One `mite [options] ...` line of the Usage section.
pub(crate) struct Line {
    pub command: Command,
    /// The command words, which docopt requires as the first positionals, in this order.
    pub words: &'static [&'static str],
    pub args: &'static [(&'static str, Arity)],
    /// Options the line names explicitly. docopt removes every such option from `[options]`, so
    /// these are accepted here and on no line that does not name them too.
    pub options: &'static [&'static str],
}

use Arity::{One, OneOrMore, Optional};

const TEST_OPTS: &[&str] = &[
    "--add-to-config",
    "--message-processors",
    "--memory-tracing",
    "--influxdb",
    "--runners",
];
const STATS_OPTS: &[&str] = &[
    "--stats-in-socket",
    "--stats-out-socket",
    "--stats-include-processors",
    "--stats-exclude-processors",
];
const COLLECTOR_OPTS: &[&str] = &[
    "--collector-socket",
    "--collector-filter",
    "--collector-roll",
    "--collector-dir",
    "--collector-use-json",
];

/// The Usage section in order. `mite --help` and `mite --version` are not here: they sit after a
/// blank line, where docopt stops reading the usage, so they never join the pattern.
pub(crate) const LINES: &[Line] = &[
    Line {
        command: Command::ScenarioTest,
        words: &["scenario", "test"],
        args: &[("SCENARIO_SPEC", One)],
        options: TEST_OPTS,
    },
    Line {
        command: Command::JourneyTest,
        words: &["journey", "test"],
        args: &[("JOURNEY_SPEC", One), ("DATAPOOL_SPEC", Optional)],
        options: TEST_OPTS,
    },
    Line {
        command: Command::JourneyRun,
        words: &["journey", "run"],
        args: &[("JOURNEY_SPEC", One), ("DATAPOOL_SPEC", Optional)],
        options: &["--add-to-config", "--message-processors"],
    },
    Line {
        command: Command::Controller,
        words: &["controller"],
        args: &[("SCENARIO_SPEC", One)],
        options: &[
            "--message-socket",
            "--controller-socket",
            "--logging-webhook",
            "--add-to-config",
        ],
    },
    Line {
        command: Command::Runner,
        words: &["runner"],
        args: &[],
        options: &["--message-socket", "--controller-socket"],
    },
    Line {
        command: Command::Duplicator,
        words: &["duplicator"],
        args: &[("OUT_SOCKET", OneOrMore)],
        options: &["--message-socket"],
    },
    Line {
        command: Command::Collector,
        words: &["collector"],
        args: &[],
        options: COLLECTOR_OPTS,
    },
    Line {
        command: Command::Recorder,
        words: &["recorder"],
        args: &[],
        options: &["--recorder-socket"],
    },
    Line {
        command: Command::Stats,
        words: &["stats"],
        args: &[],
        options: STATS_OPTS,
    },
    Line {
        command: Command::Receiver,
        words: &["receiver"],
        args: &[("RECEIVE_SOCKET", One)],
        options: &["--processor"],
    },
    Line {
        command: Command::PrometheusExporter,
        words: &["prometheus_exporter"],
        args: &[],
        options: &["--stats-out-socket", "--web-address"],
    },
    Line {
        command: Command::InfluxdbExporter,
        words: &["influxdb_exporter"],
        args: &[],
        options: &["--stats-out-socket"],
    },
    Line {
        command: Command::Har,
        words: &["har"],
        args: &[("HAR_FILE_PATH", One), ("CONVERTED_FILE_PATH", One)],
        options: &["--sleep-time"],
    },
    Line {
        command: Command::Cat,
        words: &["cat"],
        args: &[("MSGPACK_FILE_PATH", One)],
        options: &["--prettify-timestamps"],
    },
    Line {
        command: Command::Uncat,
        words: &["uncat"],
        args: &[],
        options: &[],
    },
    Line {
        command: Command::InfluxdbInit,
        words: &["influxdb", "init"],
        args: &[],
        options: &["--influxdb"],
    },
];

/// Every command word and positional docopt puts in the map, each once, in order of appearance.
pub(crate) fn command_words() -> Vec<&'static str> {
    unique(LINES.iter().flat_map(|l| l.words.iter().map(|w| (*w, ()))))
        .into_iter()
        .map(|(w, ())| w)
        .collect()
}

pub(crate) fn positionals() -> Vec<(&'static str, Arity)> {
    unique(LINES.iter().flat_map(|l| l.args.iter().copied()))
}

/// True when `[options]` covers the option, i.e. no usage line names it (see `Line::options`).
pub(crate) fn in_shortcut(name: &str) -> bool {
    !LINES.iter().any(|l| l.options.contains(&name))
}

/// Keeps the first item of each name.
fn unique<T>(items: impl Iterator<Item = (&'static str, T)>) -> Vec<(&'static str, T)> {
    let mut seen: Vec<(&'static str, T)> = Vec::new();
    for item in items {
        if !seen.iter().any(|s| s.0 == item.0) {
            seen.push(item);
        }
    }
    seen
}
