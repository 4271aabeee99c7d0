//! Delete, restore and purge.
//!
//! Delete: publish `deleting` (the graph stops being served), fence the
//! graph (a retired row in its own `__manifest`, so no process holding it
//! open can publish again), then either keep the data for the retention
//! period or remove it, then publish the `deleted` tombstone and retire the
//! sidecar. Once `deleting` is published the delete only goes forward;
//! recovery finishes it.
//!
//! Restore (while retained): mark the tombstone with the operation, lift
//! the fence, publish `active`. Purge (while retained): mark, remove the
//! data, publish the tombstone with `data_removed`.

use omnigraph::failpoint;
use omnigraph::graph::fence::FenceState;

use super::{InFlight, data};
use crate::catalog::Catalog;
use crate::entry::{GraphEntry, OpKind, State, now_rfc3339, validate_id};
use crate::error::{CatalogError, Result};
use crate::operation::{Operation, now_ms};

fn wrong_state(e: &GraphEntry, action: &str, needs: &str) -> CatalogError {
    CatalogError::WrongState { id: e.id.clone(), state: e.state.to_string(), action: action.into(), needs: needs.into() }
}

fn retention_over(e: &GraphEntry) -> bool {
    e.retained_until.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).is_some_and(|t| t.timestamp_millis() <= now_ms())
}

/// How a delete treats the graph's data.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteOptions {
    /// Keep the data (fenced) this long, for `restore` or `purge`.
    pub retain_ms: Option<i64>,
    /// Remove the data of an imported graph (a directory the catalog did
    /// not create); without it, such a delete is refused unless it retains.
    pub remove_imported_data: bool,
}

impl DeleteOptions {
    pub fn retain(retain_ms: Option<i64>) -> DeleteOptions {
        DeleteOptions { retain_ms, remove_imported_data: false }
    }
}

impl Catalog {
    /// Deletes graph `id`. With `retain_ms`, the data is kept (fenced) for
    /// that long, and `restore` or `purge` may follow. An imported graph's
    /// data is the user's own directory: removing it needs
    /// `remove_imported_data`.
    pub async fn delete(&self, id: &str, opts: DeleteOptions) -> Result<GraphEntry> {
        validate_id(id)?;
        let retain_ms = opts.retain_ms;
        let (op, deleting) = self
            .begin_on_existing(
                id,
                OpKind::Delete,
                |h| match h.state {
                    State::Active if h.imported && retain_ms.is_none() && !opts.remove_imported_data => {
                        Err(CatalogError::ImportedData { id: id.to_string(), location: h.location.clone() })
                    }
                    State::Active => Ok(()),
                    State::Deleted | State::Failed => Err(CatalogError::NotFound { id: id.to_string() }),
                    _ => Err(wrong_state(h, "delete", "active")),
                },
                |h, _| {
                    let mut n = h.clone();
                    n.state = State::Deleting;
                    n.deleted_at = Some(now_rfc3339());
                    n
                },
                retain_ms,
            )
            .await?;
        failpoint::hit("delete.after_mark_deleting");
        let tombstone = self.leased(&op, self.finish_delete(&op, &deleting)).await?;
        failpoint::hit("delete.after_tombstone");
        Operation::remove_sidecar(&self.store, &op.op_id).await?;
        Ok(tombstone)
    }

