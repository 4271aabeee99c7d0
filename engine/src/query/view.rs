//! What queries read, per snapshot: each node table's ids and their dense
//! indexes ([`NodeIds`]), property columns in dense order ([`Column`]),
//! and each edge table's [`Adjacency`]. All are kept in the graph handle's
//! [`TableCache`] by table location and version, and all follow writes: a
//! view of a newer table version is derived from the newest cached one by
//! reading only what changed between the two ([`delta`](super::delta)),
//! so a write and the reads after it cost what the change costs. A view is
//! built from scratch only when nothing is cached, or the change cannot be
//! followed (compaction, an overwrite, a change larger than a quarter of
//! the table). See docs/dev/queries.md, "Views that follow writes".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use datafusion_expr::Expr;
use futures::TryStreamExt;
use lance::Dataset;

use super::adjacency::Adjacency;
use super::column::Column;
use super::delta::{self, TableDelta};
use super::node_ids::NodeIds;
use super::rebase::{self, Rebase};
use crate::error::{Error, Result};
use crate::graph::{Graph, Snapshot};
use crate::schema::TypeDef;
use crate::session::TableCache;
use crate::session::cache::DATASET;
use crate::storage::columns::{DST, ID, SRC};
use crate::storage::table;

/// The kinds of value a graph's [`TableCache`] holds for queries (and
/// [`DATASET`], which writes fill too).
const IDS: &str = "ids";
const COLUMN: &str = "column";
const ADJACENCY: &str = "adjacency";
const DELTA: &str = "delta";
const EDGES: &str = "edges";
/// Table handles that only read (searches), in the session's read session.
const READ_DATASET: &str = "read_dataset";

/// The tables of one snapshot, read through the graph's cache.
pub struct View<'g> {
    pub graph: &'g Graph,
    pub snap: Snapshot,
    /// The node ids this view has used, by type: one numbering per type for
    /// the life of the view, whatever the cache evicts meanwhile.
    ids: Mutex<HashMap<String, Arc<NodeIds>>>,
}

impl<'g> View<'g> {
    pub fn new(graph: &'g Graph, snap: Snapshot) -> Self {
        View { graph, snap, ids: Mutex::default() }
    }

    fn tuning(&self) -> crate::session::ViewTuning {
        self.graph.session().view_tuning()
    }

    fn cache(&self) -> &TableCache {
        self.graph.table_cache()
    }

