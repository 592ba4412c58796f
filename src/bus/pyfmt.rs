//! Python's `str()` and `repr()` of decoded messages, for log lines (and label values) that
//! must read as mite 2.11's Python printed them.
use rmpv::Value;

use super::float::py_float_repr;

fn repr_str(s: &str, out: &mut String) {
    // Python picks single quotes unless the text holds one and no double quote.
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

fn repr_bytes(b: &[u8], out: &mut String) {
    let q = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    out.push('b');
    out.push(q);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c as char == q => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(q);
}

/// `repr(value)` of the value msgpack decodes to (arrays are tuples).
pub fn py_repr(v: &Value, out: &mut String) {
    match v {
        Value::Nil => out.push_str("None"),
        Value::Boolean(b) => out.push_str(if *b { "True" } else { "False" }),
        Value::Integer(i) => out.push_str(&i.to_string()),
        Value::F32(f) => out.push_str(&py_float_repr(f64::from(*f))),
        Value::F64(f) => out.push_str(&py_float_repr(*f)),
        Value::String(s) => repr_str(&String::from_utf8_lossy(s.as_bytes()), out),
        Value::Binary(b) => repr_bytes(b, out),
        Value::Array(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                py_repr(item, out);
            }
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                py_repr(k, out);
                out.push_str(": ");
                py_repr(val, out);
            }
            out.push('}');
        }
        Value::Ext(code, data) => out.push_str(&format!("ExtType(code={code}, data={data:?})")),
    }
}

/// `str(value)`: text as itself, everything else as its repr.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => {
            let mut out = String::new();
            py_repr(other, &mut out);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_and_repr_read_like_python() {
        assert_eq!(py_str(&Value::from("GET")), "GET");
        assert_eq!(py_str(&Value::Binary(b"GET".to_vec())), "b'GET'");
        assert_eq!(py_str(&Value::Boolean(false)), "False");
        assert_eq!(py_str(&Value::Nil), "None");
        assert_eq!(py_str(&Value::F64(3.0)), "3.0");
        assert_eq!(py_str(&Value::Array(vec![Value::from("a")])), "('a',)");
        assert_eq!(
            py_str(&Value::Array(vec![Value::from(1), Value::from("it's")])),
            "(1, \"it's\")"
        );
        assert_eq!(
            py_str(&Value::Map(vec![(
                Value::from(1),
                Value::Binary(vec![0, b'\''])
            )])),
            "{1: b\"\\x00'\"}"
        );
    }
}
