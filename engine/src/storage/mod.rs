//! Storage: the graph [`root`], per-type [`table`] datasets and their
//! [`columns`], the [`pinned_commit`] seam, the [`manifest`] publisher, and
//! the process's Lance [`session`] (which makes local writes durable).

pub mod columns;
pub mod manifest;
pub mod pinned_commit;
pub mod root;
pub mod session;
pub mod table;

pub use root::{Created, Root};
