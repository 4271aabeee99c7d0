//! `insert`, `update` and `delete`: all statements of one query see each
//! other's effects, are validated together, and publish as one write.
//!
//! Changes are kept in memory per table: the stored rows removed (deleted or
//! rewritten by an update) and the current version of every row written.
//! Reads go to the snapshot the query started from (through Lance, with
//! filters pushed down) merged with those changes. Before anything is
//! written, the final state is checked: values (`@range`, `@check`, types),
//! `@key`/`@unique`, edge endpoints, and `@card`. Then each touched table
//! gets one staged Lance transaction (an Append, or an Update carrying
//! deletion vectors and new fragments) and the write protocol commits and
//! publishes them with one `__manifest` commit.
//!
//! Mutations sent to one graph handle at the same time share that commit
//! (`batch`): each runs and is checked in turn on top of the ones before
//! it, one that fails is dropped alone, and the rest publish together.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, UInt64Array};
use datafusion_expr::Expr;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

mod batch;
mod checks;
mod stage;

pub use batch::MAX_BATCH;

use super::eval::{Env, truthy};
use super::plan::{MutationPlan, PExpr};
use super::pushdown;
use super::value::Value;
use super::view::View;
use crate::error::{Error, Result};
use crate::load::rules::ValueRules;
use crate::load::value::{Cell, convert_property, endpoint_id, node_id};
use crate::schema::{PropType, TypeDef, TypeKind};
use crate::storage::columns::{DST, ID, SRC};
use crate::storage::commit::TypeCounts;

/// What a mutation changed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct MutationReport {
    /// The manifest version that publishes the change (unchanged when the
    /// mutation matched nothing).
    pub manifest_version: u64,
    /// The commit that holds the change (the head read when the mutation
    /// matched nothing).
    pub commit: String,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    /// Edges removed because a node they touched was deleted.
    pub cascaded: u64,
    /// How many times the write lost the publish race to another writer
    /// (another server or process on the same graph) and ran again on the
    /// new head (docs/user/server.md, "Concurrent writes").
    pub retries: u32,
}

#[derive(Debug, Clone)]
struct Row {
    id: String,
    ends: Option<(String, String)>,
    cells: Vec<Cell>,
    /// Where a stored row is, in the snapshot's version of its table.
    addr: Option<u64>,
}

#[derive(Clone)]
struct Change<'g> {
    t: &'g TypeDef,
    rules: Arc<ValueRules>,
    /// Stored rows this mutation deletes or rewrites, with their addresses.
    removed: FxHashMap<String, u64>,
    /// Sources of stored edges removed (their `@card` must be rechecked).
    removed_srcs: Vec<String>,
    /// Current version of each row written here; `None` once deleted.
    rows: Vec<Option<Row>>,
    pos: FxHashMap<String, usize>,
    /// Nodes created here (not rewrites), for `@card` minimums.
    created: Vec<String>,
    /// Ids the current request put or removed, and where its part of
    /// `removed_srcs` and `created` starts: what its checks look at (the
    /// requests before it in a batch were checked already).
    touched: FxHashSet<String>,
    removed_srcs_from: usize,
    created_from: usize,
}

impl<'g> Change<'g> {
    fn new(t: &'g TypeDef) -> Self {
        Change {
            t,
            rules: Arc::new(ValueRules::new(t)),
            removed: FxHashMap::default(),
            removed_srcs: Vec::new(),
            rows: Vec::new(),
            pos: FxHashMap::default(),
            created: Vec::new(),
            touched: FxHashSet::default(),
            removed_srcs_from: 0,
            created_from: 0,
        }
    }

    fn live(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().flatten()
    }

    /// The live rows the current request wrote.
    fn fresh(&self) -> impl Iterator<Item = &Row> {
        self.live().filter(|r| self.touched.contains(&r.id))
    }

