//! Stored queries: the named `.gq` queries a graph keeps, so applications
//! and agents call them by name. A graph's set of stored queries (its
//! *query catalog*) is part of every commit: a change writes the new
//! catalog to `_queries/<hash>.json` (put-if-absent; the name is its
//! content) and publishes a `__queries` manifest row pointing at it, a
//! commit of kind `queries`. So reads at an older commit see the queries of
//! that commit, and each branch has its own.
//!
//! Every query added is typechecked against the schema of the head it is
//! added to; a schema change that would break one is refused unless the
//! same change replaces or removes it (`evolve`).
//!
//! - [`describe`](tool::describe): a query as a typed tool (JSON Schema of
//!   its parameters and of its result rows).

pub mod tool;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::graph::sidecar::WriteKind;
use crate::graph::write::{WriteOptions, commit_and_publish_with};
use crate::graph::{Graph, Snapshot, layout};
use crate::query::Plan;
use crate::schema::SchemaIr;
use crate::storage::Created;
use crate::storage::manifest::{QUERIES_KEY, TableUpdate};

/// The most queries one graph keeps.
pub const MAX_QUERIES: usize = 1000;
/// The longest source of one stored query, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;

/// One stored query: its name and its `.gq` text (annotations included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredQuery {
    pub name: String,
    pub source: String,
}

/// A commit's stored queries, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub queries: Vec<StoredQuery>,
}

impl Catalog {
    pub fn get(&self, name: &str) -> Option<&StoredQuery> {
        self.queries.iter().find(|q| q.name == name)
    }

    pub fn names(&self) -> Vec<String> {
        self.queries.iter().map(|q| q.name.clone()).collect()
    }

    /// This catalog with `q` added, or in place of the query of its name.
    fn with(&self, q: StoredQuery) -> Catalog {
        let mut queries: BTreeMap<String, StoredQuery> = self.queries.iter().map(|q| (q.name.clone(), q.clone())).collect();
        queries.insert(q.name.clone(), q);
        Catalog { queries: queries.into_values().collect() }
    }

    fn hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("a catalog serializes");
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes))
    }
}

/// Compiles a stored query against `schema`.
pub fn compile(schema: &SchemaIr, q: &StoredQuery) -> Result<Plan> {
    let mut plans = crate::query::compile(schema, &q.source)?;
    match plans.len() {
        1 => Ok(plans.remove(0)),
        n => Err(Error::InvalidArgument(format!("stored query `{}` holds {n} queries", q.name))),
    }
}

/// The stored query `name` of `snap`, compiled against that commit's schema.
pub async fn find(graph: &Graph, snap: &Snapshot, name: &str) -> Result<Plan> {
    let c = catalog(graph, snap).await?;
    let q = c.get(name).ok_or_else(|| Error::StoredQueryNotFound { name: name.to_string() })?;
    compile(&snap.schema.ir, q)
}

/// The queries of a `.gq` file, each with its own text, typechecked
/// against `schema` (every problem of every query is reported).
pub fn split(schema: &SchemaIr, src: &str) -> Result<Vec<StoredQuery>> {
    let decls = crate::query::parser::parse(src).map_err(|d| Error::Query(vec![d]))?;
    crate::query::check::check_all(schema, &decls).map_err(Error::Query)?;
    let mut out = Vec::new();
    for d in &decls {
        let source = crate::query::parser::text_between(src, d.start, d.end);
        if source.len() > MAX_SOURCE_BYTES {
            return Err(Error::InvalidArgument(format!("query `{}` is {} bytes; a stored query holds at most {MAX_SOURCE_BYTES}", d.name, source.len())));
        }
        out.push(StoredQuery { name: d.name.clone(), source });
    }
    Ok(out)
}

/// The file a catalog of hash `hash` is stored in.
fn location_of(hash: &str) -> String {
    format!("{}/{hash}.json", layout::QUERIES_DIR)
}

const CACHE_KIND: &str = "stored_queries";

/// The stored queries of `snap` (none before any were stored).
pub async fn catalog(graph: &Graph, snap: &Snapshot) -> Result<Arc<Catalog>> {
    catalog_of(graph, &snap.state).await
}

/// The stored queries of the commit `state` publishes.
pub async fn catalog_of(graph: &Graph, state: &crate::storage::manifest::ManifestState) -> Result<Arc<Catalog>> {
    let Some(row) = &state.queries else { return Ok(Arc::new(Catalog::default())) };
    let cache = graph.table_cache();
    if let Some(c) = cache.get::<Catalog>(CACHE_KIND, &row.location, 0) {
        return Ok(c);
    }
    let root = graph.root();
    let bad = |why: String| Error::SchemaStateMismatch { root: root.uri().to_string(), reason: format!("{}: {why}", row.location) };
    let bytes = root.get(&row.location).await?.ok_or_else(|| bad("the stored-queries file of this commit is missing".into()))?;
    let c: Catalog = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    let c = Arc::new(c);
    cache.put(CACHE_KIND, row.location.clone(), 0, c.clone(), bytes.len() as u64);
    Ok(c)
}

/// What a change of the stored queries did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangeReport {
    /// Queries new to the graph.
    pub added: Vec<String>,
    /// Queries that replaced one of the same name.
    pub replaced: Vec<String>,
    pub removed: Vec<String>,
    /// Names given that are the same as stored (nothing to change).
    pub unchanged: Vec<String>,
    /// The commit that holds the change (`None` when nothing changed).
    pub commit: Option<String>,
}

