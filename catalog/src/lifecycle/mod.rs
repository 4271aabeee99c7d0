//! Lifecycle operations. Each is a short sequence of conditional entry
//! writes (see [`crate::entry`]) covered by a sidecar (see
//! [`crate::operation`]); the steps after the first are public so that
//! recovery finishes an interrupted operation with the same code that
//! started it.

pub mod create;
pub mod data;
pub mod delete;
pub mod import;
pub mod retention;

use crate::catalog::Catalog;
use crate::entry::{self, GraphEntry, OpKind, OpRef, Publish, State, now_rfc3339};
use crate::error::{CatalogError, Result};
use crate::operation::{LeaseKeeper, Operation};

/// See [`Catalog::in_flight`].
pub(crate) enum InFlight {
    Yes,
    Done(GraphEntry),
}

/// What a new incarnation's `reserved` entry records besides its id, state
/// and operation.
pub(crate) struct NewIncarnation {
    /// `None`: fresh storage under the catalog's `graphs/<id>/<incarnation>/`.
    pub location: Option<String>,
    pub schema_hash: Option<String>,
    pub genesis_id: Option<String>,
    pub imported: bool,
    pub metadata: serde_json::Value,
}

/// Can a new incarnation (create or import) take `id`, given its head?
/// Called only on the head the following conditional write replaces.
pub(crate) fn check_available(id: &str, head: Option<&GraphEntry>) -> Result<()> {
    let Some(h) = head else { return Ok(()) };
    if let Some(op) = &h.op {
        return Err(CatalogError::InProgress { id: id.into(), op: op.id.clone(), kind: op.kind.to_string() });
    }
    match h.state {
        State::Active => Err(CatalogError::AlreadyExists { id: id.into(), incarnation: h.incarnation.clone() }),
        State::Reserved | State::Initializing | State::Deleting => {
            Err(CatalogError::InProgress { id: id.into(), op: h.last_op.clone().unwrap_or_default(), kind: h.state.to_string() })
        }
        State::Deleted if h.retained() => Err(CatalogError::Retained { id: id.into(), until: h.retained_until.clone().unwrap_or_default() }),
        State::Deleted | State::Failed => Ok(()),
    }
}

pub(crate) fn op_ref(op: &Operation) -> OpRef {
    OpRef { id: op.op_id.clone(), kind: op.kind, lease_until_ms: op.lease.until_ms, retain_ms: op.retain_ms, fence_generation: op.fence_generation }
}

impl Catalog {
    /// Reserves `id` for a new incarnation (create or import): writes the
    /// sidecar, then publishes `reserved` over the head the availability
    /// check read. A lost race retires the sidecar, re-reads and re-checks.
    pub(crate) async fn reserve_new(&self, id: &str, kind: OpKind, new: &NewIncarnation) -> Result<(Operation, GraphEntry)> {
        self.ensure_marker().await?;
        loop {
            let head = self.entry(id).await?;
            check_available(id, head.as_ref())?;
            let incarnation = ulid::Ulid::new().to_string();
            let location = new.location.clone().unwrap_or_else(|| self.incarnation_location(id, &incarnation));
            let op = Operation::new(kind, id, &incarnation, &location, &self.actor, head.as_ref().map(|h| h.version).unwrap_or(0));
            op.write(&self.store).await?;
            omnigraph::failpoint::hit(if kind == OpKind::Import { "import.after_sidecar" } else { "create.after_sidecar" });
            let now = now_rfc3339();
            let next = GraphEntry {
                id: id.to_string(),
                version: 0,
                state: State::Reserved,
                incarnation,
                location,
                schema_hash: new.schema_hash.clone(),
                genesis_id: new.genesis_id.clone(),
                created_at: now.clone(),
                updated_at: now,
                deleted_at: None,
                retained_until: None,
                data_removed: false,
                imported: new.imported,
                op: Some(op_ref(&op)),
                last_op: None,
                failure: None,
                metadata: new.metadata.clone(),
            };
            match entry::publish(&self.store, head.as_ref(), next).await? {
                Publish::Published(e) => return Ok((op, e)),
                Publish::Lost => Operation::remove_sidecar(&self.store, &op.op_id).await?,
            }
        }
    }

