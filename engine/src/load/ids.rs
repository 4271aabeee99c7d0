//! Row ids as 128-bit keys, and the table that holds them.
//!
//! A load checks every edge endpoint and every node key against sets of up
//! to millions of ids. Those checks are memory-bound: each one is a cache
//! (and often a TLB) miss into a table far larger than the caches. So:
//! - an id is reduced once, where it is parsed (in parallel), to an
//!   [`IdKey`]: the 128-bit XXH3 hash of its text. Two distinct ids share a
//!   key with probability about 2^-128 per pair;
//! - [`IdTable`] stores keys inline in one open-addressing array (linear
//!   probing), so a lookup touches one cache line, not a control byte and
//!   then a bucket; values live in a second array touched only on a hit;
//! - [`IdTable::prefetch`] lets the loader ask for the lines of the next
//!   rows' keys before it needs them, so several misses overlap instead of
//!   queueing one after another.

/// Key of a row id (see the module docs).
pub type IdKey = u128;

pub fn id_key(id: &str) -> IdKey {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// Key 0 marks an empty slot; a real key of 0 is stored as 1 (the two then
/// collide, with probability 2^-127).
const EMPTY: IdKey = 0;

fn stored(k: IdKey) -> IdKey {
    if k == EMPTY { 1 } else { k }
}

/// A hash map from [`IdKey`] to `V` (a set with `V = ()`). Keys are already
/// uniform hashes, so the low bits pick the slot directly.
#[derive(Debug, Clone)]
pub struct IdTable<V> {
    keys: Vec<IdKey>,
    vals: Vec<V>,
    len: usize,
}

impl<V: Copy + Default> Default for IdTable<V> {
    fn default() -> Self {
        Self::new()
    }
}

const MIN_SLOTS: usize = 16;

impl<V: Copy + Default> IdTable<V> {
    pub fn new() -> Self {
        Self::with_slots(MIN_SLOTS)
    }

    fn with_slots(slots: usize) -> Self {
        debug_assert!(slots.is_power_of_two());
        IdTable { keys: vec![EMPTY; slots], vals: vec![V::default(); slots], len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn home(&self, k: IdKey) -> usize {
        (k as usize) & (self.keys.len() - 1)
    }

    /// `Ok(slot)` holding `k`, or `Err(slot)`: the empty slot where it would go.
    #[inline]
    fn find(&self, k: IdKey) -> Result<usize, usize> {
        let mask = self.keys.len() - 1;
        let mut i = self.home(k);
        loop {
            let here = self.keys[i];
            if here == k {
                return Ok(i);
            }
            if here == EMPTY {
                return Err(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Starts loading the cache line where `k` would be, without waiting.
    #[inline]
    pub fn prefetch(&self, k: IdKey) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.keys[self.home(stored(k))..].as_ptr();
            // SAFETY: a prefetch is only a hint; `p` points into `keys`.
            #[allow(unused_unsafe)]
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = k;
    }

    pub fn contains(&self, k: IdKey) -> bool {
        self.find(stored(k)).is_ok()
    }

    pub fn get(&self, k: IdKey) -> Option<V> {
        self.find(stored(k)).ok().map(|i| self.vals[i])
    }

    /// Inserts or replaces; returns the value `k` had before.
    pub fn insert(&mut self, k: IdKey, v: V) -> Option<V> {
        let k = stored(k);
        match self.find(k) {
            Ok(i) => Some(std::mem::replace(&mut self.vals[i], v)),
            Err(i) => {
                if (self.len + 1) * 4 > self.keys.len() * 3 {
                    self.grow();
                    let i = self.find(k).expect_err("new key");
                    self.put(i, k, v);
                } else {
                    self.put(i, k, v);
                }
                None
            }
        }
    }

    fn put(&mut self, i: usize, k: IdKey, v: V) {
        self.keys[i] = k;
        self.vals[i] = v;
        self.len += 1;
    }

    /// Doubles the slots (load factor stays at most 3/4).
    fn grow(&mut self) {
        let mut bigger = Self::with_slots(self.keys.len() * 2);
        for (k, v) in self.keys.iter().zip(&self.vals) {
            if *k != EMPTY {
                let i = bigger.find(*k).expect_err("keys are distinct");
                bigger.put(i, *k, *v);
            }
        }
        *self = bigger;
    }

    pub fn iter(&self) -> impl Iterator<Item = (IdKey, V)> + '_ {
        self.keys.iter().zip(&self.vals).filter(|(k, _)| **k != EMPTY).map(|(k, v)| (*k, *v))
    }
}
