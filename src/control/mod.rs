//! The controller's bookkeeping: who runs what, which runners are alive, and how much new work
//! each request may get. Plain Rust; the Python-facing wrappers live in `py/control.rs`.
mod bucket;
mod plan;
mod trackers;

pub use bucket::SpawnBucket;
pub use plan::{plan_work, PlanInput};
pub use trackers::{RunnerTracker, WorkTracker};
