//! Indexes, built from the schema:
//! - **scalar** (Lance BTree, `og_<col>_idx`): every `@key`, `@unique` and
//!   `@index` property (the first property of a composite) of a keyable or
//!   float type, so a point lookup or range filter is answered from the
//!   index instead of a scan;
//! - **text** (Lance inverted index with positions, `og_<col>_fts`): an
//!   `@index` `String` property, for `search`, `fuzzy`, `match_text`, `bm25`;
//! - **vector** (Lance IVF-PQ, cosine, `og_<col>_vec`): an `@index`
//!   `Vector(N)` property once its table has [`VECTOR_INDEX_MIN_ROWS`] rows
//!   (below that, `nearest` scans exactly). See docs/dev/search.md.
//!
//! Indexes are built after a load publishes, as their own write through the
//! same protocol (staged `CreateIndex` transactions, one `__manifest`
//! publish), so a reader never sees an index for data it cannot see. An
//! index that no longer covers every fragment (rows appended since) is
//! rebuilt once the uncovered rows pass [`REBUILD_FRACTION`] of the table;
//! until then Lance searches the uncovered fragments alongside the index.

use std::collections::BTreeSet;

use lance::dataset::transaction::{Operation, Transaction};
use lance::index::vector::VectorIndexParams;
use lance::index::{CreateIndexBuilder, DatasetIndexExt};
use lance_index::IndexType;
use lance_index::scalar::{InvertedIndexParams, ScalarIndexParams};
use lance_linalg::distance::MetricType;
use lance_table::format::IndexMetadata;

use super::Graph;
use super::write::{StagedWrite, commit_and_publish};
use crate::error::{Error, Result};
use crate::schema::{PropType, TypeDef};

/// Rebuild an index once this share of the table's rows is not covered.
pub const REBUILD_FRACTION: f64 = 0.2;

/// A vector index is built once a table has this many rows; below it an
/// exact scan is as fast and needs no training.
pub const VECTOR_INDEX_MIN_ROWS: usize = 10_000;

/// What an index is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    Scalar,
    Text,
    Vector,
}

impl IndexKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndexKind::Scalar => "scalar",
            IndexKind::Text => "text",
            IndexKind::Vector => "vector",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            IndexKind::Scalar => "_idx",
            IndexKind::Text => "_fts",
            IndexKind::Vector => "_vec",
        }
    }
}

/// One index the schema asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub column: String,
    pub kind: IndexKind,
}

impl Wanted {
    pub fn name(&self) -> String {
        format!("og_{}{}", self.column, self.kind.suffix())
    }
}

/// Whether `name` is an index omnigraph made (and may drop).
fn ours(name: &str) -> bool {
    name.starts_with("og_") && [IndexKind::Scalar, IndexKind::Text, IndexKind::Vector].iter().any(|k| name.ends_with(k.suffix()))
}

/// Properties of `t` with a scalar (BTree) index.
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

/// Every index of `t` at `rows` rows: scalar, then text, then vector.
pub fn wanted(t: &TypeDef, rows: usize) -> Vec<Wanted> {
    let mut out: Vec<Wanted> = indexed_columns(t).into_iter().map(|column| Wanted { column, kind: IndexKind::Scalar }).collect();
    let explicit: BTreeSet<&String> = t.indexes.iter().filter_map(|g| g.first()).collect();
    for col in explicit {
        match t.property(col).map(|p| &p.ty) {
            Some(PropType::String) => out.push(Wanted { column: col.clone(), kind: IndexKind::Text }),
            Some(PropType::Vector(_)) if rows >= VECTOR_INDEX_MIN_ROWS => out.push(Wanted { column: col.clone(), kind: IndexKind::Vector }),
            _ => {}
        }
    }
    out
}

fn indexable(ty: &PropType) -> bool {
    ty.is_keyable() || matches!(ty, PropType::F32 | PropType::F64)
}

/// The text index's tokenizer: Lance's `simple` one (split on whitespace
/// and punctuation, lower case, ASCII folding, English stemming and stop
/// words), with term positions for phrases.
pub fn text_params() -> InvertedIndexParams {
    InvertedIndexParams::default().with_position(true)
}

