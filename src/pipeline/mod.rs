//! The local message pipeline: one native thread that feeds every frame to the collector, the
//! recorder, the request stats and the message log, so none of it runs on the journeys' thread.
mod forward;
mod inbox;
mod messages;
#[cfg(test)]
mod tests;

pub use inbox::{Inbox, Item};

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::collector::{Collector, CollectorConfig};
use crate::recorder::Recorder;
use crate::report::console::{ConsoleConfig, RequestStats};
use crate::report::log::unix_now;

/// Why a pipeline could not start; the line names the folder or the address.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Folder(#[from] crate::collector::PathError),
    #[error(transparent)]
    Forward(#[from] crate::transport::Error),
    #[error("cannot start the pipeline thread: {0}")]
    Thread(#[source] io::Error),
}

/// Which consumers run, and how.
#[derive(Clone, Debug, Default)]
pub struct PipelineConfig {
    pub collector: Option<CollectorConfig>,
    /// With a filter, collector frames arrive as `Item::Collect` instead of from `Item::Frame`.
    pub collector_filtered: bool,
    pub recorder_dir: Option<PathBuf>,
    pub console: ConsoleConfig,
    /// mite 2.11's MsgOutput: exceptions at WARNING, every message at DEBUG.
    pub log_messages: bool,
    /// Distributed mode: every frame also goes to this PUSH address (`--message-socket`).
    pub forward: Option<String>,
}

/// What every consumer did, so the end of a run can show nothing was lost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub received: u64,
    pub malformed: u64,
    pub collected: u64,
    pub recorded: u64,
    pub refused: u64,
    /// Messages the collector or the recorder could not write.
    pub io_errors: u64,
    /// Why, in one line naming the path (the first failure of each).
    pub write_failures: Vec<String>,
    /// Frames handed to the `forward` socket, and those given up on at shutdown.
    pub forwarded: u64,
    pub forward_dropped: u64,
    /// Forwarded frames by message `type`.
    pub by_type: BTreeMap<String, u64>,
}

/// The pipeline's state when it stops.
pub struct Finished {
    pub stats: RequestStats,
    pub totals: Totals,
}

/// A running pipeline thread.
pub struct Pipeline {
    inbox: Arc<Inbox>,
    handle: Option<JoinHandle<Finished>>,
    closing: Arc<AtomicBool>,
}

struct Worker {
    cfg: PipelineConfig,
    collector: Option<Collector>,
    recorder: Option<Recorder>,
    stats: RequestStats,
    totals: Totals,
    forward: Option<forward::Forward>,
}

const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Longest a frame waits in a partial batch before the pipeline thread takes it.
// NOTE: a runner killed with SIGKILL loses what has not left the process. Taking partial
// batches every 10 ms (instead of at the 200 ms tick) bounds that loss to the last ~10 ms of
// messages; full batches still travel whole, so throughput is unchanged (docs/BENCHMARKS.md).
pub const MAX_WAIT: Duration = Duration::from_millis(10);

impl Pipeline {
    /// Opens the output folders here, so a bad path is reported before the test starts.
    pub fn start(cfg: PipelineConfig) -> Result<Pipeline, Error> {
        let collector = cfg.collector.clone().map(Collector::open).transpose()?;
        let recorder = cfg.recorder_dir.clone().map(Recorder::open).transpose()?;
        let stats = RequestStats::new(cfg.console.clone(), unix_now());
        let closing = Arc::new(AtomicBool::new(false));
        let forward = match &cfg.forward {
            Some(addr) => Some(forward::Forward::open(addr, closing.clone())?),
            None => None,
        };
        let (tx, rx) = crossbeam_channel::unbounded();
        let worker = Worker {
            cfg,
            collector,
            recorder,
            stats,
            totals: Totals::default(),
            forward,
        };
        let inbox = Arc::new(Inbox::new(tx));
        let for_worker = inbox.clone();
        let handle = std::thread::Builder::new()
            .name("mite-pipeline".into())
            .spawn(move || worker.run(rx, &for_worker))
            .map_err(Error::Thread)?;
        Ok(Pipeline {
            inbox,
            handle: Some(handle),
            closing,
        })
    }

    /// Where senders put frames; cheap to clone.
    pub fn inbox(&self) -> Arc<Inbox> {
        self.inbox.clone()
    }

    /// Drains what was sent, flushes the files, and returns the final numbers.
    pub fn finish(mut self) -> Finished {
        self.closing
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.inbox.send(Item::Close);
        self.handle
            .take()
            .expect("finish runs once")
            .join()
            .expect("the pipeline thread does not panic")
    }
}

impl Worker {
    fn run(mut self, rx: Receiver<Item>, inbox: &Inbox) -> Finished {
        let period = Duration::from_secs_f64(self.cfg.console.period_secs.max(0.05));
        let mut next_tick = Instant::now() + period.min(FLUSH_EVERY);
        let mut next_take = Instant::now() + MAX_WAIT;
        let mut last_flush = Instant::now();
        loop {
            let wait = next_tick
                .min(next_take)
                .saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(Item::Close) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(item) => self.handle(item),
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if now >= next_take {
                for raw in inbox.take_if_idle() {
                    self.frame(&raw);
                }
                next_take = now + MAX_WAIT;
            }
            if now >= next_tick {
                self.stats.tick(unix_now());
                next_tick = now + period.min(FLUSH_EVERY);
            }
            if now.duration_since(last_flush) >= FLUSH_EVERY {
                self.flush();
                last_flush = now;
            }
        }
        // Anything queued before Close was sent by the run: keep it.
        while let Ok(item) = rx.try_recv() {
            if !matches!(item, Item::Close) {
                self.handle(item);
            }
        }
        for raw in inbox.take_if_idle() {
            self.frame(&raw);
        }
        self.flush();
        self.account_writes();
        if let Some(f) = self.forward.as_mut() {
            f.close();
            self.totals.forwarded = f.forwarded;
            self.totals.forward_dropped = f.dropped;
            self.totals.by_type = std::mem::take(&mut f.by_type);
        }
        self.stats.finish(unix_now());
        Finished {
            stats: self.stats,
            totals: self.totals,
        }
    }

    fn flush(&mut self) {
        if let Some(c) = self.collector.as_mut() {
            c.flush();
            self.totals.collected = c.written;
        }
    }

    /// The end-of-run line for each writer that lost messages.
    fn account_writes(&mut self) {
        if let Some(c) = self.collector.as_ref() {
            if let Some(f) = &c.failure {
                self.totals.io_errors += c.lost_frames();
                self.totals.write_failures.push(format!(
                    "the collector could not write {} messages: {f}",
                    c.lost_frames()
                ));
            }
        }
        if let Some(r) = self.recorder.as_ref() {
            if let Some(f) = &r.failure {
                self.totals.write_failures.push(format!(
                    "the recorder could not write {} messages: {f}",
                    r.lost.full + r.lost.unwritable
                ));
            }
        }
    }

    fn handle(&mut self, item: Item) {
        match item {
            Item::Batch(frames) => {
                for raw in &frames {
                    self.frame(raw);
                }
            }
            Item::Collect { raw, keep } => self.collect(&raw, keep),
            Item::Close => {}
        }
    }

    fn frame(&mut self, raw: &[u8]) {
        self.totals.received += 1;
        if let Some(f) = self.forward.as_mut() {
            f.send(raw);
        }
        self.dispatch(raw);
        if !self.cfg.collector_filtered {
            self.collect(raw, true);
        }
    }

    fn collect(&mut self, raw: &[u8], keep: bool) {
        if let Some(c) = self.collector.as_mut() {
            c.process(raw, keep);
        }
    }
}
