//! Why `mite prometheus_exporter` could not run, as one line naming the address.
use crate::transport;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stats socket could not be bound, or receiving failed.
    #[error(transparent)]
    Transport(#[from] transport::Error),
    /// `--web-address` has a port that is not a number.
    #[error("--web-address {address:?}: {port:?} is not a port number")]
    Port { address: String, port: String },
    /// The web address could not be listened on (taken, not local).
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    /// The web server's runtime or thread could not be started.
    #[error("cannot start the web server: {0}")]
    Web(#[source] std::io::Error),
}
