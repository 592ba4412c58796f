//! `mite stats`: PULLs messages, aggregates them into the configured stats, and PUSHes a list of
//! dumps every 0.25 s — on a timer, so the last messages of a test are dumped even when nothing
//! follows them (mite 2.11 dumps only when a later message arrives), and once more at shutdown.
mod aggregate;
mod canon;
pub mod hdr;
mod num;
mod spec;
mod table;

pub use aggregate::Stat;
pub use canon::encode_value;
pub use num::Num;
pub use spec::{Kind, Message, Source, StatSpec};

use std::time::{Duration, Instant};

use zmq::SocketType;

use crate::report::log::Level;
use crate::transport::{self, signals, Counts, Role, Transport};
use crate::{log, log_throttled};

const LOGGER: &str = "mite.stats";
pub const DUMP_EVERY: Duration = Duration::from_millis(250);

/// Stats that live in Python (third-party `mite_stats` entry points): fed in batches, dumped
/// as already-encoded maps.
pub trait External {
    fn process(&mut self, frames: &[Vec<u8>]);
    /// One encoded dump per external stat, in their order.
    fn dump(&mut self) -> Vec<Vec<u8>>;
}

/// Where each dump in the list comes from, in entry-point order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Native(usize),
    External(usize),
}

/// The native stats plus the order of every stat in a dump.
pub struct Aggregator {
    stats: Vec<Stat>,
    order: Vec<Slot>,
}

impl Aggregator {
    pub fn new(specs: Vec<StatSpec>, order: Vec<Slot>) -> Self {
        Self::with_snapshots(specs, order, hdr::enabled())
    }

    /// With `hdr`, histogram stats also dump HDR snapshots (`stats::hdr`).
    pub fn with_snapshots(specs: Vec<StatSpec>, order: Vec<Slot>, hdr: bool) -> Self {
        let stat = |spec| match hdr {
            true => Stat::new(spec).with_hdr(),
            false => Stat::new(spec),
        };
        Aggregator {
            stats: specs.into_iter().map(stat).collect(),
            order,
        }
    }

    /// Feeds one frame to every native stat, unless it is not a message (a map) or a stat
    /// would take a label from it that mite 2.11's exporter cannot read.
    pub fn process(&mut self, raw: &[u8]) -> Verdict {
        let Some(msg) = Message::parse(raw) else {
            return Verdict::NotAMessage;
        };
        if !self.stats.iter().all(|s| s.spec().labels_hashable(&msg)) {
            return Verdict::BadLabel;
        }
        for s in &mut self.stats {
            s.process(&msg);
        }
        Verdict::Used
    }

    /// The dump list, encoded: `[dump, dump, ...]` in slot order.
    pub fn dump(&mut self, mut external: Vec<Vec<u8>>) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        let shown = |slot: &&Slot| !matches!(**slot, Slot::Native(i) if self.stats[i].omitted());
        let slots: Vec<Slot> = self.order.iter().filter(shown).copied().collect();
        let _ = rmp::encode::write_array_len(&mut out, slots.len() as u32);
        for slot in &slots {
            match *slot {
                Slot::Native(i) => self.stats[i].dump(&mut out),
                Slot::External(i) => match external.get_mut(i) {
                    Some(d) => out.append(d),
                    None => out.push(0xc0),
                },
            }
        }
        out
    }

    /// Messages some stat matched but could not use, summed over stats.
    pub fn unusable(&self) -> u64 {
        self.stats.iter().map(|s| s.unusable).sum()
    }
}

/// What became of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Used,
    NotAMessage,
    /// A label value is a map: Python cannot hash it, so a dump holding it would crash
    /// the exporter (mite 2.11's, and any Python reader of dumps).
    BadLabel,
}

/// Why `mite stats` could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket could not be connected, or receiving failed.
    #[error(transparent)]
    Transport(#[from] transport::Error),
}

/// What `mite stats` was told.
pub struct StatsConfig {
    pub in_address: String,
    pub out_address: String,
}

fn send_dump(out: &zmq::Socket, dump: &[u8]) -> bool {
    loop {
        match out.send(dump, zmq::DONTWAIT) {
            Ok(()) => return true,
            // Nobody is taking dumps yet (the exporter is down or slow): wait, but stay stoppable.
            Err(zmq::Error::EAGAIN) if signals::stop_requested().is_none() => {
                let _ = out.poll(zmq::POLLOUT, 100);
            }
            Err(e) => {
                log!(
                    Level::Error,
                    LOGGER,
                    "send_dump",
                    "could not send a dump: {e}"
                );
                return false;
            }
        }
    }
}

/// Runs until SIGINT/SIGTERM. `received` counts frames, `forwarded` the messages covered by the
/// dumps sent (`dumps=` on the totals line counts the dumps), `full` those of dumps not sent.
pub fn run(
    cfg: &StatsConfig,
    mut agg: Aggregator,
    mut external: Option<&mut dyn External>,
) -> Result<Counts, Error> {
    let transport = Transport::new();
    let input = transport.socket(SocketType::PULL, &cfg.in_address, Role::Connect)?;
    let out = transport.socket(SocketType::PUSH, &cfg.out_address, Role::Connect)?;
    signals::catch_stop();
    let max = transport::max_frame_bytes();
    let mut counts = Counts::default();
    let mut pending = 0u64;
    let mut dumps = 0u64;
    let mut next_dump = Instant::now() + DUMP_EVERY;
    let mut batch = Vec::new();
    loop {
        let stopping = signals::stop_requested().is_some();
        let wait = next_dump.saturating_duration_since(Instant::now());
        let frames = if stopping {
            // Take what already arrived, then dump it once more.
            transport::recv_burst(&input, 0, usize::MAX)
        } else {
            transport::recv_burst(&input, wait.as_millis() as i64, 4096)
        }
        .map_err(|e| transport::Error::recv(&cfg.in_address, e))?;
        for raw in frames {
            if !transport::admit(&raw, max, &mut counts, LOGGER) {
                continue;
            }
            match agg.process(&raw) {
                Verdict::Used => {}
                Verdict::NotAMessage => {
                    counts.malformed += 1;
                    continue;
                }
                Verdict::BadLabel => {
                    counts.refused += 1;
                    log_throttled!(
                        Level::Warning,
                        LOGGER,
                        "run",
                        "refused a message with a map as a label value",
                        "refused a message with a map as a label value (an exporter cannot \
                         use it as a label)"
                    );
                    continue;
                }
            }
            pending += 1;
            if external.is_some() {
                batch.push(raw);
            }
        }
        if let Some(ext) = external.as_deref_mut() {
            if !batch.is_empty() {
                ext.process(&batch);
                batch.clear();
            }
        }
        let now = Instant::now();
        if pending > 0 && (now >= next_dump || stopping) {
            let extra = external
                .as_deref_mut()
                .map(|e| e.dump())
                .unwrap_or_default();
            if send_dump(&out, &agg.dump(extra)) {
                dumps += 1;
                counts.forwarded += pending;
            } else {
                // The messages this dump covered are lost with it.
                counts.full += pending;
            }
            pending = 0;
        }
        if now >= next_dump {
            next_dump = now + DUMP_EVERY;
        }
        if stopping {
            break;
        }
    }
    crate::report::throttle::flush();
    let line = counts.line(&[("dumps", dumps), ("unusable", agg.unusable())]);
    log!(Level::Info, LOGGER, "run", "{line}");
    Ok(counts)
}

#[cfg(test)]
mod tests;
