//! Picks the usage line an argv matches, with docopt's rules, and says precisely why none does.
//!
//! docopt's matcher is general, but for this docstring it reduces to four checks, because every
//! usage line starts with distinct command words and docopt matches positionals strictly in order:
//! the command words, the number of positionals, which options the line allows, and repeats.

use super::args::Given;
use super::spec::{in_shortcut, Arity, Kind, Line, LINES};

pub(crate) fn select(given: &Given) -> Result<&'static Line, String> {
    let line = by_command(&given.words)?;
    check_positionals(line, &given.words[line.words.len()..])?;
    for (spec, values) in &given.options {
        if !(in_shortcut(spec.name) || line.options.contains(&spec.name)) {
            return Err(format!(
                "{} is not accepted by `mite {}`; it belongs to: {}",
                spec.name,
                line.words.join(" "),
                owners(spec.name)
            ));
        }
        // Outside `[--x=V]...` docopt matches an option once and leaves a second use unmatched.
        if spec.kind != Kind::List && values.len() > 1 {
            return Err(format!("{} given more than once", spec.name));
        }
    }
    Ok(line)
}

/// docopt matches a command word only as the next positional, so the leading words decide.
fn by_command(words: &[String]) -> Result<&'static Line, String> {
    let Some(first) = words.first() else {
        return Err(format!(
            "missing command; expected one of: {}",
            first_words().join(", ")
        ));
    };
    let candidates: Vec<&Line> = LINES.iter().filter(|l| l.words[0] == first).collect();
    if candidates.is_empty() {
        return Err(format!(
            "unknown command '{first}'; expected one of: {}",
            first_words().join(", ")
        ));
    }
    let second = words.get(1).map(String::as_str);
    if let Some(line) = candidates
        .iter()
        .find(|l| l.words.len() == 1 || second == Some(l.words[1]))
    {
        return Ok(line);
    }
    let expected: Vec<String> = candidates.iter().map(|l| l.words.join(" ")).collect();
    let expected = expected.join(" or ");
    Err(match second {
        None => format!("`mite {first}` needs a subcommand: {expected}"),
        Some(got) => format!("unknown command '{first} {got}'; expected {expected}"),
    })
}

fn check_positionals(line: &Line, rest: &[String]) -> Result<(), String> {
    let required = line.args.iter().filter(|a| a.1 != Arity::Optional).count();
    let unbounded = line.args.iter().any(|a| a.1 == Arity::OneOrMore);
    let command = line.words.join(" ");
    if rest.len() < required {
        let missing: Vec<&str> = line.args[rest.len()..]
            .iter()
            .filter(|a| a.1 != Arity::Optional)
            .map(|a| a.0)
            .collect();
        return Err(format!("`mite {command}` needs {}", missing.join(" ")));
    }
    if !unbounded && rest.len() > line.args.len() {
        let extra = &rest[line.args.len()];
        let hint = if rest.iter().any(|a| a == "--") {
            " (docopt counts `--` as an argument)"
        } else {
            ""
        };
        return Err(format!(
            "unexpected argument '{extra}' for `mite {command}`{hint}"
        ));
    }
    Ok(())
}

fn first_words() -> Vec<&'static str> {
    let mut words: Vec<&str> = LINES.iter().map(|l| l.words[0]).collect();
    words.dedup();
    words
}

fn owners(option: &str) -> String {
    let lines: Vec<String> = LINES
        .iter()
        .filter(|l| l.options.contains(&option))
        .map(|l| l.words.join(" "))
        .collect();
    lines.join(", ")
}

/// Splits the positionals after the command words into docopt's map values, in usage order.
pub(crate) fn assign(line: &Line, rest: &[String]) -> Vec<(&'static str, Vec<String>)> {
    let mut taken = 0;
    let mut out = Vec::new();
    for &(name, arity) in line.args {
        let n = match arity {
            Arity::One => 1,
            Arity::Optional => usize::from(taken < rest.len()),
            Arity::OneOrMore => rest.len() - taken,
        };
        out.push((name, rest[taken..taken + n].to_vec()));
        taken += n;
    }
    out
}
