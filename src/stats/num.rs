//! Numbers with Python's arithmetic: `int + int` stays an int, anything with a float is a float.
//! Dumps must carry the same msgpack types mite 2.11's Python stats would (an int count is a
//! msgpack int, a summed response time a float), and the exporter prints `5` vs `5.0` from it.
use crate::bus::scan::Raw;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub const ZERO: Num = Num::Int(0);

    /// The number a msgpack value decodes to in Python (bools are ints); None for non-numbers.
    pub fn from_raw(v: Raw<'_>) -> Option<Num> {
        let b = v.0;
        let m = *b.first()?;
        let be = |n: usize| -> Option<u64> {
            let s = b.get(1..1 + n)?;
            Some(s.iter().fold(0u64, |a, x| (a << 8) | u64::from(*x)))
        };
        Some(match m {
            0x00..=0x7f => Num::Int(i64::from(m)),
            0xe0..=0xff => Num::Int(i64::from(m as i8)),
            0xc2 => Num::Int(0),
            0xc3 => Num::Int(1),
            0xca => Num::Float(f64::from(f32::from_bits(be(4)? as u32))),
            0xcb => Num::Float(f64::from_bits(be(8)?)),
            0xcc => Num::Int(be(1)? as i64),
            0xcd => Num::Int(be(2)? as i64),
            0xce => Num::Int(be(4)? as i64),
            // NOTE: a uint64 above i64::MAX is kept as the nearest float rather than refused.
            0xcf => {
                let u = be(8)?;
                i64::try_from(u).map_or(Num::Float(u as f64), Num::Int)
            }
            0xd0 => Num::Int(i64::from(be(1)? as u8 as i8)),
            0xd1 => Num::Int(i64::from(be(2)? as u16 as i16)),
            0xd2 => Num::Int(i64::from(be(4)? as u32 as i32)),
            0xd3 => Num::Int(be(8)? as i64),
            _ => return None,
        })
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// `self + other` as Python computes it (an int overflow turns into a float, not a panic).
    pub fn plus(self, other: Num) -> Num {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => a
                .checked_add(b)
                .map_or(Num::Float(a as f64 + b as f64), Num::Int),
            (a, b) => Num::Float(a.as_f64() + b.as_f64()),
        }
    }

    /// Appends the msgpack encoding Python's msgpack gives this number.
    pub fn encode(self, out: &mut Vec<u8>) {
        match self {
            Num::Int(i) => {
                let _ = rmp::encode::write_sint(out, i);
            }
            Num::Float(f) => {
                let _ = rmp::encode::write_f64(out, f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_arithmetic() {
        assert_eq!(Num::Int(2).plus(Num::Int(3)), Num::Int(5));
        assert_eq!(Num::Int(2).plus(Num::Float(0.5)), Num::Float(2.5));
        assert_eq!(
            Num::Int(i64::MAX).plus(Num::Int(1)),
            Num::Float(i64::MAX as f64 + 1.0)
        );
        assert_eq!(Num::from_raw(Raw(b"\xc3")), Some(Num::Int(1)));
        assert_eq!(Num::from_raw(Raw(b"\xd0\xff")), Some(Num::Int(-1)));
        assert_eq!(Num::from_raw(Raw(b"\xa1a")), None);
        let mut out = Vec::new();
        Num::Int(300).encode(&mut out);
        Num::Float(0.5).encode(&mut out);
        assert_eq!(out, b"\xcd\x01\x2c\xcb\x3f\xe0\0\0\0\0\0\0");
    }
}
