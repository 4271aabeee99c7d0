//! Folding: many small writes leave many small fragments (a single-row
//! mutation adds one per table it touches), and every read and write pays
//! for each (a scan opens it, every commit rewrites the table's manifest
//! with it, a filter on an indexed column scans it beside the index). A
//! fold merges them into one fragment, as its own write through the write
//! protocol (sidecar, pinned commit, one `__manifest` publish), so a reader
//! sees the table before or after it, never between.
//!
//! Which fragments: those no index covers (an index's fragments stay as
//! they are, so no index is remapped) and smaller than [`MAX_ROWS`], in size
//! tiers: a fragment of `n` rows is in tier `log8(n)`, and a tier folds once
//! it holds [`FOLD_AT`] fragments. So a row is rewritten once per tier it
//! climbs (a handful of times in all), and the fragment count of a table
//! that takes only small writes stays under `FOLD_AT` per tier.
//!
//! The rows keep their ids; only their addresses move. Views follow a fold
//! like any write (`query::delta`: the folded fragments' rows removed, the
//! new fragment's added), at the cost of the folded rows.

use std::sync::Arc;

use futures::TryStreamExt;
use lance::Dataset;
use lance::dataset::InsertBuilder;
use lance::dataset::WriteMode;
use lance::dataset::transaction::{Operation, RewriteGroup, Transaction};
use lance::index::DatasetIndexExt;
use lance_table::format::Fragment;

use super::Graph;
use super::write::{StagedWrite, commit_and_publish};
use crate::error::{Error, Result};
use crate::schema::TypeDef;

/// A tier folds once it holds this many fragments.
pub const FOLD_AT: usize = 16;

/// Fragments this large (tier 5 and up) are left alone: a load writes its
/// rows in chunks of 256k, and merging those would rewrite millions of rows
/// while the write turn waits (a full compaction's business). So a fold
/// rewrites at most `FOLD_AT` fragments of this size.
pub const MAX_ROWS: usize = 1 << 15;

fn tier(rows: usize) -> u32 {
    rows.max(1).ilog(8)
}

/// A fragment as a fold plan sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub id: u64,
    /// Physical rows (deleted ones included); `None` when unknown.
    pub rows: Option<usize>,
    /// Whether an index covers it.
    pub covered: bool,
}

/// The fragments to fold now, by id: the fullest tier with at least
/// [`FOLD_AT`] uncovered fragments under [`MAX_ROWS`] rows, if any.
pub fn choose(fragments: &[Candidate]) -> Vec<u64> {
    let mut tiers: std::collections::BTreeMap<u32, Vec<u64>> = Default::default();
    for f in fragments {
        if let Some(rows) = f.rows
            && rows < MAX_ROWS
            && !f.covered
        {
            tiers.entry(tier(rows)).or_default().push(f.id);
        }
    }
    tiers.into_values().filter(|v| v.len() >= FOLD_AT).max_by_key(|v| v.len()).unwrap_or_default()
}

/// The fragments of `ds` to fold now (see [`choose`]).
async fn plan(ds: &Dataset, key: &str) -> Result<Vec<Fragment>> {
    let fragments = &ds.manifest.fragments;
    if fragments.len() < FOLD_AT {
        return Ok(Vec::new());
    }
    let indices = ds.load_indices().await.map_err(|e| Error::lance(key, e))?;
    // An index that does not say what it covers: leave the table.
    if indices.iter().any(|i| i.fragment_bitmap.is_none()) {
        return Ok(Vec::new());
    }
    let covered = |id: u64| indices.iter().any(|i| i.fragment_bitmap.as_ref().is_some_and(|b| b.contains(id as u32)));
    let candidates: Vec<Candidate> = fragments.iter().map(|f| Candidate { id: f.id, rows: f.physical_rows, covered: covered(f.id) }).collect();
    let chosen: std::collections::HashSet<u64> = choose(&candidates).into_iter().collect();
    Ok(fragments.iter().filter(|f| chosen.contains(&f.id)).cloned().collect())
}

/// The live rows of `old` (fragments of `ds`) written again as new,
/// uncommitted fragments (none when no row is live), and how many rows:
/// the new side of a `Rewrite` group, for folds and `optimize`.
pub(crate) async fn rewrite(graph: &Graph, ds: &Arc<Dataset>, old: &[Fragment], key: &str) -> Result<(Vec<Fragment>, usize)> {
    let lance_err = |e: lance::Error| Error::lance(key, e);
    let mut scan = ds.scan();
    scan.with_fragments(old.to_vec());
    let batches: Vec<arrow_array::RecordBatch> = scan.try_into_stream().await.map_err(lance_err)?.try_collect().await.map_err(lance_err)?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        return Ok((Vec::new(), 0));
    }
    let params = graph.session().write_params(WriteMode::Append);
    let txn = InsertBuilder::new(ds.clone()).with_params(&params).execute_uncommitted(batches).await.map_err(lance_err)?;
    match txn.operation {
        Operation::Append { fragments } => Ok((fragments, rows)),
        other => Err(Error::lance(key, format!("unexpected staged operation {other}"))),
    }
}

/// The staged fold of `t`'s small fragments, or `None` when it has too few.
async fn stage(graph: &Graph, t: &TypeDef, ds: Arc<Dataset>) -> Result<Option<StagedWrite>> {
    let key = t.table_key();
    let old = plan(&ds, &key).await?;
    if old.is_empty() {
        return Ok(None);
    }
    let (new_fragments, _) = rewrite(graph, &ds, &old, &key).await?;
    let op = Operation::Rewrite { groups: vec![RewriteGroup { old_fragments: old, new_fragments }], rewritten_indices: vec![], frag_reuse_index: None };
    let txn = Transaction::new(ds.version().version, op, None);
    Ok(Some(StagedWrite::new(key, t.location(), ds, txn)))
}

/// Folds the small fragments of the tables named (all when `None`) where a
/// tier is full, as one write; the keys of the tables folded. Publishes
/// nothing when none needs it. The caller holds the graph's write turn.
pub async fn fold(graph: &Graph, tables: Option<&[String]>) -> Result<Vec<String>> {
    // The schema of the head it works on.
    let (bound, snap) = graph.current().await?;
    let graph = &bound;
    let mut staged = Vec::new();
    for t in graph.schema().types() {
        if tables.is_some_and(|names| !names.contains(&t.name)) {
            continue;
        }
        let ds = Arc::new(graph.open_table(&snap, t).await?);
        if let Some(s) = stage(graph, t, ds).await? {
            staged.push(s);
        }
    }
    let folded: Vec<String> = staged.iter().map(|s| s.key.clone()).collect();
    if !staged.is_empty() {
        commit_and_publish(
            graph,
            snap.manifest_ds(),
            snap.manifest_state(),
            super::sidecar::WriteKind::Fold,
            staged,
            &[],
            crate::storage::commit::CommitDraft::system("fold"),
        )
        .await?;
    }
    Ok(folded)
}
