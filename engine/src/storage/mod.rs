//! Storage: the graph [`root`], per-type [`table`] datasets and their
//! [`columns`], the [`pinned_commit`] seam, and the [`manifest`] publisher.

pub mod columns;
pub mod manifest;
pub mod pinned_commit;
pub mod root;
pub mod table;

pub use root::{Created, Root};
