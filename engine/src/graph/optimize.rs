//! `optimize`: compacts a graph's tables and brings their indexes up to
//! date, as one commit that changes no entity.
//!
//! Per table, the fragments under [`TARGET_ROWS`] live rows, and those with
//! deleted rows, are rewritten in groups of up to [`TARGET_ROWS`] rows (the
//! size a load writes), with their deleted rows dropped. Unlike a fold
//! (`graph::fold`), which leaves indexed fragments alone so it never touches
//! an index, optimize rewrites indexed fragments too, then rebuilds every
//! index of the table over the result: two table versions, the rewrite and
//! the rebuild, committed by one write (a [`FollowUp`]) and published
//! together, so no reader sees the rewrite without its indexes. A table
//! whose fragments need no rewrite but whose indexes miss some rows gets
//! the rebuild alone.
//!
//! Rows keep their ids and values: the change feed shows no change, and
//! every earlier commit still reads what it read (its table versions stay
//! until `cleanup` removes them).

use std::sync::Arc;

use lance::Dataset;
use lance::dataset::transaction::{Operation, RewriteGroup, Transaction};
use lance_table::format::Fragment;
use serde::Serialize;

use super::Graph;
use super::sidecar::WriteKind;
use super::write::{FollowUp, StagedWrite, WriteOptions, commit_and_publish};
use super::{indexes, retry};
use crate::error::{Error, Result};
use crate::schema::TypeDef;
use crate::storage::commit::Commit;

/// Fragments with fewer live rows than this are merged, up to this many
/// rows per fragment (a load's chunk).
pub const TARGET_ROWS: usize = 256 * 1024;

/// What optimize did to one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableOptimized {
    pub table: String,
    pub fragments_before: usize,
    pub fragments_after: usize,
    /// Live rows written again.
    pub rows_rewritten: u64,
    /// Deleted rows dropped from the files.
    pub deleted_rows_dropped: u64,
    /// Indexes rebuilt.
    pub indexes_rebuilt: usize,
}

/// What optimize did.
#[derive(Debug, Clone, Serialize)]
pub struct OptimizeReport {
    /// The commit it made; `None` when every table was already compact.
    pub commit: Option<Commit>,
    /// The tables it changed.
    pub tables: Vec<TableOptimized>,
}

/// A fragment as the plan sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub live: usize,
    pub deleted: usize,
}

/// Which fragments (by position) to rewrite together: runs of adjacent
/// small or partly deleted fragments, cut at [`TARGET_ROWS`] live rows; a
/// group is kept when it merges two or more fragments or drops deleted rows.
pub fn plan(pieces: &[Piece]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    let mut rows = 0;
    let worth = |g: &Vec<usize>| g.len() >= 2 || g.iter().any(|&i| pieces[i].deleted > 0);
    for (i, p) in pieces.iter().enumerate() {
        let candidate = p.live < TARGET_ROWS || p.deleted > 0;
        if !candidate || (!cur.is_empty() && rows + p.live > TARGET_ROWS) {
            let done = std::mem::take(&mut cur);
            if worth(&done) {
                groups.push(done);
            }
            rows = 0;
        }
        if candidate {
            cur.push(i);
            rows += p.live;
        }
    }
    if worth(&cur) {
        groups.push(cur);
    }
    groups
}

fn piece(f: &Fragment) -> Option<Piece> {
    let physical = f.physical_rows?;
    let deleted = match &f.deletion_file {
        None => 0,
        Some(d) => d.num_deleted_rows?,
    };
    Some(Piece { live: physical.saturating_sub(deleted), deleted })
}

