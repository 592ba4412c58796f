//! ZeroMQ transport for the distributed components: sockets with mite 2.11's roles, frame checks,
//! stop signals, and the counts every component logs at shutdown.
mod counts;
mod error;
mod frame;
pub mod signals;
mod socket;

pub use counts::{is_full, Counts, Reject};
pub use error::Error;
pub use frame::{admit, check, max_frame_bytes};
pub use socket::{open, recv_burst, Role, Transport, LINGER_MS};
