//! What each side of a merge changed, entity by entity.
//!
//! The entities either branch changed since they parted are read from
//! Lance's version history of each table along both lines (`query::delta`:
//! ids only, at the cost of the change). Then each of those entities is
//! looked up by id in three graphs, the base, the source head and the
//! target head, and compared whole: changed on one side only, take that
//! side; the same on both, nothing to do; else a conflict. Memory and
//! reads follow the number of changed entities, not the size of the tables.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use futures::TryStreamExt;
use serde_json::Value;

use super::Conflict;
use super::base::Segment;
use crate::error::{Error, Result};
use crate::export::row_json;
use crate::graph::Graph;
use crate::query::pushdown;
use crate::schema::{PropType, TypeDef};
use crate::storage::columns::ID;
use crate::storage::manifest::{self, ManifestState};
use crate::storage::table;

/// How many ids one `id IN (...)` filter names at most.
const IDS_PER_SCAN: usize = 4096;

/// Rows of one table, looked up by id: each as JSON (for comparing) and
/// where it is in `batches` (for writing it elsewhere).
#[derive(Default)]
pub(super) struct Fetched {
    pub json: HashMap<String, Value>,
    pub batches: Vec<RecordBatch>,
    pub pos: HashMap<String, (usize, usize)>,
}

/// `id IN (ids)` for `t`: on the key property when the id is the key's
/// value (one string `@key`, which has a scalar index), else on the id.
pub(super) fn id_filter(t: &TypeDef, ids: impl IntoIterator<Item = String>) -> datafusion_expr::Expr {
    let keyed = t.key.len() == 1 && t.property(&t.key[0]).is_some_and(|p| matches!(p.ty, PropType::String | PropType::Enum(_)));
    pushdown::in_strings(if keyed { &t.key[0] } else { ID }, ids)
}

/// Reads the rows of `t` with these ids from the table `state` publishes.
pub(super) async fn fetch(graph: &Graph, state: &ManifestState, t: &TypeDef, ids: &BTreeSet<String>) -> Result<Fetched> {
    let mut out = Fetched::default();
    let Some(entry) = state.tables.get(&t.table_key()) else { return Ok(out) };
    if ids.is_empty() {
        return Ok(out);
    }
    let ds = table::open(graph.session(), &graph.root().child_uri(&entry.location), Some(entry.version)).await?;
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(IDS_PER_SCAN) {
        let mut scan = ds.scan();
        scan.filter_expr(id_filter(t, chunk.iter().map(|s| s.to_string())));
        let batches: Vec<RecordBatch> =
            scan.try_into_stream().await.map_err(|e| Error::lance(&t.name, e))?.try_collect().await.map_err(|e| Error::lance(&t.name, e))?;
        for b in batches {
            let bi = out.batches.len();
            let col = b.column_by_name(ID).expect("id column").as_string::<i32>();
            for i in 0..b.num_rows() {
                let id = col.value(i).to_string();
                out.json.insert(id.clone(), row_json(t, &b, i));
                out.pos.insert(id, (bi, i));
            }
            out.batches.push(b);
        }
    }
    Ok(out)
}

/// Where a table's dataset lives, whatever branch of it: the location
/// without its `/tree/<branch>` part.
fn dataset_of(location: &str) -> &str {
    location.split("/tree/").next().unwrap_or(location)
}

