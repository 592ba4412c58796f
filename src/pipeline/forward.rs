//! Sending every frame on to a PUSH socket (`--message-socket`), for the runner and the
//! controller in distributed mode: the same inbox and thread as local runs, ZeroMQ at the end.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bus::scan::{self, MapIter};
use crate::log;
use crate::report::log::Level;
use crate::transport::{self, Role, Transport, LINGER_MS};

/// The PUSH end, owned by the pipeline thread.
pub struct Forward {
    address: String,
    // The socket drops before its context, which then waits (up to the linger) for delivery.
    sock: Option<zmq::Socket>,
    transport: Option<Transport>,
    closing: Arc<AtomicBool>,
    deadline: Option<Instant>,
    pub forwarded: u64,
    pub dropped: u64,
    pub by_type: BTreeMap<String, u64>,
}

impl Forward {
    pub fn open(address: &str, closing: Arc<AtomicBool>) -> Result<Forward, transport::Error> {
        let t = Transport::new();
        let sock = t.socket(zmq::SocketType::PUSH, address, Role::Connect)?;
        Ok(Forward {
            address: address.into(),
            sock: Some(sock),
            transport: Some(t),
            closing,
            deadline: None,
            forwarded: 0,
            dropped: 0,
            by_type: BTreeMap::new(),
        })
    }

    /// Sends one frame, waiting while the receiver is slow or absent; once the run is closing,
    /// waits at most the linger time in all, then counts what is left as dropped.
    pub fn send(&mut self, raw: &[u8]) {
        let Some(sock) = self.sock.as_ref() else {
            return;
        };
        let kind = MapIter::new(raw)
            .ok()
            .and_then(|mut it| {
                it.find_map(|e| e.ok().filter(|(k, _)| scan::as_str(*k) == Some("type")))
            })
            .and_then(|(_, v)| scan::as_str(v));
        loop {
            match sock.send(raw, zmq::DONTWAIT) {
                Ok(()) => {
                    self.forwarded += 1;
                    if let Some(k) = kind {
                        match self.by_type.get_mut(k) {
                            Some(n) => *n += 1,
                            None => {
                                self.by_type.insert(k.to_string(), 1);
                            }
                        }
                    }
                    return;
                }
                Err(zmq::Error::EAGAIN) => {
                    if self.closing.load(Ordering::Relaxed) {
                        let deadline = *self.deadline.get_or_insert_with(|| {
                            Instant::now() + Duration::from_millis(LINGER_MS as u64)
                        });
                        if Instant::now() >= deadline {
                            if self.dropped == 0 {
                                log!(
                                    Level::Error,
                                    "mite.sender",
                                    "send",
                                    "nobody took messages on {} for {} s; dropping the rest",
                                    self.address,
                                    LINGER_MS / 1000
                                );
                            }
                            self.dropped += 1;
                            return;
                        }
                    }
                    let _ = sock.poll(zmq::POLLOUT, 100);
                }
                Err(e) => {
                    log!(
                        Level::Error,
                        "mite.sender",
                        "send",
                        "sending to {}: {e}",
                        self.address
                    );
                    self.dropped += 1;
                    return;
                }
            }
        }
    }

    /// Waits (up to the linger time) for queued frames to leave, then closes. ZeroMQ does not
    /// say how many were left when the linger runs out, so that case is logged as a loss.
    pub fn close(&mut self) {
        drop(self.sock.take());
        let started = Instant::now();
        drop(self.transport.take());
        // The context's end returns early once everything is delivered; only an expired linger
        // takes (almost) all of it.
        if started.elapsed() >= Duration::from_millis(LINGER_MS as u64 - 200) {
            log!(
                Level::Error,
                "mite.sender",
                "close",
                "messages queued for {} were not all taken within {} s of closing; those left \
                 are lost (is a duplicator listening there?)",
                self.address,
                LINGER_MS / 1000
            );
        }
    }
}
