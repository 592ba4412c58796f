//! Arrival-rate (open) workloads: when each journey of a rate profile is due, how the controller
//! shares a profile among runners, and the runner's queue of due journeys. Plain Rust, tested
//! without an interpreter; `py::runner` wraps it.
mod arrivals;
mod lease;
mod profile;

pub use arrivals::{Arrival, ArrivalQueue, Due};
pub use lease::{Lease, Leaser};
pub use profile::{Profile, RateError, Segment};

#[cfg(test)]
mod tests;
