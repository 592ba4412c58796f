//! Zero-copy reading of msgpack frames: walk a top-level map and pick fields without decoding it all.
//!
//! Consumers on the pipeline thread look at a few fields of every message (its `type`, a
//! response time); a full decode would allocate every string of every message.

/// One msgpack value as its raw bytes inside a frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Raw<'a>(pub &'a [u8]);

/// Why a frame could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

fn take(buf: &[u8], pos: usize, n: usize) -> Result<usize, Malformed> {
    let end = pos.checked_add(n).ok_or(Malformed)?;
    if end > buf.len() {
        return Err(Malformed);
    }
    Ok(end)
}

fn be(buf: &[u8], pos: usize, n: usize) -> Result<u64, Malformed> {
    let end = take(buf, pos, n)?;
    Ok(buf[pos..end]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Returns the position just after the value starting at `pos`.
pub fn skip(buf: &[u8], pos: usize) -> Result<usize, Malformed> {
    skip_depth(buf, pos, 0)
}

fn skip_depth(buf: &[u8], pos: usize, depth: u32) -> Result<usize, Malformed> {
    // NOTE: a hostile frame could nest deeply; msgpack-python refuses past 512 levels too.
    if depth > 512 {
        return Err(Malformed);
    }
    let m = *buf.get(pos).ok_or(Malformed)?;
    let p = pos + 1;
    let items = |n: u64, per: u64| -> Result<usize, Malformed> {
        let mut q = p;
        for _ in 0..n * per {
            q = skip_depth(buf, q, depth + 1)?;
        }
        Ok(q)
    };
    match m {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => Ok(p),
        0x80..=0x8f => items(u64::from(m & 0x0f), 2),
        0x90..=0x9f => items(u64::from(m & 0x0f), 1),
        0xa0..=0xbf => take(buf, p, usize::from(m & 0x1f)),
        0xc4 | 0xd9 => take(buf, p + 1, be(buf, p, 1)? as usize),
        0xc5 | 0xda => take(buf, p + 2, be(buf, p, 2)? as usize),
        0xc6 | 0xdb => take(buf, p + 4, be(buf, p, 4)? as usize),
        0xc7 => take(buf, p + 2, be(buf, p, 1)? as usize),
        0xc8 => take(buf, p + 3, be(buf, p, 2)? as usize),
        0xc9 => take(buf, p + 5, be(buf, p, 4)? as usize),
        0xca => take(buf, p, 4),
        0xcb => take(buf, p, 8),
        0xcc | 0xd0 => take(buf, p, 1),
        0xcd | 0xd1 => take(buf, p, 2),
        0xce | 0xd2 => take(buf, p, 4),
        0xcf | 0xd3 => take(buf, p, 8),
        0xd4 => take(buf, p, 2),
        0xd5 => take(buf, p, 3),
        0xd6 => take(buf, p, 5),
        0xd7 => take(buf, p, 9),
        0xd8 => take(buf, p, 17),
        0xdc => items_at(buf, p + 2, be(buf, p, 2)?, 1, depth),
        0xdd => items_at(buf, p + 4, be(buf, p, 4)?, 1, depth),
        0xde => items_at(buf, p + 2, be(buf, p, 2)?, 2, depth),
        0xdf => items_at(buf, p + 4, be(buf, p, 4)?, 2, depth),
        0xc1 => Err(Malformed),
    }
}

fn items_at(buf: &[u8], start: usize, n: u64, per: u64, depth: u32) -> Result<usize, Malformed> {
    let mut q = start;
    for _ in 0..n.saturating_mul(per) {
        q = skip_depth(buf, q, depth + 1)?;
    }
    Ok(q)
}

/// Reads a map header at `pos`: (entry count, position of the first key).
pub fn map_header(buf: &[u8], pos: usize) -> Result<(usize, usize), Malformed> {
    let m = *buf.get(pos).ok_or(Malformed)?;
    match m {
        0x80..=0x8f => Ok((usize::from(m & 0x0f), pos + 1)),
        0xde => Ok((be(buf, pos + 1, 2)? as usize, pos + 3)),
        0xdf => Ok((be(buf, pos + 1, 4)? as usize, pos + 5)),
        _ => Err(Malformed),
    }
}

/// The text of `v`, if it is a msgpack str holding valid UTF-8.
pub fn as_str(v: Raw<'_>) -> Option<&str> {
    let b = v.0;
    let m = *b.first()?;
    let (start, len) = match m {
        0xa0..=0xbf => (1, usize::from(m & 0x1f)),
        0xd9 => (2, usize::from(*b.get(1)?)),
        0xda => (3, be(b, 1, 2).ok()? as usize),
        0xdb => (5, be(b, 1, 4).ok()? as usize),
        _ => return None,
    };
    std::str::from_utf8(b.get(start..start + len)?).ok()
}

/// The number at `v` as f64 (ints and floats, as Python would add them).
pub fn as_f64(v: Raw<'_>) -> Option<f64> {
    let b = v.0;
    let m = *b.first()?;
    Some(match m {
        0x00..=0x7f => f64::from(m),
        0xe0..=0xff => f64::from(m as i8),
        0xca => f32::from_bits(be(b, 1, 4).ok()? as u32) as f64,
        0xcb => f64::from_bits(be(b, 1, 8).ok()?),
        0xcc => be(b, 1, 1).ok()? as f64,
        0xcd => be(b, 1, 2).ok()? as f64,
        0xce => be(b, 1, 4).ok()? as f64,
        0xcf => be(b, 1, 8).ok()? as f64,
        0xd0 => f64::from(be(b, 1, 1).ok()? as u8 as i8),
        0xd1 => f64::from(be(b, 1, 2).ok()? as u16 as i16),
        0xd2 => f64::from(be(b, 1, 4).ok()? as u32 as i32),
        0xd3 => be(b, 1, 8).ok()? as i64 as f64,
        _ => return None,
    })
}

/// True when `v` is msgpack nil.
pub fn is_nil(v: Raw<'_>) -> bool {
    v.0.first() == Some(&0xc0)
}

/// The top-level map of a frame, iterated as (key, value) without allocation.
pub struct MapIter<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> MapIter<'a> {
    /// Starts on a frame whose top-level value must be a map.
    pub fn new(buf: &'a [u8]) -> Result<Self, Malformed> {
        let (left, pos) = map_header(buf, 0)?;
        Ok(MapIter { buf, pos, left })
    }
}

impl<'a> Iterator for MapIter<'a> {
    type Item = Result<(Raw<'a>, Raw<'a>), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let step = || -> Result<(usize, usize, usize), Malformed> {
            let k_end = skip(self.buf, self.pos)?;
            let v_end = skip(self.buf, k_end)?;
            Ok((self.pos, k_end, v_end))
        };
        match step() {
            Ok((k, kv, v)) => {
                self.pos = v;
                Some(Ok((Raw(&self.buf[k..kv]), Raw(&self.buf[kv..v]))))
            }
            Err(e) => {
                self.left = 0;
                Some(Err(e))
            }
        }
    }
}

