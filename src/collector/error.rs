//! Why `mite collector` (or a Python `Collector`) stopped or failed, as one line naming the path
//! or the socket.
use super::file::PathError;
use crate::transport;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder could not be made or its `current` file rolled or opened.
    #[error("collector folder {0}")]
    Folder(#[source] PathError),
    /// A file operation failed for a Python caller, who gets the bare path and reason.
    #[error(transparent)]
    File(PathError),
    /// Frames were lost to a failed write; the first failure names the path and the reason.
    #[error("the collector could not write {lost} messages: {failure}")]
    Write { lost: u64, failure: PathError },
    #[error(transparent)]
    Transport(#[from] transport::Error),
}
