//! The duplicator: every frame PULLed from the message socket goes to every OUT_SOCKET (PUSH).
//!
//! mite 2.11 sends without blocking and drops a frame when an output's queue is full (a slow or
//! absent consumer). Here each output keeps a backlog in memory instead, sent in order as the
//! consumer catches up, up to `MITE_DUPLICATOR_BUFFER_BYTES` per output (default 512 MiB); only
//! past that is a frame dropped, and counted.
mod output;

use std::io::Write;

use zmq::SocketType;

use crate::bus::pyfmt::py_str;
use crate::log;
use crate::report::log::Level;
use crate::transport::{self, signals, Counts, Role, Transport};
use output::{Output, LOGGER};

/// Frames taken from the input per wake-up, so outputs are serviced between bursts.
const BURST: usize = 4096;
const TICK_MS: i64 = 100;

/// Why the duplicator could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input or output socket could not be bound, or receiving failed.
    #[error(transparent)]
    Transport(#[from] transport::Error),
}

/// What the duplicator was told on the command line.
pub struct DuplicatorConfig {
    pub in_address: String,
    pub out_addresses: Vec<String>,
}

fn buffer_limit() -> usize {
    std::env::var("MITE_DUPLICATOR_BUFFER_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(512 << 20)
}

/// How many messages SIGUSR1 asks to print, read as mite 2.11 reads it.
fn messages_to_dump() -> i64 {
    if let Ok(v) = std::env::var("MITE_DEBUG_MESSAGES_TO_DUMP") {
        return v.trim().parse().unwrap_or(100);
    }
    let path = std::env::var("MITE_DEBUG_MESSAGES_TO_DUMP_FILE")
        .unwrap_or_else(|_| "/tmp/mite_messages_to_dump".into());
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

fn dump(raw: &[u8]) {
    let Ok(v) = rmpv::decode::read_value(&mut &raw[..]) else {
        return;
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", py_str(&v));
    let _ = out.flush();
}

/// Sleeps until a frame arrives or an output with a backlog can take more (or a tick passes).
fn wait(input: &zmq::Socket, outs: &[Output]) {
    let mut items = vec![input.as_poll_item(zmq::POLLIN)];
    items.extend(
        outs.iter()
            .filter(|o| o.has_backlog())
            .map(|o| o.socket().as_poll_item(zmq::POLLOUT)),
    );
    // EINTR (a signal) just ends the wait early.
    let _ = zmq::poll(&mut items, TICK_MS);
}

/// Runs until SIGINT/SIGTERM; returns what it counted. Binding errors come back before the loop.
pub fn run(cfg: &DuplicatorConfig) -> Result<Counts, Error> {
    let transport = Transport::new();
    let input = transport.socket(SocketType::PULL, &cfg.in_address, Role::Bind)?;
    let limit = buffer_limit();
    let mut outs = Vec::new();
    for addr in &cfg.out_addresses {
        let sock = transport.socket(SocketType::PUSH, addr, Role::Bind)?;
        outs.push(Output::new(addr.clone(), sock, limit));
    }
    signals::catch_stop();
    signals::catch_usr1();
    let max = transport::max_frame_bytes();
    let mut counts = Counts::default();
    let mut to_dump: i64 = 0;
    while signals::stop_requested().is_none() {
        if signals::take_usr1() {
            to_dump = messages_to_dump();
        }
        wait(&input, &outs);
        let frames = transport::recv_burst(&input, 0, BURST)
            .map_err(|e| transport::Error::recv(&cfg.in_address, e))?;
        for raw in frames {
            if !transport::admit(&raw, max, &mut counts, LOGGER) {
                continue;
            }
            if to_dump > 0 {
                dump(&raw);
                to_dump -= 1;
            }
            if let Some((last, rest)) = outs.split_last_mut() {
                for out in rest {
                    out.send(raw.clone(), &mut counts);
                }
                last.send(raw, &mut counts);
            }
        }
        for out in outs.iter_mut() {
            out.flush(&mut counts);
        }
    }
    // Give slow consumers a last chance to take the backlog.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while outs.iter().any(Output::has_backlog) && std::time::Instant::now() < deadline {
        for out in outs.iter_mut() {
            out.flush(&mut counts);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    for out in outs.iter_mut() {
        out.abandon(&mut counts);
    }
    // `forwarded` counts deliveries: each frame once per output.
    crate::report::throttle::flush();
    let line = counts.line(&[("outputs", outs.len() as u64)]);
    log!(Level::Info, LOGGER, "run", "{line}");
    Ok(counts)
}
