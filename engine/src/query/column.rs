//! A property column of a node type in dense order, as a view that follows
//! writes: a base array plus the values written since (new nodes and
//! rewritten rows, by dense index). Built over one numbering of the node
//! ids (their generation); a column of another numbering is rebuilt.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef};

use super::node_ids::{NodeIds, PMap};
use super::value::Value;

#[derive(Clone)]
pub enum Column {
    /// The ids themselves.
    Ids(Arc<NodeIds>),
    Values {
        base: ArrayRef,
        /// Values written since the base, by dense index.
        patch: PMap<u32, Value>,
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
                    && let Some(v) = patch.get(&(dense as u32))
                {
                    return v.clone();
                }
                if dense < base.len() { Value::from_array(base.as_ref(), dense) } else { Value::Null }
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
    pub fn patched(&self, values: impl IntoIterator<Item = (u32, Value)>) -> Column {
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

    /// Bytes held, counting the base once.
    pub fn memory_size(&self) -> usize {
        match self {
            Column::Ids(_) => 0,
            Column::Values { base, patch, .. } => base.get_array_memory_size() + patch.len() * 64,
        }
    }
}
