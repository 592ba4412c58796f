//! ZeroMQ sockets opened as mite 2.11 opens them, with one-line errors for bad addresses.
use zmq::{Context, Socket, SocketType};

use super::error::{kind_name, Error};

/// How long a closing sender keeps trying to deliver what it still holds.
pub const LINGER_MS: i32 = 10_000;

/// Whether a socket binds its address or connects to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Bind,
    Connect,
}

/// One component's ZeroMQ context. Dropping it (after its sockets) waits up to the linger time
/// for queued frames to leave, so a component that exits has delivered what it sent.
pub struct Transport {
    ctx: Context,
}

impl Default for Transport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport {
    pub fn new() -> Self {
        Transport {
            ctx: Context::new(),
        }
    }

    /// Opens a socket of `kind` and binds or connects it to `addr`.
    pub fn socket(&self, kind: SocketType, addr: &str, role: Role) -> Result<Socket, Error> {
        open(&self.ctx, kind, addr, role)
    }
}

/// Opens a socket; the error names the address, the role and libzmq's reason.
pub fn open(ctx: &Context, kind: SocketType, addr: &str, role: Role) -> Result<Socket, Error> {
    let kind_err = |source| Error::Socket {
        kind: kind_name(kind),
        source,
    };
    let sock = ctx.socket(kind).map_err(kind_err)?;
    let linger = if kind == SocketType::PUSH {
        LINGER_MS
    } else {
        0
    };
    sock.set_linger(linger).map_err(kind_err)?;
    let done = match role {
        Role::Bind => sock.bind(addr),
        Role::Connect => sock.connect(addr),
    };
    done.map_err(|source| Error::Address {
        verb: if role == Role::Bind {
            "bind"
        } else {
            "connect"
        },
        kind: kind_name(kind),
        address: addr.into(),
        source,
    })?;
    Ok(sock)
}

/// Receives what is waiting (up to `max` frames) without blocking; after waiting up to
/// `wait_ms` for the first. Returns the frames; errors other than "nothing yet" are returned.
pub fn recv_burst(sock: &Socket, wait_ms: i64, max: usize) -> Result<Vec<Vec<u8>>, zmq::Error> {
    let mut out = Vec::new();
    match sock.poll(zmq::POLLIN, wait_ms) {
        Ok(0) | Err(zmq::Error::EINTR) => return Ok(out),
        Ok(_) => {}
        Err(e) => return Err(e),
    }
    while out.len() < max {
        match sock.recv_bytes(zmq::DONTWAIT) {
            Ok(frame) => out.push(frame),
            Err(zmq::Error::EAGAIN) => break,
            Err(zmq::Error::EINTR) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_address_is_one_line() {
        let t = Transport::new();
        let Err(err) = t.socket(SocketType::PULL, "tcp://nowhere", Role::Bind) else {
            panic!("an address without a port binds");
        };
        let line = err.to_string();
        assert!(
            line.starts_with("cannot bind PULL socket to \"tcp://nowhere\": "),
            "{line}"
        );
    }

    #[test]
    fn push_to_pull_over_loopback() {
        let t = Transport::new();
        let pull = t
            .socket(SocketType::PULL, "tcp://127.0.0.1:*", Role::Bind)
            .unwrap();
        let addr = pull.get_last_endpoint().unwrap().unwrap();
        let push = t.socket(SocketType::PUSH, &addr, Role::Connect).unwrap();
        push.send(&b"\x01"[..], 0).unwrap();
        push.send(&b"\x02"[..], 0).unwrap();
        let mut got = Vec::new();
        while got.len() < 2 {
            got.extend(recv_burst(&pull, 1000, 10).unwrap());
        }
        assert_eq!(got, vec![vec![1u8], vec![2u8]]);
    }
}
