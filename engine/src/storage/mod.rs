//! Storage: the graph [`root`], per-type [`table`] datasets and their
//! [`columns`], the [`pinned_commit`] seam and the [`manifest`] publisher.
//! Everything here is opened through a [`Session`](crate::session::Session).

pub mod branch;
pub mod columns;
pub mod commit;
pub(crate) mod manifest;
pub(crate) mod pinned_commit;
pub mod root;
pub(crate) mod table;

pub use manifest::CHECKPOINT_FRAGMENTS;
pub use root::{Created, Root};
pub use table::head_version;