/// The staged optimize of one table, with what it will do, or `None`.
async fn stage(graph: &Graph, t: &TypeDef, ds: Arc<Dataset>) -> Result<Option<(StagedWrite, TableOptimized)>> {
    let key = t.table_key();
    let lance_err = |e: lance::Error| Error::lance(&key, e);
    let fragments = ds.manifest.fragments.clone();
    // A fragment whose size is not recorded is left where it is.
    let mut known = Vec::new();
    let mut pieces = Vec::new();
    for f in fragments.iter() {
        if let Some(p) = piece(f) {
            known.push(f.clone());
            pieces.push(p);
        }
    }
    let groups = plan(&pieces);
    let rows = ds.count_rows(None).await.map_err(lance_err)?;
    let indexes_wanted = indexes::wanted(t, rows).len();
    let indexed = indexes_wanted > 0;
    let stale = indexed && indexes::any_stale(&ds, t).await?;
    if groups.is_empty() && !stale {
        return Ok(None);
    }
    let mut report = TableOptimized {
        table: t.name.clone(),
        fragments_before: fragments.len(),
        fragments_after: fragments.len(),
        rows_rewritten: 0,
        deleted_rows_dropped: 0,
        indexes_rebuilt: indexes_wanted,
    };
    let mut rewrite = Vec::new();
    for g in &groups {
        let old: Vec<Fragment> = g.iter().map(|&i| known[i].clone()).collect();
        let (new_fragments, rows) = super::fold::rewrite(graph, &ds, &old, &key).await?;
        report.rows_rewritten += rows as u64;
        report.deleted_rows_dropped += g.iter().map(|&i| pieces[i].deleted as u64).sum::<u64>();
        report.fragments_after = report.fragments_after - old.len() + new_fragments.len();
        rewrite.push(RewriteGroup { old_fragments: old, new_fragments });
    }
    let (txn, then): (Transaction, Option<FollowUp>) = if rewrite.is_empty() {
        // Only the indexes are behind: one step.
        match indexes::stage_rebuild((*ds).clone(), t).await? {
            Some(txn) => (txn, None),
            None => return Ok(None),
        }
    } else {
        let op = Operation::Rewrite { groups: rewrite, rewritten_indices: vec![], frag_reuse_index: None };
        let then: Option<FollowUp> = if indexed {
            let t = t.clone();
            let key = key.clone();
            Some(Box::new(move |ds: Arc<Dataset>| {
                Box::pin(async move {
                    indexes::stage_rebuild((*ds).clone(), &t).await?.ok_or_else(|| Error::lance(&key, "optimize: nothing to index after the rewrite"))
                })
            }))
        } else {
            None
        };
        (Transaction::new(ds.version().version, op, None), then)
    };
    let mut staged = StagedWrite::new(key, t.location(), ds, txn);
    staged.then = then;
    Ok(Some((staged, report)))
}

/// Compacts every table that needs it and rebuilds their indexes, as one
/// commit of kind `optimize` (by `opts.actor`, with `opts.message`), in the
/// graph's write turn. Run again on the new head when another process
/// published first.
pub async fn optimize(graph: &Graph, opts: &WriteOptions) -> Result<OptimizeReport> {
    graph.require_writable()?;
    opts.validate()?;
    let _turn = graph.write_queue().turn().await;
    retry::before_write(graph).await;
    let (mut retries, began) = (0, std::time::Instant::now());
    let result = loop {
        let result = optimize_once(graph, opts).await;
        if retry::may_retry(&result, retries, began) {
            retries += 1;
            retry::pause(graph, retries).await;
            continue;
        }
        break result;
    };
    retry::after_write(graph).await;
    result
}

async fn optimize_once(graph: &Graph, opts: &WriteOptions) -> Result<OptimizeReport> {
    // The schema of the head it works on.
    let (bound, snap) = graph.current().await?;
    let graph = &bound;
    let mut staged = Vec::new();
    let mut tables = Vec::new();
    for t in graph.schema().types() {
        let ds = Arc::new(graph.open_table(&snap, t).await?);
        if let Some((s, r)) = stage(graph, t, ds).await? {
            staged.push(s);
            tables.push(r);
        }
    }
    if staged.is_empty() {
        return Ok(OptimizeReport { commit: None, tables });
    }
    let state =
        commit_and_publish(graph, snap.manifest_ds(), snap.manifest_state(), WriteKind::Optimize, staged, &[], opts.draft("optimize", Default::default()))
            .await?;
    Ok(OptimizeReport { commit: Some(state.commit), tables })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(live: usize, deleted: usize) -> Piece {
        Piece { live, deleted }
    }

    #[test]
    fn merges_runs_of_small_fragments_up_to_the_target() {
        let big = TARGET_ROWS;
        assert_eq!(plan(&[p(10, 0), p(10, 0), p(big, 0), p(5, 0)]), vec![vec![0, 1]]);
        assert_eq!(plan(&[p(big - 5, 0), p(10, 0), p(10, 0)]), vec![vec![1, 2]]);
        assert_eq!(plan(&[p(3, 0)]), Vec::<Vec<usize>>::new());
        // A big fragment with deletions is rewritten alone.
        assert_eq!(plan(&[p(big, 7)]), vec![vec![0]]);
        assert_eq!(plan(&[p(0, 4), p(1, 0)]), vec![vec![0, 1]]);
        let many: Vec<Piece> = (0..1000).map(|_| p(1000, 0)).collect();
        let groups = plan(&many);
        assert!(groups.iter().all(|g| g.len() * 1000 <= TARGET_ROWS));
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 1000);
    }
}
