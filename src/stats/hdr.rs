//! Mergeable HDR snapshots of a histogram stat's values (opt-in, `MITE_STATS_HDR=1`): recorded
//! beside mite 2.11's bins per label tuple, shipped in the dump as V2-serialized bytes under an
//! extra `hdr` key that mite 2.11's exporter never reads, merged without loss by ours.
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

/// Significant digits kept: any value is within 0.1% of the recorded one.
pub const SIGFIG: u8 = 3;
/// Stat values are seconds; snapshots count nanoseconds.
pub const UNITS_PER_SECOND: f64 = 1e9;
/// The environment variable that turns snapshots on in `mite stats`.
pub const ENV: &str = "MITE_STATS_HDR";
/// A V2 header: cookie, payload length, normalizing offset, digits, lowest, highest, ratio.
const HEADER: usize = 40;
/// The largest value a snapshot may claim to track (~13 days in ns): bounds what a hostile or
/// corrupt header can make the exporter allocate (a few hundred KB per label tuple).
const MAX_TRACKABLE: u64 = 1 << 50;

/// True when `MITE_STATS_HDR` asks for snapshots (`1`, `true`, `yes`, any case).
pub fn enabled() -> bool {
    std::env::var(ENV)
        .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// An empty snapshot that grows to fit whatever it records.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGFIG).expect("3 significant digits are supported")
}

/// The largest value recorded (~3.3 days in ns); longer ones are recorded as this, so that a
/// snapshot always stays within what the exporter accepts.
const MAX_RECORDED: u64 = 1 << 48;

/// Records `seconds`; false (and nothing recorded) for a negative or non-finite value.
pub fn record(h: &mut Histogram<u64>, seconds: f64) -> bool {
    if !(seconds >= 0.0 && seconds.is_finite()) {
        return false;
    }
    let ns = ((seconds * UNITS_PER_SECOND).round() as u64).min(MAX_RECORDED);
    // `record` grows the histogram to fit; `saturating_record` would clamp instead.
    if h.record(ns).is_err() {
        h.saturating_record(ns);
    }
    true
}

/// The snapshot in HdrHistogram's V2 format (the one every HdrHistogram port reads).
pub fn encode(h: &Histogram<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    V2Serializer::new()
        .serialize(h, &mut out)
        .expect("a u64 histogram serializes into a Vec");
    out
}

/// Why a snapshot was not merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotError {
    #[error("not an HDR V2 snapshot: {0}")]
    Malformed(String),
    #[error("an HDR snapshot with {digits} significant digits tracking up to {high} (at most {SIGFIG} digits and {MAX_TRACKABLE} accepted)")]
    OutOfBounds { digits: u32, high: u64 },
}

/// Reads a snapshot made by `encode`, refusing headers that would allocate without bound.
pub fn decode(bytes: &[u8]) -> Result<Histogram<u64>, SnapshotError> {
    if bytes.len() < HEADER {
        return Err(SnapshotError::Malformed(format!("{} bytes", bytes.len())));
    }
    let be32 = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let digits = be32(12);
    let high = u64::from_be_bytes(bytes[24..32].try_into().expect("8 bytes"));
    if digits > u32::from(SIGFIG) || high > MAX_TRACKABLE {
        return Err(SnapshotError::OutOfBounds { digits, high });
    }
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| SnapshotError::Malformed(format!("{e:?}")))
}

/// Adds a snapshot into `into`: counts add, so merging is exact and order does not matter.
pub fn merge(into: &mut Histogram<u64>, bytes: &[u8]) -> Result<(), SnapshotError> {
    let h = decode(bytes)?;
    into.add(&h)
        .map_err(|e| SnapshotError::Malformed(format!("{e:?}")))
}

/// The value at quantile `q`, in seconds (the highest value equivalent to the recorded one).
pub fn quantile_seconds(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / UNITS_PER_SECOND
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[f64]) -> Histogram<u64> {
        let mut h = new_histogram();
        for v in values {
            assert!(record(&mut h, *v));
        }
        h
    }

    #[test]
    fn a_snapshot_round_trips() {
        let h = of(&[0.000_123, 0.05, 1.5, 1.5, 20.0, 1e9]);
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), 6);
        // A value past the bound is kept (as the bound), and the snapshot is still accepted.
        assert_eq!(back.max(), back.highest_equivalent(MAX_RECORDED));
    }

    #[test]
    fn merged_snapshots_equal_one_histogram_of_every_value() {
        let values: Vec<f64> = (1..=3000).map(|i| f64::from(i) * 0.000_37).collect();
        let whole = of(&values);
        // Split among three "stats processes", merged in another order.
        let parts: Vec<Vec<u8>> = (0..3)
            .map(|k| {
                let part: Vec<f64> = values.iter().skip(k).step_by(3).copied().collect();
                encode(&of(&part))
            })
            .collect();
        let mut merged = new_histogram();
        for p in parts.iter().rev() {
            merge(&mut merged, p).unwrap();
        }
        assert_eq!(merged, whole);
        // Exact to the stated precision: within 0.1% of the nearest-rank value.
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
            let exact = sorted[((q * sorted.len() as f64).ceil() as usize).max(1) - 1];
            let got = quantile_seconds(&merged, q);
            assert!(
                (got - exact).abs() <= exact * 0.001,
                "q={q}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn bad_values_and_bad_snapshots_are_refused() {
        let mut h = new_histogram();
        assert!(!record(&mut h, -1.0));
        assert!(!record(&mut h, f64::NAN));
        assert!(h.is_empty());
        assert!(matches!(
            merge(&mut h, b"short"),
            Err(SnapshotError::Malformed(_))
        ));
        let mut big = encode(&of(&[1.0]));
        big[24..32].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(
            decode(&big),
            Err(SnapshotError::OutOfBounds { .. })
        ));
        let mut digits = encode(&of(&[1.0]));
        digits[12..16].copy_from_slice(&5u32.to_be_bytes());
        assert!(matches!(
            decode(&digits),
            Err(SnapshotError::OutOfBounds { digits: 5, .. })
        ));
        let mut torn = encode(&of(&[1.0, 2.0]));
        torn[0] ^= 0xff;
        assert!(merge(&mut h, &torn).is_err());
        assert!(h.is_empty());
    }
}
