//! The checks a mutation's result must pass before anything is written:
//! `@key`/`@unique`, edge endpoints and `@card`. Each looks only at what the
//! current request wrote (`Change::touched`): in a batch, the requests
//! before it were checked already against the same snapshot.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Mutator, rejected, value_of};
use crate::error::{Error, Result};
use crate::query::pushdown;
use crate::query::value::Value;
use crate::schema::{TypeDef, TypeKind};
use crate::storage::columns::SRC;

impl<'a, 'g> Mutator<'a, 'g> {
    pub(super) async fn validate(&mut self) -> Result<()> {
        let names: Vec<String> = self.changes.keys().cloned().collect();
        for name in &names {
            self.check_unique(name).await?;
        }
        for name in &names {
            if self.changes[name].t.kind == TypeKind::Edge {
                self.check_endpoints(name).await?;
            }
        }
        let schema = self.view.graph.schema();
        for e in &schema.edges {
            if e.card.is_some() {
                self.check_card(e).await?;
            }
        }
        Ok(())
    }

    async fn check_unique(&mut self, name: &str) -> Result<()> {
        let t = self.changes[name].t;
        for group in &t.unique {
            let idx: Vec<usize> = group.iter().map(|g| t.properties.iter().position(|p| p.name == *g).expect("unique property")).collect();
            let mut mine: FxHashMap<Vec<Value>, String> = FxHashMap::default();
            for row in self.changes[name].live() {
                let tuple: Vec<Value> = idx.iter().map(|&i| value_of(&row.cells[i])).collect();
                if tuple.iter().any(Value::is_null) {
                    continue;
                }
                if let Some(other) = mine.insert(tuple.clone(), row.id.clone()) {
                    return Err(unique_clash(t, group, &tuple, &other, &row.id));
                }
            }
            // Rows of earlier requests in the batch were checked against
            // the stored ones already.
            let c = &self.changes[name];
            let fresh: Vec<&Vec<Value>> = mine.iter().filter(|(_, id)| c.touched.contains(*id)).map(|(k, _)| k).collect();
            if fresh.is_empty() {
                continue;
            }
            let first = &group[0];
            let ty = &t.properties[idx[0]].ty;
            let filter = pushdown::in_values(first, ty, fresh.iter().map(|k| &k[0]));
            let written: FxHashSet<String> = self.changes[name].pos.keys().cloned().collect();
            for row in self.stored(t, filter).await? {
                if written.contains(&row.id) {
                    continue;
                }
                let tuple: Vec<Value> = idx.iter().map(|&i| value_of(&row.cells[i])).collect();
                if let Some(other) = mine.get(&tuple) {
                    return Err(unique_clash(t, group, &tuple, &row.id, other));
                }
            }
        }
        Ok(())
    }

    async fn check_endpoints(&mut self, name: &str) -> Result<()> {
        let t = self.changes[name].t;
        for (end, type_name) in [(0, t.from.as_deref().unwrap_or_default()), (1, t.to.as_deref().unwrap_or_default())] {
            let nt = self.view.type_def(type_name)?;
            let mut unknown: BTreeSet<String> = BTreeSet::new();
            for row in self.changes[name].fresh() {
                let (s, d) = row.ends.as_ref().expect("edge row");
                let id = if end == 0 { s } else { d };
                let here = self.changes.get(type_name).and_then(|c| c.pos.get(id).map(|&i| c.rows[i].is_some()));
                match here {
                    Some(true) => {}
                    Some(false) => {
                        return Err(rejected(
                            crate::codes::MUTATE_MISSING_ENDPOINT.code,
                            format!("{name} `{}` points at {type_name} `{id}`, which this mutation deletes", row.id),
                        ));
                    }
                    None => {
                        if self.changes.get(type_name).is_some_and(|c| c.removed.contains_key(id)) {
                            return Err(rejected(
                                crate::codes::MUTATE_MISSING_ENDPOINT.code,
                                format!("{name} `{}` points at {type_name} `{id}`, which this mutation deletes", row.id),
                            ));
                        }
                        unknown.insert(id.clone());
                    }
                }
            }
            if unknown.is_empty() {
                continue;
            }
            let found = self.stored_ids(nt, unknown.iter().cloned()).await?;
            if let Some(missing) = unknown.iter().find(|id| !found.contains(*id)) {
                let side = if end == 0 { "from" } else { "to" };
                return Err(rejected(
                    crate::codes::MUTATE_MISSING_ENDPOINT.code,
                    format!("{name} `{side}` names {type_name} `{missing}`, which does not exist"),
                ));
            }
        }
        Ok(())
    }

    async fn check_card(&mut self, e: &'g TypeDef) -> Result<()> {
        let card = e.card.clone().expect("card");
        let from = e.from.as_deref().unwrap_or_default();
        let mut affected: BTreeSet<String> = BTreeSet::new();
        if let Some(c) = self.changes.get(&e.name) {
            affected.extend(c.fresh().map(|r| r.ends.as_ref().expect("edge row").0.clone()));
            affected.extend(c.removed_srcs[c.removed_srcs_from..].iter().cloned());
        }
        if let Some(c) = self.changes.get(from) {
            affected.extend(c.created[c.created_from..].iter().filter(|id| c.pos.get(*id).is_some_and(|&i| c.rows[i].is_some())).cloned());
            // Sources deleted here no longer need edges.
            affected.retain(|id| !c.removed.contains_key(id) || c.pos.get(id).is_some_and(|&i| c.rows[i].is_some()));
            affected.retain(|id| c.pos.get(id).is_none_or(|&i| c.rows[i].is_some()));
        }
        if affected.is_empty() {
            return Ok(());
        }
        let mut counts: FxHashMap<String, u64> = affected.iter().map(|a| (a.clone(), 0)).collect();
        // Stored edges per source: from the adjacency the handle has cached
        // when this mutation removed none of them, else by a scan.
        let adjacency = if self.changes.get(&e.name).is_none_or(|c| c.removed.is_empty()) { self.view.cached_adjacency(&e.name).await? } else { None };
        match adjacency {
            Some((adj, sources)) => {
                self.consulted.insert(e.table_key());
                for (src, n) in counts.iter_mut() {
                    *n = sources.dense(src).map_or(0, |d| adj.out_degree(d));
                }
            }
            None => {
                for row in self.stored(e, Some(pushdown::in_strings(SRC, affected.iter().cloned()))).await? {
                    *counts.get_mut(&row.ends.expect("edge row").0).expect("filtered source") += 1;
                }
            }
        }
        if let Some(c) = self.changes.get(&e.name) {
            for row in c.live() {
                if let Some(n) = counts.get_mut(&row.ends.as_ref().expect("edge row").0) {
                    *n += 1;
                }
            }
        }
        for (src, n) in counts {
            if n < card.min || card.max.is_some_and(|m| n > m) {
                let max = card.max.map(|m| m.to_string()).unwrap_or_default();
                return Err(rejected(
                    crate::codes::MUTATE_CARD_BROKEN.code,
                    format!("{from} `{src}` would have {n} {} edge(s), outside @card({}..{max})", e.name, card.min),
                ));
            }
        }
        Ok(())
    }
}

fn unique_clash(t: &TypeDef, group: &[String], tuple: &[Value], a: &str, b: &str) -> Error {
    let shown: Vec<String> = tuple.iter().map(|v| v.to_json().to_string()).collect();
    rejected(crate::codes::MUTATE_KEY_CLASH.code, format!("{} `{a}` and `{b}` share @unique({}) = ({})", t.name, group.join(", "), shown.join(", ")))
}
