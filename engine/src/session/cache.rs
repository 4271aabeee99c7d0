//! A graph handle's cache of what queries read from its tables: per (kind,
//! key), the values of the last few table versions, so a reader pinned to
//! a slightly older snapshot still finds its version while newer readers
//! find theirs, and nothing is ever read from two versions at once. The
//! values are whatever the query engine builds (datasets, node ids, columns,
//! adjacency); this cache only stores, sizes and evicts them. A value built
//! from an older one (`put_derived`: a view that followed a write) joins
//! the versions kept; one built from scratch (`put`) replaces them. With a [`CacheBudget`] its entries count against
//! a limit shared with every other cache of the session and may be evicted;
//! without one it keeps what it has read for the life of the handle.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::budget::CacheBudget;

/// The kind under which a table's Lance dataset, opened at one version,
/// is cached (`Arc<lance::Dataset>`, by table location). Queries open and
/// keep them; a write puts the version it committed, so the reads after it
/// do not open it again.
pub const DATASET: &str = "dataset";

/// A cached value, of the type its kind names.
type Value = Arc<dyn Any + Send + Sync>;

/// Versions of one key kept at most: a derived value shares most of its
/// memory with the one it came from, so keeping a few costs little.
pub const KEEP_VERSIONS: usize = 32;

/// The kept versions of one key (oldest first), with the size of the
/// newest (which includes what it shares with the older ones) and last use.
struct Entry {
    versions: Vec<(u64, Value)>,
    bytes: u64,
    tick: u64,
}

/// Held by the one reader building a value (`TableCache::building`).
type BuildLock = Arc<tokio::sync::Mutex<()>>;

/// Per-graph-handle cache, made by [`Session::new_table_cache`](super::Session::new_table_cache).
/// Entries by kind, then key (two levels, so a lookup by `&str` allocates nothing).
#[derive(Default)]
pub struct TableCache {
    entries: Mutex<HashMap<&'static str, HashMap<String, Entry>>>,
    budget: Option<Arc<CacheBudget>>,
    /// One builder at a time per (kind, key); see [`TableCache::building`].
    builds: Mutex<HashMap<(&'static str, String), BuildLock>>,
    /// Keys whose base is being rebuilt in the background (`query::rebase`).
    rebasing: Mutex<std::collections::HashSet<(&'static str, String)>>,
    /// Background rebuilds swapped in so far, and how many of them over a
    /// version newer than the one rebuilt.
    rebased: std::sync::atomic::AtomicU64,
    transplanted: std::sync::atomic::AtomicU64,
}

/// Background rebuilds of view bases (`query::rebase`) of one graph handle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebases {
    /// Running now.
    pub running: usize,
    /// Swapped into the cache so far.
    pub installed: u64,
    /// Of those, how many went in under a newer version than the one
    /// rebuilt (writes landed while the rebuild ran).
    pub transplanted: u64,
}

impl std::fmt::Debug for TableCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TableCache")
    }
}

/// An entry as an eviction pass saw it.
#[derive(Debug)]
pub(crate) struct EntryRef {
    kind: &'static str,
    key: String,
    tick: u64,
}

impl TableCache {
    pub(crate) fn with_budget(budget: Arc<CacheBudget>) -> TableCache {
        let mut cache = TableCache::default();
        cache.budget = Some(budget);
        cache
    }

    fn tick(&self) -> u64 {
        self.budget.as_ref().map_or(0, |b| b.tick())
    }

    /// The right to build the value of `kind` for `key`: readers that miss
    /// the same value at once (a new version after a write, with many
    /// clients reading) build it once, the others wait and then find it,
    /// instead of each reading and building the same thing. A builder looks
    /// the cache up again once it holds this.
    pub async fn building(&self, kind: &'static str, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self.builds.lock().expect("cache lock").entry((kind, key.to_string())).or_default().clone();
        lock.lock_owned().await
    }

    /// The value of `kind` cached for `key` at `version`, if any. A value
    /// stored under `kind` with another type is treated as absent.
    pub fn get<T: Any + Send + Sync>(&self, kind: &'static str, key: &str, version: u64) -> Option<Arc<T>> {
        let mut m = self.entries.lock().expect("cache lock");
        let e = m.get_mut(kind)?.get_mut(key)?;
        let v = e.versions.iter().find(|(v, _)| *v == version)?.1.clone();
        e.tick = self.tick();
        v.downcast::<T>().ok()
    }

    /// The newest version of `kind` cached for `key` at or before `version`,
    /// and that version: what a view of a later version can be derived from.
    pub fn newest_before<T: Any + Send + Sync>(&self, kind: &'static str, key: &str, version: u64) -> Option<(u64, Arc<T>)> {
        let mut m = self.entries.lock().expect("cache lock");
        let e = m.get_mut(kind)?.get_mut(key)?;
        let (v, value) = e.versions.iter().rev().find(|(v, _)| *v <= version)?.clone();
        e.tick = self.tick();
        value.downcast::<T>().ok().map(|x| (v, x))
    }

