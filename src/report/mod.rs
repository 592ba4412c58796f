//! What people read: log lines, the periodic request stats, the end-of-test report and thresholds.
pub mod console;
pub mod log;
pub mod progress;
pub mod summary;
pub mod table;
pub mod throttle;
