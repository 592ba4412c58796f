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

#[cfg(test)]
mod tests {
    use super::*;

    /// An output bound on loopback whose PUSH holds at most one frame, and a consumer (PULL) that
    /// holds at most one too: the backlog builds as soon as the consumer stops reading.
    fn slow_pair(ctx: &zmq::Context, limit: usize) -> (Output, zmq::Socket) {
        let push = ctx.socket(zmq::PUSH).unwrap();
        push.set_sndhwm(1).unwrap();
        push.set_sndbuf(4096).unwrap();
        push.set_linger(0).unwrap();
        push.bind("tcp://127.0.0.1:*").unwrap();
        let addr = push.get_last_endpoint().unwrap().unwrap();
        let pull = ctx.socket(zmq::PULL).unwrap();
        pull.set_rcvhwm(1).unwrap();
        pull.set_rcvbuf(4096).unwrap();
        pull.set_linger(0).unwrap();
        pull.connect(&addr).unwrap();
        (Output::new(addr, push, limit), pull)
    }

    fn frame(i: u32) -> Vec<u8> {
        let mut f = i.to_be_bytes().to_vec();
        f.resize(1024, b'x');
        f
    }

    /// Reads every frame the consumer gets, flushing the output between reads, until `count`.
    fn read_all(
        out: &mut Output,
        pull: &zmq::Socket,
        count: usize,
        c: &mut Counts,
    ) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while got.len() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "only {} frames came",
                got.len()
            );
            out.flush(c);
            // Woken by a frame to read or by room in the output (then flushed next round).
            let mut items = [
                pull.as_poll_item(zmq::POLLIN),
                out.socket().as_poll_item(zmq::POLLOUT),
            ];
            zmq::poll(&mut items, 50).unwrap();
            while let Ok(f) = pull.recv_bytes(zmq::DONTWAIT) {
                got.push(f);
            }
        }
        got
    }

    #[test]
    fn a_consumer_that_stops_reading_loses_nothing() {
        let ctx = zmq::Context::new();
        let (mut out, pull) = slow_pair(&ctx, 512 << 20);
        let mut c = Counts::default();
        let n = 5000;
        for i in 0..n {
            out.send(frame(i), &mut c);
        }
        assert!(
            out.has_backlog(),
            "5 MB went out to a consumer holding one frame"
        );
        let got = read_all(&mut out, &pull, n as usize, &mut c);
        assert_eq!(got, (0..n).map(frame).collect::<Vec<_>>());
        assert!(!out.has_backlog());
        assert_eq!((c.forwarded, c.full), (n as u64, 0));
    }

    #[test]
    fn past_the_limit_frames_are_dropped_counted_and_the_rest_keep_their_order() {
        let ctx = zmq::Context::new();
        let (mut out, pull) = slow_pair(&ctx, 10 * 1024);
        let mut c = Counts::default();
        let n = 5000u32;
        for i in 0..n {
            out.send(frame(i), &mut c);
        }
        assert!(c.full > 0, "nothing was dropped past a 10 KiB backlog");
        let delivered = (n as u64 - c.full) as usize;
        let got = read_all(&mut out, &pull, delivered, &mut c);
        let seqs: Vec<u32> = got
            .iter()
            .map(|f| u32::from_be_bytes(f[..4].try_into().unwrap()))
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "out of order: {seqs:?}"
        );
        assert_eq!(c.forwarded + c.full, n as u64);
        // Once the consumer caught up, frames go through again.
        out.send(frame(n), &mut c);
        let last = read_all(&mut out, &pull, 1, &mut c);
        assert_eq!(last, vec![frame(n)]);
    }

    #[test]
    fn what_is_left_at_shutdown_is_counted_as_dropped() {
        let ctx = zmq::Context::new();
        let (mut out, _pull) = slow_pair(&ctx, 512 << 20);
        let mut c = Counts::default();
        for i in 0..3000 {
            out.send(frame(i), &mut c);
        }
        assert!(out.has_backlog());
        out.abandon(&mut c);
        assert!(!out.has_backlog());
        assert_eq!(c.forwarded + c.full, 3000);
        assert!(c.full > 0);
    }
}
