//! JSON lines exactly as Python's `json.dumps` writes a decoded mite message.
use std::fmt::Write;

use rmpv::Value;

use crate::bus::float::py_float_repr;

fn json_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        out.push_str(&py_float_repr(f));
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                // ensure_ascii: everything else as \uXXXX, astral planes as surrogate pairs.
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

fn json_key(out: &mut String, k: &Value) {
    // json.dumps turns non-string keys into strings the way these arms do.
    match k {
        Value::String(s) => json_str(out, &String::from_utf8_lossy(s.as_bytes())),
        Value::Integer(i) => json_str(out, &i.to_string()),
        Value::F32(f) => json_str(out, &py_float_repr(f64::from(*f))),
        Value::F64(f) => json_str(out, &py_float_repr(*f)),
        Value::Boolean(b) => json_str(out, if *b { "true" } else { "false" }),
        Value::Nil => json_str(out, "null"),
        other => {
            let mut inner = String::new();
            json_value(&mut inner, other);
            json_str(out, &inner);
        }
    }
}

fn json_value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::F32(f) => json_float(out, f64::from(*f)),
        Value::F64(f) => json_float(out, *f),
        Value::String(s) => json_str(out, &String::from_utf8_lossy(s.as_bytes())),
        // Python's json cannot encode bytes (mite 2.11 crashes); text is the useful answer.
        Value::Binary(b) => json_str(out, &String::from_utf8_lossy(b)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_value(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_key(out, k);
                out.push_str(": ");
                json_value(out, val);
            }
            out.push('}');
        }
        Value::Ext(_, _) => out.push_str("null"),
    }
}

/// Renders one msgpack value as JSON text; `None` when the bytes are not one valid value.
pub fn frame_to_json(raw: &[u8]) -> Option<String> {
    let mut cursor = raw;
    let value = rmpv::decode::read_value(&mut cursor).ok()?;
    if !cursor.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(raw.len() * 2);
    json_value(&mut out, &value);
    Some(out)
}

/// Renders a decoded value as JSON text.
pub fn value_to_json(v: &Value) -> String {
    let mut out = String::new();
    json_value(&mut out, v);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_matches_python_json_dumps() {
        use rmpv::Value as V;
        let v = V::Map(vec![
            (V::from("type"), V::from("txn")),
            (V::from("t"), V::F64(1.5)),
            (
                V::from(3),
                V::Array(vec![V::Nil, V::Boolean(true), V::from(-2)]),
            ),
            (V::from("s"), V::from("é\"\n😀")),
        ]);
        assert_eq!(
            value_to_json(&v),
            r#"{"type": "txn", "t": 1.5, "3": [null, true, -2], "s": "\u00e9\"\n\ud83d\ude00"}"#
        );
    }
}