    /// Stores `value` for `key` at `version`, replacing every other version,
    /// and charges `bytes` to the budget (0: never evicted).
    pub fn put<T: Any + Send + Sync>(&self, kind: &'static str, key: String, version: u64, value: Arc<T>, bytes: u64) {
        let entry = Entry { versions: vec![(version, value)], bytes, tick: self.tick() };
        let old = self.entries.lock().expect("cache lock").entry(kind).or_default().insert(key, entry);
        self.recharge(bytes, old.map_or(0, |o| o.bytes));
    }

    /// Stores `value`, derived from a kept version, for `key` at `version`
    /// beside the versions kept (the oldest beyond [`KEEP_VERSIONS`] go);
    /// `bytes` is its whole size, shared parts included. A version older
    /// than the newest kept is not stored (the cache moves forward only);
    /// whether it was stored. The versions stored under one key are thus
    /// one line of descent: each derived from the one before it.
    pub fn put_derived<T: Any + Send + Sync>(&self, kind: &'static str, key: String, version: u64, value: Arc<T>, bytes: u64) -> bool {
        let tick = self.tick();
        let old_bytes = {
            let mut m = self.entries.lock().expect("cache lock");
            let of_kind = m.entry(kind).or_default();
            match of_kind.get_mut(&key) {
                Some(e) if e.versions.last().is_some_and(|(v, _)| *v >= version) => return false,
                Some(e) => {
                    e.versions.push((version, value));
                    if e.versions.len() > KEEP_VERSIONS {
                        e.versions.remove(0);
                    }
                    e.tick = tick;
                    std::mem::replace(&mut e.bytes, bytes)
                }
                None => {
                    of_kind.insert(key, Entry { versions: vec![(version, value)], bytes, tick });
                    0
                }
            }
        };
        self.recharge(bytes, old_bytes);
        true
    }

    fn recharge(&self, charged: u64, released: u64) {
        if let Some(b) = &self.budget {
            b.charge(charged);
            b.release(released);
            b.enforce();
        }
    }

    /// Claims the background rebuild of `key`'s base; false if one is
    /// already running.
    pub(crate) fn start_rebase(&self, kind: &'static str, key: &str) -> bool {
        self.rebasing.lock().expect("cache lock").insert((kind, key.to_string()))
    }

    /// Ends the rebuild [`start_rebase`](TableCache::start_rebase) claimed:
    /// `installed`, its result went into the cache, `transplanted`, under a
    /// newer version than the one rebuilt.
    pub(crate) fn finish_rebase(&self, kind: &'static str, key: &str, installed: bool, transplanted: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        if installed {
            self.rebased.fetch_add(1, Relaxed);
        }
        if installed && transplanted {
            self.transplanted.fetch_add(1, Relaxed);
        }
        self.rebasing.lock().expect("cache lock").remove(&(kind, key.to_string()));
    }

    pub fn rebases(&self) -> Rebases {
        use std::sync::atomic::Ordering::Relaxed;
        Rebases {
            running: self.rebasing.lock().expect("cache lock").len(),
            installed: self.rebased.load(Relaxed),
            transplanted: self.transplanted.load(Relaxed),
        }
    }

    /// Puts `value` in place of the one cached for `key` at `version` (an
    /// equal value in another form: a rebuilt base); false if that version
    /// is no longer cached.
    pub(crate) fn replace<T: Any + Send + Sync>(&self, kind: &'static str, key: &str, version: u64, value: Arc<T>, bytes: u64) -> bool {
        let old_bytes = {
            let mut m = self.entries.lock().expect("cache lock");
            let Some(e) = m.get_mut(kind).and_then(|k| k.get_mut(key)) else { return false };
            let newest = e.versions.last().is_some_and(|(v, _)| *v == version);
            let Some(slot) = e.versions.iter_mut().find(|(v, _)| *v == version) else { return false };
            slot.1 = value;
            if !newest {
                return true;
            }
            std::mem::replace(&mut e.bytes, bytes)
        };
        self.recharge(bytes, old_bytes);
        true
    }

    /// The evictable entries (those with a size) and when each was last used.
    pub(crate) fn entries(&self) -> Vec<(u64, EntryRef)> {
        let m = self.entries.lock().expect("cache lock");
        let all = m.iter().flat_map(|(kind, of_kind)| of_kind.iter().map(move |(key, e)| (*kind, key, e)));
        all.filter(|(_, _, e)| e.bytes > 0).map(|(kind, key, e)| (e.tick, EntryRef { kind, key: key.clone(), tick: e.tick })).collect()
    }

    /// Removes the entry unless it was used or replaced since the pass saw it.
    pub(crate) fn evict(&self, r: &EntryRef) -> bool {
        let freed = {
            let mut m = self.entries.lock().expect("cache lock");
            let of_kind = m.get_mut(r.kind);
            match of_kind {
                Some(of_kind) if of_kind.get(&r.key).is_some_and(|e| e.tick == r.tick) => of_kind.remove(&r.key).map(|e| e.bytes),
                _ => None,
            }
        };
        match (freed, &self.budget) {
            (Some(bytes), Some(b)) => {
                b.release(bytes);
                true
            }
            _ => false,
        }
    }
}

impl Drop for TableCache {
    fn drop(&mut self) {
        if let Some(b) = &self.budget {
            let total = self.entries.lock().map(|m| m.values().flat_map(|k| k.values()).map(|e| e.bytes).sum()).unwrap_or(0);
            b.release(total);
        }
    }
}
