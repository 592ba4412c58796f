//! The docopt-style option map: the exact dict mite 2.11.0's `docopt(__doc__)` returns, and typed
//! reads of it.
//!
//! Values stay strings, as docopt leaves them, because the code downstream was written against
//! those strings (it calls `int()`/`float()` itself and compares thresholds with `"0"`).

use super::args::Given;
use super::spec::{command_words, positionals, Arity, Command, Kind, Line, OPTIONS};
use super::usage::assign;

/// One value of the map, shaped as docopt shapes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptValue {
    /// A flag or a command word.
    Bool(bool),
    /// A valued option or a positional that was given, or has a `[default: ...]`.
    Str(String),
    /// A valued option or a positional that was not given and has no default (Python's None).
    None,
    /// A repeatable option (`--add-to-config`, `--processor`) or `OUT_SOCKET...`; empty if unused.
    List(Vec<String>),
}

/// Looks `key` up in a map from `Invocation::opts`; keys are spelled as in the usage
/// (`"--spawn-rate"`, `"journey"`, `"SCENARIO_SPEC"`).
pub fn opts_get<'a>(opts: &'a [(String, OptValue)], key: &str) -> Option<&'a OptValue> {
    opts.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The map for an argv that matched `line`: every key docopt produces, defaults first, then what
/// argv gave. Options come in help-text order, then command words, then positionals.
pub(crate) fn build(line: &Line, given: &Given) -> Vec<(String, OptValue)> {
    let mut opts: Vec<(String, OptValue)> = Vec::new();
    for spec in OPTIONS {
        let values = given
            .options
            .iter()
            .find(|(s, _)| s.name == spec.name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        let value = match (spec.kind, values.last()) {
            (Kind::Flag, used) => OptValue::Bool(used.is_some()),
            (Kind::List, _) => OptValue::List(values.to_vec()),
            (Kind::Value, Some(v)) => OptValue::Str(v.clone()),
            (Kind::Value, None) => spec
                .default
                .map_or(OptValue::None, |d| OptValue::Str(d.to_string())),
        };
        opts.push((spec.name.to_string(), value));
    }
    for word in command_words() {
        opts.push((word.to_string(), OptValue::Bool(line.words.contains(&word))));
    }
    let assigned = assign(line, &given.words[line.words.len()..]);
    for (name, arity) in positionals() {
        let values = assigned
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let value = match (arity, values.first()) {
            (Arity::OneOrMore, _) => OptValue::List(values),
            (_, Some(v)) => OptValue::Str(v.clone()),
            (_, None) => OptValue::None,
        };
        opts.push((name.to_string(), value));
    }
    opts
}

/// A command to run, with docopt's map for it (see `opts_get` and the typed reads on this type).
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub command: Command,
    pub opts: Vec<(String, OptValue)>,
}

/// Typed reads for the code that runs a command; each returns the neutral value for a missing key
/// or a value of another shape, so callers never unwrap.
impl Invocation {
    pub fn get(&self, key: &str) -> Option<&OptValue> {
        opts_get(&self.opts, key)
    }

    /// A flag or command word; false when absent.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some(OptValue::Bool(true)))
    }

    /// A valued option or positional; None when docopt would hold None.
    pub fn str_opt(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(OptValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A repeatable option or `OUT_SOCKET`; empty when unused.
    pub fn list(&self, key: &str) -> &[String] {
        match self.get(key) {
            Some(OptValue::List(items)) => items,
            _ => &[],
        }
    }
}
