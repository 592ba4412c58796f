//! One OUT_SOCKET of the duplicator, with the in-memory backlog that replaces mite 2.11's drops.
use std::collections::VecDeque;

use zmq::Socket;

use crate::log;
use crate::report::log::Level;
use crate::transport::Counts;

/// The duplicator's logger (its own lines and its outputs').
pub(super) const LOGGER: &str = "mite.duplicator";

pub(super) struct Output {
    addr: String,
    sock: Socket,
    backlog: VecDeque<Vec<u8>>,
    backlog_bytes: usize,
    limit: usize,
    /// Frames dropped since the last warning, so a stalled consumer logs once per episode.
    unreported: u64,
}

impl Output {
    pub fn new(addr: String, sock: Socket, limit: usize) -> Self {
        Output {
            addr,
            sock,
            backlog: VecDeque::new(),
            backlog_bytes: 0,
            limit,
            unreported: 0,
        }
    }

    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Sends now if nothing is queued before it, else queues it (or drops it past the limit).
    pub fn send(&mut self, frame: Vec<u8>, counts: &mut Counts) {
        if self.backlog.is_empty() {
            match self.sock.send(&frame[..], zmq::DONTWAIT) {
                Ok(()) => {
                    counts.forwarded += 1;
                    return;
                }
                Err(zmq::Error::EAGAIN) => {}
                Err(e) => {
                    log!(
                        Level::Error,
                        LOGGER,
                        "send",
                        "sending to {}: {e}",
                        self.addr
                    );
                }
            }
        }
        if self.backlog_bytes + frame.len() > self.limit {
            counts.full += 1;
            if self.unreported == 0 {
                log!(
                    Level::Error,
                    LOGGER,
                    "send",
                    "buffer for {} is full ({} frames, {} bytes): dropping until its consumer catches up",
                    self.addr,
                    self.backlog.len(),
                    self.backlog_bytes
                );
            }
            self.unreported += 1;
            return;
        }
        self.backlog_bytes += frame.len();
        self.backlog.push_back(frame);
    }

    /// Sends queued frames until the socket would block.
    pub fn flush(&mut self, counts: &mut Counts) {
        while let Some(front) = self.backlog.front() {
            match self.sock.send(&front[..], zmq::DONTWAIT) {
                Ok(()) => {
                    counts.forwarded += 1;
                    self.backlog_bytes -= front.len();
                    self.backlog.pop_front();
                }
                Err(_) => return,
            }
        }
        if self.unreported > 0 {
            log!(
                Level::Warning,
                LOGGER,
                "flush",
                "{} caught up; {} frames were dropped for it",
                self.addr,
                self.unreported
            );
            self.unreported = 0;
        }
    }

    /// At shutdown: what could not be delivered is counted as dropped.
    pub fn abandon(&mut self, counts: &mut Counts) {
        if !self.backlog.is_empty() {
            log!(
                Level::Error,
                LOGGER,
                "abandon",
                "{} frames for {} were never taken by a consumer",
                self.backlog.len(),
                self.addr
            );
            counts.full += self.backlog.len() as u64;
            self.backlog.clear();
            self.backlog_bytes = 0;
        }
    }
}