    /// Starts a new request: nothing of it touched yet.
    fn begin(&mut self) {
        self.touched.clear();
        self.removed_srcs_from = self.removed_srcs.len();
        self.created_from = self.created.len();
    }

    fn put(&mut self, row: Row) {
        self.touched.insert(row.id.clone());
        match self.pos.get(&row.id) {
            Some(&i) => self.rows[i] = Some(row),
            None => {
                self.pos.insert(row.id.clone(), self.rows.len());
                self.rows.push(Some(row));
            }
        }
    }

    /// Rows this change inserts, updates (stored rows rewritten) and
    /// deletes, for the commit record.
    fn counts(&self) -> TypeCounts {
        let mut c = TypeCounts::default();
        for r in self.live() {
            if self.removed.contains_key(&r.id) {
                c.updated += 1;
            } else {
                c.inserted += 1;
            }
        }
        c.deleted = self.removed.keys().filter(|id| self.pos.get(*id).and_then(|&i| self.rows[i].as_ref()).is_none()).count() as u64;
        c
    }

    /// Nothing to write: no live row (rows written and deleted again here
    /// leave none) and no stored row removed.
    fn is_empty(&self) -> bool {
        self.live().next().is_none() && self.removed.is_empty()
    }
}

fn rejected(code: &'static str, message: impl Into<String>) -> Error {
    Error::MutationRejected { code, message: message.into() }
}

/// Runs `stmts` as one atomic write, in the next batch of `graph`'s writes.
pub async fn run(
    graph: &crate::graph::Graph,
    stmts: &[MutationPlan],
    env: Env,
    schema_hash: &str,
    opts: &crate::graph::WriteOptions,
) -> Result<MutationReport> {
    graph.require_writable()?;
    opts.validate()?;
    batch::submit(graph, stmts.to_vec(), env, schema_hash.to_string(), opts.clone()).await
}

struct Mutator<'a, 'g> {
    view: &'a View<'g>,
    /// The parameters and clock of the request being run.
    env: &'a Env,
    changes: BTreeMap<String, Change<'g>>,
    /// Tables whose stored rows decided something (their versions must
    /// still hold at publish).
    consulted: BTreeSet<String>,
    /// What the request being run changed.
    report: MutationReport,
}

/// The state before a request, to go back to if it fails.
struct Savepoint<'g> {
    changes: BTreeMap<String, Change<'g>>,
    consulted: BTreeSet<String>,
}

impl<'a, 'g> Mutator<'a, 'g> {
    fn new(view: &'a View<'g>, env: &'a Env) -> Self {
        Mutator { view, env, changes: BTreeMap::new(), consulted: BTreeSet::new(), report: MutationReport::default() }
    }

    /// Runs one request's statements on top of what the requests before it
    /// changed, and checks what it wrote. On an error the caller restores
    /// the savepoint taken before it.
    async fn request(&mut self, stmts: &[MutationPlan], env: &'a Env) -> Result<MutationReport> {
        self.env = env;
        self.report = MutationReport::default();
        for c in self.changes.values_mut() {
            c.begin();
        }
        for (n, s) in stmts.iter().enumerate() {
            self.statement(s).await.map_err(|e| match e {
                Error::MutationRejected { code, message } => rejected(code, format!("statement {}: {message}", n + 1)),
                other => other,
            })?;
        }
        self.validate().await?;
        Ok(std::mem::take(&mut self.report))
    }

    fn savepoint(&self) -> Savepoint<'g> {
        Savepoint { changes: self.changes.clone(), consulted: self.consulted.clone() }
    }

    fn restore(&mut self, s: Savepoint<'g>) {
        self.changes = s.changes;
        self.consulted = s.consulted;
    }
}

/// The cell a value becomes in property `p`: the loader's conversion, so
/// types, widths and enums are checked by one authority.
fn cell_for(p: &crate::schema::Property, v: &Value) -> Result<Cell> {
    let json = if v.is_null() { None } else { Some(v.to_json()) };
    convert_property(p, json).map_err(|e| rejected(crate::codes::MUTATE_BAD_VALUE.code, e.message))
}

