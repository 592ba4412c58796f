//! The `mite` command line: parses argv exactly as mite 2.11.0's docopt usage does and hands back
//! the same option map, or the text to print and the exit code.
//!
//! Flow: `args` (clap) splits argv into options and words; `--help`/`--version` short-circuit;
//! `usage` picks the usage line; `opts` builds docopt's map; `validate` rejects bad numbers.
//! `spec` holds the grammar as data. Differences from the reference are listed on `parse`.

mod args;
mod opts;
mod spec;
mod usage;
mod validate;

#[cfg(test)]
mod docopt_cases;
#[cfg(test)]
mod tests;

pub use opts::{opts_get, Invocation, OptValue};
pub use spec::Command;

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Run(Invocation),
    /// Print `stdout` and `stderr` as given (each already ends in a newline, or is empty) and exit.
    Exit {
        code: i32,
        stdout: String,
        stderr: String,
    },
}

/// Exit code for a usage error; docopt itself exits 1, but 1 is also what a run that crossed a
/// `--max-errors-threshold` returns, and scripts need to tell the two apart.
pub const USAGE_ERROR: i32 = 2;

/// Parses `argv` (without the program name).
///
/// Matches docopt 0.6.2 on mite 2.11.0's docstring for every argv docopt accepts, with these
/// deliberate differences:
/// - `--version` anywhere prints `mite 2.11.0` and exits 0 (the reference passes no version to
///   docopt: alone it is a usage error, after a command it is ignored and the command runs);
/// - errors are one line plus `Usage: mite --help` on stderr, exit code 2 (docopt: usage, 1);
/// - an unknown option is reported even when `--help` is also given (docopt prints the help);
/// - numeric and address values are validated (see `validate.rs`).
pub fn parse(argv: &[String]) -> Outcome {
    match run(argv) {
        Ok(outcome) => outcome,
        Err(message) => Outcome::Exit {
            code: USAGE_ERROR,
            stdout: String::new(),
            stderr: format!("mite: error: {message}\nUsage: mite --help\n"),
        },
    }
}

fn run(argv: &[String]) -> Result<Outcome, String> {
    let given = args::tokenize(argv)?;
    // As in docopt, help wins over a usage mismatch, so `mite scenario test --help` shows help.
    if given.count("--help") > 0 {
        return Ok(exit_ok(spec::HELP.to_string()));
    }
    if given.count("--version") > 0 {
        return Ok(exit_ok(format!("mite {}\n", env!("CARGO_PKG_VERSION"))));
    }
    let line = usage::select(&given)?;
    let opts = opts::build(line, &given);
    validate::check(&opts)?;
    Ok(Outcome::Run(Invocation {
        command: line.command,
        opts,
    }))
}

fn exit_ok(stdout: String) -> Outcome {
    Outcome::Exit {
        code: 0,
        stdout,
        stderr: String::new(),
    }
}
