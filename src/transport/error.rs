//! What can go wrong on a component's sockets, each naming the address it happened on.
use zmq::SocketType;

/// A socket that could not be made, bound or connected, or that failed while receiving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Binding or connecting failed: a bad address, a taken port.
    #[error("cannot {verb} {kind} socket to {address:?}: {source}")]
    Address {
        verb: &'static str,
        kind: &'static str,
        address: String,
        source: zmq::Error,
    },
    /// libzmq refused to make or configure a socket (out of file descriptors, say).
    #[error("cannot open a {kind} socket: {source}")]
    Socket {
        kind: &'static str,
        source: zmq::Error,
    },
    /// Receiving or sending on an open socket failed.
    #[error("{action} {address}: {source}")]
    Frame {
        action: &'static str,
        address: String,
        source: zmq::Error,
    },
}

impl Error {
    /// A failed receive on the socket at `address`.
    pub fn recv(address: &str, source: zmq::Error) -> Self {
        Error::Frame {
            action: "receiving from",
            address: address.into(),
            source,
        }
    }

    /// A failed send on the socket at `address`.
    pub fn send(address: &str, source: zmq::Error) -> Self {
        Error::Frame {
            action: "sending to",
            address: address.into(),
            source,
        }
    }
}

pub(super) fn kind_name(kind: SocketType) -> &'static str {
    match kind {
        SocketType::PUSH => "PUSH",
        SocketType::PULL => "PULL",
        SocketType::REQ => "REQ",
        SocketType::REP => "REP",
        _ => "ZeroMQ",
    }
}
