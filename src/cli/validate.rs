//! Rejects option values the program would later fail on, before anything starts.
//!
//! The reference converts these strings with `int()`/`float()` deep inside a run and dies with a
//! traceback; here the same mistakes get one line up front. Values are only checked, never
//! rewritten: the map keeps what the user typed.

use super::opts::{opts_get, OptValue};

enum Check {
    /// A whole number at least this big (`int()` in the reference).
    Whole(u64),
    /// Like `Whole`, but an empty value is allowed: the reference tests the string's truthiness
    /// before `int()`, so `--influxdb=` and `--runner-max-journeys=` mean "not set" there.
    WholeOrEmpty(u64),
    /// A finite number of seconds, 0 or more (`float()` in the reference).
    Seconds,
    Percentiles,
    LogLevel,
    WebAddress,
    /// A whole number of at least 1, or `auto` (one per core): `--runners`, beyond mite 2.11.
    CountOrAuto,
    /// `ZMQ`: the reference also took `nanomsg` when its package was installed; not offered here.
    Backend,
}

const CHECKS: &[(&str, Check)] = &[
    // 0 would stop a controller from ever spawning a journey once runners report a hit rate.
    ("--spawn-rate", Check::Whole(1)),
    ("--max-loop-delay", Check::Seconds),
    ("--min-loop-delay", Check::Seconds),
    ("--delay-start-seconds", Check::Seconds),
    ("--runner-max-journeys", Check::WholeOrEmpty(1)),
    ("--runners", Check::CountOrAuto),
    ("--volume", Check::Whole(0)),
    ("--collector-roll", Check::Whole(1)),
    ("--max-errors-threshold", Check::Whole(0)),
    ("--max-response-time-threshold", Check::Whole(0)),
    ("--mean-response-time-threshold", Check::Whole(0)),
    (
        "--standard-deviation-response-time-threshold",
        Check::Whole(0),
    ),
    ("--standard-deviation-req-sec-threshold", Check::Whole(0)),
    ("--benchmark-percentiles", Check::Percentiles),
    ("--log-level", Check::LogLevel),
    ("--influxdb", Check::WholeOrEmpty(0)),
    // The har converter pastes this into `await sleep(...)` of the script it writes.
    ("--sleep-time", Check::Seconds),
    ("--web-address", Check::WebAddress),
    ("--message-backend", Check::Backend),
];

/// Names Python's `logging` accepts as a level; WARN, FATAL and NOTSET are its aliases, which the
/// reference therefore accepts too. Case is forgiven here; the consumer must upper-case.
const LEVELS: &[&str] = &[
    "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "WARN", "FATAL", "NOTSET",
];

pub(crate) fn check(opts: &[(String, OptValue)]) -> Result<(), String> {
    for (name, check) in CHECKS {
        let Some(OptValue::Str(value)) = opts_get(opts, name) else {
            continue;
        };
        let expected = match check {
            Check::Whole(min) | Check::WholeOrEmpty(min) => {
                let empty_ok = matches!(check, Check::WholeOrEmpty(_)) && value.is_empty();
                match whole(value) {
                    _ if empty_ok => None,
                    Some(n) if n >= *min => None,
                    _ if *min == 0 => Some("a whole number".to_string()),
                    _ => Some(format!("a whole number of at least {min}")),
                }
            }
            Check::CountOrAuto => (value != "auto" && whole(value).is_none_or(|n| n < 1))
                .then(|| "a whole number of at least 1, or auto".to_string()),
            Check::Seconds => match value.parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => None,
                _ => Some("a number of seconds (0 or more)".to_string()),
            },
            Check::Percentiles => (!percentiles(value)).then(|| {
                "comma-separated P:T pairs of whole numbers with 1 <= P <= 99".to_string()
            }),
            Check::LogLevel => {
                let known = LEVELS.iter().any(|l| l.eq_ignore_ascii_case(value));
                (!known).then(|| format!("one of {}", LEVELS[..5].join(", ")))
            }
            Check::WebAddress => {
                (!web_address(value)).then(|| "HOST:PORT, [IPV6]:PORT or HOST".to_string())
            }
            Check::Backend if value == "nanomsg" => {
                return Err(
                    "--message-backend=nanomsg is not available in this build; ZMQ is the only message backend"
                        .to_string(),
                )
            }
            Check::Backend => (value != "ZMQ").then(|| "ZMQ".to_string()),
        };
        if let Some(expected) = expected {
            return Err(format!("{name} expects {expected}, got '{value}'"));
        }
    }
    Ok(())
}

/// ASCII digits with an optional `+`: what both Python's `int()` and Rust's `parse` accept.
fn whole(value: &str) -> Option<u64> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `50:0,90:250`: the reference splits on `,` then `:`, and indexes 99 quantiles with P - 1.
fn percentiles(value: &str) -> bool {
    value.split(',').all(|pair| match pair.split_once(':') {
        Some((p, t)) => matches!(whole(p), Some(1..=99)) && whole(t).is_some(),
        None => false,
    })
}

