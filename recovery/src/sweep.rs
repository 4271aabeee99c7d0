//! Building the plan. Reads only.
//!
//! 1. Every entry with an operation in flight: judged on its lease (from the
//!    sidecar, or from the entry when the sidecar is gone). Live and not
//!    forced: wait. Otherwise a create whose init landed (the location
//!    opens and its genesis row carries the operation id) rolls forward,
//!    any other create or import rolls back; delete, restore and purge
//!    always roll forward.
//! 2. Every sidecar no entry has in flight: the operation finished its last
//!    transition (retire it), or never reserved / was superseded (roll back:
//!    remove what it may have created, retire it). Live leases wait.
//! 3. Active graphs whose storage is missing, does not open, holds another
//!    graph, or has pending writes; tombstones whose retention ended.
//! 4. Incarnation directories under `graphs/` that nothing owns.

use std::collections::HashSet;

use omnigraph_catalog::catalog::GRAPHS_DIR;
use omnigraph_catalog::lifecycle::{create::init_landed, data, retention};
use omnigraph_catalog::operation::now_ms;
use omnigraph_catalog::{Catalog, CatalogError, GraphEntry, OpKind, Operation, Result, State};

use crate::plan::{Item, ItemKind, Plan, Remedy};

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_else(|| ms.to_string())
}

fn lease_note(op: &Operation) -> String {
    let gone = match op.lease.owner.alive_here() {
        Some(false) => format!("; its process ({}) is gone, so `--force {}` resolves it now", op.lease.owner, op.op_id),
        _ => String::new(),
    };
    format!("lease held by {} until {}{gone}", op.lease.owner, when(op.lease.until_ms))
}

fn op_item(e: Option<&GraphEntry>, op: &Operation, decision: Remedy, reason: String) -> Item {
    let mut i = Item::new(ItemKind::Operation, decision, reason);
    i.graph_id = Some(op.graph_id.clone());
    i.op_id = Some(op.op_id.clone());
    i.op_kind = Some(op.kind);
    i.state = e.map(|e| e.state);
    i.location = Some(op.location.clone());
    i.operation = Some(op.clone());
    i
}

