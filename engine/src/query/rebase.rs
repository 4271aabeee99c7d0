//! Rebuilding a view's base off the request path.
//!
//! A view that follows writes ([`NodeIds`], [`Column`], [`Adjacency`])
//! holds a base plus what changed since; past a limit
//! (`ViewTuning::rebase_limit`) the changes are merged into a new base (a
//! rebase) so lookups stay one probe and memory stays flat. The reader that
//! derives a value past the limit stores it as usual and hands it here: a
//! background task rebases it ([`Rebase::rebased`], on a blocking thread)
//! while readers go on with the value as it is. Writes keep coming
//! meanwhile, so when the rebase is done the newest cached version may be a
//! later one, derived from the value rebased; that one is re-expressed over the new base
//! ([`Rebase::transplant`], costing only what changed since the rebase began)
//! and replaces the cached newest version, whose meaning it keeps exactly.
//! A reader holding the old value is never disturbed (values are
//! immutable), and the swap happens under the key's build lock, so no
//! deriving reader sees half of it.
//!
//! One rebase per (kind, key) at a time. A runtime-less caller rebases inline.

use std::sync::Arc;
use std::time::Duration;

use super::adjacency::Adjacency;
use super::column::Column;
use super::node_ids::NodeIds;
use crate::session::TableCache;

/// A view value whose base can be rebuilt with the changes merged in.
pub(crate) trait Rebase: std::any::Any + Send + Sync + Sized {
    /// Entries held apart from the base.
    fn delta_len(&self) -> usize;
    /// The same value, everything merged into a new base.
    fn rebased(&self) -> Self;
    /// `self`, derived from `from` by later writes, over the base of
    /// `onto` (which is `from.rebased()`); `None` if `self` does not
    /// descend from `from` (built from scratch since).
    fn transplant(&self, from: &Self, onto: &Self) -> Option<Self>;
    fn memory_size(&self) -> usize;
}

impl Rebase for NodeIds {
    fn delta_len(&self) -> usize {
        NodeIds::delta_len(self)
    }
    fn rebased(&self) -> Self {
        NodeIds::rebased(self)
    }
    fn transplant(&self, from: &Self, onto: &Self) -> Option<Self> {
        NodeIds::transplant(self, from, onto)
    }
    fn memory_size(&self) -> usize {
        NodeIds::memory_size(self)
    }
}

impl Rebase for Column {
    fn delta_len(&self) -> usize {
        self.patch_len()
    }
    fn rebased(&self) -> Self {
        Column::rebased(self)
    }
    fn transplant(&self, from: &Self, onto: &Self) -> Option<Self> {
        Column::transplant(self, from, onto)
    }
    fn memory_size(&self) -> usize {
        Column::memory_size(self)
    }
}

impl Rebase for Adjacency {
    fn delta_len(&self) -> usize {
        self.patch_len()
    }
    fn rebased(&self) -> Self {
        Adjacency::rebased(self)
    }
    fn transplant(&self, from: &Self, onto: &Self) -> Option<Self> {
        Adjacency::transplant(self, from, onto)
    }
    fn memory_size(&self) -> usize {
        Adjacency::memory_size(self)
    }
}

/// Rebases `value` (cached under `kind`/`key`) in the background, then
/// swaps it, or the newest version derived from it, into the cache.
/// `delay` holds the rebase back (tests use it to let writes land
/// meanwhile; zero otherwise).
pub(crate) fn schedule<T: Rebase>(cache: &Arc<TableCache>, kind: &'static str, key: String, value: Arc<T>, delay: Duration) {
    if !cache.start_rebase(kind, &key) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        let rebased = value.rebased();
        let done = install(cache, kind, &key, &value, rebased);
        cache.finish_rebase(kind, &key, done.is_some(), done == Some(true));
        return;
    };
    let cache = cache.clone();
    runtime.spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let rebasing = value.clone();
        let Ok(rebased) = tokio::task::spawn_blocking(move || rebasing.rebased()).await else {
            cache.finish_rebase(kind, &key, false, false);
            return;
        };
        // Deriving readers of this key hold the same lock: none is between
        // reading the newest version and storing the next one.
        let _building = cache.building(kind, &key).await;
        let (cache2, key2) = (cache.clone(), key.clone());
        let done = tokio::task::spawn_blocking(move || install(&cache2, kind, &key2, &value, rebased)).await.ok().flatten();
        cache.finish_rebase(kind, &key, done.is_some(), done == Some(true));
    });
}

/// Puts `rebased` (`from` rebased) in place of the newest cached
/// version of `key`, re-expressed over the new base if that version is a
/// later one. `None` if it was not put, else whether it was re-expressed.
fn install<T: Rebase>(cache: &TableCache, kind: &'static str, key: &str, from: &Arc<T>, rebased: T) -> Option<bool> {
    let (version, newest) = cache.newest_before::<T>(kind, key, u64::MAX)?;
    let (next, transplanted) = if Arc::ptr_eq(&newest, from) { (rebased, false) } else { (newest.transplant(from, &rebased)?, true) };
    let bytes = next.memory_size() as u64;
    cache.replace(kind, key, version, Arc::new(next), bytes).then_some(transplanted)
}
