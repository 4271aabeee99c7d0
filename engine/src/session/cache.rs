//! A graph handle's cache of what queries read from its tables: one value
//! per (kind, key), each for one table version, so a new table version
//! replaces exactly the entries of the table it changed and nothing is ever
//! read from two versions at once. The values are whatever the query engine
//! builds (datasets, node ids, columns, adjacency); this cache only stores,
//! sizes and evicts them. With a [`CacheBudget`] its entries count against
//! a limit shared with every other cache of the session and may be evicted;
//! without one it keeps what it has read for the life of the handle.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::budget::CacheBudget;

/// A cached value, of the type its kind names.
type Value = Arc<dyn Any + Send + Sync>;

/// One cached version of one key, with its size and last use.
struct Entry {
    version: u64,
    value: Value,
    bytes: u64,
    tick: u64,
}

/// Per-graph-handle cache, made by [`Session::new_table_cache`](super::Session::new_table_cache).
/// Entries by kind, then key (two levels, so a lookup by `&str` allocates nothing).
#[derive(Default)]
pub struct TableCache {
    entries: Mutex<HashMap<&'static str, HashMap<String, Entry>>>,
    budget: Option<Arc<CacheBudget>>,
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
        TableCache { entries: Default::default(), budget: Some(budget) }
    }

    fn tick(&self) -> u64 {
        self.budget.as_ref().map_or(0, |b| b.tick())
    }

    /// The value of `kind` cached for `key` at `version`, if any. A value
    /// stored under `kind` with another type is treated as absent.
    pub fn get<T: Any + Send + Sync>(&self, kind: &'static str, key: &str, version: u64) -> Option<Arc<T>> {
        let mut m = self.entries.lock().expect("cache lock");
        let e = m.get_mut(kind)?.get_mut(key).filter(|e| e.version == version)?;
        e.tick = self.tick();
        e.value.clone().downcast::<T>().ok()
    }

    /// Stores `value` for `key` at `version`, replacing any other version,
    /// and charges `bytes` to the budget (0: never evicted).
    pub fn put<T: Any + Send + Sync>(&self, kind: &'static str, key: String, version: u64, value: Arc<T>, bytes: u64) {
        let entry = Entry { version, value, bytes, tick: self.tick() };
        let old = self.entries.lock().expect("cache lock").entry(kind).or_default().insert(key, entry);
        if let Some(b) = &self.budget {
            b.charge(bytes);
            if let Some(old) = old {
                b.release(old.bytes);
            }
            b.enforce();
        }
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
