//! The recovery sweep: reads the catalog, every operation sidecar and every
//! graph location, decides what each unfinished thing needs, and (when
//! asked) carries it out with the same catalog steps that started it.
//!
//! Module map:
//! - [`plan`]: the plan a sweep produces: items, decisions, reasons.
//! - [`sweep`]: building the plan (reads only).
//! - [`apply`]: carrying a plan out (idempotent: a second sweep finds
//!   nothing to do).
//!
//! The CLI (`omnigraph recover --catalog`) and the server's background
//! sweep both call [`run`].

pub mod apply;
pub mod codes;
pub mod plan;
pub mod sweep;

pub use plan::{Item, ItemKind, Plan, Remedy};

use omnigraph_catalog::{Catalog, Result};

/// Options of one sweep.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Carry the plan out (otherwise a dry run).
    pub apply: bool,
    /// Resolve this operation even though its lease is live.
    pub force: Option<String>,
}

/// Builds the plan and, with `apply`, carries it out.
pub async fn run(catalog: &Catalog, opts: &Options) -> Result<Plan> {
    let mut plan = sweep::build(catalog, opts.force.as_deref()).await?;
    if opts.apply {
        apply::apply(catalog, &mut plan).await;
    }
    Ok(plan)
}
