//! A node table's ids and their dense indexes, as a view that follows
//! writes: a base (built by a scan, then only ever replaced whole) plus the
//! ids added since and the dense indexes deleted since. Dense indexes never
//! move while the view follows writes: a deleted node's index stays taken
//! (dead), an id written again (an update rewrites its row) gets its old
//! index back, a new id the next free one. So columns and adjacency built
//! over this numbering stay valid across writes; only a view built from
//! scratch numbers afresh (a new [`generation`](NodeIds::generation)).
//!
//! Cloning is cheap (the base is shared; the parts since it are persistent
//! maps), so each table version gets its own immutable view and a reader
//! holding an older one is never disturbed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, StringArray};
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::load::ids::{IdKey, id_key};

/// A persistent (cheaply cloned, structurally shared) map and set, for the
/// parts of a view that change between table versions.
pub type PMap<K, V> = imbl::GenericHashMap<K, V, FxBuildHasher, imbl::shared_ptr::DefaultSharedPtr>;
pub type PSet<K> = imbl::GenericHashSet<K, FxBuildHasher, imbl::shared_ptr::DefaultSharedPtr>;

static GENERATIONS: AtomicU64 = AtomicU64::new(1);

struct IdBase {
    ids: ArrayRef,
    index: FxHashMap<IdKey, u32>,
}

#[derive(Clone)]
pub struct NodeIds {
    base: Arc<IdBase>,
    /// Ids added since the base: dense index `base len + position`.
    added: imbl::Vector<Arc<str>>,
    added_index: PMap<IdKey, u32>,
    /// Dense indexes whose node is deleted.
    dead: PSet<u32>,
    live: usize,
    generation: u64,
    /// The table version whose scan order this numbering is (a view built
    /// from scratch and not changed since): columns read by a scan of that
    /// version are in dense order as they come.
    scan_order_of: Option<u64>,
}

impl NodeIds {
    /// The ids of a table at `version`, in scan order.
    pub fn from_scan(ids: ArrayRef, version: u64) -> NodeIds {
        let s = ids.as_string::<i32>();
        let mut index = FxHashMap::with_capacity_and_hasher(s.len(), Default::default());
        for i in 0..s.len() {
            index.insert(id_key(s.value(i)), i as u32);
        }
        NodeIds {
            live: s.len(),
            base: Arc::new(IdBase { ids, index }),
            added: Default::default(),
            added_index: Default::default(),
            dead: Default::default(),
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
            scan_order_of: Some(version),
        }
    }

    /// Dense indexes in use, dead ones included (the bound of every index).
    pub fn len(&self) -> usize {
        self.base.ids.len() + self.added.len()
    }

    /// Nodes that exist.
    pub fn live_len(&self) -> usize {
        self.live
    }

    pub fn is_live(&self, dense: u32) -> bool {
        (dense as usize) < self.len() && (self.dead.is_empty() || !self.dead.contains(&dense))
    }

    /// The dense indexes of the nodes that exist, ascending.
    pub fn live(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len() as u32).filter(move |d| self.dead.is_empty() || !self.dead.contains(d))
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn scan_order_of(&self) -> Option<u64> {
        self.scan_order_of
    }

    pub fn id(&self, dense: u32) -> &str {
        let n = self.base.ids.len();
        match (dense as usize).checked_sub(n) {
            None => self.base.ids.as_string::<i32>().value(dense as usize),
            Some(i) => self.added.get(i).map(|s| &**s).unwrap_or(""),
        }
    }

    /// The dense index of a node that exists.
    pub fn dense(&self, id: &str) -> Option<u32> {
        self.any_dense(id_key(id)).filter(|d| !self.dead.contains(d))
    }

    /// The dense index an id has or had (a deleted node keeps its index).
    pub fn dense_any(&self, id: &str) -> Option<u32> {
        self.any_dense(id_key(id))
    }

    fn any_dense(&self, k: IdKey) -> Option<u32> {
        self.base.index.get(&k).or_else(|| self.added_index.get(&k)).copied()
    }

    /// This view after a change that deleted the ids `removed`, then wrote
    /// the ids `written` (new nodes, or rows rewritten by an update).
    pub fn apply<'a>(&self, removed: impl IntoIterator<Item = &'a str>, written: impl IntoIterator<Item = &'a str>) -> NodeIds {
        let mut next = self.clone();
        next.scan_order_of = None;
        for id in removed {
            if let Some(d) = next.any_dense(id_key(id))
                && next.dead.insert(d).is_none()
            {
                next.live -= 1;
            }
        }
        for id in written {
            let k = id_key(id);
            match next.any_dense(k) {
                Some(d) => {
                    if next.dead.remove(&d).is_some() {
                        next.live += 1;
                    }
                }
                None => {
                    let d = next.len() as u32;
                    next.added.push_back(Arc::from(id));
                    next.added_index.insert(k, d);
                    next.live += 1;
                }
            }
        }
        next
    }

    /// Entries held apart from the base (what a rebase folds in).
    pub fn delta_len(&self) -> usize {
        self.added.len()
    }

    /// The same view with the ids added since the base folded into a new
    /// base (same numbering, same generation): lookups stay one hash probe.
    pub fn rebased(&self) -> NodeIds {
        if self.added.is_empty() {
            return self.clone();
        }
        let mut ids: Vec<&str> = Vec::with_capacity(self.len());
        let base = self.base.ids.as_string::<i32>();
        ids.extend((0..base.len()).map(|i| base.value(i)));
        ids.extend(self.added.iter().map(|s| &**s));
        let mut index = self.base.index.clone();
        index.extend(self.added_index.iter().map(|(k, v)| (*k, *v)));
        NodeIds {
            base: Arc::new(IdBase { ids: Arc::new(StringArray::from(ids)), index }),
            added: Default::default(),
            added_index: Default::default(),
            ..self.clone()
        }
    }

    /// This view, derived from `from` by later writes, over the base of
    /// `onto` (`from` rebased): the ids added since `from` stay apart, the
    /// rest is in `onto`'s base. Same numbering. `None` if this view does
    /// not descend from `from`.
    pub fn transplant(&self, from: &NodeIds, onto: &NodeIds) -> Option<NodeIds> {
        let folded = from.len();
        let descends = Arc::ptr_eq(&self.base, &from.base)
            && self.generation == from.generation
            && onto.generation == from.generation
            && onto.base.ids.len() == folded
            && self.len() >= folded;
        if !descends {
            return None;
        }
        let added = self.added.clone().split_off(folded - self.base.ids.len());
        let mut added_index = PMap::default();
        for (i, id) in added.iter().enumerate() {
            added_index.insert(id_key(id), (folded + i) as u32);
        }
        Some(NodeIds { base: onto.base.clone(), added, added_index, ..self.clone() })
    }

    /// Bytes held, counting the base once.
    pub fn memory_size(&self) -> usize {
        let base = self.base.ids.get_array_memory_size() + self.base.index.capacity() * (std::mem::size_of::<(IdKey, u32)>() + 1);
        let added: usize = self.added.iter().map(|s| s.len() + 48).sum();
        base + added + self.dead.len() * 16
    }
}