/// The ids changed along `segments` (a line of commits ending at `head`),
/// added to `into` by the table key `head` gives each table. Tables are
/// followed by their dataset, so a type renamed on the way is one table,
/// and one added on the way is read from its first (empty) version.
pub(super) async fn changed_ids(graph: &Graph, segments: &[Segment], head: &ManifestState, into: &mut BTreeMap<String, BTreeSet<String>>) -> Result<()> {
    let key_of: HashMap<&str, &str> = head.tables.values().map(|e| (dataset_of(&e.location), e.key.as_str())).collect();
    let version_in =
        |state: &ManifestState, dataset: &str| state.tables.values().find(|e| dataset_of(&e.location) == dataset).map(|e| (e.version, e.location.clone()));
    for seg in segments {
        let (_, a) = manifest::read(graph.root(), &seg.branch, Some(seg.from)).await.map_err(|_| pruned(seg, seg.from))?;
        let (_, b) = manifest::read(graph.root(), &seg.branch, Some(seg.to)).await.map_err(|_| pruned(seg, seg.to))?;
        for eb in b.tables.values() {
            let dataset = dataset_of(&eb.location);
            // A table the head no longer has (its type was dropped).
            let Some(key) = key_of.get(dataset) else { continue };
            let Some(t) = graph.schema().type_by_table_key(key) else { continue };
            // A table made on the way starts empty at its first version.
            let from = version_in(&a, dataset).map(|(v, _)| v).unwrap_or(1);
            if from == eb.version {
                continue;
            }
            let ids = into.entry(key.to_string()).or_default();
            if table_ids(graph, t, &eb.location, from, eb.version, ids).await? {
                continue;
            }
            // Rewritten in between (an optimize, a schema change's rewrite):
            // commit by commit.
            let mut prev = a.clone();
            for v in seg.from + 1..=seg.to {
                let (_, cur) = manifest::read(graph.root(), &seg.branch, Some(v)).await.map_err(|_| pruned(seg, v))?;
                let p = version_in(&prev, dataset).map(|(v, _)| v).unwrap_or(1);
                if let Some((c, location)) = version_in(&cur, dataset)
                    && p != c
                    && !table_ids(graph, t, &location, p, c, ids).await?
                    && !matches!(cur.commit.kind.as_str(), "optimize" | "fold" | "index" | "recover" | "schema")
                {
                    return Err(Error::MergeRefused {
                        source_branch: seg.branch.name.clone(),
                        target: String::new(),
                        reason: format!("the changes of {} in commit {} cannot be read row by row", t.name, cur.commit.id),
                    });
                }
                prev = cur;
            }
        }
    }
    Ok(())
}

/// The base's rows of head type `t` with these ids, in the head's schema:
/// when the schema changed since the base (`evolution`, from the base's
/// schema to the head's), read as the base's type and carried over, its
/// renamed properties followed, dropped ones left out.
pub(super) async fn fetch_base(
    graph: &Graph,
    state: &ManifestState,
    evolution: Option<&crate::schema::evolve::EvolutionPlan>,
    t: &TypeDef,
    ids: &BTreeSet<String>,
) -> Result<Fetched> {
    let Some(plan) = evolution else { return fetch(graph, state, t, ids).await };
    let Some(change) = plan.changes.iter().find(|c| c.new.as_ref().is_some_and(|n| n.name == t.name)) else {
        // Unchanged since the base.
        return fetch(graph, state, t, ids).await;
    };
    let Some(old) = &change.old else { return Ok(Fetched::default()) };
    let mut rows = fetch(graph, state, old, ids).await?;
    let word = if t.kind == crate::schema::TypeKind::Node { "type" } else { "edge" };
    for row in rows.json.values_mut() {
        let stored = row["data"].as_object().cloned().unwrap_or_default();
        let data: serde_json::Map<String, Value> =
            t.properties.iter().filter_map(|p| change.sources.get(&p.name).and_then(|src| stored.get(src)).map(|v| (p.name.clone(), v.clone()))).collect();
        row["data"] = Value::Object(data);
        row[word] = Value::String(t.name.clone());
    }
    Ok(rows)
}

fn pruned(seg: &Segment, v: u64) -> Error {
    Error::CommitPruned { id: format!("manifest version {v} of branch `{}`", seg.branch.name) }
}

/// Adds the ids changed in table `location` between two versions; false
/// when the change cannot be read as a delta (rewritten data).
async fn table_ids(graph: &Graph, t: &TypeDef, location: &str, old_v: u64, new_v: u64, ids: &mut BTreeSet<String>) -> Result<bool> {
    let uri = graph.root().child_uri(location);
    let old = table::open(graph.session(), &uri, Some(old_v)).await?;
    let new = table::open(graph.session(), &uri, Some(new_v)).await?;
    let Some(d) = crate::query::delta::between(&old, &new, &[ID], &[ID], usize::MAX, &t.table_key()).await? else { return Ok(false) };
    for b in d.removed.iter().chain(&d.added) {
        let col = b.column_by_name(ID).expect("id column").as_string::<i32>();
        ids.extend((0..b.num_rows()).map(|i| col.value(i).to_string()));
    }
    Ok(true)
}

