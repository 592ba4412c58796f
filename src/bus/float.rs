//! Python's `repr(float)`, which mite 2.11's JSON lines, log lines, report and `/metrics` text
//! all print floats with.

/// Formats `f` as Python's `repr(float)` does (shortest round-trip digits, Python's layout).
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // `{:e}` yields the shortest digits that round-trip, like Python's repr.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let digits = tie_to_even(
        f.abs(),
        mantissa.chars().filter(|c| *c != '.').collect(),
        exp,
    );
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        let pad = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{pad}.0")
    } else {
        let (i, frac) = digits.split_at(int_len);
        format!("{sign}{i}.{frac}")
    }
}

/// When the value lies exactly halfway between two shortest decimal forms, Python's repr takes the
/// even one; Rust's shortest formatting rounds the tie up. `digits` is Rust's choice, without sign.
fn tie_to_even(f: f64, digits: String, exp: i32) -> String {
    let n = digits.len();
    let last = digits.as_bytes()[n - 1] - b'0';
    if last % 2 == 0 {
        return digits;
    }
    // The exact decimal expansion of a double is finite; 120 digits cover every normal magnitude.
    let exact = format!("{:.120e}", f);
    let (m, e) = exact.split_once('e').expect("`{:e}` has an exponent");
    if e.parse::<i32>().ok() != Some(exp) {
        return digits;
    }
    let all: Vec<u8> = m.bytes().filter(|b| *b != b'.').collect();
    let (head, tail) = all.split_at(n.min(all.len()));
    let tie = tail.first() == Some(&b'5') && tail[1..].iter().all(|b| *b == b'0');
    if !tie {
        return digits;
    }
    // Rust rounded the tie up from `head`; the even neighbour is `head` itself when it differs.
    let lower = String::from_utf8(head.to_vec()).expect("ascii digits");
    let round_trips = |d: &str| {
        format!("{}.{}0e{}", &d[..1], &d[1..], exp)
            .parse::<f64>()
            .ok()
            == Some(f)
    };
    if lower != digits && (lower.as_bytes()[n - 1] - b'0') % 2 == 0 && round_trips(&lower) {
        lower
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789.125, "123456789.125"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1795410753.871234, "1795410753.871234"),
            (2.5e100, "2.5e+100"),
            // Exactly halfway between ...062 and ...063: Python takes the even digit.
            (1795417568.0 + 225.0 / 256.0, "1795417568.8789062"),
            (f64::INFINITY, "inf"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float_repr(f), want, "{f}");
        }
    }
}
