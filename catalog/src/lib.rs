//! The omnigraph cluster catalog: which graphs exist, where their data
//! lives, and which lifecycle operations are in flight.
//!
//! Module map:
//! - [`store`]: the object store (local or S3) and its one conditional
//!   primitive, put-if-absent; request and byte counters.
//! - [`entry`]: per-graph version chains; every transition is one
//!   put-if-absent of the next version over the head it checked.
//! - [`operation`]: sidecars (intent records) and lease renewal.
//! - [`catalog`]: the [`Catalog`] handle: open, list, show.
//! - [`lifecycle`]: create, import, delete, restore, purge, and the steps
//!   recovery reuses to finish them.
//! - [`error`]: errors with stable `OG-CATALOG-NNN` codes.
//!
//! docs/dev/catalog.md explains the layout, the state machine and why the
//! failures listed in the design contract cannot happen here.

pub mod catalog;
pub mod codes;
pub mod entry;
pub mod error;
pub mod lifecycle;
pub mod operation;
pub mod store;

pub use catalog::{Catalog, GraphInfo, Listing, UnreadableRecord};
pub use entry::{GraphEntry, OpKind, OpRef, State};
pub use error::{CatalogError, Result};
pub use operation::Operation;