pub async fn build(catalog: &Catalog, force: Option<&str>) -> Result<Plan> {
    // Directories first: a create writes its sidecar (and reserves) before
    // it makes its incarnation directory, so every directory listed here is
    // owned by a sidecar or entry that the reads below see. Listing them
    // last would let a create that starts mid-sweep look like an orphan.
    let dirs = incarnation_dirs(catalog).await?;
    let listing = catalog.list_all().await?;
    let graphs = listing.graphs;
    let (sidecars, bad_sidecars) = Operation::list_all(catalog.store()).await?;
    let mut items = Vec::new();
    for bad in &listing.unreadable {
        let mut i = Item::new(
            ItemKind::UnreadableRecord,
            Remedy::NeedsOperator,
            format!("the catalog record of `{}` does not read ({} {}); its data is left alone; fix or remove the record", bad.id, bad.code, bad.error),
        );
        i.graph_id = Some(bad.id.clone());
        items.push(i);
    }
    for (op_id, e) in &bad_sidecars {
        let mut i = Item::new(
            ItemKind::UnreadableRecord,
            Remedy::NeedsOperator,
            format!("the sidecar of operation {op_id} does not read ({} {e}); storage no entry owns is left alone until it is fixed or removed", e.code()),
        );
        i.op_id = Some(op_id.clone());
        items.push(i);
    }
    let unreadable_ids: HashSet<String> = listing.unreadable.iter().map(|b| b.id.clone()).collect();
    let mut handled: HashSet<String> = HashSet::new();
    let mut force_found = force.is_none();

    for g in &graphs {
        let e = &g.entry;
        let Some(opref) = &e.op else { continue };
        handled.insert(opref.id.clone());
        let op = sidecars.iter().find(|s| s.op_id == opref.id).cloned().unwrap_or_else(|| Operation::from_entry(e, opref));
        let forced = force == Some(opref.id.as_str());
        force_found |= forced;
        if !forced && now_ms() <= op.lease.until_ms {
            items.push(op_item(Some(e), &op, Remedy::Wait, lease_note(&op)));
            continue;
        }
        let why = if forced { "forced by the operator".to_string() } else { format!("lease expired at {}", when(op.lease.until_ms)) };
        let (decision, reason) = match (opref.kind, e.state) {
            (OpKind::Create, State::Reserved | State::Initializing) => {
                if init_landed(catalog.session(), &e.location, &opref.id).await {
                    (Remedy::RollForward, format!("{why}; the graph's init landed: publish `active`, retire the sidecar"))
                } else {
                    (Remedy::RollBack, format!("{why}; the init did not complete: mark `failed`, remove {}, retire the sidecar", e.location))
                }
            }
            (OpKind::Import, State::Reserved) => {
                (Remedy::RollBack, format!("{why}; the import did not complete: mark `failed`, release its location claim (the graph's files are not touched)"))
            }
            (OpKind::Delete, State::Deleting) => {
                let rest = match opref.retain_ms {
                    Some(ms) if ms > 0 => format!("keep the data {ms} ms"),
                    _ => format!("remove {}", e.location),
                };
                (Remedy::RollForward, format!("{why}; the graph is no longer served: fence it, {rest}, publish the tombstone"))
            }
            (OpKind::Restore, State::Deleted) => (Remedy::RollForward, format!("{why}; lift the fence and publish `active`")),
            (OpKind::Purge, State::Deleted) => (Remedy::RollForward, format!("{why}; remove {} and publish the tombstone", e.location)),
            (kind, state) => (Remedy::NeedsOperator, format!("{why}; a {kind} operation on a `{state}` entry is not a state this version knows how to finish")),
        };
        let mut item = op_item(Some(e), &op, decision, reason);
        item.forced = forced;
        items.push(item);
    }

    for op in sidecars.iter().filter(|s| !handled.contains(&s.op_id)) {
        let forced = force == Some(op.op_id.as_str());
        force_found |= forced;
        let e = graphs.iter().find(|g| g.entry.id == op.graph_id).map(|g| &g.entry);
        if !forced && !op.lease_expired() {
            items.push(op_item(e, op, Remedy::Wait, lease_note(op)));
            continue;
        }
        let finished = e.is_some_and(|e| e.last_op.as_deref() == Some(op.op_id.as_str()));
        let item = if finished {
            op_item(e, op, Remedy::Retire, "the operation completed in the catalog; finish its cleanup and retire its sidecar".into())
        } else {
            let cleanup = match op.kind {
                OpKind::Create if e.is_none_or(|e| e.location != op.location) => format!(", remove {} if anything is there", op.location),
                _ => String::new(),
            };
            op_item(
                e,
                op,
                Remedy::RollBack,
                format!("the operation never took effect in the catalog (it lost its reservation or was superseded){cleanup}; retire its sidecar"),
            )
        };
        let mut item = item;
        item.forced = forced;
        items.push(item);
    }

    if let Some(f) = force
        && !force_found
    {
        return Err(CatalogError::UnknownOperation { op: f.to_string() });
    }

    for g in &graphs {
        let e = &g.entry;
        if e.state == State::Active
            && e.op.is_none()
            && let Some(item) = check_active(catalog.session(), e).await
        {
            items.push(item);
        }
        if retention::expired(e) {
            let mut i = Item::new(
                ItemKind::Retention,
                Remedy::Purge,
                format!("retention ended at {}: remove {} and keep the tombstone", e.retained_until.as_deref().unwrap_or("?"), e.location),
            );
            i.graph_id = Some(e.id.clone());
            i.state = Some(e.state);
            i.location = Some(e.location.clone());
            items.push(i);
        }
    }

    let mut found = orphans(catalog, dirs, &graphs.iter().map(|g| &g.entry).collect::<Vec<_>>(), &sidecars).await?;
    // Storage of a graph whose record does not read, or that an unreadable
    // sidecar may own, is not known to be an orphan: a person decides.
    for i in found.iter_mut() {
        if !bad_sidecars.is_empty() || i.graph_id.as_ref().is_some_and(|id| unreadable_ids.contains(id)) {
            i.decision = Remedy::NeedsOperator;
            i.reason = format!("{}; but a catalog record that does not read may own it, so it is left for an operator", i.reason);
        }
    }
    items.extend(found);
    Ok(Plan { catalog: catalog.uri().to_string(), applied: false, items })
}

