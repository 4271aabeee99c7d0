//! The merged graph must hold the schema's constraints, as a load's result
//! would: `@unique` values, edges whose endpoints exist, `@card`. Each check
//! looks only at what the merge changes: the rows it writes and removes,
//! and the target's rows that share a value, an endpoint or a source with
//! them (filtered reads). `@key` clashes are inserts of one id on both
//! sides (`divergent_insert`); `@range` and `@check` hold row by row, and
//! every row a merge writes was written on the source under the same schema.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use datafusion_expr::Expr;
use futures::TryStreamExt;
use serde_json::Value;

use super::Conflict;
use super::diff::TypeMerge;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::query::pushdown;
use crate::schema::{TypeDef, TypeKind};
use crate::storage::columns::{DST, ID, SRC};
use crate::storage::manifest::ManifestState;
use crate::storage::table;

/// Rows of `t`'s target table matching `filter`, with columns `cols`.
async fn scan(graph: &Graph, state: &ManifestState, t: &TypeDef, filter: Expr, cols: &[&str]) -> Result<Vec<RecordBatch>> {
    let Some(entry) = state.tables.get(&t.table_key()) else { return Ok(Vec::new()) };
    let ds = table::open(graph.session(), &graph.root().child_uri(&entry.location), Some(entry.version)).await?;
    let mut sc = ds.scan();
    sc.filter_expr(filter);
    if !cols.is_empty() {
        sc.project(cols).map_err(|e| Error::lance(&t.name, e))?;
    }
    sc.try_into_stream().await.map_err(|e| Error::lance(&t.name, e))?.try_collect().await.map_err(|e| Error::lance(&t.name, e))
}

fn strings<'b>(b: &'b RecordBatch, col: &str) -> impl Iterator<Item = &'b str> + 'b {
    let c = b.column_by_name(col).expect("column").as_string::<i32>();
    (0..b.num_rows()).map(move |i| c.value(i))
}

/// Node ids the merge removes and does not write again, per node type.
fn deleted_nodes<'m>(graph: &'m Graph, merges: &'m BTreeMap<String, TypeMerge>) -> HashMap<&'m str, BTreeSet<&'m String>> {
    let mut out = HashMap::new();
    for n in &graph.schema().nodes {
        if let Some(m) = merges.get(&n.name) {
            out.insert(n.name.as_str(), m.remove.iter().filter(|id| !m.write.contains(*id)).collect());
        }
    }
    out
}

/// Adds a conflict for every constraint the merged graph would break.
pub(super) async fn check(graph: &Graph, target: &ManifestState, merges: &BTreeMap<String, TypeMerge>, conflicts: &mut Vec<Conflict>) -> Result<()> {
    for (name, m) in merges {
        let t = graph.type_named(name)?;
        unique(graph, target, t, m, conflicts).await?;
    }
    endpoints(graph, target, merges, conflicts).await?;
    for e in graph.schema().edges.iter().filter(|e| e.card.is_some()) {
        card(graph, target, e, merges, conflicts).await?;
    }
    Ok(())
}

async fn unique(graph: &Graph, target: &ManifestState, t: &TypeDef, m: &TypeMerge, conflicts: &mut Vec<Conflict>) -> Result<()> {
    if m.write.is_empty() {
        return Ok(());
    }
    for group in &t.unique {
        let tuple = |row: &Value| -> Option<Vec<Value>> {
            let vals: Vec<Value> = group.iter().map(|p| row["data"].get(p).cloned().unwrap_or(Value::Null)).collect();
            (!vals.iter().any(Value::is_null)).then_some(vals)
        };
        let mut written: HashMap<Vec<Value>, &String> = HashMap::new();
        let mut firsts = Vec::new();
        for id in &m.write {
            let Some(row) = m.source.json.get(id) else { continue };
            if let Some(k) = tuple(row) {
                written.insert(k, id);
                let (bi, i) = m.source.pos[id];
                let col = m.source.batches[bi].column_by_name(&group[0]).expect("unique column");
                firsts.push(crate::query::Value::from_array(col.as_ref(), i));
            }
        }
        if written.is_empty() {
            continue;
        }
        let ty = &t.property(&group[0]).expect("unique property").ty;
        let Some(filter) = pushdown::in_values(&group[0], ty, firsts.iter()) else { continue };
        for b in scan(graph, target, t, filter, &[]).await? {
            let ids = b.column_by_name(ID).expect("id").as_string::<i32>();
            for i in 0..b.num_rows() {
                let other = ids.value(i);
                if m.remove.contains(other) || m.write.contains(other) {
                    continue;
                }
                let row = crate::export::row_json(t, &b, i);
                if let Some(k) = tuple(&row)
                    && let Some(mine) = written.get(&k)
                {
                    let msg = format!("shares @unique({}) with `{other}` on the target", group.join(", "));
                    conflicts.push(Conflict::new("unique", t, mine, group.clone(), msg));
                }
            }
        }
    }
    Ok(())
}

