//! Carrying a plan out. Each item is applied with the catalog's own steps;
//! an item that fails (a live owner won a race, storage is down) records
//! its error and the rest go on. Applying twice is harmless: every step is
//! a conditional write or an idempotent removal.
//!
//! A panic while applying one item (a defect, never expected) is caught and
//! recorded as that item's error (`OG-RECOVER-001`), so one bad item can
//! never keep the items after it from being repaired.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use omnigraph_catalog::lifecycle::{create::init_landed, data};
use omnigraph_catalog::{Catalog, CatalogError, OpKind, Operation, Result, State};

use crate::plan::{Item, ItemKind, Plan, Remedy};

pub async fn apply(catalog: &Catalog, plan: &mut Plan) {
    plan.applied = true;
    for item in plan.items.iter_mut() {
        if !item.decision.actionable() {
            continue;
        }
        match AssertUnwindSafe(apply_item(catalog, item)).catch_unwind().await {
            Ok(Ok(())) => item.applied = true,
            Ok(Err(e)) => item.error = Some(format!("{} {e}", e.code())),
            Err(panic) => item.error = Some(format!("{} applying this item failed unexpectedly: {}", crate::codes::ITEM_FAILED.code, panic_message(&*panic))),
        }
    }
}

async fn apply_item(catalog: &Catalog, item: &Item) -> Result<()> {
    match item.kind {
        ItemKind::Operation => apply_operation(catalog, item).await,
        ItemKind::OrphanLocation => data::remove(catalog.session(), item.location.as_deref().unwrap_or_default()).await,
        ItemKind::ActiveGraph => {
            omnigraph::graph::recovery::repair(item.location.as_deref().unwrap_or_default(), catalog.session(), true).await?;
            Ok(())
        }
        ItemKind::Retention => catalog.purge(item.graph_id.as_deref().unwrap_or_default()).await.map(|_| ()),
        // Never actionable (needs an operator); nothing to do if asked.
        ItemKind::UnreadableRecord => Ok(()),
    }
}

async fn apply_operation(catalog: &Catalog, item: &Item) -> Result<()> {
    let op = item.operation.as_ref().expect("operation items carry their operation");
    // The lease as it is now, not as the sweep saw it: an owner that renewed
    // since (it was only slow) keeps its operation.
    if !item.forced
        && let Some(now) = Operation::read(catalog.store(), &op.op_id).await?
        && !now.lease_expired()
    {
        return Err(CatalogError::LeaseLive { op: op.op_id.clone(), until_ms: now.lease.until_ms });
    }
    // Decide on the entry as it is now, not as the sweep saw it.
    let entry = catalog.entry(&op.graph_id).await?;
    let in_flight = entry.as_ref().filter(|e| e.op.as_ref().is_some_and(|o| o.id == op.op_id));
    match (item.decision, in_flight) {
        (Remedy::RollForward, Some(e)) => {
            match op.kind {
                OpKind::Create => {
                    if !init_landed(catalog.session(), &e.location, &op.op_id).await {
                        return Err(CatalogError::Superseded { id: op.graph_id.clone(), op: op.op_id.clone() });
                    }
                    catalog.publish_created(op, e, Some(op.op_id.clone())).await?;
                }
                OpKind::Delete => {
                    catalog.finish_delete(op, e).await?;
                }
                OpKind::Restore => {
                    catalog.finish_restore(op, e).await?;
                }
                OpKind::Purge => {
                    catalog.finish_purge(op, e).await?;
                }
                OpKind::Import => return Err(CatalogError::Superseded { id: op.graph_id.clone(), op: op.op_id.clone() }),
            }
            Operation::remove_sidecar(catalog.store(), &op.op_id).await
        }
        (Remedy::RollBack, Some(e)) => {
            catalog.roll_back_create(op, e, "rolled back by recovery: the operation was abandoned").await?;
            Ok(())
        }
        (Remedy::Retire, _) | (Remedy::RollBack, None) => {
            match entry.as_ref() {
                Some(e) if e.last_op.as_deref() == Some(op.op_id.as_str()) && e.state == State::Failed => {
                    catalog.clean_up_failed(op, e).await?;
                }
                Some(e) if e.last_op.as_deref() == Some(op.op_id.as_str()) && e.state == State::Deleted && e.data_removed => {
                    data::remove(catalog.session(), &e.location).await?;
                }
                Some(e) if e.location == op.location => {}
                _ if op.kind == OpKind::Create => data::remove(catalog.session(), &op.location).await?,
                _ => {}
            }
            Operation::remove_sidecar(catalog.store(), &op.op_id).await
        }
        // The entry moved since the sweep: leave it to the next run.
        _ => Err(CatalogError::Superseded { id: op.graph_id.clone(), op: op.op_id.clone() }),
    }
}

/// The text a panic carried, if it was a string.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}
