//! The clap layer: splits argv into option occurrences and positional words, the way docopt's
//! `parse_argv` does, and turns clap's errors into one-line messages.
//!
//! clap only tokenizes here. Which positionals and options go together is decided by `usage.rs`,
//! because docopt lets every option sit anywhere on the line and picks the usage line afterwards.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, ArgMatches};

use super::spec::{Kind, OptSpec, OPTIONS};

const WORDS: &str = "WORDS";

/// What argv said, before any usage line is chosen.
pub(crate) struct Given {
    /// Positional words (command words included) in order; everything after `--` lands here.
    pub words: Vec<String>,
    /// Options that occurred, with every value in order (flags get one empty entry per use).
    pub options: Vec<(&'static OptSpec, Vec<String>)>,
}

impl Given {
    pub fn count(&self, name: &str) -> usize {
        self.options
            .iter()
            .find(|(spec, _)| spec.name == name)
            .map_or(0, |(_, values)| values.len())
    }
}

/// One flat clap command holding every option of every usage line.
fn command() -> clap::Command {
    let mut cmd = clap::Command::new("mite")
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        // docopt accepts any unambiguous prefix of a long option (`--spawn=5`).
        .infer_long_args(true);
    for spec in OPTIONS {
        let long = &spec.name[2..];
        let arg = Arg::new(spec.name).long(long);
        let arg = match spec.kind {
            // Count, not SetTrue, so a repeated flag can be rejected as docopt rejects it.
            Kind::Flag => arg.action(ArgAction::Count),
            // docopt takes the next token as the value whatever it looks like (`--volume -1`,
            // `--config --help`), so values may start with a hyphen.
            Kind::Value | Kind::List => arg
                .action(ArgAction::Append)
                .num_args(1)
                .allow_hyphen_values(true),
        };
        cmd = cmd.arg(if spec.name == "--help" {
            arg.short('h')
        } else {
            arg
        });
    }
    cmd.arg(Arg::new(WORDS).action(ArgAction::Append).num_args(0..))
}

pub(crate) fn tokenize(argv: &[String]) -> Result<Given, String> {
    let end = terminator(argv);
    let matches = command()
        .try_get_matches_from(&argv[..end])
        .map_err(|e| describe(&e))?;
    let mut given = collect(&matches);
    // docopt 0.6.2 keeps the `--` itself as a positional, followed by everything after it; no
    // mite usage line has `[--]`, so it only ever fills a positional slot (`mite cat --`).
    given.words.extend(argv[end..].iter().cloned());
    Ok(given)
}

/// Index of the `--` that ends the options, or argv's length. A `--` right after an option that
/// needs a value is that value (`--config --`), in docopt as in clap; clap itself tells which.
fn terminator(argv: &[String]) -> usize {
    let mut candidates = argv.iter().enumerate().filter(|(_, a)| *a == "--");
    candidates
        .find(|(i, _)| match command().try_get_matches_from(&argv[..*i]) {
            Err(e) => !missing_value(&e),
            Ok(_) => true,
        })
        .map_or(argv.len(), |(i, _)| i)
}

fn missing_value(err: &clap::Error) -> bool {
    let empty =
        matches!(err.get(ContextKind::InvalidValue), Some(ContextValue::String(s)) if s.is_empty());
    err.kind() == ErrorKind::InvalidValue && empty
}

fn collect(matches: &ArgMatches) -> Given {
    let words = strings(matches, WORDS);
    let mut options = Vec::new();
    for spec in OPTIONS {
        let values = match spec.kind {
            Kind::Flag => vec![String::new(); usize::from(matches.get_count(spec.name))],
            Kind::Value | Kind::List => strings(matches, spec.name),
        };
        if !values.is_empty() {
            options.push((spec, values));
        }
    }
    Given { words, options }
}

fn strings(matches: &ArgMatches, id: &str) -> Vec<String> {
    matches
        .get_many::<String>(id)
        .map(|values| values.cloned().collect())
        .unwrap_or_default()
}

/// One line in docopt's words where docopt has them, otherwise a short plain sentence.
fn describe(err: &clap::Error) -> String {
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    // clap renders the argument as `--volume <--volume>` or `--report...`; keep the option itself.
    let arg = context(ContextKind::InvalidArg);
    let arg = arg.split([' ', '=']).next().unwrap_or_default();
    let arg = arg.trim_end_matches("...").to_string();
    match err.kind() {
        ErrorKind::UnknownArgument => unknown(&arg),
        ErrorKind::InvalidValue if missing_value(err) => format!("{arg} requires an argument"),
        ErrorKind::TooManyValues => {
            format!("{arg} must not have an argument")
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            first.trim_start_matches("error: ").to_string()
        }
    }
}

/// clap reports an ambiguous prefix as an unknown argument; docopt names the candidates.
fn unknown(arg: &str) -> String {
    if let Some(prefix) = arg.strip_prefix("--") {
        let candidates: Vec<&str> = OPTIONS
            .iter()
            .map(|o| o.name)
            .filter(|name| name[2..].starts_with(prefix))
            .collect();
        if candidates.len() > 1 {
            return format!("{arg} is not a unique prefix: {}", candidates.join(", "));
        }
    }
    format!("unknown option {arg}")
}
