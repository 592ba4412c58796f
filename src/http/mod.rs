//! The HTTP engine: libcurl's multi interface on its own thread, fed requests over a channel and
//! handing finished transfers back in batches behind one eventfd wake-up.
mod command;
mod cookies;
mod decode;
mod engine;
pub mod headers;
mod jars;
mod poller;
mod request;
mod sockets;
mod transfer;
mod worker;

pub use command::{Completion, SessionId};
pub use engine::Engine;
pub use request::{timeout, HttpVersion, RequestSpec};
pub use transfer::{Timings, Transfer, TransferError};
