//! What queries read, per snapshot: each node table's ids in scan order (the
//! row's position is its dense index), property columns in that same order,
//! and each edge table's adjacency. All are kept in the graph handle's
//! [`TableCache`], keyed by the table's location and version, so a new
//! manifest version (a new table version) invalidates exactly the tables it
//! changed and nothing is ever read from two versions at once.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use datafusion_expr::Expr;
use futures::TryStreamExt;
use lance::Dataset;
use rustc_hash::FxHashMap;

use super::adjacency::Adjacency;
use crate::error::{Error, Result};
use crate::graph::{Graph, Snapshot};
use crate::load::ids::{IdKey, id_key};
use crate::schema::TypeDef;
use crate::session::TableCache;
use crate::storage::columns::{DST, ID, SRC};
use crate::storage::table;

/// A node table's ids in scan order and their dense indexes.
pub struct NodeIds {
    pub ids: ArrayRef,
    index: FxHashMap<IdKey, u32>,
}

impl NodeIds {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn id(&self, dense: u32) -> &str {
        self.ids.as_string::<i32>().value(dense as usize)
    }

    pub fn dense(&self, id: &str) -> Option<u32> {
        self.index.get(&id_key(id)).copied()
    }
}

/// The kinds of value a graph's [`TableCache`] holds for queries.
const DATASET: &str = "dataset";
const IDS: &str = "ids";
const COLUMN: &str = "column";
const ADJACENCY: &str = "adjacency";

/// The tables of one snapshot, read through the graph's cache.
pub struct View<'g> {
    pub graph: &'g Graph,
    pub snap: Snapshot,
}

impl<'g> View<'g> {
    pub fn new(graph: &'g Graph, snap: Snapshot) -> Self {
        View { graph, snap }
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
        let cache = self.cache();
        if let Some(ds) = cache.get(DATASET, &loc, version) {
            return Ok(ds);
        }
        let ds = Arc::new(table::open(self.graph.root().session(), &self.graph.root().child_uri(&loc), Some(version)).await?);
        // Dataset handles are small (metadata); they are not charged.
        cache.put(DATASET, loc, version, ds.clone(), 0);
        Ok(ds)
    }

    pub async fn node_ids(&self, type_name: &str) -> Result<Arc<NodeIds>> {
        let t = self.type_def(type_name)?;
        let (loc, version) = self.located(t)?;
        let cache = self.cache();
        if let Some(ids) = cache.get(IDS, &loc, version) {
            return Ok(ids);
        }
        let col = self.read_column(t, ID).await?;
        let s = col.as_string::<i32>();
        let mut index = FxHashMap::with_capacity_and_hasher(s.len(), Default::default());
        for i in 0..s.len() {
            index.insert(id_key(s.value(i)), i as u32);
        }
        let bytes = col.get_array_memory_size() + index.capacity() * (std::mem::size_of::<(IdKey, u32)>() + 1);
        let ids = Arc::new(NodeIds { ids: col, index });
        cache.put(IDS, loc, version, ids.clone(), bytes as u64);
        Ok(ids)
    }

    /// A property column of a node type, in dense order.
    pub async fn column(&self, type_name: &str, prop: &str) -> Result<ArrayRef> {
        if prop == ID {
            return Ok(self.node_ids(type_name).await?.ids.clone());
        }
        let t = self.type_def(type_name)?;
        let (loc, version) = self.located(t)?;
        let key = format!("{loc}\u{0}{prop}");
        let cache = self.cache();
        if let Some(c) = cache.get::<ArrayRef>(COLUMN, &key, version) {
            return Ok((*c).clone());
        }
        let col = self.read_column(t, prop).await?;
        cache.put(COLUMN, key, version, Arc::new(col.clone()), col.get_array_memory_size() as u64);
        Ok(col)
    }

    async fn read_column(&self, t: &TypeDef, col: &str) -> Result<ArrayRef> {
        let batches = self.scan(t, &[col], None).await?;
        let arrays: Vec<ArrayRef> = batches.iter().map(|b| b.column(0).clone()).collect();
        concat(&arrays, t, col)
    }

    /// Scans `cols` of `t` in table order, filtered by `filter` (pushed into
    /// Lance, which uses a scalar index on the filtered column when there is one).
    pub async fn scan(&self, t: &TypeDef, cols: &[&str], filter: Option<Expr>) -> Result<Vec<RecordBatch>> {
        let ds = self.dataset(t).await?;
        let key = t.table_key();
        let mut sc = ds.scan();
        sc.project(cols).map_err(|e| Error::lance(&key, e))?;
        if let Some(f) = filter {
            sc.filter_expr(f);
        }
        let stream = sc.try_into_stream().await.map_err(|e| Error::lance(&key, e))?;
        stream.try_collect::<Vec<_>>().await.map_err(|e| Error::lance(&key, e))
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
        let cache = self.cache();
        if let Some(a) = cache.get(ADJACENCY, &loc, version) {
            return Ok(a);
        }
        let from = self.node_ids(t.from.as_deref().unwrap_or_default()).await?;
        let to = self.node_ids(t.to.as_deref().unwrap_or_default()).await?;
        let mut pairs = Vec::with_capacity(self.snap.table(&t.table_key()).map(|s| s.row_count as usize).unwrap_or(0));
        for b in self.scan(t, &[SRC, DST], None).await? {
            let (s, d) = (b.column(0).as_string::<i32>(), b.column(1).as_string::<i32>());
            for i in 0..b.num_rows() {
                if let (Some(x), Some(y)) = (from.dense(s.value(i)), to.dense(d.value(i))) {
                    pairs.push((x, y));
                }
            }
        }
        let adj = Arc::new(Adjacency::build(from.len(), to.len(), &pairs));
        cache.put(ADJACENCY, loc, version, adj.clone(), adj.memory_size() as u64);
        Ok(adj)
    }
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
