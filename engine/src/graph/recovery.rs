//! Repairs a write that stopped between its first table commit and the end
//! of its publish, from its sidecar.
//!
//! For each table the sidecar names, with `before` its version before the
//! write and `p` the version `__manifest` publishes now:
//! - `p > before`: published (the write's publish landed, or a roll back did);
//! - head `== before`, or `before + 1` made by another writer: untouched;
//! - head `== before + 1` tagged with the op id as `write`: committed
//!   (for a write of two steps, `optimize`'s rewrite then index rebuild:
//!   `before + 1` and `before + 2` both tagged, else partial);
//! - the version after the write's own tagged as this op's `rollback`:
//!   rolled back;
//! - anything else: foreign, and recovery stops for an operator.
//!
//! If every table is committed, the write is rolled forward (one publish of
//! all of them). Otherwise committed tables are restored to `before` and the
//! restored versions are published, so head and manifest agree again. Either
//! way the sidecar is removed last. Each step is idempotent.

use std::sync::Arc;

use serde::Serialize;

use super::layout;
use super::sidecar::{Sidecar, SidecarTable, WriteKind};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::storage::Root;
use crate::storage::branch::BranchPath;
use crate::storage::commit::CommitDraft;
use crate::storage::manifest::{self, TableUpdate};
use crate::storage::table;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOutcome {
    /// Every table had landed: the publish was completed.
    RolledForward,
    /// Some tables had not landed: committed ones were restored.
    RolledBack,
    /// Already published or never started: only the sidecar was removed.
    AlreadyConsistent,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recovered {
    pub op_id: String,
    pub kind: WriteKind,
    pub decision: WriteOutcome,
    /// How many tables the write touched.
    pub tables: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum TableState {
    Untouched,
    Committed,
    /// Some of the write's versions landed, not all (a crash between the
    /// two steps of a write with a follow-up): it can only be rolled back.
    Partial,
    RolledBack(u64),
    Published,
}

async fn table_state(root: &Root, t: &SidecarTable, published: u64, op_id: &str) -> Result<TableState> {
    if published > t.before {
        return Ok(TableState::Published);
    }
    let uri = root.child_uri(&t.location);
    let head_ds = table::open(root.session(), &uri, None).await?;
    let head = head_ds.version().version;
    let tag = |v| {
        let ds = &head_ds;
        async move { table::op_tag(ds, v).await }
    };
    if head == t.before {
        return Ok(TableState::Untouched);
    }
    let ours = |role: &str| Some((op_id.to_string(), role.to_string()));
    if tag(t.before + 1).await? != ours("write") {
        // Another writer won `before + 1`: this write never landed here.
        return Ok(TableState::Untouched);
    }
    // The write's own versions: `before + 1 ..= before + written`.
    let mut written = 1;
    while written < t.steps && t.before + written < head && tag(t.before + written + 1).await? == ours("write") {
        written += 1;
    }
    if head == t.before + written {
        return Ok(if written == t.steps { TableState::Committed } else { TableState::Partial });
    }
    if head == t.before + written + 1 && tag(head).await? == ours("rollback") {
        return Ok(TableState::RolledBack(head));
    }
    Err(Error::storage(
        root.child_uri(&layout::sidecar_path(op_id)),
        format!("table {} is at version {head}, which write {op_id} (before {}) did not make; an operator must look at it", t.key, t.before),
    ))
}

impl WriteOutcome {
    /// What recovering a write this way does, in words (`done`: it was done).
    pub fn describe(&self, kind: &WriteKind, tables: usize, done: bool) -> String {
        match (self, done) {
            (WriteOutcome::RolledForward, false) => format!("roll forward abandoned {kind}: all {tables} table(s) landed; publish them"),
            (WriteOutcome::RolledForward, true) => format!("rolled forward abandoned {kind}: published its {tables} table(s)"),
            (WriteOutcome::RolledBack, false) => format!("roll back abandoned {kind}: not every table landed; restore the {tables} table(s) it touched"),
            (WriteOutcome::RolledBack, true) => format!("rolled back abandoned {kind}: restored the table(s) it touched; nothing of it is visible"),
            (WriteOutcome::AlreadyConsistent, false) => format!("remove the record of {kind}: it was already published, or never wrote"),
            (WriteOutcome::AlreadyConsistent, true) => format!("removed the record of {kind}: it was already published, or never wrote"),
        }
    }
}

/// Where each table of a write stands, and so what recovering it does.
async fn decide(root: &Root, branch: &BranchPath, sidecar: &Sidecar, force_rollback: bool) -> Result<Decided> {
    let (mds, mstate) = manifest::read(root, branch, None).await?;
    let mut states = Vec::new();
    for t in &sidecar.tables {
        // Found by where it is stored: a schema change may have renamed it.
        let published = mstate
            .tables
            .get(&t.key)
            .filter(|e| e.location == t.location)
            .or_else(|| mstate.tables.values().find(|e| e.location == t.location))
            .map(|e| e.version)
            .unwrap_or(0);
        states.push(table_state(root, t, published, &sidecar.op_id).await?);
    }
    // A write staged against another schema than the head's never lands.
    let schema_moved = sidecar.schema_generation.is_some_and(|g| g != mstate.schema_generation());
    let pending = states.iter().any(|s| matches!(s, TableState::Committed | TableState::Partial | TableState::RolledBack(_)));
    let decision = if !pending {
        WriteOutcome::AlreadyConsistent
    } else if !force_rollback
        && !schema_moved
        && states.iter().all(|s| *s == TableState::Committed)
        // A conditional write lands only over the commit it expected.
        && sidecar.commit_draft().if_parent.is_none_or(|p| p == mstate.commit.id)
    {
        WriteOutcome::RolledForward
    } else {
        WriteOutcome::RolledBack
    };
    Ok(Decided { decision, states, manifest: mds, state: mstate })
}

/// What [`decide`] found, with the manifest it read (a publish expects it).
struct Decided {
    decision: WriteOutcome,
    states: Vec<TableState>,
    manifest: Arc<lance::Dataset>,
    state: manifest::ManifestState,
}

/// Recovers one sidecar. `force_rollback` is used by a writer undoing its
/// own failed write: it never rolls forward.
pub async fn recover(root: &Root, sidecar: &Sidecar, force_rollback: bool) -> Result<Recovered> {
    let Some(branch) = crate::storage::branch::resolve(root, sidecar.branch.as_deref().unwrap_or(manifest::MAIN_BRANCH)).await? else {
        // The write's branch was deleted: nothing of it can become visible.
        sidecar.remove(root).await?;
        return Ok(Recovered {
            op_id: sidecar.op_id.clone(),
            kind: sidecar.kind.clone(),
            decision: WriteOutcome::AlreadyConsistent,
            tables: sidecar.tables.len(),
        });
    };
    let Decided { decision, states, manifest: mds, state: mstate } = decide(root, &branch, sidecar, force_rollback).await?;
    let decision = if decision == WriteOutcome::AlreadyConsistent {
        WriteOutcome::AlreadyConsistent
    } else if decision == WriteOutcome::RolledForward {
        let mut updates = Vec::new();
        for t in &sidecar.tables {
            let ds = table::open(root.session(), &root.child_uri(&t.location), Some(t.before + t.steps)).await?;
            updates.push(TableUpdate {
                key: t.key.clone(),
                expected: t.before,
                new_version: t.before + t.steps,
                location: t.location.clone(),
                row_count: ds.count_rows(None).await.map_err(|e| Error::lance(&t.key, e))? as u64,
            });
        }
        updates.extend(sidecar.extra.iter().cloned());
        manifest::publish(root, &branch, mds, mstate, &updates, &[], &sidecar.op_id, &sidecar.commit_draft()).await?;
        WriteOutcome::RolledForward
    } else {
        let mut updates = Vec::new();
        for (t, s) in sidecar.tables.iter().zip(&states) {
            let uri = root.child_uri(&t.location);
            let restored = match s {
                TableState::Committed | TableState::Partial => {
                    let head = Arc::new(table::open(root.session(), &uri, None).await?);
                    table::commit_restore(head, t.before, &t.key, &sidecar.op_id).await?.version().version
                }
                TableState::RolledBack(v) => *v,
                _ => continue,
            };
            let ds = table::open(root.session(), &uri, Some(restored)).await?;
            updates.push(TableUpdate {
                key: t.key.clone(),
                expected: t.before,
                new_version: restored,
                location: t.location.clone(),
                row_count: ds.count_rows(None).await.map_err(|e| Error::lance(&t.key, e))? as u64,
            });
        }
        let draft = CommitDraft {
            actor: sidecar.commit_draft().actor,
            kind: "recover".into(),
            message: Some(format!("rolled back {} {}", sidecar.kind, sidecar.op_id)),
            ..Default::default()
        };
        manifest::publish_rollback(root, &branch, mds, mstate, &updates, &sidecar.op_id, &draft).await?;
        WriteOutcome::RolledBack
    };
    sidecar.remove(root).await?;
    Ok(Recovered { op_id: sidecar.op_id.clone(), kind: sidecar.kind.clone(), decision, tables: sidecar.tables.len() })
}

/// One thing `omnigraph recover --store` found.
#[derive(Debug, Clone, Serialize)]
pub struct RepairItem {
    /// `write` (a sidecar) or `init_claim`.
    pub kind: &'static str,
    pub id: String,
    /// What will be / was done.
    pub action: String,
    /// False while the owner is alive and its lease runs: left alone.
    pub actionable: bool,
    pub applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<WriteOutcome>,
}

/// Finds abandoned writes and init claims under `uri`; repairs them when
/// `apply`. Live operations are reported and left alone.
pub async fn repair(uri: &str, session: &Session, apply: bool) -> Result<Vec<RepairItem>> {
    let root = Root::new(session, uri, false)?;
    let mut items = Vec::new();
    if let Some(claim) = super::init::read_claim(&root).await? {
        let manifest_present = !root.list(layout::MANIFEST).await?.is_empty();
        let landed = manifest_present && manifest::read(&root, &BranchPath::main(), None).await?.1.genesis_id.as_deref() == Some(claim.op_id.as_str());
        let (action, actionable) = if !claim.abandoned() {
            (format!("wait: init {} is running ({})", claim.op_id, claim.lease.owner), false)
        } else if landed {
            ("remove the claim left by an init that completed".to_string(), true)
        } else {
            (format!("roll back abandoned init {}: remove the artifacts it created under its claim", claim.op_id), true)
        };
        let mut applied = false;
        if apply && actionable {
            if !landed {
                for name in layout::ARTIFACTS.iter().filter(|n| **n != layout::INIT_CLAIM) {
                    root.delete_prefix(name).await?;
                    root.delete(name).await?;
                }
            }
            root.delete(layout::INIT_CLAIM).await?;
            applied = true;
        }
        let action = match (applied, landed) {
            (true, true) => "removed the claim left by an init that completed".to_string(),
            (true, false) => format!("rolled back abandoned init {}: removed the artifacts it created under its claim", claim.op_id),
            _ => action,
        };
        items.push(RepairItem { kind: "init_claim", id: claim.op_id, action, actionable, applied, decision: None });
    }
    if root.list(layout::MANIFEST).await?.is_empty() {
        return Ok(items);
    }
    for s in super::sidecar::list(&root).await? {
        let actionable = s.abandoned();
        let mut item = RepairItem {
            kind: "write",
            id: s.op_id.clone(),
            action: format!("wait: {} is in its commit window ({})", s.kind, s.lease.owner),
            actionable,
            applied: false,
            decision: None,
        };
        if actionable {
            let decision = if apply {
                recover(&root, &s, false).await?.decision
            } else {
                match crate::storage::branch::resolve(&root, s.branch.as_deref().unwrap_or(manifest::MAIN_BRANCH)).await? {
                    Some(branch) => decide(&root, &branch, &s, false).await?.decision,
                    None => WriteOutcome::AlreadyConsistent,
                }
            };
            item.action = decision.describe(&s.kind, s.tables.len(), apply);
            item.decision = Some(decision);
            item.applied = apply;
        }
        items.push(item);
    }
    Ok(items)
}
