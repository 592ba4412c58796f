//! Which frames mite 2.11's tools can read: exactly what msgpack-python's
//! `unpackb(raw=False, strict_map_key=False)` accepts with mite's `use_list=False` (its
//! `unpack_msg` and `mite cat`), checked without decoding.
//!
//! Beyond the msgpack grammar that means: strings are UTF-8; map keys are hashable in Python
//! (arrays are tuples, but no map may be inside a key); extension types are 0..=127, or -1 as a
//! valid timestamp (4, 8 or 12 bytes, nanoseconds below 10^9); at most 1024 containers are open
//! at once.

/// msgpack-python's unpacker stack: a container header met with this many open is refused.
const MAX_OPEN: u32 = 1024;

struct Bad;

fn be(buf: &[u8], pos: usize, n: usize) -> Result<u64, Bad> {
    let bytes = buf.get(pos..pos.checked_add(n).ok_or(Bad)?).ok_or(Bad)?;
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

fn span(buf: &[u8], pos: usize, n: u64) -> Result<(usize, usize), Bad> {
    let end = pos
        .checked_add(usize::try_from(n).map_err(|_| Bad)?)
        .ok_or(Bad)?;
    if end > buf.len() {
        return Err(Bad);
    }
    Ok((pos, end))
}

fn text(buf: &[u8], pos: usize, n: u64) -> Result<usize, Bad> {
    let (start, end) = span(buf, pos, n)?;
    std::str::from_utf8(&buf[start..end]).map_err(|_| Bad)?;
    Ok(end)
}

/// An extension value: `code` then `n` bytes of data at `pos`.
fn ext(buf: &[u8], pos: usize, code: i8, n: u64) -> Result<usize, Bad> {
    let (start, end) = span(buf, pos, n)?;
    match code {
        0..=127 => Ok(end),
        -1 => {
            let nanos = match n {
                4 => 0,
                8 => be(buf, start, 4)? >> 2,
                12 => be(buf, start, 4)?,
                _ => return Err(Bad),
            };
            if nanos < 1_000_000_000 {
                Ok(end)
            } else {
                Err(Bad)
            }
        }
        _ => Err(Bad),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Value,
    Key,
}

fn value(buf: &[u8], pos: usize, open: u32, role: Role) -> Result<usize, Bad> {
    let m = *buf.get(pos).ok_or(Bad)?;
    let p = pos + 1;
    let container = |n: u64, per: u64, start: usize| -> Result<usize, Bad> {
        // A dict cannot be (part of) a key; a tuple can, if everything in it can.
        if (per == 2 && role == Role::Key) || open >= MAX_OPEN {
            return Err(Bad);
        }
        let mut q = start;
        for i in 0..n.checked_mul(per).ok_or(Bad)? {
            let r = if role == Role::Key || (per == 2 && i % 2 == 0) {
                Role::Key
            } else {
                Role::Value
            };
            q = value(buf, q, open + 1, r)?;
        }
        Ok(q)
    };
    match m {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => Ok(p),
        0x80..=0x8f => container(u64::from(m & 0x0f), 2, p),
        0x90..=0x9f => container(u64::from(m & 0x0f), 1, p),
        0xa0..=0xbf => text(buf, p, u64::from(m & 0x1f)),
        0xd9 => text(buf, p + 1, be(buf, p, 1)?),
        0xda => text(buf, p + 2, be(buf, p, 2)?),
        0xdb => text(buf, p + 4, be(buf, p, 4)?),
        0xc4 => span(buf, p + 1, be(buf, p, 1)?).map(|s| s.1),
        0xc5 => span(buf, p + 2, be(buf, p, 2)?).map(|s| s.1),
        0xc6 => span(buf, p + 4, be(buf, p, 4)?).map(|s| s.1),
        0xc7 => ext(buf, p + 2, be(buf, p + 1, 1)? as u8 as i8, be(buf, p, 1)?),
        0xc8 => ext(buf, p + 3, be(buf, p + 2, 1)? as u8 as i8, be(buf, p, 2)?),
        0xc9 => ext(buf, p + 5, be(buf, p + 4, 1)? as u8 as i8, be(buf, p, 4)?),
        0xd4..=0xd8 => {
            let code = be(buf, p, 1)? as u8 as i8;
            ext(buf, p + 1, code, 1 << (m - 0xd4))
        }
        0xca => span(buf, p, 4).map(|s| s.1),
        0xcb => span(buf, p, 8).map(|s| s.1),
        0xcc | 0xd0 => span(buf, p, 1).map(|s| s.1),
        0xcd | 0xd1 => span(buf, p, 2).map(|s| s.1),
        0xce | 0xd2 => span(buf, p, 4).map(|s| s.1),
        0xcf | 0xd3 => span(buf, p, 8).map(|s| s.1),
        0xdc => container(be(buf, p, 2)?, 1, p + 2),
        0xdd => container(be(buf, p, 4)?, 1, p + 4),
        0xde => container(be(buf, p, 2)?, 2, p + 2),
        0xdf => container(be(buf, p, 4)?, 2, p + 4),
        0xc1 => Err(Bad),
    }
}

/// True when `buf` is exactly one value that msgpack-python unpacks without an error.
pub fn python_accepts(buf: &[u8]) -> bool {
    matches!(value(buf, 0, 0, Role::Value), Ok(end) if end == buf.len())
}

#[cfg(test)]
mod tests {
    use super::python_accepts as ok;

    #[test]
    fn extension_types_as_msgpack_python_reads_them() {
        assert!(!ok(b"\xd4\x80\x00"), "reserved type -128");
        assert!(!ok(b"\xd4\xff\x00"), "a timestamp of 1 byte");
        assert!(ok(b"\xd4\x7f\x00"));
        assert!(ok(b"\xd6\xff\x00\x00\x00\x00"));
        assert!(ok(b"\xd7\xff\x00\x00\x00\x00\x00\x00\x00\x00"));
        assert!(
            !ok(b"\xd7\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
            "nanoseconds >= 1e9"
        );
        assert!(ok(
            b"\xc7\x0c\xff\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"
        ));
        assert!(!ok(
            b"\xc7\x0c\xff\x40\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        ));
    }

    #[test]
    fn keys_must_be_hashable_and_strings_utf8() {
        assert!(
            ok(b"\x81\x90\x01"),
            "a tuple as a key (stats dumps have them)"
        );
        assert!(ok(b"\x81\x92\x01\x91\xa1a\x01"));
        assert!(!ok(b"\x81\x80\x01"), "a dict as a key");
        assert!(!ok(b"\x81\x91\x80\x01"), "a tuple holding a dict as a key");
        assert!(ok(b"\x81\xc4\x00\x01"));
        assert!(ok(b"\x81\x01\x01"));
        assert!(!ok(b"\xa1\xff"));
        assert!(!ok(b"\xa3\xed\xa0\x80"), "a surrogate is not UTF-8");
        assert!(ok("\u{e9}"
            .to_string()
            .as_bytes()
            .iter()
            .fold(vec![0xa2], |mut v, b| {
                v.push(*b);
                v
            })
            .as_slice()));
    }

    #[test]
    fn nesting_stops_where_msgpack_python_stops() {
        let deep = |n: usize, tail: u8| {
            let mut v = vec![0x91; n];
            v.push(tail);
            v
        };
        assert!(ok(&deep(1024, 0x01)));
        assert!(ok(&deep(1023, 0x90)));
        assert!(!ok(&deep(1024, 0x90)));
        assert!(!ok(&deep(1025, 0x01)));
    }

    #[test]
    fn grammar_errors_and_trailing_bytes() {
        assert!(!ok(b"\xc1"));
        assert!(!ok(b"\x01\x02"));
        assert!(!ok(b"\x82\xa1a\x01"));
        assert!(!ok(&[0xdd, 0xff, 0xff, 0xff, 0xff]));
    }
}
