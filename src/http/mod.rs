//! The HTTP engine: libcurl's multi interface on its own thread, fed requests over a channel and
//! handing finished transfers back in batches behind one eventfd wake-up.
mod cookies;
mod decode;
mod engine;
mod inline;
mod jars;
mod poller;
mod request;
mod sockets;
mod transfer;
mod worker;

pub use engine::{Completion, Engine, SessionId};
pub use inline::InlineEngine;
pub use request::{HttpVersion, RequestSpec};
pub use transfer::{Timings, Transfer, TransferError};