    /// Runs the rest of operation `op` while its lease is renewed.
    pub(crate) async fn leased<T>(&self, op: &Operation, work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let keeper = LeaseKeeper::start(&self.store, op);
        let result = work.await;
        keeper.stop().await;
        result
    }

    /// Publishes the first transition of an operation on an existing entry:
    /// the sidecar is written, then `base -> next` with the operation
    /// recorded on the entry. `check` runs on every head this attempts to
    /// replace; a lost race re-reads and re-checks.
    pub(crate) async fn begin_on_existing(
        &self,
        id: &str,
        kind: OpKind,
        check: impl Fn(&GraphEntry) -> Result<()>,
        next_state: impl Fn(&GraphEntry, &Operation) -> GraphEntry,
        retain_ms: Option<i64>,
    ) -> Result<(Operation, GraphEntry)> {
        loop {
            let head = self.entry(id).await?.ok_or_else(|| CatalogError::NotFound { id: id.to_string() })?;
            if let Some(op) = &head.op {
                return Err(CatalogError::InProgress { id: id.into(), op: op.id.clone(), kind: op.kind.to_string() });
            }
            check(&head)?;
            let mut op = Operation::new(kind, id, &head.incarnation, &head.location, &self.actor, head.version);
            op.retain_ms = retain_ms;
            if kind == OpKind::Delete && data::has_manifest(&self.session, &head.location).await? {
                // A graph whose fence does not read cannot be fenced (nor
                // written); its delete is unconditional.
                op.fence_generation = match self.graph_root(&head.location) {
                    Ok(root) => omnigraph::graph::fence::generation(&root).await.ok(),
                    Err(_) => None,
                };
            }
            let op = op;
            op.write(&self.store).await?;
            let mut next = next_state(&head, &op);
            next.op = Some(op_ref(&op));
            match self.advance(&head, next).await? {
                Ok(e) => return Ok((op, e)),
                Err(_) => Operation::remove_sidecar(&self.store, &op.op_id).await?,
            }
        }
    }

    /// Checked before each step with effects outside the catalog (a fence,
    /// data removal): the catalog head of `op`'s graph must still name `op`
    /// as in flight. If recovery already finished `op`, the head that shows
    /// it is returned (`Done`: nothing left to do); if anything else moved
    /// the entry, `Superseded`. So a holder that outlived its lease and
    /// resumes after recovery took over changes nothing.
    pub(crate) async fn in_flight(&self, op: &Operation) -> Result<InFlight> {
        match self.entry(&op.graph_id).await? {
            Some(h) if h.op.as_ref().is_some_and(|o| o.id == op.op_id) => Ok(InFlight::Yes),
            Some(h) if h.op.is_none() && h.last_op.as_deref() == Some(op.op_id.as_str()) => Ok(InFlight::Done(h)),
            _ => Err(CatalogError::Superseded { id: op.graph_id.clone(), op: op.op_id.clone() }),
        }
    }

    /// A later step of operation `op`: publishes `next` after `base`. If the
    /// race is lost, the winner is accepted only when it already shows this
    /// step done by the same operation (recovery rolled it forward);
    /// otherwise the operation was superseded.
    pub(crate) async fn step(&self, op: &Operation, base: &GraphEntry, next: GraphEntry) -> Result<GraphEntry> {
        let want_state = next.state;
        let want_op = next.op.as_ref().map(|o| o.id.clone());
        match self.advance(base, next).await? {
            Ok(e) => Ok(e),
            Err(Some(head))
                if head.state == want_state
                    && head.op.as_ref().map(|o| o.id.clone()) == want_op
                    && (want_op.is_some() || head.last_op.as_deref() == Some(op.op_id.as_str())) =>
            {
                Ok(head)
            }
            Err(_) => Err(CatalogError::Superseded { id: op.graph_id.clone(), op: op.op_id.clone() }),
        }
    }
}
