//! One graph handle's write turn and the writes waiting for the next group
//! commit. The turn is held by a load for its whole run and by a batch of
//! mutations while it runs and publishes (`query::mutate::batch`), so that
//! writes through one handle never race each other; the manifest publish
//! stays the authority between handles and processes.
//!
//! This layer does not know what a waiting write is: the query layer puts
//! its own requests here and takes them back.

use std::any::Any;
use std::sync::{Arc, Mutex};

/// A waiting write, as the layer that queued it made it.
pub type Waiting = Box<dyn Any + Send>;

#[derive(Default)]
pub struct WriteQueue {
    turn: Arc<tokio::sync::Mutex<()>>,
    waiting: Mutex<Vec<Waiting>>,
    /// Writes run again after losing the publish race (`retries`).
    retries: std::sync::atomic::AtomicU64,
    /// Taking turns with other handles on the graph (`graph::intents`).
    pub(crate) intents: super::intents::Intents,
}

impl std::fmt::Debug for WriteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteQueue").field("waiting", &self.waiting_len()).finish()
    }
}

impl WriteQueue {
    /// Waits for the write turn.
    pub async fn turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.turn.clone().lock_owned().await
    }

    /// Returns once every write started through this handle (and the
    /// maintenance after it) is done: what a process does before it exits.
    pub async fn settle(&self) {
        drop(self.turn().await);
    }

    /// How many writes wait for the next batch.
    pub fn waiting_len(&self) -> usize {
        self.waiting.lock().expect("write queue").len()
    }

    /// How many times a write through this handle lost the publish race to
    /// another writer and ran again on the new head.
    pub fn retries(&self) -> u64 {
        self.retries.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many writes through this handle waited for another handle that
    /// had lost a publish race to have its turn (`graph::intents`).
    pub fn waits(&self) -> u64 {
        self.intents.waits()
    }

    pub(crate) fn count_retry(&self) {
        self.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn push(&self, w: Waiting) {
        self.waiting.lock().expect("write queue").push(w);
    }

    /// The first waiting write and those right behind it that `joins` the
    /// first, at most `max`, in arrival order.
    pub(crate) fn take(&self, max: usize, joins: impl Fn(&Waiting, &Waiting) -> bool) -> Vec<Waiting> {
        let mut w = self.waiting.lock().expect("write queue");
        let Some(first) = w.first() else { return Vec::new() };
        let n = 1 + w.iter().skip(1).take(max.saturating_sub(1)).take_while(|x| joins(first, x)).count();
        w.drain(..n.min(max.max(1))).collect()
    }
}
