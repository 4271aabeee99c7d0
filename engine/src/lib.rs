//! Omnigraph's per-graph engine.
//!
//! Module map:
//! - [`lang`]: the lexer and diagnostics both languages share.
//! - [`schema`]: the `.pg` language, compiled to a canonical IR with a content hash.
//! - [`session`]: what a process shares between the graphs it opens (the
//!   Lance session, S3 clients, the cache budget, query limits).
//! - [`storage`]: the graph root (object_store), table datasets, the pinned
//!   commit seam and the `__manifest` publisher.
//! - [`graph`]: init (claim + preflight), open, snapshots, write sidecars and
//!   their recovery.
//! - [`query`]: the `.gq` language: parse, typecheck, run reads and mutations.
//! - [`load`]: the streaming JSONL loader (parse, validate, stage, publish).
//! - [`export`]: JSONL export that `load` reads back to an identical graph.
//! - [`changes`]: entity-level changes between commits (the change feed).
//! - [`merge`]: merging one branch into another, three-way by entity.
//! - [`evolve`]: schema changes: plan and apply as one commit.
//! - [`failpoint`]: crash-test hooks behind the `failpoints` feature.
//! - [`allocator`]: mimalloc tuning the binaries apply at start.
//! - [`error`]: every user-visible error; [`codes`]: their codes, kinds,
//!   HTTP statuses and meanings, once.

pub mod allocator;
pub mod changes;
pub mod codes;
pub mod embed;
pub mod error;
pub mod evolve;
pub mod export;
pub mod failpoint;
pub mod graph;
pub mod lang;
pub mod load;
pub mod merge;
pub mod query;
pub mod schema;
pub mod session;
pub mod storage;
pub mod stored;

pub use error::{Error, Result};
pub use graph::{Graph, Snapshot};
pub use session::{Session, SessionOptions, ViewTuning};
