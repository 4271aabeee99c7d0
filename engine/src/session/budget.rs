//! A memory budget for the query caches of many graphs at once.
//!
//! Each graph handle's [`TableCache`] holds node ids, property columns and
//! adjacency for the table versions it has read. A
//! server serving many graphs gives all of them one `CacheBudget`: every
//! entry is charged its size, and an insert that takes the total over the
//! limit evicts the entries used least recently, across all graphs, until it
//! fits again. A query holding an evicted entry keeps it (entries are shared
//! pointers) until it finishes; the next query reads the table again.
//!
//! Without a budget (a session made without `cache_bytes`: the CLI, embedded
//! use) a cache keeps the last few versions of each table it has read, for
//! the life of the graph handle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::cache::{EntryRef, TableCache};

pub struct CacheBudget {
    limit: u64,
    used: AtomicU64,
    clock: AtomicU64,
    evictions: AtomicU64,
    caches: Mutex<Vec<Weak<TableCache>>>,
}

/// What a budget holds right now, for health reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetUsage {
    pub limit_bytes: u64,
    pub used_bytes: u64,
    pub evictions: u64,
}

impl CacheBudget {
    /// A budget of `limit_bytes` shared by every cache registered with it.
    pub fn new(limit_bytes: u64) -> Arc<CacheBudget> {
        Arc::new(CacheBudget {
            limit: limit_bytes,
            used: AtomicU64::new(0),
            clock: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            caches: Mutex::new(Vec::new()),
        })
    }

    pub fn usage(&self) -> BudgetUsage {
        BudgetUsage { limit_bytes: self.limit, used_bytes: self.used.load(Ordering::Relaxed), evictions: self.evictions.load(Ordering::Relaxed) }
    }

    /// A new cache whose entries this budget accounts for.
    pub(crate) fn new_cache(self: &Arc<Self>) -> Arc<TableCache> {
        let cache = Arc::new(TableCache::with_budget(self.clone()));
        let mut caches = self.caches.lock().expect("budget lock");
        caches.retain(|c| c.strong_count() > 0);
        caches.push(Arc::downgrade(&cache));
        cache
    }

    /// A logical time for least-recently-used order.
    pub(crate) fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn charge(&self, bytes: u64) {
        self.used.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn release(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Evicts least recently used entries, over all caches, until the total
    /// is within the limit.
    pub(crate) fn enforce(&self) {
        if self.used.load(Ordering::Relaxed) <= self.limit {
            return;
        }
        // One eviction pass at a time; caches are locked one by one inside it.
        let caches = self.caches.lock().expect("budget lock");
        let live: Vec<Arc<TableCache>> = caches.iter().filter_map(Weak::upgrade).collect();
        let mut candidates: Vec<(u64, usize, EntryRef)> = Vec::new();
        for (i, c) in live.iter().enumerate() {
            for (tick, entry) in c.entries() {
                candidates.push((tick, i, entry));
            }
        }
        candidates.sort_unstable_by_key(|(tick, _, _)| *tick);
        for (_, i, entry) in candidates {
            if self.used.load(Ordering::Relaxed) <= self.limit {
                break;
            }
            if live[i].evict(&entry) {
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl std::fmt::Debug for CacheBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CacheBudget({:?})", self.usage())
    }
}