/// The forms `_start_web_in_thread` splits: `[v6]:port`, `[v6]`, `host:port`, and anything with
/// no or several colons as a bare host. An empty host is what Flask turns into 127.0.0.1.
fn web_address(value: &str) -> bool {
    let port_ok = |port: &str| whole(port).is_some_and(|p| p <= 65535);
    if let Some(rest) = value.strip_prefix('[') {
        return match rest.split_once("]:") {
            Some((host, port)) => !host.is_empty() && !port.contains("]:") && port_ok(port),
            None => rest.len() > 1 && rest.ends_with(']'),
        };
    }
    match value.split_once(':') {
        Some((_, port)) if !port.contains(':') => port_ok(port),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::tests::{error, run};

    #[test]
    fn malformed_values_are_rejected_with_the_option_and_the_value() {
        let cases = [
            ("uncat --spawn-rate=abc", "--spawn-rate expects a whole number of at least 1, got 'abc'"),
            ("uncat --spawn-rate=0", "--spawn-rate expects a whole number of at least 1, got '0'"),
            ("uncat --spawn-rate=1.5", "--spawn-rate expects a whole number of at least 1, got '1.5'"),
            ("uncat --volume -2", "--volume expects a whole number, got '-2'"),
            ("uncat --volume=", "--volume expects a whole number, got ''"),
            ("uncat --max-loop-delay=soon", "--max-loop-delay expects a number of seconds (0 or more), got 'soon'"),
            ("uncat --min-loop-delay=-0.1", "--min-loop-delay expects a number of seconds (0 or more), got '-0.1'"),
            ("uncat --delay-start-seconds=NaN", "--delay-start-seconds expects a number of seconds (0 or more), got 'NaN'"),
            ("uncat --runner-max-journeys=0", "--runner-max-journeys expects a whole number of at least 1, got '0'"),
            ("collector --collector-roll=0", "--collector-roll expects a whole number of at least 1, got '0'"),
            ("uncat --max-errors-threshold=1e3", "--max-errors-threshold expects a whole number, got '1e3'"),
            ("uncat --standard-deviation-req-sec-threshold=-1", "--standard-deviation-req-sec-threshold expects a whole number, got '-1'"),
            ("uncat --benchmark-percentiles=100:0", "--benchmark-percentiles expects comma-separated P:T pairs of whole numbers with 1 <= P <= 99, got '100:0'"),
            ("uncat --benchmark-percentiles=50", "--benchmark-percentiles expects comma-separated P:T pairs of whole numbers with 1 <= P <= 99, got '50'"),
            ("uncat --benchmark-percentiles=50:1,", "--benchmark-percentiles expects comma-separated P:T pairs of whole numbers with 1 <= P <= 99, got '50:1,'"),
            ("uncat --log-level=verbose", "--log-level expects one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'verbose'"),
            ("influxdb init --influxdb=two", "--influxdb expects a whole number, got 'two'"),
            ("har a b --sleep-time=x", "--sleep-time expects a number of seconds (0 or more), got 'x'"),
            ("prometheus_exporter --web-address=h:port", "--web-address expects HOST:PORT, [IPV6]:PORT or HOST, got 'h:port'"),
            ("prometheus_exporter --web-address=h:70000", "--web-address expects HOST:PORT, [IPV6]:PORT or HOST, got 'h:70000'"),
            ("prometheus_exporter --web-address=[::1", "--web-address expects HOST:PORT, [IPV6]:PORT or HOST, got '[::1'"),
            ("prometheus_exporter --web-address=[::1]:", "--web-address expects HOST:PORT, [IPV6]:PORT or HOST, got '[::1]:'"),
            ("scenario test s --runners=0", "--runners expects a whole number of at least 1, or auto, got '0'"),
            ("scenario test s --runners=-1", "--runners expects a whole number of at least 1, or auto, got '-1'"),
            ("journey test j --runners=two", "--runners expects a whole number of at least 1, or auto, got 'two'"),
            ("journey test j --runners=Auto", "--runners expects a whole number of at least 1, or auto, got 'Auto'"),
            ("journey test j --runners=1.5", "--runners expects a whole number of at least 1, or auto, got '1.5'"),
            ("scenario test s --runners=", "--runners expects a whole number of at least 1, or auto, got ''"),
            ("runner --message-backend=nanomsg", "--message-backend=nanomsg is not available in this build; ZMQ is the only message backend"),
            ("uncat --message-backend=zmq", "--message-backend expects ZMQ, got 'zmq'"),
        ];
        for (line, message) in cases {
            assert_eq!(error(line), format!("mite: error: {message}"), "{line:?}");
        }
    }

    #[test]
    fn valid_values_are_kept_exactly_as_typed() {
        let cases = [
            ("--spawn-rate=+5", "--spawn-rate", "+5"),
            ("--max-loop-delay=.5", "--max-loop-delay", ".5"),
            ("--min-loop-delay=1e-3", "--min-loop-delay", "1e-3"),
            ("--volume=0", "--volume", "0"),
            ("--log-level=debug", "--log-level", "debug"),
            ("--log-level=Warn", "--log-level", "Warn"),
            ("--runner-max-journeys=", "--runner-max-journeys", ""),
            (
                "--benchmark-percentiles=1:0,99:250",
                "--benchmark-percentiles",
                "1:0,99:250",
            ),
            (
                "--max-errors-threshold=007",
                "--max-errors-threshold",
                "007",
            ),
        ];
        for (option, key, value) in cases {
            let inv = run(&format!("uncat {option}"));
            assert_eq!(inv.str_opt(key), Some(value), "{option}");
        }
        for address in [
            "0.0.0.0:9000",
            "[::1]:9301",
            "[::1]",
            "::1",
            "localhost",
            ":9301",
            "h:0",
        ] {
            let inv = run(&format!("prometheus_exporter --web-address={address}"));
            assert_eq!(inv.str_opt("--web-address"), Some(address));
        }
        for (line, value) in [
            ("scenario test s", "1"),
            ("scenario test s --runners=4", "4"),
            ("journey test j --runners=auto", "auto"),
        ] {
            assert_eq!(run(line).str_opt("--runners"), Some(value), "{line}");
        }
        assert_eq!(
            run("influxdb init --influxdb=").str_opt("--influxdb"),
            Some("")
        );
        assert_eq!(
            run("har a b --sleep-time=0.25").str_opt("--sleep-time"),
            Some("0.25")
        );
    }
}
