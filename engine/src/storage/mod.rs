//! Storage: the graph [`root`], per-type [`table`] datasets and their
//! [`columns`], the [`pinned_commit`] seam, the [`manifest`] publisher, and
//! the process's Lance [`session`] (which makes local writes durable).

pub mod columns;
pub(crate) mod manifest;
pub(crate) mod pinned_commit;
pub mod root;
pub mod session;
pub(crate) mod table;

pub use manifest::CHECKPOINT_FRAGMENTS;
pub use root::{Created, Root};
pub use table::head_version;
