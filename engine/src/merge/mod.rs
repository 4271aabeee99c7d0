//! Merging one branch into another: three-way at the entity level, from
//! the newest commit both contain ([`base`]), with typed conflicts
//! ([`diff`], [`checks`]). No conflict: the source's changes are written to
//! the target as one write (the write protocol: sidecar, pinned table
//! commits, one publish), a commit of kind `merge` whose parents are the
//! target's head and the source's. Any conflict: nothing is written and
//! every conflict is reported. See docs/user/branches.md.

mod base;
mod checks;
mod diff;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use futures::TryStreamExt;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::failpoint;
use crate::graph::sidecar::WriteKind;
use crate::graph::write::{StagedWrite, commit_and_publish_with, stage_rows};
use crate::graph::{Graph, WriteOptions};
use crate::schema::TypeDef;
use crate::storage::columns::ID;
use crate::storage::commit::{Commit, TypeCounts};
use crate::storage::manifest::MAIN_BRANCH;
use crate::storage::table;

/// The kind of a merge commit.
pub const MERGE_KIND: &str = "merge";

/// One reason a merge cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// `divergent_insert`, `divergent_update`, `delete_vs_update`,
    /// `unique`, `orphan_edge`, `card`, `stored_query`.
    pub kind: String,
    /// The node or edge type.
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: String,
    /// The properties concerned (for `divergent_update`: those the two
    /// branches set differently; for `card`: the edge type).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    pub message: String,
}

impl Conflict {
    fn new(kind: &str, t: &TypeDef, id: &str, properties: Vec<String>, message: String) -> Conflict {
        Conflict { kind: kind.into(), type_name: t.name.clone(), id: id.to_string(), properties, message }
    }
}

/// How a merge is asked for.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// The target branch (`main` when `None`).
    pub into: Option<String>,
    /// Say what would happen; write nothing.
    pub dry_run: bool,
    /// Delete the source branch after a merge that wrote (or was up to
    /// date).
    pub delete_source: bool,
}

/// What a merge did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    pub source: String,
    pub into: String,
    /// `up_to_date` (nothing to merge), `fast_forward` (the target had not
    /// moved since the base), or `merged`.
    pub outcome: &'static str,
    pub dry_run: bool,
    /// The newest commit both branches contained.
    pub base: String,
    /// The source commit merged.
    pub source_head: String,
    /// The merge commit (none in a dry run or when up to date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<Commit>,
    /// Per type, what the merge changes on the target.
    pub changes: BTreeMap<String, TypeCounts>,
    pub source_deleted: bool,
}

/// Merges branch `source` into `opts.into` (default `main`) of `graph`.
pub async fn merge(graph: &Graph, source: &str, opts: &MergeOptions, wopts: &WriteOptions) -> Result<MergeReport> {
    graph.require_writable()?;
    wopts.validate()?;
    let into = opts.into.clone().unwrap_or_else(|| MAIN_BRANCH.to_string());
    if source == into {
        return Err(Error::MergeRefused { source_branch: source.into(), target: into, reason: "a branch cannot be merged into itself".into() });
    }
    let s = graph.on_branch(source).await?;
    let t = graph.on_branch(&into).await?;
    let _turn = t.write_queue().turn().await;
    let mut runs = 0;
    let report = loop {
        runs += 1;
        match merge_once(&s, &t, opts, wopts).await {
            // Another writer published on the target meanwhile: run again on
            // its new head (a conditional merge is never run again).
            Err(Error::ExpectedVersionMismatch { .. }) if runs < 8 && wopts.if_commit.is_none() => continue,
            other => break other?,
        }
    };
    let mut report = report;
    if opts.delete_source && !opts.dry_run && source != MAIN_BRANCH {
        crate::graph::branches::delete(graph, source).await?;
        report.source_deleted = true;
    }
    Ok(report)
}

