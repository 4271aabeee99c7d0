//! Scalar indexes: every `@key`, `@unique` and `@index` property (the first
//! property of a composite) gets a Lance BTree index, so a point lookup or
//! range filter on it is answered from the index instead of a scan.
//!
//! Indexes are built after a load publishes, as their own write through the
//! same protocol (staged `CreateIndex` transactions, one `__manifest`
//! publish), so a reader never sees an index for data it cannot see. An
//! index that no longer covers every fragment (rows appended since) is
//! rebuilt once the uncovered rows pass [`REBUILD_FRACTION`] of the table;
//! until then Lance scans the uncovered fragments alongside the index.

use std::collections::BTreeSet;

use lance::dataset::transaction::{Operation, Transaction};
use lance::index::{CreateIndexBuilder, DatasetIndexExt};
use lance_index::IndexType;
use lance_index::scalar::ScalarIndexParams;

use super::Graph;
use super::write::{StagedWrite, commit_and_publish};
use crate::error::{Error, Result};
use crate::schema::{PropType, TypeDef};

/// Rebuild an index once this share of the table's rows is not covered.
pub const REBUILD_FRACTION: f64 = 0.2;

/// Properties of `t` that get an index.
pub fn indexed_columns(t: &TypeDef) -> Vec<String> {
    let mut cols = BTreeSet::new();
    for group in t.unique.iter().chain(&t.indexes).chain(std::iter::once(&t.key)) {
        if let Some(first) = group.first()
            && t.property(first).is_some_and(|p| indexable(&p.ty))
        {
            cols.insert(first.clone());
        }
    }
    cols.into_iter().collect()
}

fn indexable(ty: &PropType) -> bool {
    ty.is_keyable() || matches!(ty, PropType::F32 | PropType::F64)
}

pub(crate) fn index_name(col: &str) -> String {
    format!("og_{col}_idx")
}

/// The transaction that rebuilds every index of `t` over all of `ds` (what
/// `optimize` commits after rewriting fragments), or `None` when `t` has
/// no indexed property or no rows.
pub async fn stage_rebuild(mut ds: lance::Dataset, t: &TypeDef) -> Result<Option<Transaction>> {
    let key = t.table_key();
    let cols = indexed_columns(t);
    if cols.is_empty() || ds.count_rows(None).await.map_err(|e| Error::lance(&key, e))? == 0 {
        return Ok(None);
    }
    let existing = ds.load_indices().await.map_err(|e| Error::lance(&key, e))?;
    let mut new_indices = Vec::new();
    let mut removed_indices = Vec::new();
    for col in cols {
        let name = index_name(&col);
        let params = ScalarIndexParams::default();
        let meta = CreateIndexBuilder::new(&mut ds, &[col.as_str()], IndexType::BTree, &params)
            .name(name.clone())
            .replace(true)
            .execute_uncommitted()
            .await
            .map_err(|e| Error::lance(&key, e))?;
        new_indices.push(meta);
        removed_indices.extend(existing.iter().filter(|i| i.name == name).cloned());
    }
    Ok(Some(Transaction::new(ds.version().version, Operation::CreateIndex { new_indices, removed_indices }, None)))
}

/// Builds missing or stale indexes, and drops ours the schema no longer asks
/// for; returns how many were built. Publishes nothing when every index is
/// current.
pub async fn ensure(graph: &Graph) -> Result<usize> {
    // The schema of the head it works on.
    let (bound, snap) = graph.current().await?;
    let graph = &bound;
    let mut staged = Vec::new();
    let mut built = 0;
    for t in graph.schema().types() {
        let cols = indexed_columns(t);
        let key = t.table_key();
        let mut ds = graph.open_table(&snap, t).await?;
        let existing = ds.load_indices().await.map_err(|e| Error::lance(&key, e))?;
        // Ours that the schema no longer asks for (an `@index` removed, a
        // property renamed or dropped) go.
        let wanted: BTreeSet<String> = cols.iter().map(|c| index_name(c)).collect();
        let unwanted: Vec<_> =
            existing.iter().filter(|i| i.name.starts_with("og_") && i.name.ends_with("_idx") && !wanted.contains(&i.name)).cloned().collect();
        let rows = ds.count_rows(None).await.map_err(|e| Error::lance(&key, e))?;
        if cols.is_empty() || rows == 0 {
            if !unwanted.is_empty() {
                let txn = Transaction::new(ds.version().version, Operation::CreateIndex { new_indices: vec![], removed_indices: unwanted }, None);
                staged.push(StagedWrite::new(key, t.location(), std::sync::Arc::new(ds), txn));
            }
            continue;
        }
        let fragments: Vec<(u32, usize)> = ds.get_fragments().iter().map(|f| (f.id() as u32, f.metadata().physical_rows.unwrap_or(0))).collect();
        let mut new_indices = Vec::new();
        let mut removed_indices = unwanted;
        for col in cols {
            let name = index_name(&col);
            let old = existing.iter().find(|i| i.name == name).cloned();
            if let Some(old) = &old {
                let uncovered: usize = fragments.iter().filter(|(id, _)| !old.fragment_bitmap.as_ref().is_some_and(|b| b.contains(*id))).map(|(_, n)| *n).sum();
                if (uncovered as f64) < REBUILD_FRACTION * rows as f64 {
                    continue;
                }
            }
            let params = ScalarIndexParams::default();
            let meta = CreateIndexBuilder::new(&mut ds, &[col.as_str()], IndexType::BTree, &params)
                .name(name)
                .replace(true)
                .execute_uncommitted()
                .await
                .map_err(|e| Error::lance(&key, e))?;
            new_indices.push(meta);
            removed_indices.extend(old);
            built += 1;
        }
        if new_indices.is_empty() && removed_indices.is_empty() {
            continue;
        }
        let txn = Transaction::new(ds.version().version, Operation::CreateIndex { new_indices, removed_indices }, None);
        staged.push(StagedWrite::new(key, t.location(), std::sync::Arc::new(ds), txn));
    }
    if !staged.is_empty() {
        let reads: Vec<(String, u64)> = snap.tables.iter().map(|t| (t.key.clone(), t.version)).collect();
        commit_and_publish(
            graph,
            snap.manifest_ds(),
            snap.manifest_state(),
            super::sidecar::WriteKind::Index,
            staged,
            &reads,
            crate::storage::commit::CommitDraft::system("index"),
        )
        .await?;
    }
    Ok(built)
}