/// Stores every query of `src` (a `.gq` file) in `graph`'s branch, in
/// place of the stored ones of the same names, as one commit of kind
/// `queries`. A query that does not typecheck refuses the whole file.
pub async fn add(graph: &Graph, src: &str, opts: &WriteOptions) -> Result<ChangeReport> {
    change(graph, opts, |schema, old| {
        let mut report = ChangeReport::default();
        let mut next = old.clone();
        for q in split(schema, src)? {
            match old.get(&q.name) {
                Some(have) if *have == q => report.unchanged.push(q.name.clone()),
                Some(_) => report.replaced.push(q.name.clone()),
                None => report.added.push(q.name.clone()),
            }
            next = next.with(q);
        }
        if next.queries.len() > MAX_QUERIES {
            return Err(Error::InvalidArgument(format!("a graph keeps at most {MAX_QUERIES} stored queries; this would make {}", next.queries.len())));
        }
        Ok((next, report))
    })
    .await
}

/// Removes the stored queries `names` (each must exist) as one commit.
pub async fn remove(graph: &Graph, names: &[String], opts: &WriteOptions) -> Result<ChangeReport> {
    change(graph, opts, |_, old| {
        for n in names {
            if old.get(n).is_none() {
                return Err(Error::StoredQueryNotFound { name: n.clone() });
            }
        }
        let next = Catalog { queries: old.queries.iter().filter(|q| !names.contains(&q.name)).cloned().collect() };
        let mut removed: Vec<String> = names.to_vec();
        removed.sort();
        removed.dedup();
        Ok((next, ChangeReport { removed, ..Default::default() }))
    })
    .await
}

/// Runs `edit` on the head's catalog and publishes its result; a lost race
/// edits the new head again (unless the caller named the head).
async fn change(graph: &Graph, opts: &WriteOptions, edit: impl Fn(&SchemaIr, &Catalog) -> Result<(Catalog, ChangeReport)>) -> Result<ChangeReport> {
    graph.require_writable()?;
    opts.validate()?;
    const ATTEMPTS: usize = 8;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let (g, snap) = graph.current().await?;
        let old = catalog(&g, &snap).await?;
        let (next, mut report) = edit(g.schema(), &old)?;
        if next == *old {
            return Ok(report);
        }
        match publish(&g, &snap, &next, opts).await {
            Ok(commit) => {
                report.commit = Some(commit.id);
                return Ok(report);
            }
            Err(e @ Error::ExpectedVersionMismatch { .. }) if opts.if_commit.is_none() => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("a lost race was recorded"))
}

/// Writes `next` and the manifest row that makes it `snap`'s successor's
/// catalog: one commit of kind `queries`.
pub(crate) async fn publish(g: &Graph, snap: &Snapshot, next: &Catalog, opts: &WriteOptions) -> Result<crate::storage::commit::Commit> {
    let row = stage(g, snap, next).await?;
    let draft = opts.draft("queries", BTreeMap::new());
    let state = snap.manifest_state();
    let published = commit_and_publish_with(g, snap.manifest_ds(), state, WriteKind::Other("queries".into()), Vec::new(), &[], draft, vec![row]).await?;
    Ok(published.commit)
}

/// Stores `next` and returns the manifest row that publishes it over
/// `snap` (for a schema change that replaces queries in its own commit).
pub(crate) async fn stage(g: &Graph, snap: &Snapshot, next: &Catalog) -> Result<TableUpdate> {
    stage_over(g, &snap.state, next).await
}

/// [`stage`] over the commit `state` publishes.
pub(crate) async fn stage_over(g: &Graph, state: &crate::storage::manifest::ManifestState, next: &Catalog) -> Result<TableUpdate> {
    let location = location_of(&next.hash());
    let bytes = serde_json::to_vec_pretty(next).expect("a catalog serializes");
    match g.root().put_if_absent(&location, bytes).await? {
        Created::Yes | Created::AlreadyExists => {}
    }
    let generation = state.queries_generation();
    Ok(TableUpdate { key: QUERIES_KEY.to_string(), expected: generation, new_version: generation + 1, location, row_count: next.queries.len() as u64 })
}

/// `catalog` with the queries of `replace` put in and `drop` taken out,
/// for a schema change (checked against its new schema by the caller).
pub fn edited(catalog: &Catalog, replace: &[StoredQuery], drop: &[String]) -> Catalog {
    let mut next = Catalog { queries: catalog.queries.iter().filter(|q| !drop.contains(&q.name)).cloned().collect() };
    for q in replace {
        next = next.with(q.clone());
    }
    next
}

/// The stored queries of a merge: per name, the side that changed it since
/// `base` (both the same way: that); changed differently on both sides, a
/// conflict named in `conflicts` (`(name, message)`).
pub fn merge(base: &Catalog, source: &Catalog, target: &Catalog, conflicts: &mut Vec<(String, String)>) -> Catalog {
    let mut names: Vec<&String> = base.queries.iter().chain(&source.queries).chain(&target.queries).map(|q| &q.name).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for n in names {
        let (b, s, t) = (base.get(n), source.get(n), target.get(n));
        let pick = if s == t || s == b {
            t
        } else if t == b {
            s
        } else {
            let what = |x: Option<&StoredQuery>| if x.is_some() { "changed" } else { "removed" };
            conflicts.push((n.clone(), format!("stored query `{n}` was {} on the source and {} on the target", what(s), what(t))));
            t
        };
        out.extend(pick.cloned());
    }
    Catalog { queries: out }
}