/// The vector index for `rows` vectors of `dim` numbers: IVF with about
/// √rows partitions, PQ with 8-bit codes of two numbers each (`dim / 2`
/// sub-vectors; one number each for an odd `dim`), cosine distance. Two
/// numbers per code keep recall@10 above 0.95 with a small refine (see
/// docs/dev/search.md, "Vector index").
pub fn vector_params(rows: usize, dim: usize) -> VectorIndexParams {
    let partitions = ((rows as f64).sqrt().round() as usize).clamp(1, 4096);
    let sub_vectors = if dim.is_multiple_of(2) { dim / 2 } else { dim };
    VectorIndexParams::ivf_pq(partitions, 8, sub_vectors.max(1), MetricType::Cosine, 50)
}

/// Builds index `w` over every row of `ds` (uncommitted).
async fn build(ds: &mut lance::Dataset, t: &TypeDef, w: &Wanted, rows: usize) -> Result<IndexMetadata> {
    let key = t.table_key();
    let col = [w.column.as_str()];
    let name = w.name();
    let result = match w.kind {
        IndexKind::Scalar => {
            let params = ScalarIndexParams::default();
            CreateIndexBuilder::new(ds, &col, IndexType::BTree, &params).name(name).replace(true).execute_uncommitted().await
        }
        IndexKind::Text => {
            let params = text_params();
            CreateIndexBuilder::new(ds, &col, IndexType::Inverted, &params).name(name).replace(true).execute_uncommitted().await
        }
        IndexKind::Vector => {
            let dim = match t.property(&w.column).map(|p| &p.ty) {
                Some(PropType::Vector(n)) => *n as usize,
                _ => 1,
            };
            let params = vector_params(rows, dim);
            CreateIndexBuilder::new(ds, &col, IndexType::IvfPq, &params).name(name).replace(true).execute_uncommitted().await
        }
    };
    result.map_err(|e| Error::lance(&key, e))
}

/// The transaction that rebuilds every index of `t` over all of `ds` (what
/// `optimize` commits after rewriting fragments), or `None` when `t` has
/// no indexed property or no rows.
pub async fn stage_rebuild(mut ds: lance::Dataset, t: &TypeDef) -> Result<Option<Transaction>> {
    let key = t.table_key();
    let rows = ds.count_rows(None).await.map_err(|e| Error::lance(&key, e))?;
    let wanted = wanted(t, rows);
    if wanted.is_empty() || rows == 0 {
        return Ok(None);
    }
    let existing = ds.load_indices().await.map_err(|e| Error::lance(&key, e))?;
    let mut new_indices = Vec::new();
    let mut removed_indices = Vec::new();
    for w in &wanted {
        new_indices.push(build(&mut ds, t, w, rows).await?);
        removed_indices.extend(existing.iter().filter(|i| i.name == w.name()).cloned());
    }
    Ok(Some(Transaction::new(ds.version().version, Operation::CreateIndex { new_indices, removed_indices }, None)))
}

/// Rows of `ds` that `index` does not cover (in fragments it was not built
/// over), from the fragments' recorded sizes.
pub fn uncovered_rows(ds: &lance::Dataset, index: &IndexMetadata) -> usize {
    ds.get_fragments()
        .iter()
        .filter(|f| !index.fragment_bitmap.as_ref().is_some_and(|b| b.contains(f.id() as u32)))
        .map(|f| f.metadata().physical_rows.unwrap_or(0))
        .sum()
}

