//! Entity-level changes between two commits of a graph, commit by commit,
//! in commit order: per type, the rows inserted, the ids updated with the
//! old and new values of the properties that changed, and the ids deleted.
//!
//! Each commit's changes are read from Lance's version history of the
//! tables it changed (`query::delta`: its new fragments and new deletions),
//! so their cost follows the size of the change, not of the tables. Commits
//! that change no entity (index builds, folds, fences, recoveries) are
//! listed with no changes, so a consumer's cursor (the last commit it saw)
//! moves past them too. See docs/user/history.md, "Changes".

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::export::row_json;
use crate::graph::Graph;
use crate::schema::TypeDef;
use crate::storage::columns::ID;
use crate::storage::{manifest, table};

/// How many commits one call reads at most.
pub const MAX_COMMITS: u64 = 10_000;

/// Calls `emit` with the changes of each commit after `from`, up to `to`
/// (the head when `None`) and at most [`MAX_COMMITS`], oldest first; returns
/// how many commits it emitted.
pub async fn changes(graph: &Graph, from: &str, to: Option<&str>, emit: &mut (dyn FnMut(Value) -> Result<()> + Send)) -> Result<u64> {
    let head = graph.snapshot().await?;
    let start = graph.commit(from).await?;
    let end = match to {
        Some(id) => graph.commit(id).await?,
        None => head.commit.clone(),
    };
    if end.manifest_version < start.manifest_version {
        return Err(Error::InvalidArgument(format!("to: commit {} is older than from: {}", end.id, start.id)));
    }
    let ds = head.manifest_ds();
    let last = end.manifest_version.min(start.manifest_version + MAX_COMMITS);
    let mut parent =
        manifest::read(graph.root(), graph.branch(), Some(start.manifest_version)).await.map_err(|_| Error::CommitPruned { id: start.id.clone() })?.1;
    let mut n = 0;
    for v in start.manifest_version + 1..=last {
        let Some(c) = manifest::commit_at(graph.root(), graph.branch(), &ds, v).await? else {
            return Err(Error::CommitPruned { id: format!("at manifest version {v}") });
        };
        let state = manifest::read(graph.root(), graph.branch(), Some(v)).await.map_err(|_| Error::CommitPruned { id: c.id.clone() })?.1;
        let mut types = Map::new();
        // The types as that commit's schema declares them.
        let schema = graph.schema_of(&state).await?;
        for name in c.changes.keys() {
            let t = schema.ir.node(name).or_else(|| schema.ir.edge(name)).ok_or_else(|| Error::UnknownType { name: name.clone() })?;
            let key = t.table_key();
            let (Some(old), Some(new)) = (parent.tables.get(&key), state.tables.get(&key)) else { continue };
            if old.version != new.version {
                types.insert(name.clone(), type_changes(graph, t, &old.location, old.version, new.version, &c.id).await?);
            }
        }
        let mut line = json!({"commit": c.id, "parents": c.parents, "actor": c.actor, "time": c.time, "kind": c.kind, "changes": types});
        if let Some(m) = &c.message {
            line["message"] = m.clone().into();
        }
        emit(line)?;
        n += 1;
        parent = state;
    }
    Ok(n)
}

/// What one commit did to one type's table, between two of its versions.
async fn type_changes(graph: &Graph, t: &TypeDef, location: &str, old_v: u64, new_v: u64, commit: &str) -> Result<Value> {
    let uri = graph.root().child_uri(location);
    let old = table::open(graph.session(), &uri, Some(old_v)).await?;
    let new = table::open(graph.session(), &uri, Some(new_v)).await?;
    let cols: Vec<String> = new.schema().fields.iter().map(|f| f.name.clone()).collect();
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let Some(d) = crate::query::delta::between(&old, &new, &cols, &cols, usize::MAX, &t.table_key()).await? else {
        return Err(Error::InvalidArgument(format!("the changes of {} in commit {commit} cannot be read row by row (the table was rewritten)", t.name)));
    };
    let before = rows_by_id(t, &d.removed);
    let after = rows_by_id(t, &d.added);
    let mut inserted = Vec::new();
    let mut updated = Vec::new();
    for (id, row) in &after {
        match before.get(id) {
            None => inserted.push(row.clone()),
            Some(was) => {
                let (old, new) = (&was["data"], &row["data"]);
                let (mut o, mut n) = (Map::new(), Map::new());
                for p in &t.properties {
                    let (a, b) = (old.get(&p.name).unwrap_or(&Value::Null), new.get(&p.name).unwrap_or(&Value::Null));
                    if a != b {
                        o.insert(p.name.clone(), a.clone());
                        n.insert(p.name.clone(), b.clone());
                    }
                }
                updated.push(json!({"id": id, "old": o, "new": n}));
            }
        }
    }
    let deleted: Vec<&String> = before.keys().filter(|id| !after.contains_key(*id)).collect();
    Ok(json!({"inserted": inserted, "updated": updated, "deleted": deleted}))
}

/// Each row as the export writes it, by id.
fn rows_by_id(t: &TypeDef, batches: &[RecordBatch]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for b in batches {
        let ids = b.column_by_name(ID).expect("id column").as_string::<i32>();
        for i in 0..b.num_rows() {
            out.insert(ids.value(i).to_string(), row_json(t, b, i));
        }
    }
    out
}