    /// Everything after `deleting` (also recovery's roll-forward):
    /// fence, keep or remove the data, publish the tombstone.
    pub async fn finish_delete(&self, op: &Operation, deleting: &GraphEntry) -> Result<GraphEntry> {
        if let InFlight::Done(h) = self.in_flight(op).await? {
            return Ok(h);
        }
        // An import that does not own its location leaves the data (and the
        // fence) to the entry that does.
        let owns_data = !deleting.imported || self.owns_location(deleting).await?;
        if owns_data
            && !data::removal_started(&self.session, &deleting.location).await?
            && data::has_manifest(&self.session, &deleting.location).await?
            && let Err(e) = self.retire_fence(&deleting.location, &op.op_id, op.fence_generation).await
        {
            // Data removal starts only after the fence landed. A manifest
            // whose files are missing or corrupt therefore means removal
            // already began (fenced) or the graph was broken before (nobody
            // can write to it): go on. Anything else (a storage fault, a
            // timeout) may pass, and a graph that may still be live must not
            // lose its fence: stop here, and the sweep tries again.
            if matches!(e, omnigraph::Error::FenceMoved { .. }) {
                return Err(e.into());
            }
            match self.fence_state(&deleting.location).await {
                Ok(FenceState::Retired { .. }) => {}
                Err(omnigraph::Error::NotAGraph { .. } | omnigraph::Error::Unreadable { .. }) => {}
                Ok(FenceState::Live) | Err(_) => return Err(e.into()),
            }
        }
        failpoint::hit("delete.after_fence");
        let mut next = deleting.clone();
        next.state = State::Deleted;
        next.op = None;
        next.last_op = Some(op.op_id.clone());
        match op.retain_ms {
            Some(ms) if ms > 0 => {
                next.retained_until = Some(super::retention::retained_until(ms));
            }
            _ => {
                if owns_data {
                    if let InFlight::Done(h) = self.in_flight(op).await? {
                        return Ok(h);
                    }
                    data::remove(&self.session, &deleting.location).await?;
                }
                if deleting.imported {
                    self.release_location(deleting).await?;
                }
                next.data_removed = true;
                failpoint::hit("delete.before_tombstone");
            }
        }
        self.step(op, deleting, next).await
    }

    /// Brings back a deleted graph whose data is still retained.
    pub async fn restore(&self, id: &str) -> Result<GraphEntry> {
        validate_id(id)?;
        let (op, marked) = self
            .begin_on_existing(
                id,
                OpKind::Restore,
                |h| {
                    if !h.retained() {
                        Err(wrong_state(h, "restore", "deleted with its data retained"))
                    } else if retention_over(h) {
                        Err(wrong_state(h, "restore", "within its retention period (it ended; purge it)"))
                    } else {
                        Ok(())
                    }
                },
                |h, _| h.clone(),
                None,
            )
            .await?;
        failpoint::hit("restore.after_mark");
        let active = self.leased(&op, self.finish_restore(&op, &marked)).await?;
        Operation::remove_sidecar(&self.store, &op.op_id).await?;
        Ok(active)
    }

    /// Lifts the fence and publishes `active` (also recovery's roll-forward).
    pub async fn finish_restore(&self, op: &Operation, marked: &GraphEntry) -> Result<GraphEntry> {
        if let InFlight::Done(h) = self.in_flight(op).await? {
            return Ok(h);
        }
        // Only the fence of the delete this tombstone records.
        omnigraph::graph::fence::restore(&self.graph_root(&marked.location)?, &op.op_id, marked.last_op.as_deref()).await?;
        let mut next = marked.clone();
        next.state = State::Active;
        next.op = None;
        next.last_op = Some(op.op_id.clone());
        next.deleted_at = None;
        next.retained_until = None;
        self.step(op, marked, next).await
    }

    /// Removes a retained deleted graph's data now.
    pub async fn purge(&self, id: &str) -> Result<GraphEntry> {
        validate_id(id)?;
        let (op, marked) = self
            .begin_on_existing(
                id,
                OpKind::Purge,
                |h| if h.retained() { Ok(()) } else { Err(wrong_state(h, "purge", "deleted with its data retained")) },
                |h, _| h.clone(),
                None,
            )
            .await?;
        failpoint::hit("purge.after_mark");
        let tombstone = self.leased(&op, self.finish_purge(&op, &marked)).await?;
        Operation::remove_sidecar(&self.store, &op.op_id).await?;
        Ok(tombstone)
    }

    /// Removes the data and publishes the tombstone (also recovery's
    /// roll-forward).
    pub async fn finish_purge(&self, op: &Operation, marked: &GraphEntry) -> Result<GraphEntry> {
        if let InFlight::Done(h) = self.in_flight(op).await? {
            return Ok(h);
        }
        if !marked.imported || self.owns_location(marked).await? {
            data::remove(&self.session, &marked.location).await?;
        }
        if marked.imported {
            self.release_location(marked).await?;
        }
        let mut next = marked.clone();
        next.op = None;
        next.last_op = Some(op.op_id.clone());
        next.data_removed = true;
        next.retained_until = None;
        self.step(op, marked, next).await
    }
}