/// Checks that `buf` holds exactly one well-formed msgpack value.
pub fn is_one_value(buf: &[u8]) -> bool {
    matches!(skip(buf, 0), Ok(end) if end == buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(v: &rmpv::Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).unwrap();
        out
    }

    #[test]
    fn walks_a_map_and_reads_fields() {
        use rmpv::Value as V;
        let v = V::Map(vec![
            (V::from("type"), V::from("http_metrics")),
            (
                V::from("nested"),
                V::Array(vec![V::from(1), V::Map(vec![(V::from(2), V::Nil)])]),
            ),
            (V::from("total_time"), V::F64(0.25)),
            (V::from("neg"), V::from(-40000)),
            (V::from("big"), V::from(u64::MAX)),
            (V::from("bin"), V::Binary(vec![1u8; 300])),
        ]);
        let buf = encode(&v);
        assert!(is_one_value(&buf));
        let fields: Vec<_> = MapIter::new(&buf).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(fields.len(), 6);
        assert_eq!(as_str(fields[0].0), Some("type"));
        assert_eq!(as_str(fields[0].1), Some("http_metrics"));
        assert_eq!(as_f64(fields[2].1), Some(0.25));
        assert_eq!(as_f64(fields[3].1), Some(-40000.0));
        assert_eq!(as_f64(fields[4].1), Some(u64::MAX as f64));
        assert_eq!(as_str(fields[5].1), None);
    }

    #[test]
    fn truncated_and_garbage_frames_are_malformed() {
        let v = rmpv::Value::Map(vec![(rmpv::Value::from("a"), rmpv::Value::from("bcdef"))]);
        let buf = encode(&v);
        for cut in 0..buf.len() {
            assert!(!is_one_value(&buf[..cut]), "prefix {cut} accepted");
        }
        assert!(!is_one_value(&[0xc1]));
        assert!(MapIter::new(&[0x93, 1, 2, 3]).is_err());
        // An array header claiming 2^32-1 items with no bytes behind it must fail fast.
        assert!(!is_one_value(&[0xdd, 0xff, 0xff, 0xff, 0xff]));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut buf = vec![0x91; 600];
        buf.push(0xc0);
        assert!(!is_one_value(&buf));
    }
}