/// What the merge does to one type of the target.
#[derive(Default)]
pub(super) struct TypeMerge {
    /// Ids whose target row goes (deleted, or replaced by the source's).
    pub remove: BTreeSet<String>,
    /// Ids whose source row is written (inserted or replacing).
    pub write: BTreeSet<String>,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    /// The target's rows of the changed ids (for the checks).
    pub target: Fetched,
    /// The source's rows of the changed ids (what is written).
    pub source: Fetched,
}

/// Three-way compares every changed entity of `t`: what to take, or
/// conflicts.
pub(super) fn three_way(t: &TypeDef, ids: &BTreeSet<String>, base: &Fetched, source: Fetched, target: Fetched, conflicts: &mut Vec<Conflict>) -> TypeMerge {
    let mut m = TypeMerge::default();
    for id in ids {
        let (b, s, tg) = (base.json.get(id), source.json.get(id), target.json.get(id));
        if s == tg || s == b {
            continue;
        }
        if tg == b {
            match (b, s) {
                (_, None) => {
                    m.remove.insert(id.clone());
                    m.deleted += 1;
                }
                (None, Some(_)) => {
                    // Not in the target: nothing to remove.
                    m.write.insert(id.clone());
                    m.inserted += 1;
                }
                (Some(_), Some(_)) => {
                    m.remove.insert(id.clone());
                    m.write.insert(id.clone());
                    m.updated += 1;
                }
            }
            continue;
        }
        conflicts.push(match (b, s, tg) {
            (None, _, _) => Conflict::new("divergent_insert", t, id, Vec::new(), "inserted on both branches with different values".into()),
            (Some(_), None, _) => Conflict::new("delete_vs_update", t, id, Vec::new(), "deleted on the source, changed on the target".into()),
            (Some(_), _, None) => Conflict::new("delete_vs_update", t, id, Vec::new(), "changed on the source, deleted on the target".into()),
            (Some(_), Some(sv), Some(tv)) => {
                let props = differing(sv, tv);
                let msg = format!("changed differently on both branches ({})", props.join(", "));
                Conflict::new("divergent_update", t, id, props, msg)
            }
        });
    }
    m.source = source;
    m.target = target;
    m
}

/// The properties (and edge endpoints) two rows of one entity disagree on.
fn differing(a: &Value, b: &Value) -> Vec<String> {
    let mut out = BTreeSet::new();
    let (da, db) = (&a["data"], &b["data"]);
    let keys: BTreeSet<&String> = da.as_object().into_iter().chain(db.as_object()).flat_map(|m| m.keys()).collect();
    for k in keys {
        if da.get(k) != db.get(k) {
            out.insert(k.clone());
        }
    }
    for end in ["from", "to"] {
        if a.get(end) != b.get(end) {
            out.insert(end.to_string());
        }
    }
    out.into_iter().collect()
}

/// The arrow rows of `ids` in `f`, in one batch with `f`'s columns.
pub(super) fn rows_of(f: &Fetched, ids: &BTreeSet<String>) -> Result<Option<RecordBatch>> {
    let picks: Vec<(usize, usize)> = ids.iter().filter_map(|id| f.pos.get(id).copied()).collect();
    if picks.is_empty() {
        return Ok(None);
    }
    let schema = f.batches[0].schema();
    let mut cols = Vec::with_capacity(schema.fields().len());
    for c in 0..schema.fields().len() {
        let arrays: Vec<&dyn arrow_array::Array> = f.batches.iter().map(|b| b.column(c).as_ref()).collect();
        cols.push(arrow_select::interleave::interleave(&arrays, &picks).map_err(|e| Error::lance("merge", e))?);
    }
    Ok(Some(RecordBatch::try_new(Arc::clone(&schema), cols).map_err(|e| Error::lance("merge", e))?))
}