/// A write that changes an `@embed` source text but not its vector drops
/// the old vector: it is computed again from the new text at staging. An
/// unchanged text keeps its vector (nothing is sent to the provider).
fn reembed(t: &crate::schema::TypeDef, cells: &mut [Cell], before: &[Cell]) {
    for (i, p) in t.properties.iter().enumerate() {
        if let Some(j) = p.embed.as_ref().and_then(|src| t.properties.iter().position(|q| q.name == *src))
            && cells[j] != before[j]
            && cells[i] == before[i]
        {
            cells[i] = Cell::Null;
        }
    }
}

fn value_of(cell: &Cell) -> Value {
    Value::from(cell.clone())
}

impl<'a, 'g> Mutator<'a, 'g> {
    fn change(&mut self, t: &'g TypeDef) -> &mut Change<'g> {
        self.changes.entry(t.name.clone()).or_insert_with(|| Change::new(t))
    }

    fn eval(&self, e: &PExpr) -> Value {
        self.env.eval_with(e, &|_| Value::Null)
    }

    async fn statement(&mut self, s: &MutationPlan) -> Result<()> {
        match s {
            MutationPlan::Insert { type_name, props } => self.insert(self.view.type_def(type_name)?, props, false).await,
            MutationPlan::Upsert { type_name, props } => self.insert(self.view.type_def(type_name)?, props, true).await,
            MutationPlan::Update { type_name, set, filter } => {
                let t = self.view.type_def(type_name)?;
                for mut row in self.find(t, filter).await? {
                    let before = row.cells.clone();
                    for (name, e) in set {
                        let i = t.properties.iter().position(|p| p.name == *name).expect("typechecked property");
                        row.cells[i] = cell_for(&t.properties[i], &self.eval(e))?;
                    }
                    reembed(t, &mut row.cells, &before);
                    self.check_values(t, &row)?;
                    self.rewritten(t, row);
                }
                Ok(())
            }
            MutationPlan::Reembed { type_name, ids, props } => {
                let t = self.view.type_def(type_name)?;
                let slots: Vec<usize> = t.properties.iter().enumerate().filter(|(_, p)| props.contains(&p.name)).map(|(i, _)| i).collect();
                let wanted: FxHashSet<&str> = ids.iter().map(String::as_str).collect();
                let mut rows = self.stored(t, Some(ids_filter(t, ids.iter().cloned()))).await?;
                rows.retain(|r| wanted.contains(r.id.as_str()));
                for mut row in rows {
                    for &i in &slots {
                        row.cells[i] = Cell::Null;
                    }
                    self.rewritten(t, row);
                }
                Ok(())
            }
            MutationPlan::Delete { type_name, filter } => {
                let t = self.view.type_def(type_name)?;
                let rows = self.find(t, filter).await?;
                self.report.deleted += rows.len() as u64;
                let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                self.remove(t, rows);
                if t.kind == TypeKind::Node && !ids.is_empty() {
                    self.cascade(t, &ids).await?;
                }
                Ok(())
            }
        }
    }

    /// `row`, a stored (or here written) row of `t`, in its new version.
    fn rewritten(&mut self, t: &'g TypeDef, row: Row) {
        let c = self.change(t);
        if !c.pos.contains_key(&row.id)
            && let Some(addr) = row.addr
        {
            c.removed.insert(row.id.clone(), addr);
        }
        c.put(row);
        self.report.updated += 1;
    }

    fn check_values(&mut self, t: &'g TypeDef, row: &Row) -> Result<()> {
        let mut first = None;
        self.change(t).rules.check(t, &row.cells, &mut |_, msg| {
            first.get_or_insert(msg);
        });
        match first {
            Some(msg) => Err(rejected(crate::codes::MUTATE_BAD_VALUE.code, format!("{} `{}`: {msg}", t.name, row.id))),
            None => Ok(()),
        }
    }

    /// `insert`, or with `upsert` an update of the given properties when
    /// a node with the same key exists (in the stored rows or written here).
    async fn insert(&mut self, t: &'g TypeDef, props: &[(String, PExpr)], upsert: bool) -> Result<()> {
        let given = |name: &str| props.iter().find(|(n, _)| n == name).map(|(_, e)| self.eval(e));
        let mut cells = Vec::with_capacity(t.properties.len());
        for p in &t.properties {
            let value = given(&p.name).unwrap_or(Value::Null);
            // A missing `@embed` vector is computed from its source at staging.
            let computed = value.is_null() && p.embed.as_deref().is_some_and(|s| given(s).is_some_and(|v| !v.is_null()));
            cells.push(if computed { Cell::Null } else { cell_for(p, &value)? });
        }
        let ends = if t.kind == TypeKind::Edge {
            let end = |name: &str| -> Result<String> {
                let v = given(name).unwrap_or(Value::Null);
                endpoint_id(v.to_json()).ok_or_else(|| {
                    rejected(crate::codes::MUTATE_BAD_VALUE.code, format!("{} `{name}` must be a node key (string, number or list of key values)", t.name))
                })
            };
            Some((end("from")?, end("to")?))
        } else {
            None
        };
        // An id made here (a new ULID) cannot be stored already: no lookup.
        let mut made_here = false;
        let id = if !t.key.is_empty() {
            let key: Vec<&Cell> = t.key.iter().map(|k| &cells[t.properties.iter().position(|p| p.name == *k).expect("key property")]).collect();
            node_id(&key)
        } else {
            match given("id") {
                Some(Value::Str(s)) if !s.is_empty() => s,
                Some(Value::Null) | None => {
                    made_here = true;
                    ulid::Ulid::new().to_string()
                }
                Some(other) => {
                    return Err(rejected(crate::codes::MUTATE_BAD_VALUE.code, format!("{} `id` must be a non-empty string, got {}", t.name, other.to_json())));
                }
            }
        };
        let row = Row { id: id.clone(), ends, cells, addr: None };
        if upsert && let Some(mut old) = self.current(t, &id).await? {
            let before = old.cells.clone();
            for (name, e) in props {
                if let Some(i) = t.properties.iter().position(|p| p.name == *name) {
                    old.cells[i] = cell_for(&t.properties[i], &self.eval(e))?;
                }
            }
            reembed(t, &mut old.cells, &before);
            self.check_values(t, &old)?;
            self.rewritten(t, old);
            return Ok(());
        }
        self.check_values(t, &row)?;
        if !made_here && self.exists(t, &id).await? {
            return Err(rejected(crate::codes::MUTATE_KEY_CLASH.code, format!("{} `{id}` already exists", t.name)));
        }
        let c = self.change(t);
        c.put(row);
        if t.kind == TypeKind::Node {
            c.created.push(id);
        }
        self.report.inserted += 1;
        Ok(())
    }

    /// The row `id` of `t` in the state this mutation has built so far.
    async fn current(&mut self, t: &'g TypeDef, id: &str) -> Result<Option<Row>> {
        if let Some(c) = self.changes.get(&t.name) {
            if let Some(&i) = c.pos.get(id) {
                return Ok(c.rows[i].clone());
            }
            if c.removed.contains_key(id) {
                return Ok(None);
            }
        }
        Ok(self.stored(t, Some(ids_filter(t, [id.to_string()]))).await?.into_iter().find(|r| r.id == id))
    }

    /// Does `id` exist in the state this mutation has built so far?
    async fn exists(&mut self, t: &'g TypeDef, id: &str) -> Result<bool> {
        if let Some(c) = self.changes.get(&t.name) {
            if let Some(&i) = c.pos.get(id) {
                return Ok(c.rows[i].is_some());
            }
            if c.removed.contains_key(id) {
                return Ok(false);
            }
        }
        Ok(!self.stored_ids(t, [id.to_string()]).await?.is_empty())
    }

    /// Which of `ids` are stored rows of node type `t` (not removed here):
    /// from the view of `t`'s ids when the graph handle has one cached
    /// (kept current under writes), else through the key's index.
    async fn stored_ids(&mut self, t: &'g TypeDef, ids: impl IntoIterator<Item = String>) -> Result<FxHashSet<String>> {
        if t.kind == TypeKind::Node
            && let Some(view) = self.view.cached_node_ids(&t.name).await?
        {
            self.consulted.insert(t.table_key());
            let removed = self.changes.get(&t.name).map(|c| &c.removed);
            return Ok(ids.into_iter().filter(|id| view.dense(id).is_some() && removed.is_none_or(|r| !r.contains_key(id))).collect());
        }
        Ok(self.stored(t, Some(ids_filter(t, ids))).await?.into_iter().map(|r| r.id).collect())
    }

    /// Stored rows of `t` passing `filter`, minus those this mutation removed.
    async fn stored(&mut self, t: &'g TypeDef, filter: Option<Expr>) -> Result<Vec<Row>> {
        self.consulted.insert(t.table_key());
        let mut cols = vec![ID];
        if t.kind == TypeKind::Edge {
            cols.extend([SRC, DST]);
        }
        cols.extend(t.properties.iter().map(|p| p.name.as_str()));
        let removed = self.changes.get(&t.name).map(|c| &c.removed);
        let mut out = Vec::new();
        for b in self.view.scan_addressed(t, &cols, filter).await? {
            let ids = b.column(0).as_string::<i32>();
            let addrs = b.column_by_name(lance_core::ROW_ADDR).expect("row addresses").as_any().downcast_ref::<UInt64Array>().expect("u64");
            let first_prop = if t.kind == TypeKind::Edge { 3 } else { 1 };
            for r in 0..b.num_rows() {
                let id = ids.value(r);
                if removed.is_some_and(|s| s.contains_key(id)) {
                    continue;
                }
                let ends = (t.kind == TypeKind::Edge)
                    .then(|| (b.column(1).as_string::<i32>().value(r).to_string(), b.column(2).as_string::<i32>().value(r).to_string()));
                let cells = t.properties.iter().enumerate().map(|(i, p)| to_cell(&Value::from_array(b.column(first_prop + i).as_ref(), r), &p.ty)).collect();
                out.push(Row { id: id.to_string(), ends, cells, addr: Some(addrs.value(r)) });
            }
        }
        Ok(out)
    }

    /// Current rows of `t` for which `filter` holds.
    async fn find(&mut self, t: &'g TypeDef, filter: &PExpr) -> Result<Vec<Row>> {
        let column_of = |x: &PExpr| match x {
            PExpr::Field(f) => Some(match f.as_str() {
                "from" if t.kind == TypeKind::Edge => SRC.to_string(),
                "to" if t.kind == TypeKind::Edge => DST.to_string(),
                other => other.to_string(),
            }),
            _ => None,
        };
        let parts = filter.conjuncts();
        let pushed = pushdown::and_all(parts.iter().filter_map(|p| pushdown::to_lance(p, t, &self.env.params, &column_of)));
        let mut candidates = self.stored(t, pushed).await?;
        let written: Vec<Row> = self.changes.get(&t.name).map(|c| c.live().cloned().collect()).unwrap_or_default();
        // A stored row rewritten here is in `removed`; its current version is
        // among the written rows.
        candidates.extend(written);
        Ok(candidates.into_iter().filter(|row| truthy(&self.env.eval_with(filter, &|leaf| field(t, row, leaf)))).collect())
    }

    fn remove(&mut self, t: &'g TypeDef, rows: Vec<Row>) {
        let c = self.change(t);
        for row in rows {
            c.touched.insert(row.id.clone());
            // Its source's `@card` must be checked again, whether the edge
            // was stored or written here.
            if let Some((s, _)) = &row.ends {
                c.removed_srcs.push(s.clone());
            }
            match c.pos.get(&row.id) {
                Some(&i) => c.rows[i] = None,
                None => {
                    if let Some(addr) = row.addr {
                        c.removed.insert(row.id, addr);
                    }
                }
            }
        }
    }

    /// Deletes the edges that touch the deleted nodes `ids` of type `t`.
    async fn cascade(&mut self, t: &TypeDef, ids: &[String]) -> Result<()> {
        let schema = self.view.graph.schema();
        let id_set: FxHashSet<&str> = ids.iter().map(|s| s.as_str()).collect();
        for e in &schema.edges {
            let (from, to) = (e.from.as_deref() == Some(&t.name), e.to.as_deref() == Some(&t.name));
            if !from && !to {
                continue;
            }
            let mut filter: Option<Expr> = None;
            for (yes, col) in [(from, SRC), (to, DST)] {
                if yes {
                    let f = pushdown::in_strings(col, ids.iter().cloned());
                    filter = Some(match filter {
                        Some(x) => x.or(f),
                        None => f,
                    });
                }
            }
            let mut rows = self.stored(e, filter).await?;
            if let Some(c) = self.changes.get(&e.name) {
                rows.extend(c.live().cloned());
            }
            rows.retain(|r| {
                let (s, d) = r.ends.as_ref().expect("edge row");
                (from && id_set.contains(s.as_str())) || (to && id_set.contains(d.as_str()))
            });
            self.report.cascaded += rows.len() as u64;
            self.remove(e, rows);
        }
        Ok(())
    }
}

/// A filter for the rows of `t` with these ids. A node's id is its `@key`
/// value's text; for a one-property `String` key that is the key value
/// itself, whose BTree index (`graph/indexes.rs`) answers the filter
/// without scanning the table. Other ids are matched on the `id` column.
fn ids_filter(t: &TypeDef, ids: impl IntoIterator<Item = String>) -> Expr {
    let column = match t.key.as_slice() {
        [k] if t.kind == TypeKind::Node && t.property(k).is_some_and(|p| p.ty == PropType::String) => k.as_str(),
        _ => ID,
    };
    pushdown::in_strings(column, ids)
}

/// A `where` leaf on one row.
fn field(t: &TypeDef, row: &Row, leaf: &PExpr) -> Value {
    let PExpr::Field(name) = leaf else { return Value::Null };
    match (name.as_str(), &row.ends) {
        ("id", _) => Value::Str(row.id.clone()),
        ("from", Some((s, _))) => Value::Str(s.clone()),
        ("to", Some((_, d))) => Value::Str(d.clone()),
        _ => t.properties.iter().position(|p| p.name == *name).map(|i| value_of(&row.cells[i])).unwrap_or(Value::Null),
    }
}

/// A stored value back to a cell of its property type.
fn to_cell(v: &Value, ty: &PropType) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Int(i) => Cell::I64(*i),
        Value::UInt(u) => Cell::U64(*u),
        Value::Float(f) => Cell::F64(*f),
        Value::Str(s) => Cell::Str(s.clone()),
        Value::Date(d) => Cell::Date(*d),
        Value::DateTime(t) => Cell::Ts(*t),
        Value::Bytes(b) => Cell::Bytes(b.clone()),
        Value::List(items) => match ty {
            PropType::Vector(_) => Cell::Vector(items.iter().map(|x| x.as_f64().unwrap_or(0.0) as f32).collect()),
            PropType::List(inner) => Cell::List(items.iter().map(|x| to_cell(x, inner)).collect()),
            _ => Cell::Null,
        },
        Value::Map(_) => Cell::Null,
    }
}