async fn check_active(session: &omnigraph::Session, e: &GraphEntry) -> Option<Item> {
    let found = match omnigraph::Graph::open(&e.location, session).await {
        Ok(g) => match g.snapshot().await {
            Ok(s) if e.genesis_id.is_some() && s.genesis_id != e.genesis_id => Some((
                Remedy::NeedsOperator,
                format!(
                    "{} holds a different graph (genesis {:?}, the catalog recorded {:?}); nothing is changed automatically",
                    e.location, s.genesis_id, e.genesis_id
                ),
            )),
            Ok(_) => None,
            Err(err) => Some((Remedy::NeedsOperator, format!("{} does not read: {} {err}", e.location, err.code()))),
        },
        Err(omnigraph::Error::RecoveryRequired { ops, .. }) => {
            Some((Remedy::RepairGraph, format!("write(s) {ops:?} were left unfinished inside the graph: finish or undo them (engine recovery)")))
        }
        Err(omnigraph::Error::NotAGraph { missing, .. }) => {
            Some((Remedy::NeedsOperator, format!("storage is missing at {} ({missing}); restore it from a backup, or delete the graph", e.location)))
        }
        Err(err) => Some((Remedy::NeedsOperator, format!("{} does not open: {} {err}", e.location, err.code()))),
    };
    found.map(|(decision, reason)| {
        let mut i = Item::new(ItemKind::ActiveGraph, decision, reason);
        i.graph_id = Some(e.id.clone());
        i.state = Some(e.state);
        i.location = Some(e.location.clone());
        i
    })
}

/// Incarnation directories under `graphs/` that neither an entry (whose
/// data is not removed) nor a sidecar owns.
/// Every `graphs/<id>/<incarnation>` directory, as (id, incarnation).
async fn incarnation_dirs(catalog: &Catalog) -> Result<Vec<(String, String)>> {
    let store = catalog.store();
    let mut out = Vec::new();
    for id in store.list_dirs(GRAPHS_DIR).await? {
        for inc in store.list_dirs(&format!("{GRAPHS_DIR}/{id}")).await? {
            out.push((id.clone(), inc));
        }
    }
    Ok(out)
}

async fn orphans(catalog: &Catalog, dirs: Vec<(String, String)>, entries: &[&GraphEntry], sidecars: &[Operation]) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    let store = catalog.store();
    for (id, inc) in dirs {
        {
            let owned_by_entry = entries.iter().any(|e| e.id == id && e.incarnation == inc && !e.data_removed);
            let owned_by_op = sidecars.iter().any(|s| s.graph_id == id && s.incarnation == inc);
            if owned_by_entry || owned_by_op {
                continue;
            }
            let location = store.child_uri(&format!("{GRAPHS_DIR}/{id}/{inc}"));
            if !data::exists(catalog.session(), &location).await? {
                continue;
            }
            let mut i =
                Item::new(ItemKind::OrphanLocation, Remedy::Remove, format!("no catalog entry or operation owns incarnation {inc} of `{id}`: remove it"));
            i.graph_id = Some(id.clone());
            i.location = Some(location);
            out.push(i);
        }
    }
    Ok(out)
}
