//! What the loop thread and the engine thread say to each other: the commands it queues, the
//! completions it gets back, and the session ids that name cookie jars on both sides.
use crossbeam_channel::Sender;

use super::request::RequestSpec;
use super::transfer::{Transfer, TransferError};

/// Identifies a session (its cookie jar) on the engine thread.
pub type SessionId = u64;

/// One finished request, for the loop thread.
pub struct Completion {
    pub token: u64,
    pub result: Result<Transfer, TransferError>,
}

pub(super) enum Command {
    Submit {
        token: u64,
        session: SessionId,
        spec: Box<RequestSpec>,
        start_time: i64,
    },
    CloseSession(SessionId),
    Cookies {
        session: SessionId,
        reply: Sender<Vec<String>>,
    },
    EraseCookies(SessionId),
    Shutdown,
}
