//! Frames on their way to the pipeline thread, in batches: one channel message (and at most one
//! thread wake-up) per batch instead of per frame.
use std::sync::Mutex;

use crossbeam_channel::Sender;

/// What travels to the pipeline thread.
pub enum Item {
    /// Encoded messages, oldest first.
    Batch(Vec<Vec<u8>>),
    /// A frame for the collector only, after the `--collector-filter` gave its verdict.
    Collect { raw: Vec<u8>, keep: bool },
    /// Everything has been sent: drain, flush and stop.
    Close,
}

/// A batch is sent when it holds this many frames; the pipeline thread also takes a partial
/// batch every `MAX_WAIT` (10 ms), so a frame waits at most that long.
// NOTE: 256 measured best of {1, 64, 256, 1024} on the journeys benchmark: per-frame sends
// cost the pipeline thread ~12% of a core in channel spinning; larger batches gained nothing.
pub(super) const BATCH: usize = 256;

/// Shared by the senders (loop thread) and the pipeline thread.
pub struct Inbox {
    batch: Mutex<Vec<Vec<u8>>>,
    tx: Sender<Item>,
}

impl Inbox {
    pub(super) fn new(tx: Sender<Item>) -> Self {
        Inbox {
            batch: Mutex::new(Vec::with_capacity(BATCH)),
            tx,
        }
    }

    /// Adds a frame; sends the batch when it is full.
    pub fn push(&self, frame: Vec<u8>) {
        let mut batch = self.batch.lock().expect("inbox lock");
        batch.push(frame);
        if batch.len() >= BATCH {
            // Sent under the lock, so a later partial take can never overtake this batch.
            let full = std::mem::replace(&mut *batch, Vec::with_capacity(BATCH));
            let _ = self.tx.send(Item::Batch(full));
        }
    }

    /// Sends a non-frame item, after the frames pushed before it.
    pub fn send(&self, item: Item) {
        let mut batch = self.batch.lock().expect("inbox lock");
        if !batch.is_empty() {
            let _ = self.tx.send(Item::Batch(std::mem::take(&mut *batch)));
        }
        let _ = self.tx.send(item);
    }

    /// The partial batch, if the channel holds nothing older (checked under the lock).
    pub(super) fn take_if_idle(&self) -> Vec<Vec<u8>> {
        let mut batch = self.batch.lock().expect("inbox lock");
        if self.tx.is_empty() {
            std::mem::take(&mut *batch)
        } else {
            Vec::new()
        }
    }
}
