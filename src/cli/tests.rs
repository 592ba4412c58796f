//! Behaviour beyond docopt's map: the tables against the help text, help and version, error
//! lines and the typed reads. Conformance with docopt is in `docopt_cases.rs`, value checks in
//! `validate.rs`.

use super::spec::{Kind, HELP, LINES, OPTIONS};
use super::{opts_get, parse, Command, Invocation, OptValue, Outcome};

fn argv(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

pub(super) fn run(line: &str) -> Invocation {
    match parse(&argv(line)) {
        Outcome::Run(inv) => inv,
        other => panic!("{line:?} should run: {other:?}"),
    }
}

pub(super) fn error(line: &str) -> String {
    match parse(&argv(line)) {
        Outcome::Exit {
            code: 2,
            stdout,
            stderr,
        } if stdout.is_empty() => {
            let mut lines = stderr.lines();
            assert_eq!(lines.nth(1), Some("Usage: mite --help"), "{line:?}");
            stderr.lines().next().unwrap().to_string()
        }
        other => panic!("{line:?} should be a usage error: {other:?}"),
    }
}

#[test]
fn option_table_transcribes_the_options_section() {
    let section = HELP.split("\nOptions:\n").nth(1).unwrap();
    let mut documented = Vec::new();
    for line in section.lines().filter(|l| !l.trim().is_empty()) {
        let spec = line.split("  ").find(|s| !s.is_empty()).unwrap().trim();
        let long = spec.split(' ').find(|s| s.starts_with("--")).unwrap();
        let (name, takes_value) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        let default = line
            .split("[default: ")
            .nth(1)
            .map(|d| d.trim_end_matches(']'));
        documented.push((name.to_string(), takes_value, default));
    }
    // `--processor` is documented only in the receiver usage line.
    let ours = OPTIONS.iter().filter(|o| o.name != "--processor");
    let ours: Vec<_> = ours
        .map(|o| (o.name.to_string(), o.kind != Kind::Flag, o.default))
        .collect();
    assert_eq!(ours, documented);
}

#[test]
fn usage_table_transcribes_the_usage_section() {
    let usage = HELP
        .split("Usage:\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    assert_eq!(usage.lines().count(), LINES.len());
    for (text, line) in usage.lines().zip(LINES) {
        let tokens: Vec<&str> = text.split_whitespace().skip(2).collect();
        let is_word = |t: &&str| t.starts_with(char::is_lowercase);
        let words: Vec<&str> = tokens.iter().copied().filter(is_word).collect();
        let bare = tokens
            .iter()
            .map(|t| t.trim_end_matches("...").trim_matches(['[', ']']));
        let args: Vec<&str> = bare.filter(|t| t.starts_with(char::is_uppercase)).collect();
        let bracketed = tokens.iter().filter_map(|t| t.strip_prefix('['));
        let options = bracketed.filter(|t| t.starts_with("--"));
        let options: Vec<&str> = options
            .map(|t| t.split([']', '=']).next().unwrap())
            .collect();
        assert_eq!(line.words, words.as_slice(), "{text}");
        assert_eq!(
            line.args.iter().map(|a| a.0).collect::<Vec<_>>(),
            args,
            "{text}"
        );
        let mut ours = line.options.to_vec();
        let mut theirs = options;
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs, "{text}");
    }
}

#[test]
fn help_prints_the_docstring_and_wins_over_everything_but_tokenizing_errors() {
    for line in [
        "-h",
        "--help",
        "runner --help --version",
        "journey --help",
        "har a --he",
    ] {
        let outcome = parse(&argv(line));
        let expected = Outcome::Exit {
            code: 0,
            stdout: HELP.to_string(),
            stderr: String::new(),
        };
        assert_eq!(outcome, expected, "{line:?}");
    }
    assert!(HELP.starts_with("Mite Load Test Framework.\n\nUsage:\n"));
    assert!(HELP.ends_with("sending stats to InfluxDB\n") && !HELP.ends_with("\n\n"));
    assert_eq!(
        error("--help --spawn-rate"),
        "mite: error: --spawn-rate requires an argument"
    );
}

#[test]
fn version_prints_the_crate_version_anywhere_on_the_line() {
    for line in [
        "--version",
        "runner --version",
        "--vers",
        "nonsense --version",
    ] {
        let expected = Outcome::Exit {
            code: 0,
            stdout: "mite 2.11.0\n".to_string(),
            stderr: String::new(),
        };
        assert_eq!(parse(&argv(line)), expected, "{line:?}");
    }
}

#[test]
fn options_may_sit_anywhere_and_use_either_value_form() {
    let reference = run("journey run j dp --volume=3 --add-to-config=a:1");
    for line in [
        "--volume 3 journey run j dp --add-to-config a:1",
        "journey --volume=3 run --add-to-config=a:1 j dp",
        "--add-to-config=a:1 journey run j --vol 3 dp",
    ] {
        assert_eq!(run(line), reference, "{line:?}");
    }
}

#[test]
fn tokenizing_errors_are_named_like_docopt_names_them() {
    assert_eq!(
        error("--report=yes uncat"),
        "mite: error: --report must not have an argument"
    );
    assert_eq!(
        error("uncat --volume"),
        "mite: error: --volume requires an argument"
    );
    assert_eq!(
        error("uncat --bogus=1"),
        "mite: error: unknown option --bogus"
    );
    assert_eq!(
        error("uncat --bogus --help"),
        "mite: error: unknown option --bogus"
    );
    let ambiguous = error("--max=1 uncat");
    assert!(ambiguous
        .contains("--max is not a unique prefix: --max-loop-delay, --max-errors-threshold"));
}

#[test]
fn grammar_errors_say_what_is_wrong() {
    assert!(error("").contains("missing command; expected one of: scenario, journey,"));
    assert!(error("run journey j").starts_with("mite: error: unknown command 'run'"));
    assert!(error("journey").ends_with("needs a subcommand: journey test or journey run"));
    assert!(error("har in.har").ends_with("`mite har` needs CONVERTED_FILE_PATH"));
    assert!(error("cat a b").ends_with("unexpected argument 'b' for `mite cat`"));
    let misplaced = error("uncat --web-address=h:1");
    assert!(misplaced.ends_with(
        "--web-address is not accepted by `mite uncat`; it belongs to: prometheus_exporter"
    ));
    assert!(error("uncat --volume=1 --volume=2").ends_with("--volume given more than once"));
}

#[test]
fn typed_reads_follow_docopts_shapes() {
    let inv = run("duplicator --message-socket=tcp://m:1 tcp://a:1 tcp://b:2");
    assert_eq!(inv.command, Command::Duplicator);
    assert!(inv.flag("duplicator") && !inv.flag("runner") && !inv.flag("--report"));
    assert_eq!(inv.str_opt("--message-socket"), Some("tcp://m:1"));
    assert_eq!(inv.str_opt("--runner-max-journeys"), None);
    assert_eq!(inv.list("OUT_SOCKET"), ["tcp://a:1", "tcp://b:2"]);
    assert!(inv.list("--add-to-config").is_empty());
    assert_eq!(
        opts_get(&inv.opts, "--logging-webhook"),
        Some(&OptValue::None)
    );
    assert_eq!(opts_get(&inv.opts, "no-such-key"), None);
    assert!(!inv.flag("no-such-key") && inv.list("--spawn-rate").is_empty());
    assert_eq!(Command::JourneyTest.words(), "journey test");
    assert_eq!(Command::InfluxdbInit.words(), "influxdb init");
}

#[test]
fn every_command_runs_with_its_minimal_argv() {
    let minimal = [
        ("scenario test s", Command::ScenarioTest),
        ("journey test j", Command::JourneyTest),
        ("journey run j", Command::JourneyRun),
        ("controller s", Command::Controller),
        ("runner", Command::Runner),
        ("duplicator o", Command::Duplicator),
        ("collector", Command::Collector),
        ("recorder", Command::Recorder),
        ("stats", Command::Stats),
        ("receiver r", Command::Receiver),
        ("prometheus_exporter", Command::PrometheusExporter),
        ("influxdb_exporter", Command::InfluxdbExporter),
        ("har h c", Command::Har),
        ("cat m", Command::Cat),
        ("uncat", Command::Uncat),
        ("influxdb init", Command::InfluxdbInit),
    ];
    assert_eq!(minimal.len(), LINES.len());
    for (line, command) in minimal {
        let inv = run(line);
        assert_eq!(inv.command, command, "{line:?}");
        // 45 options, 18 command words, 8 positionals: docopt's 71 keys, each once; and
        // `--runners`, beyond mite 2.11.
        assert_eq!(inv.opts.len(), 72, "{line:?}");
        let mut keys: Vec<&str> = inv.opts.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 72, "{line:?}");
        assert!(line.starts_with(&command.words()), "{line:?}");
    }
}
