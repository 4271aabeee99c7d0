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
use crate::entry::{GraphEntry, OpKind, OpRef, State};
use crate::error::{CatalogError, Result};
use crate::operation::Operation;

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
        State::Deleted if h.retained() => {
            Err(CatalogError::Retained { id: id.into(), until: h.retained_until.clone().unwrap_or_default() })
        }
        State::Deleted | State::Failed => Ok(()),
    }
}

pub(crate) fn op_ref(op: &Operation) -> OpRef {
    OpRef { id: op.op_id.clone(), kind: op.kind, lease_until_ms: op.lease_until_ms, retain_ms: op.retain_ms }
}

impl Catalog {
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
            let op = op;
            op.write(&self.store).await?;
            let mut next = next_state(&head, &op);
            next.op = Some(op_ref(&op));
            match self.advance(&head, next).await? {
                Ok(e) => return Ok((op, e)),
                Err(_) => Operation::retire(&self.store, &op.op_id).await?,
            }
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