    pub fn type_def(&self, name: &str) -> Result<&'g TypeDef> {
        self.graph.type_named(name)
    }

    fn located(&self, t: &TypeDef) -> Result<(String, u64)> {
        let ts = self.snap.table(&t.table_key()).ok_or_else(|| Error::UnknownType { name: t.name.clone() })?;
        Ok((ts.location.clone(), ts.version))
    }

    pub async fn dataset(&self, t: &TypeDef) -> Result<Arc<Dataset>> {
        let (loc, version) = self.located(t)?;
        self.dataset_at(&loc, version).await
    }

    /// `t` at the snapshot's version, opened for reading only (searches):
    /// never write through it.
    pub async fn read_dataset(&self, t: &TypeDef) -> Result<Arc<Dataset>> {
        let (loc, version) = self.located(t)?;
        let cache = self.cache();
        if let Some(ds) = cache.get(READ_DATASET, &loc, version) {
            return Ok(ds);
        }
        let _building = cache.building(READ_DATASET, &loc).await;
        if let Some(ds) = cache.get(READ_DATASET, &loc, version) {
            return Ok(ds);
        }
        let ds = Arc::new(table::open_for_reading(self.graph.root().session(), &self.graph.root().child_uri(&loc), version).await?);
        cache.put_derived(READ_DATASET, loc, version, ds.clone(), 0);
        Ok(ds)
    }

    async fn dataset_at(&self, loc: &str, version: u64) -> Result<Arc<Dataset>> {
        let cache = self.cache();
        if let Some(ds) = cache.get(DATASET, loc, version) {
            return Ok(ds);
        }
        let _building = cache.building(DATASET, loc).await;
        if let Some(ds) = cache.get(DATASET, loc, version) {
            return Ok(ds);
        }
        let ds = Arc::new(table::open(self.graph.root().session(), &self.graph.root().child_uri(loc), Some(version)).await?);
        // Dataset handles are small (metadata); they are not charged.
        cache.put_derived(DATASET, loc.to_string(), version, ds.clone(), 0);
        Ok(ds)
    }

    /// What changed in `t` from `from` to the snapshot's version, if it can
    /// be followed: the ids (and ends) of the rows removed, every column of
    /// those added. Read once per version step and shared by every view of
    /// the table that follows it (ids, each cached column, adjacency).
    async fn delta(&self, t: &TypeDef, from: u64) -> Result<Option<Arc<TableDelta>>> {
        let (loc, version) = self.located(t)?;
        let cache = self.cache();
        if let Some(d) = cache.get::<(u64, Option<Arc<TableDelta>>)>(DELTA, &loc, version).filter(|d| d.0 == from) {
            return Ok(d.1.clone());
        }
        let _building = cache.building(DELTA, &loc).await;
        if let Some(d) = cache.get::<(u64, Option<Arc<TableDelta>>)>(DELTA, &loc, version).filter(|d| d.0 == from) {
            return Ok(d.1.clone());
        }
        let new = self.dataset_at(&loc, version).await?;
        let removed_cols: &[&str] = if t.kind == crate::schema::TypeKind::Edge { &[ID, SRC, DST] } else { &[ID] };
        let schema = crate::storage::columns::table_schema(t);
        let all: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let rows = self.snap.table(&t.table_key()).map_or(0, |s| s.row_count as usize);
        let followed = match self.dataset_at(&loc, from).await {
            Ok(old) => delta::between(&old, &new, removed_cols, &all, self.tuning().follow_limit(rows), &t.table_key()).await,
            Err(e) => Err(e),
        };
        let d = match followed {
            Ok(d) => d.map(Arc::new),
            // The version the views were built on is gone (cleanup removed
            // its files, perhaps from another process): build them afresh
            // at `version`, which reads only what is there now. A real
            // storage failure shows again in that build.
            Err(_) => None,
        };
        let bytes: usize = d.as_ref().map_or(0, |d| d.removed.iter().chain(&d.added).map(|b| b.get_array_memory_size()).sum());
        cache.put(DELTA, loc, version, Arc::new((from, d.clone())), bytes.max(1) as u64);
        Ok(d)
    }

    /// Stores a view that followed a write. Past `limit` entries apart from
    /// its base, the base is rebuilt in the background (`rebase`); past four
    /// times that (the background cannot keep up), right here.
    fn put_followed<T: Rebase>(&self, kind: &'static str, key: String, version: u64, next: T, limit: usize) -> Arc<T> {
        let next = Arc::new(if next.delta_len() > 4 * limit { next.rebased() } else { next });
        // Only a stored value is rebuilt: a later version stored is then
        // its descendant (see `TableCache::put_derived`).
        let stored = self.cache().put_derived(kind, key.clone(), version, next.clone(), next.memory_size() as u64);
        if stored && next.delta_len() > limit {
            rebase::schedule(self.graph.table_cache_arc(), kind, key, next.clone(), self.tuning().rebase_delay);
        }
        next
    }

    /// Stores a view built from scratch, unless a newer version is cached
    /// (a reader on an older snapshot must not push the cache back).
    fn put_scratch<T: std::any::Any + Send + Sync>(&self, kind: &'static str, key: String, version: u64, value: Arc<T>, bytes: usize) {
        let cache = self.cache();
        if cache.newest_before::<T>(kind, &key, u64::MAX).is_none_or(|(v, _)| v <= version) {
            cache.put(kind, key, version, value, bytes as u64);
        }
    }

    pub async fn node_ids(&self, type_name: &str) -> Result<Arc<NodeIds>> {
        if let Some(ids) = self.ids.lock().expect("view ids").get(type_name) {
            return Ok(ids.clone());
        }
        let ids = self.load_node_ids(type_name).await?;
        Ok(self.ids.lock().expect("view ids").entry(type_name.to_string()).or_insert(ids).clone())
    }

    async fn load_node_ids(&self, type_name: &str) -> Result<Arc<NodeIds>> {
        let t = self.type_def(type_name)?;
        let (loc, version) = self.located(t)?;
        let cache = self.cache();
        if let Some(ids) = cache.get(IDS, &loc, version) {
            return Ok(ids);
        }
        let _building = cache.building(IDS, &loc).await;
        if let Some(ids) = cache.get(IDS, &loc, version) {
            return Ok(ids);
        }
        if let Some((from, old)) = cache.newest_before::<NodeIds>(IDS, &loc, version)
            && let Some(d) = self.delta(t, from).await?
        {
            let (removed, added) = (strings(&d.removed, ID), strings(&d.added, ID));
            let next = old.apply(removed.iter().map(|s| s.as_str()), added.iter().map(|s| s.as_str()));
            let limit = self.tuning().rebase_limit(next.len());
            return Ok(self.put_followed(IDS, loc, version, next, limit));
        }
        let col = self.read_column(t, ID).await?;
        let ids = Arc::new(NodeIds::from_scan(col, version));
        self.put_scratch(IDS, loc, version, ids.clone(), ids.memory_size());
        Ok(ids)
    }

    /// A property column of a node type, in dense order.
    pub async fn column(&self, type_name: &str, prop: &str) -> Result<Column> {
        let ids = self.node_ids(type_name).await?;
        if prop == ID {
            return Ok(Column::Ids(ids));
        }
        let t = self.type_def(type_name)?;
        let (loc, version) = self.located(t)?;
        let key = format!("{loc}\u{0}{prop}");
        let cache = self.cache();
        let current = |c: &Column| c.generation() == Some(ids.generation());
        if let Some(c) = cache.get::<Column>(COLUMN, &key, version).filter(|c| current(c)) {
            return Ok((*c).clone());
        }
        let _building = cache.building(COLUMN, &key).await;
        if let Some(c) = cache.get::<Column>(COLUMN, &key, version).filter(|c| current(c)) {
            return Ok((*c).clone());
        }
        if let Some((from, old)) = cache.newest_before::<Column>(COLUMN, &key, version).filter(|(_, c)| current(c))
            && let Some(d) = self.delta(t, from).await?
        {
            let mut written = Vec::new();
            for b in &d.added {
                let (Some(id), Some(col)) = (b.column_by_name(ID), b.column_by_name(prop)) else { continue };
                let id = id.as_string::<i32>();
                for r in 0..b.num_rows() {
                    if let Some(dense) = ids.dense(id.value(r)) {
                        written.push((dense, (col.clone(), r as u32)));
                    }
                }
            }
            let limit = self.tuning().rebase_limit(ids.len());
            return Ok((*self.put_followed(COLUMN, key, version, old.patched(written), limit)).clone());
        }
        let col = Column::new(self.read_dense(t, &ids, prop, version).await?, ids.generation());
        self.put_scratch(COLUMN, key, version, Arc::new(col.clone()), col.memory_size());
        Ok(col)
    }

    /// Column `prop` of `t` at the snapshot, in the dense order of `ids`.
    async fn read_dense(&self, t: &TypeDef, ids: &NodeIds, prop: &str, version: u64) -> Result<ArrayRef> {
        if ids.scan_order_of() == Some(version) {
            return self.read_column(t, prop).await;
        }
        let batches = self.scan(t, &[ID, prop], None).await?;
        let values = concat(&batches.iter().map(|b| b.column(1).clone()).collect::<Vec<_>>(), t, prop)?;
        let mut at: Vec<Option<u32>> = vec![None; ids.len()];
        let mut row = 0u32;
        for b in &batches {
            let id = b.column(0).as_string::<i32>();
            for r in 0..b.num_rows() {
                if let Some(d) = ids.dense(id.value(r)) {
                    at[d as usize] = Some(row);
                }
                row += 1;
            }
        }
        arrow_select::take::take(values.as_ref(), &UInt32Array::from(at), None).map_err(|e| Error::lance(t.table_key(), e))
    }

    async fn read_column(&self, t: &TypeDef, col: &str) -> Result<ArrayRef> {
        let batches = self.scan(t, &[col], None).await?;
        let arrays: Vec<ArrayRef> = batches.iter().map(|b| b.column(0).clone()).collect();
        concat(&arrays, t, col)
    }

    /// Scans `cols` of `t` in table order, filtered by `filter` (pushed into
    /// Lance, which uses a scalar index on the filtered column when there is one).
    pub async fn scan(&self, t: &TypeDef, cols: &[&str], filter: Option<Expr>) -> Result<Vec<RecordBatch>> {
        self.scan_with(t, cols, filter, false).await
    }

    /// [`scan`](View::scan) with each row's address (`_rowaddr`, last).
    pub async fn scan_addressed(&self, t: &TypeDef, cols: &[&str], filter: Option<Expr>) -> Result<Vec<RecordBatch>> {
        self.scan_with(t, cols, filter, true).await
    }

    async fn scan_with(&self, t: &TypeDef, cols: &[&str], filter: Option<Expr>, addressed: bool) -> Result<Vec<RecordBatch>> {
        let ds = self.dataset(t).await?;
        let key = t.table_key();
        let mut sc = ds.scan();
        if addressed {
            sc.with_row_address();
        }
        sc.project(cols).map_err(|e| Error::lance(&key, e))?;
        if let Some(f) = filter {
            sc.filter_expr(f);
        }
        let stream = sc.try_into_stream().await.map_err(|e| Error::lance(&key, e))?;
        stream.try_collect::<Vec<_>>().await.map_err(|e| Error::lance(&key, e))
    }

    /// The node ids of `type_name` if the handle has a view of that table
    /// cached (at this version, or an earlier one to follow): never a scan
    /// of the whole table just to answer a few lookups.
    pub async fn cached_node_ids(&self, type_name: &str) -> Result<Option<Arc<NodeIds>>> {
        if let Some(ids) = self.ids.lock().expect("view ids").get(type_name) {
            return Ok(Some(ids.clone()));
        }
        let (loc, version) = self.located(self.type_def(type_name)?)?;
        if self.cache().newest_before::<NodeIds>(IDS, &loc, version).is_none() {
            return Ok(None);
        }
        self.node_ids(type_name).await.map(Some)
    }

    /// The adjacency of `edge` and the ids of its source type, if the
    /// handle has both cached (see [`cached_node_ids`](View::cached_node_ids)).
    pub async fn cached_adjacency(&self, edge: &str) -> Result<Option<(Arc<Adjacency>, Arc<NodeIds>)>> {
        let t = self.type_def(edge)?;
        let (loc, version) = self.located(t)?;
        if self.cache().newest_before::<Adjacency>(ADJACENCY, &loc, version).is_none() {
            return Ok(None);
        }
        let Some(sources) = self.cached_node_ids(t.from.as_deref().unwrap_or_default()).await? else { return Ok(None) };
        if self.cached_node_ids(t.to.as_deref().unwrap_or_default()).await?.is_none() {
            return Ok(None);
        }
        Ok(Some((self.adjacency(edge).await?, sources)))
    }

    /// Dense indexes of the nodes of `type_name` that pass `filter`, ascending.
    pub async fn filtered(&self, type_name: &str, filter: Expr) -> Result<Vec<u32>> {
        let t = self.type_def(type_name)?;
        let ids = self.node_ids(type_name).await?;
        let mut out = Vec::new();
        for b in self.scan(t, &[ID], Some(filter)).await? {
            let col = b.column(0).as_string::<i32>();
            for i in 0..col.len() {
                if let Some(d) = ids.dense(col.value(i)) {
                    out.push(d);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    pub async fn adjacency(&self, edge: &str) -> Result<Arc<Adjacency>> {
        let t = self.type_def(edge)?;
        let (loc, version) = self.located(t)?;
        let from = self.node_ids(t.from.as_deref().unwrap_or_default()).await?;
        let to = self.node_ids(t.to.as_deref().unwrap_or_default()).await?;
        let generations = (from.generation(), to.generation());
        let cache = self.cache();
        if let Some(a) = cache.get::<Adjacency>(ADJACENCY, &loc, version).filter(|a| a.generations == generations) {
            return Ok(a);
        }
        let _building = cache.building(ADJACENCY, &loc).await;
        if let Some(a) = cache.get::<Adjacency>(ADJACENCY, &loc, version).filter(|a| a.generations == generations) {
            return Ok(a);
        }
        let rows = self.snap.table(&t.table_key()).map(|s| s.row_count as usize).unwrap_or(0);
        if let Some((v, old)) = cache.newest_before::<Adjacency>(ADJACENCY, &loc, version).filter(|(_, a)| a.generations == generations)
            && let Some(d) = self.delta(t, v).await?
        {
            // A removed edge may end at a node deleted in the same change.
            let removed = pairs(&d.removed, |s| from.dense_any(s), |x| to.dense_any(x));
            let added = pairs(&d.added, |s| from.dense(s), |x| to.dense(x));
            let limit = self.tuning().rebase_limit(from.len().max(to.len()));
            return Ok(self.put_followed(ADJACENCY, loc, version, old.apply(&removed, &added), limit));
        }
        let mut all = Vec::with_capacity(rows);
        for b in self.scan(t, &[SRC, DST], None).await? {
            all.extend(pairs(&[b], |s| from.dense(s), |x| to.dense(x)));
        }
        let adj = Arc::new(Adjacency::build(from.len(), to.len(), &all, generations));
        self.put_scratch(ADJACENCY, loc, version, adj.clone(), adj.memory_size());
        Ok(adj)
    }
}

impl View<'_> {
    /// Dense indexes of the live rows of `type_name` whose `prop` compares
    /// `op` with `value`, ascending, computed on the cached column view
    /// with Arrow's comparison kernels (no Lance scan once the column is
    /// cached). `None` when the kernel cannot compare the two types: the
    /// caller hands the filter to Lance instead.
    pub async fn column_matches(&self, type_name: &str, prop: &str, op: super::ast::CmpOp, value: &datafusion_common::ScalarValue) -> Result<Option<Vec<u32>>> {
        use super::ast::CmpOp;
        let Column::Values { base, patch, .. } = self.column(type_name, prop).await? else { return Ok(None) };
        let ids = self.node_ids(type_name).await?;
        let Ok(scalar) = value.to_scalar() else { return Ok(None) };
        let kernel = |a: &dyn arrow_array::Datum| -> std::result::Result<arrow_array::BooleanArray, arrow_schema::ArrowError> {
            match op {
                CmpOp::Eq => arrow_ord::cmp::eq(a, &scalar),
                CmpOp::Ne => arrow_ord::cmp::neq(a, &scalar),
                CmpOp::Lt => arrow_ord::cmp::lt(a, &scalar),
                CmpOp::Le => arrow_ord::cmp::lt_eq(a, &scalar),
                CmpOp::Gt => arrow_ord::cmp::gt(a, &scalar),
                CmpOp::Ge => arrow_ord::cmp::gt_eq(a, &scalar),
                CmpOp::Contains | CmpOp::In => Err(arrow_schema::ArrowError::NotYetImplemented("membership".into())),
            }
        };
        let Ok(hits) = kernel(&base) else { return Ok(None) };
        let mut out: Vec<u32> = Vec::new();
        // Nulls compare to null: not a match.
        let set: arrow_buffer::BooleanBuffer = match hits.nulls() {
            Some(n) => hits.values() & n.inner(),
            None => hits.values().clone(),
        };
        let patched = !patch.is_empty();
        for d in set.set_indices() {
            let d = d as u32;
            if (!patched || !patch.contains_key(&d)) && ids.is_live(d) {
                out.push(d);
            }
        }
        if patched {
            for (d, (array, row)) in patch.iter() {
                let one = array.slice(*row as usize, 1);
                let Ok(hit) = kernel(&one) else { return Ok(None) };
                if hit.is_valid(0) && hit.value(0) && ids.is_live(*d) {
                    out.push(*d);
                }
            }
            out.sort_unstable();
        }
        Ok(Some(out))
    }

    /// The edges of `edge` by their ends, for edge variables: built per
    /// table version from the `src`/`dst` columns (which follow writes) and
    /// kept in the cache while the numberings it is over stay current.
    pub async fn edge_index(&self, edge: &str) -> Result<Arc<super::edges::EdgeIndex>> {
        let t = self.type_def(edge)?;
        let (loc, version) = self.located(t)?;
        let ids = self.node_ids(edge).await?;
        let from = self.node_ids(t.from.as_deref().unwrap_or_default()).await?;
        let to = self.node_ids(t.to.as_deref().unwrap_or_default()).await?;
        let generations = (ids.generation(), from.generation(), to.generation());
        let cache = self.cache();
        let current = |x: &super::edges::EdgeIndex| x.generations == generations;
        if let Some(x) = cache.get::<super::edges::EdgeIndex>(EDGES, &loc, version).filter(|x| current(x)) {
            return Ok(x);
        }
        let _building = cache.building(EDGES, &loc).await;
        if let Some(x) = cache.get::<super::edges::EdgeIndex>(EDGES, &loc, version).filter(|x| current(x)) {
            return Ok(x);
        }
        let (src, dst) = (self.column(edge, SRC).await?, self.column(edge, DST).await?);
        let x = Arc::new(super::edges::EdgeIndex::build(&ids, &from, &to, |e| Some((src.str_at(e)?, dst.str_at(e)?))));
        self.put_scratch(EDGES, loc, version, x.clone(), x.memory_size());
        Ok(x)
    }
}

/// The strings of column `col` of `batches`.
fn strings(batches: &[RecordBatch], col: &str) -> Vec<String> {
    let of = |b: &RecordBatch| b.column_by_name(col).map(|c| c.as_string::<i32>().iter().map(|s| s.unwrap_or_default().to_string()).collect::<Vec<_>>());
    batches.iter().flat_map(|b| of(b).unwrap_or_default()).collect()
}

/// (source, target) dense pairs of edge rows whose ends resolve.
fn pairs(batches: &[RecordBatch], from: impl Fn(&str) -> Option<u32>, to: impl Fn(&str) -> Option<u32>) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for b in batches {
        let (Some(s), Some(d)) = (b.column_by_name(SRC), b.column_by_name(DST)) else { continue };
        let (s, d) = (s.as_string::<i32>(), d.as_string::<i32>());
        for i in 0..b.num_rows() {
            if let (Some(x), Some(y)) = (from(s.value(i)), to(d.value(i))) {
                out.push((x, y));
            }
        }
    }
    out
}

fn concat(arrays: &[ArrayRef], t: &TypeDef, col: &str) -> Result<ArrayRef> {
    if arrays.len() == 1 {
        return Ok(arrays[0].clone());
    }
    if arrays.is_empty() {
        let schema = crate::storage::columns::table_schema(t);
        let field = schema.field_with_name(col).map_err(|e| Error::lance(t.table_key(), e))?;
        return Ok(arrow_array::new_empty_array(field.data_type()));
    }
    let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
    arrow_select::concat::concat(&refs).map_err(|e| Error::lance(t.table_key(), e))
}