async fn merge_once(s: &Graph, t: &Graph, opts: &MergeOptions, wopts: &WriteOptions) -> Result<MergeReport> {
    let s_snap = s.snapshot().await?;
    let t_snap = t.snapshot().await?;
    // One schema on both sides (datasets of types each side added may
    // differ: rows are read and written where each side keeps them).
    if s_snap.schema.ir.logical_hash() != t_snap.schema.ir.logical_hash() {
        return Err(Error::MergeSchemaDiffers {
            source_branch: s.branch().name.clone(),
            target: t.branch().name.clone(),
            source_hash: s_snap.schema_hash.clone(),
            target_hash: t_snap.schema_hash.clone(),
        });
    }
    let (s, t) = (&s.bound(&s_snap), &t.bound(&t_snap));
    let (s_head, t_head) = (s_snap.manifest_state(), t_snap.manifest_state());
    let base = base::find(s, &s_head, t, &t_head).await.map_err(|e| pruned(e, &s.branch().name, &t.branch().name, None))?;
    // Rows are compared in the heads' schema: the base's rows are read in
    // the schema of the base and carried over (renamed types and
    // properties followed) when a schema change came between.
    let base_schema = t.schema_of(&base.state).await?;
    let evolution = (base_schema.hash != t_snap.schema.hash).then(|| crate::schema::evolve::plan(&base_schema.ir, &t_snap.schema.ir));
    let mut report = MergeReport {
        source: s.branch().name.clone(),
        into: t.branch().name.clone(),
        outcome: "merged",
        dry_run: opts.dry_run,
        base: base.commit.id.clone(),
        source_head: s_head.commit.id.clone(),
        commit: None,
        changes: BTreeMap::new(),
        source_deleted: false,
    };
    // Nothing on the source since the base (a new branch has only its
    // first commit, which changes no entity).
    let only_created = s_head.commit.kind == crate::storage::branch::BRANCH_KIND && s_head.commit.parents.first() == Some(&base.commit.id);
    if base.commit.id == s_head.commit.id || only_created {
        report.outcome = "up_to_date";
        return Ok(report);
    }
    let fast_forward = base.commit.id == t_head.commit.id;
    if fast_forward {
        report.outcome = "fast_forward";
    }

    // Every entity either side changed since they parted, per table.
    let mut changed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let gone = |e: Error| pruned(e, &report.source, &report.into, Some(&base.commit.id));
    diff::changed_ids(s, &base.source_line, &s_head, &mut changed).await.map_err(gone)?;
    diff::changed_ids(t, &base.target_line, &t_head, &mut changed).await.map_err(gone)?;
    let mut conflicts = Vec::new();
    let mut merges = BTreeMap::new();
    for ty in t.schema().types() {
        let Some(ids) = changed.get(&ty.table_key()).filter(|ids| !ids.is_empty()) else { continue };
        let b = diff::fetch_base(t, &base.state, evolution.as_ref(), ty, ids).await.map_err(gone)?;
        let sv = diff::fetch(t, &s_head, ty, ids).await?;
        let tv = diff::fetch(t, &t_head, ty, ids).await?;
        let m = diff::three_way(ty, ids, &b, sv, tv, &mut conflicts);
        if !m.remove.is_empty() || !m.write.is_empty() {
            merges.insert(ty.name.clone(), m);
        }
    }
    if conflicts.is_empty() && !fast_forward {
        checks::check(t, &t_head, &merges, &mut conflicts).await?;
    }
    // Stored queries merge by name.
    let (b_q, s_q, t_q) =
        (crate::stored::catalog_of(t, &base.state).await?, crate::stored::catalog_of(t, &s_head).await?, crate::stored::catalog_of(t, &t_head).await?);
    let mut query_conflicts = Vec::new();
    let merged_queries = crate::stored::merge(&b_q, &s_q, &t_q, &mut query_conflicts);
    for (name, message) in query_conflicts {
        conflicts.push(Conflict { kind: "stored_query".into(), type_name: "(stored queries)".into(), id: name, properties: Vec::new(), message });
    }
    if !conflicts.is_empty() {
        conflicts.sort_by(|a, b| (&a.type_name, &a.id, &a.kind).cmp(&(&b.type_name, &b.id, &b.kind)));
        conflicts.dedup();
        return Err(Error::MergeConflict { source_branch: report.source, target: report.into, conflicts });
    }
    for (name, m) in &merges {
        report.changes.insert(name.clone(), TypeCounts { inserted: m.inserted, updated: m.updated, deleted: m.deleted });
    }
    if opts.dry_run {
        return Ok(report);
    }

    // The write: per type, the target's rows of changed ids go, the
    // source's are written.
    let mut staged = Vec::new();
    let mut reads = Vec::new();
    for ty in t.schema().types() {
        let Some(entry) = t_head.tables.get(&ty.table_key()) else { continue };
        reads.push((ty.table_key(), entry.version));
        let Some(m) = merges.get(&ty.name) else { continue };
        let base_ds = Arc::new(table::open(t.session(), &t.root().child_uri(&entry.location), Some(entry.version)).await?);
        let addresses = row_addresses(&base_ds, ty, &m.remove).await?;
        let rows = diff::rows_of(&m.source, &m.write)?;
        if rows.is_none() && addresses.is_empty() {
            continue;
        }
        let txn = stage_rows(t, &ty.table_key(), &base_ds, rows, addresses).await?;
        staged.push(StagedWrite::new(ty.table_key(), entry.location.clone(), base_ds, txn));
    }
    failpoint::hit("merge.before_write");
    let mut draft = wopts.draft(MERGE_KIND, report.changes.clone());
    draft.merged = Some(s_head.commit.id.clone());
    if draft.message.is_none() {
        draft.message = Some(format!("merge {} into {}", report.source, report.into));
    }
    let extra = if merged_queries != *t_q { vec![crate::stored::stage_over(t, &t_head, &merged_queries).await?] } else { Vec::new() };
    let published = commit_and_publish_with(t, t_snap.manifest_ds(), t_head, WriteKind::Merge, staged, &reads, draft, extra).await?;
    report.commit = Some(published.commit);
    Ok(report)
}

/// A table version the merge must read (of the base, or of a commit since)
/// that is gone: cleanup removed it (or its files are damaged).
fn pruned(e: Error, source: &str, into: &str, base: Option<&str>) -> Error {
    match e {
        Error::Unreadable { .. } | Error::CommitPruned { .. } => Error::MergeRefused {
            source_branch: source.to_string(),
            target: into.to_string(),
            reason: format!(
                "a version it must read{} is gone (removed by cleanup, or damaged); make a new branch from the target and apply the changes there",
                base.map(|b| format!(" since their common commit {b}")).unwrap_or_else(|| " (their common commit)".into())
            ),
        },
        other => other,
    }
}

/// The row addresses of `ids` in `ds`.
async fn row_addresses(ds: &Arc<lance::Dataset>, t: &TypeDef, ids: &BTreeSet<String>) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(4096) {
        let mut scan = ds.scan();
        scan.filter_expr(diff::id_filter(t, chunk.iter().map(|s| s.to_string())));
        scan.project(&[ID]).map_err(|e| Error::lance(&t.name, e))?;
        scan.with_row_address();
        let batches: Vec<arrow_array::RecordBatch> =
            scan.try_into_stream().await.map_err(|e| Error::lance(&t.name, e))?.try_collect().await.map_err(|e| Error::lance(&t.name, e))?;
        for b in batches {
            let col = b.column_by_name("_rowaddr").expect("row address column").as_primitive::<arrow_array::types::UInt64Type>();
            out.extend(col.values().iter().copied());
        }
    }
    Ok(out)
}
