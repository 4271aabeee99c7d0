//! A property column of a node type in dense order, as a view that follows
//! writes: a base array plus the values written since (new nodes and
//! rewritten rows, by dense index). Built over one numbering of the node
//! ids (their generation); a column of another numbering is rebuilt.
//! A written value is kept as a cell of the batch it was read from, so a
//! rebase ([`Column::rebased`]) is one `interleave` of arrays.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef};

use super::node_ids::{NodeIds, PMap};
use super::value::Value;

/// One value: a row of an array (the batch a write's rows were read in).
pub type Cell = (ArrayRef, u32);

#[derive(Clone)]
pub enum Column {
    /// The ids themselves.
    Ids(Arc<NodeIds>),
    Values {
        base: ArrayRef,
        /// Values written since the base, by dense index.
        patch: PMap<u32, Cell>,
        generation: u64,
    },
}

impl Column {
    pub fn new(base: ArrayRef, generation: u64) -> Column {
        Column::Values { base, patch: Default::default(), generation }
    }

    pub fn value(&self, dense: usize) -> Value {
        match self {
            Column::Ids(ids) => Value::Str(ids.id(dense as u32).to_string()),
            Column::Values { base, patch, .. } => {
                if !patch.is_empty()
                    && let Some((array, row)) = patch.get(&(dense as u32))
                {
                    return Value::from_array(array.as_ref(), *row as usize);
                }
                if dense < base.len() { Value::from_array(base.as_ref(), dense) } else { Value::Null }
            }
        }
    }

    /// The string at `dense` without copying it (a string column: the
    /// `src` and `dst` of an edge table); `None` for a null or another type.
    pub fn str_at(&self, dense: usize) -> Option<&str> {
        fn at(a: &ArrayRef, i: usize) -> Option<&str> {
            let s = a.as_any().downcast_ref::<arrow_array::StringArray>()?;
            (i < s.len() && !s.is_null(i)).then(|| s.value(i))
        }
        match self {
            Column::Ids(ids) => (dense < ids.len()).then(|| ids.id(dense as u32)),
            Column::Values { base, patch, .. } => {
                if !patch.is_empty()
                    && let Some((array, row)) = patch.get(&(dense as u32))
                {
                    return at(array, *row as usize);
                }
                at(base, dense)
            }
        }
    }

    /// The numbering this column is in (`None` for the ids, always current).
    pub fn generation(&self) -> Option<u64> {
        match self {
            Column::Ids(_) => None,
            Column::Values { generation, .. } => Some(*generation),
        }
    }

    /// This column with `values` written at their dense indexes.
    pub fn patched(&self, values: impl IntoIterator<Item = (u32, Cell)>) -> Column {
        let mut next = self.clone();
        if let Column::Values { patch, .. } = &mut next {
            for (d, v) in values {
                patch.insert(d, v);
            }
        }
        next
    }

    pub fn patch_len(&self) -> usize {
        match self {
            Column::Ids(_) => 0,
            Column::Values { patch, .. } => patch.len(),
        }
    }

    /// The same column with the written values folded into a new base
    /// (same numbering): one `interleave` of the base and the arrays the
    /// written values are in. Dense indexes past the old base that nothing
    /// wrote stay null.
    pub fn rebased(&self) -> Column {
        let Column::Values { base, patch, generation } = self else { return self.clone() };
        if patch.is_empty() {
            return self.clone();
        }
        let len = patch.keys().map(|d| *d as usize + 1).max().unwrap_or(0).max(base.len());
        let mut sources: Vec<ArrayRef> = vec![base.clone(), arrow_array::new_null_array(base.data_type(), 1)];
        let mut source_of: rustc_hash::FxHashMap<*const (), usize> = Default::default();
        let mut indices: Vec<(usize, usize)> = (0..len).map(|d| if d < base.len() { (0, d) } else { (1, 0) }).collect();
        for (d, (array, row)) in patch.iter() {
            let at = *source_of.entry(Arc::as_ptr(array) as *const ()).or_insert_with(|| {
                sources.push(array.clone());
                sources.len() - 1
            });
            indices[*d as usize] = (at, *row as usize);
        }
        let refs: Vec<&dyn Array> = sources.iter().map(|a| a.as_ref()).collect();
        match arrow_select::interleave::interleave(&refs, &indices) {
            Ok(base) => Column::Values { base, patch: Default::default(), generation: *generation },
            // Arrays of one column share its type; keep the patched form if not.
            Err(_) => self.clone(),
        }
    }

    /// This column, derived from `from` by later writes, over the base of
    /// `onto` (`from` rebased): only the values written since `from` stay
    /// apart. `None` if it does not descend from `from`.
    pub fn transplant(&self, from: &Column, onto: &Column) -> Option<Column> {
        let (
            Column::Values { base, patch, generation },
            Column::Values { base: from_base, patch: from_patch, generation: from_gen },
            Column::Values { base: onto_base, generation: onto_gen, .. },
        ) = (self, from, onto)
        else {
            return None;
        };
        if !Arc::ptr_eq(base, from_base) || generation != from_gen || onto_gen != from_gen {
            return None;
        }
        let same = |d: &u32, (a, r): &Cell| from_patch.get(d).is_some_and(|(fa, fr)| Arc::ptr_eq(a, fa) && r == fr);
        let patch = patch.iter().filter(|(d, c)| !same(d, c)).map(|(d, c)| (*d, c.clone())).collect();
        Some(Column::Values { base: onto_base.clone(), patch, generation: *generation })
    }

    /// Bytes held, counting the base once (a written value's batch is
    /// charged as a share of its array, at least 64 bytes).
    pub fn memory_size(&self) -> usize {
        match self {
            Column::Ids(_) => 0,
            Column::Values { base, patch, .. } => base.get_array_memory_size() + patch.len() * 64,
        }
    }
}
