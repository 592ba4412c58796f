//! What a stat is: a name, a kind, the message types it matches, and how label tuples and values
//! are read from a message — the shapes `mite.stats.extractor` and
//! `controller_report_extractor` build in Python, run here without an interpreter.
use crate::bus::scan::{self, MapIter, Raw};

/// How a stat aggregates.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// +1 per label tuple (dumped as "Counter").
    Counter,
    /// +value per label tuple (dumped as "Counter").
    Accumulator,
    /// Latest value per label tuple.
    Gauge,
    /// Cumulative bin counts, sum and count per label tuple; bins sorted ascending.
    Histogram(Vec<f64>),
}

/// Where label tuples and values come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `extractor(labels, value_key)`: one tuple of top-level fields ("" when absent); the value
    /// is 1 or the `value_key` field.
    Fields {
        labels: Vec<String>,
        value_key: Option<String>,
    },
    /// `controller_report_extractor(dict_key)`: one `(test, scenario_id)` per entry of the
    /// `dict_key` mapping, its value the entry's.
    Report { dict_key: String },
}

/// One stat, as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct StatSpec {
    pub name: String,
    pub kind: Kind,
    /// Message `type`s that match.
    pub types: Vec<String>,
    /// The label names put in dumps.
    pub labels: Vec<String>,
    pub source: Source,
}

/// A message's top-level fields, borrowed from the frame (a later duplicate key wins, as in a
/// Python dict).
pub struct Message<'a> {
    fields: Vec<(Raw<'a>, Raw<'a>)>,
}

impl<'a> Message<'a> {
    /// None when the frame is not a well-formed map.
    pub fn parse(raw: &'a [u8]) -> Option<Message<'a>> {
        let fields = MapIter::new(raw)
            .ok()?
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        Some(Message { fields })
    }

    pub fn get(&self, key: &str) -> Option<Raw<'a>> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| scan::as_str(*k) == Some(key))
            .map(|(_, v)| *v)
    }

    pub fn type_in(&self, types: &[String]) -> bool {
        self.get("type")
            .and_then(scan::as_str)
            .is_some_and(|t| types.iter().any(|x| x == t))
    }
}

/// The empty string, as a msgpack value: what a missing label reads as.
pub const EMPTY: Raw<'static> = Raw(b"\xa0");

/// True when Python can hash `v` as part of a label tuple: the exporters read arrays as tuples,
/// but a map anywhere inside becomes a dict, which cannot be a dict key.
pub fn hashable(v: Raw<'_>) -> bool {
    let b = v.0;
    let (n, mut pos) = match b.first() {
        Some(0x80..=0x8f | 0xde | 0xdf) => return false,
        Some(m @ 0x90..=0x9f) => (usize::from(m & 0x0f), 1),
        Some(0xdc) if b.len() >= 3 => (usize::from(u16::from_be_bytes([b[1], b[2]])), 3),
        Some(0xdd) if b.len() >= 5 => (u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize, 5),
        _ => return true,
    };
    for _ in 0..n {
        let Ok(end) = scan::skip(b, pos) else {
            return false;
        };
        if !hashable(Raw(&b[pos..end])) {
            return false;
        }
        pos = end;
    }
    true
}

impl StatSpec {
    /// False when this stat would take a label from `msg` that Python cannot hash.
    pub fn labels_hashable(&self, msg: &Message<'_>) -> bool {
        if !msg.type_in(&self.types) {
            return true;
        }
        match &self.source {
            Source::Fields { labels, .. } => labels.iter().all(|l| msg.get(l).is_none_or(hashable)),
            Source::Report { .. } => msg.get("test").is_none_or(hashable),
        }
    }
}
