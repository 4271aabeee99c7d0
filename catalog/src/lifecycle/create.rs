//! Create: reserve -> initializing -> init -> active.
//!
//! 1. Validate the id and compile the schema: a bad request writes nothing.
//! 2. Write the sidecar, then publish `reserved` (with the operation and its
//!    lease) over the head the availability check read. Lost race: retire
//!    the sidecar, re-read, re-check.
//! 3. Publish `initializing`, then init the graph at the fresh incarnation
//!    location with the operation id as the engine's init op id (claim,
//!    first table commits and genesis row all carry it).
//! 4. Publish `active` (clearing the operation), then retire the sidecar.
//!
//! An init that fails cleanly is rolled back here: `failed` is published
//! first (the decision), then the location is removed, then the sidecar.
//! An init whose outcome is unknown keeps everything for recovery.

use omnigraph::failpoint;

use super::{NewIncarnation, data};
use crate::catalog::Catalog;
use crate::entry::{GraphEntry, OpKind, State, validate_id};
use crate::error::{CatalogError, Result};
use crate::operation::Operation;

impl Catalog {
    /// Creates graph `id` from `.pg` source. `metadata` (for example an
    /// initial policy) is stored on the entry as given.
    pub async fn create(&self, id: &str, schema_src: &str, metadata: serde_json::Value) -> Result<GraphEntry> {
        validate_id(id)?;
        let ir = omnigraph::schema::compile_schema(schema_src).map_err(omnigraph::Error::Schema)?;
        let new = NewIncarnation { location: None, schema_hash: Some(ir.content_hash()), genesis_id: None, imported: false, metadata };
        let (op, reserved) = self.reserve_new(id, OpKind::Create, &new).await?;
        failpoint::hit("create.after_reserve");
        let active = self.leased(&op, self.finish_create(&op, reserved, schema_src)).await?;
        failpoint::hit("create.after_publish");
        Operation::remove_sidecar(&self.store, &op.op_id).await?;
        Ok(active)
    }

    async fn finish_create(&self, op: &Operation, reserved: GraphEntry, schema_src: &str) -> Result<GraphEntry> {
        let mut next = reserved.clone();
        next.state = State::Initializing;
        let initializing = self.step(op, &reserved, next).await?;
        failpoint::hit("create.after_initializing");
        let report = match omnigraph::graph::init_with_op_id(&op.location, &self.session, schema_src, &op.op_id, &op.actor).await {
            Ok(r) => r,
            Err(e @ omnigraph::Error::InitOutcomeUnknown { .. }) => {
                return Err(CatalogError::OutcomeUnknown { id: op.graph_id.clone(), op: op.op_id.clone(), reason: e.to_string() });
            }
            Err(e) => {
                self.roll_back_create(op, &initializing, &e.to_string()).await?;
                return Err(e.into());
            }
        };
        failpoint::hit("create.after_init");
        self.publish_created(op, &initializing, Some(report.genesis_id)).await
    }

    /// Publishes `active` for a create whose init landed (also recovery's
    /// roll-forward).
    pub async fn publish_created(&self, op: &Operation, base: &GraphEntry, genesis_id: Option<String>) -> Result<GraphEntry> {
        let mut next = base.clone();
        next.state = State::Active;
        next.op = None;
        next.last_op = Some(op.op_id.clone());
        next.genesis_id = genesis_id;
        self.step(op, base, next).await
    }

    /// Rolls a create (or import) back: publishes `failed` (the decision),
    /// removes the incarnation's data (never an imported graph's), releases
    /// an import's location claim, then retires the sidecar. Also
    /// recovery's roll-back.
    pub async fn roll_back_create(&self, op: &Operation, base: &GraphEntry, reason: &str) -> Result<GraphEntry> {
        let mut next = base.clone();
        next.state = State::Failed;
        next.op = None;
        next.last_op = Some(op.op_id.clone());
        next.failure = Some(reason.to_string());
        next.data_removed = !base.imported;
        let failed = self.step(op, base, next).await?;
        self.clean_up_failed(op, &failed).await?;
        Ok(failed)
    }

    /// What follows a `failed` publish: remove the data a create made, or
    /// release an import's claim; then retire the sidecar. Idempotent.
    pub async fn clean_up_failed(&self, op: &Operation, failed: &GraphEntry) -> Result<()> {
        if failed.imported {
            self.release_location(failed).await?;
        } else {
            data::remove(&self.session, &op.location).await?;
        }
        Operation::remove_sidecar(&self.store, &op.op_id).await
    }
}

/// Did the init of operation `op_id` land at `location`? True when the graph
/// there opens and its genesis row carries `op_id`.
pub async fn init_landed(session: &omnigraph::Session, location: &str, op_id: &str) -> bool {
    match omnigraph::Graph::open(location, session).await {
        Ok(g) => g.snapshot().await.ok().and_then(|s| s.genesis_id).as_deref() == Some(op_id),
        Err(_) => false,
    }
}
