//! A rate profile: segments of linearly changing rate, and the integral that places arrivals.
//!
//! Arrival `k` (from 1) is due when the integral of the rate reaches `k`, so a constant 100/s
//! over 60 s is exactly 6000 starts whatever the timer's resolution (a late timer starts what is
//! due, each journey keeping its own scheduled time).
use thiserror::Error;

/// Bad input for a rate profile; one line naming the value.
#[derive(Debug, Error, PartialEq)]
pub enum RateError {
    #[error("arrival rate {0} is not a number >= 0 (journeys per second)")]
    Rate(f64),
    #[error("duration {0} is not a number >= 0 (seconds)")]
    Duration(f64),
    #[error("max_in_flight 0: expected a positive number of journeys")]
    ZeroCap,
}

/// A rate changing linearly from `from` to `to` journeys per second over `duration` seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub duration: f64,
    pub from: f64,
    pub to: f64,
}

impl Segment {
    pub fn new(duration: f64, from: f64, to: f64) -> Result<Self, RateError> {
        if !(duration.is_finite() && duration >= 0.0) {
            return Err(RateError::Duration(duration));
        }
        for rate in [from, to] {
            if !(rate.is_finite() && rate >= 0.0) {
                return Err(RateError::Rate(rate));
            }
        }
        Ok(Segment { duration, from, to })
    }

    fn slope(&self) -> f64 {
        if self.duration > 0.0 {
            (self.to - self.from) / self.duration
        } else {
            0.0
        }
    }

    /// Arrivals accrued `t` seconds into the segment (0 <= t <= duration).
    fn integral(&self, t: f64) -> f64 {
        self.from * t + self.slope() * t * t / 2.0
    }

    fn arrivals(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.duration
    }

    /// Seconds into the segment at which `m` (0 < m <= `arrivals()`) arrivals have accrued.
    fn time_of(&self, m: f64) -> f64 {
        // from τ + s τ² / 2 = m; written as 2m / (from + √(from² + 2sm)) so that a flat or
        // falling segment stays exact (no cancellation when s is 0 or negative).
        let root = (self.from * self.from + 2.0 * self.slope() * m)
            .max(0.0)
            .sqrt();
        let denominator = self.from + root;
        if denominator <= 0.0 {
            return 0.0;
        }
        (2.0 * m / denominator).min(self.duration)
    }
}

/// Segments played one after another (`ArrivalRate(...) + RampArrivalRate(...)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    segments: Vec<Segment>,
}

impl Profile {
    pub fn new(segments: Vec<Segment>) -> Self {
        Profile { segments }
    }

    pub fn duration(&self) -> f64 {
        self.segments.iter().map(|s| s.duration).sum()
    }

    /// Total arrivals over the whole profile (fractional).
    pub fn total(&self) -> f64 {
        self.segments.iter().map(Segment::arrivals).sum()
    }

    /// Arrivals accrued by `t` seconds from the start (clamped to the profile).
    pub fn integral(&self, t: f64) -> f64 {
        let mut offset = 0.0;
        let mut accrued = 0.0;
        for segment in &self.segments {
            if t < offset + segment.duration {
                return accrued + segment.integral((t - offset).max(0.0));
            }
            accrued += segment.arrivals();
            offset += segment.duration;
        }
        accrued
    }

    /// Seconds from the start at which `x` arrivals have accrued; None past the profile's total.
    pub fn time_at(&self, x: f64) -> Option<f64> {
        let mut remaining = x;
        let mut offset = 0.0;
        for segment in &self.segments {
            let here = segment.arrivals();
            if remaining <= here && here > 0.0 {
                return Some(offset + segment.time_of(remaining));
            }
            remaining -= here;
            offset += segment.duration;
        }
        (remaining <= 1e-9).then_some(offset)
    }

    /// The segments as `(duration, from, to)`, as they cross the wire in a lease.
    pub fn segments(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.segments.iter().map(|s| (s.duration, s.from, s.to))
    }
}
