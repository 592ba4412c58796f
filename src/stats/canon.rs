//! Label values re-encoded the way Python's msgpack would re-encode them after decoding, so
//! equal values from different senders make one label tuple, and dumps match mite 2.11's bytes.
use rmpv::Value;

use crate::bus::scan::Raw;

/// True when the raw value is already in the form `msgpack.packb` produces for it.
fn is_canonical(b: &[u8]) -> bool {
    let len_at = |n: usize| -> Option<usize> {
        let s = b.get(1..1 + n)?;
        Some(s.iter().fold(0usize, |a, x| (a << 8) | usize::from(*x)))
    };
    match b.first() {
        Some(0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 | 0xa0..=0xbf | 0xcb | 0xc4) => true,
        Some(0xd9) => len_at(1).is_some_and(|n| n >= 32),
        Some(0xda) => len_at(2).is_some_and(|n| n >= 256),
        Some(0xc5) => len_at(2).is_some_and(|n| n >= 256),
        _ => false,
    }
}

fn normalise(v: Value) -> Value {
    match v {
        Value::F32(f) => Value::F64(f64::from(f)),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::Map(kv) => Value::Map(
            kv.into_iter()
                .map(|(k, v)| (normalise(k), normalise(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Appends the canonical encoding of one raw value.
pub fn push(v: Raw<'_>, out: &mut Vec<u8>) {
    if is_canonical(v.0) {
        out.extend_from_slice(v.0);
        return;
    }
    match rmpv::decode::read_value(&mut &v.0[..]) {
        Ok(value) => {
            let _ = rmpv::encode::write_value(out, &normalise(value));
        }
        Err(_) => out.extend_from_slice(v.0),
    }
}

/// The canonical encoding of a decoded value (for keys that arrive inside dumps).
pub fn encode_value(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = rmpv::encode::write_value(&mut out, &normalise(v.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_msgpack() {
        let mut out = Vec::new();
        push(Raw(b"\xd9\x03abc"), &mut out); // str8 for a short string → fixstr
        push(Raw(b"\xd1\x00\xc8"), &mut out); // int16 200 → uint8
        push(Raw(b"\xca\x3f\x00\x00\x00"), &mut out); // float32 0.5 → float64
        push(Raw(b"\xd0\x9c"), &mut out); // int8 -100 stays
        assert_eq!(out, b"\xa3abc\xcc\xc8\xcb\x3f\xe0\0\0\0\0\0\0\xd0\x9c");
    }
}