/// Whether an index of `t` is missing or misses rows (what `optimize` fixes).
pub async fn any_stale(ds: &lance::Dataset, t: &TypeDef) -> Result<bool> {
    let key = t.table_key();
    let rows = ds.count_rows(None).await.map_err(|e| Error::lance(&key, e))?;
    if rows == 0 {
        return Ok(false);
    }
    let existing = ds.load_indices().await.map_err(|e| Error::lance(&key, e))?;
    Ok(wanted(t, rows).iter().any(|w| existing.iter().find(|i| i.name == w.name()).is_none_or(|i| uncovered_rows(ds, i) > 0)))
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
        let key = t.table_key();
        let mut ds = graph.open_table(&snap, t).await?;
        let existing = ds.load_indices().await.map_err(|e| Error::lance(&key, e))?;
        let rows = ds.count_rows(None).await.map_err(|e| Error::lance(&key, e))?;
        let wanted = wanted(t, rows);
        // Ours that the schema no longer asks for (an `@index` removed, a
        // property renamed or dropped) go; a vector index stays when its
        // table shrinks below the size that would build one.
        let names: BTreeSet<String> = wanted.iter().map(Wanted::name).collect();
        let unwanted: Vec<_> = existing
            .iter()
            .filter(|i| ours(&i.name) && !names.contains(&i.name))
            .filter(|i| !(i.name.ends_with(IndexKind::Vector.suffix()) && still_vector(t, &i.name)))
            .cloned()
            .collect();
        let mut new_indices = Vec::new();
        let mut removed_indices = unwanted;
        if rows > 0 {
            for w in &wanted {
                let old = existing.iter().find(|i| i.name == w.name()).cloned();
                if let Some(old) = &old
                    && (uncovered_rows(&ds, old) as f64) < REBUILD_FRACTION * rows as f64
                {
                    continue;
                }
                new_indices.push(build(&mut ds, t, w, rows).await?);
                removed_indices.extend(old);
                built += 1;
            }
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

/// Whether vector index `name` is still asked for by `t` (at any size).
fn still_vector(t: &TypeDef, name: &str) -> bool {
    t.indexes.iter().filter_map(|g| g.first()).any(|c| {
        let w = Wanted { column: c.clone(), kind: IndexKind::Vector };
        w.name() == name && matches!(t.property(c).map(|p| &p.ty), Some(PropType::Vector(_)))
    })
}

/// One index of a graph, as `omnigraph index status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IndexStatus {
    #[serde(rename = "type")]
    pub type_name: String,
    pub property: String,
    /// `scalar`, `text` or `vector`.
    pub kind: &'static str,
    /// The Lance index name (`og_<property>_idx`, `_fts`, `_vec`).
    pub name: String,
    /// `current` (covers every row), `stale` (rows written since are
    /// searched without it until it is rebuilt), `missing` (not built yet),
    /// or `exact` (a vector property of a table under
    /// [`VECTOR_INDEX_MIN_ROWS`] rows: `nearest` scans, no index needed).
    pub state: &'static str,
    pub rows: u64,
    pub rows_covered: u64,
    pub rows_uncovered: u64,
}

/// Every index the schema asks for, at the head: built or not, and how many
/// rows it covers.
pub async fn status(graph: &Graph) -> Result<Vec<IndexStatus>> {
    let (bound, snap) = graph.current().await?;
    let mut out = Vec::new();
    for t in bound.schema().types() {
        let key = t.table_key();
        let ds = bound.open_table(&snap, t).await?;
        let rows = ds.count_rows(None).await.map_err(|e| Error::lance(&key, e))?;
        let existing = ds.load_indices().await.map_err(|e| Error::lance(&key, e))?;
        let mut list = wanted(t, rows);
        // A vector property below the size of an index: exact search.
        for g in &t.indexes {
            if let Some(c) = g.first()
                && matches!(t.property(c).map(|p| &p.ty), Some(PropType::Vector(_)))
                && !list.iter().any(|w| w.column == *c && w.kind == IndexKind::Vector)
            {
                list.push(Wanted { column: c.clone(), kind: IndexKind::Vector });
            }
        }
        for w in list {
            let name = w.name();
            let (state, uncovered) = match existing.iter().find(|i| i.name == name) {
                Some(i) => {
                    let u = uncovered_rows(&ds, i).min(rows);
                    (if u == 0 { "current" } else { "stale" }, u)
                }
                None if w.kind == IndexKind::Vector && rows < VECTOR_INDEX_MIN_ROWS => ("exact", rows),
                None if rows == 0 => ("current", 0),
                None => ("missing", rows),
            };
            out.push(IndexStatus {
                type_name: t.name.clone(),
                property: w.column.clone(),
                kind: w.kind.as_str(),
                name,
                state,
                rows: rows as u64,
                rows_covered: (rows - uncovered) as u64,
                rows_uncovered: uncovered as u64,
            });
        }
    }
    Ok(out)
}