async fn endpoints(graph: &Graph, target: &ManifestState, merges: &BTreeMap<String, TypeMerge>, conflicts: &mut Vec<Conflict>) -> Result<()> {
    let deleted = deleted_nodes(graph, merges);
    let written_node = |ty: &str, id: &str| merges.get(ty).is_some_and(|m| m.write.contains(id));
    // Edges the merge writes: both endpoints must be in the merged graph.
    for e in &graph.schema().edges {
        let Some(m) = merges.get(&e.name) else { continue };
        let mut ask: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut ends = Vec::new();
        for id in &m.write {
            let Some(row) = m.source.json.get(id) else { continue };
            for (end, ty) in [("from", e.from.as_deref().unwrap_or_default()), ("to", e.to.as_deref().unwrap_or_default())] {
                let x = row[end].as_str().unwrap_or_default().to_string();
                if written_node(ty, &x) {
                    continue;
                }
                if deleted.get(ty).is_some_and(|d| d.contains(&x)) {
                    conflicts.push(Conflict::new("orphan_edge", e, id, vec![end.into()], format!("its {end} node {ty} `{x}` is deleted by the merge")));
                    continue;
                }
                ask.entry(ty).or_default().insert(x.clone());
                ends.push((id, end, ty, x));
            }
        }
        let mut present: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for (ty, ids) in ask {
            let n = graph.type_named(ty)?;
            let found = present.entry(ty).or_default();
            for b in scan(graph, target, n, super::diff::id_filter(n, ids), &[ID]).await? {
                found.extend(strings(&b, ID).map(str::to_string));
            }
        }
        for (id, end, ty, x) in ends {
            if !present.get(ty).is_some_and(|p| p.contains(&x)) {
                conflicts.push(Conflict::new("orphan_edge", e, id, vec![end.into()], format!("its {end} node {ty} `{x}` does not exist on the target")));
            }
        }
    }
    // Nodes the merge deletes: no edge of the target may still use them.
    for (ty, ids) in &deleted {
        if ids.is_empty() {
            continue;
        }
        for e in graph.schema().edges.iter().filter(|e| e.from.as_deref() == Some(*ty) || e.to.as_deref() == Some(*ty)) {
            let gone = merges.get(&e.name).map(|m| &m.remove);
            for (col, end) in [(SRC, "from"), (DST, "to")] {
                let side = if col == SRC { e.from.as_deref() } else { e.to.as_deref() };
                if side != Some(*ty) {
                    continue;
                }
                for b in scan(graph, target, e, pushdown::in_strings(col, ids.iter().map(|s| s.to_string())), &[ID, col]).await? {
                    for (edge, node) in strings(&b, ID).zip(strings(&b, col)) {
                        if gone.is_some_and(|g| g.contains(edge)) {
                            continue;
                        }
                        let msg = format!("the target's edge keeps its {end} node {ty} `{node}`, which the merge deletes");
                        conflicts.push(Conflict::new("orphan_edge", e, edge, vec![end.into()], msg));
                    }
                }
            }
        }
    }
    Ok(())
}

async fn card(graph: &Graph, target: &ManifestState, e: &TypeDef, merges: &BTreeMap<String, TypeMerge>, conflicts: &mut Vec<Conflict>) -> Result<()> {
    let c = e.card.clone().expect("card");
    let from = e.from.as_deref().unwrap_or_default();
    let mut affected: BTreeSet<String> = BTreeSet::new();
    let m = merges.get(&e.name);
    if let Some(m) = m {
        for id in &m.write {
            affected.extend(m.source.json.get(id).and_then(|r| r["from"].as_str()).map(str::to_string));
        }
        for id in &m.remove {
            affected.extend(m.target.json.get(id).and_then(|r| r["from"].as_str()).map(str::to_string));
        }
    }
    if let Some(n) = merges.get(from) {
        // New source nodes need their edges too.
        affected.extend(n.write.iter().filter(|id| !n.target.json.contains_key(*id)).cloned());
        affected.retain(|id| !n.remove.contains(id) || n.write.contains(id));
    }
    if affected.is_empty() {
        return Ok(());
    }
    let mut counts: BTreeMap<String, u64> = affected.iter().map(|a| (a.clone(), 0)).collect();
    for b in scan(graph, target, e, pushdown::in_strings(SRC, affected.iter().cloned()), &[ID, SRC]).await? {
        for (edge, src) in strings(&b, ID).zip(strings(&b, SRC)) {
            if m.is_some_and(|m| m.remove.contains(edge)) {
                continue;
            }
            *counts.get_mut(src).expect("filtered source") += 1;
        }
    }
    if let Some(m) = m {
        for id in &m.write {
            if let Some(src) = m.source.json.get(id).and_then(|r| r["from"].as_str())
                && let Some(n) = counts.get_mut(src)
            {
                *n += 1;
            }
        }
    }
    let n_type = graph.type_named(from)?;
    for (src, n) in counts {
        if n < c.min || c.max.is_some_and(|x| n > x) {
            let max = c.max.map(|x| x.to_string()).unwrap_or_default();
            let msg = format!("would have {n} {} edge(s) after the merge, outside @card({}..{max})", e.name, c.min);
            conflicts.push(Conflict::new("card", n_type, &src, vec![e.name.clone()], msg));
        }
    }
    debug_assert!(n_type.kind == TypeKind::Node);
    Ok(())
}
