//! `return`, aggregates, `order`, `limit` and `offset` over a table of bindings.
//!
//! Without aggregates there is one output row per binding. With aggregates,
//! rows are grouped by the values of the non-aggregated items; a query with
//! only aggregates has one row even over no bindings (`count` is 0 there,
//! the others null). Sorting puts nulls first ascending and last descending,
//! and breaks ties by the bound nodes' ids (or, after grouping, by the other
//! columns), so a result never depends on storage order.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::eval::Env;
use super::limits::Meter;
use super::matcher::{Bindings, Columns};
use super::plan::{AggFn, OrderRef, PExpr, ReadPlan, Rows};
use super::value::{Value, total_order};
use super::view::View;
use crate::error::Result;
use crate::storage::columns::ID;

/// A query's answer: named columns and rows of values.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// The manifest version the query read.
    pub manifest_version: u64,
    /// The commit the query read.
    pub commit: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

pub async fn project(view: &View<'_>, plan: &ReadPlan, env: &Env, b: &Bindings) -> Result<QueryResult> {
    let mut cols = Columns::new();
    for it in &plan.items {
        env.prefetch_into(view, &plan.vars, &it.expr, &mut cols).await?;
    }
    for k in &plan.order {
        if let OrderRef::Expr(e) = &k.key {
            env.prefetch_into(view, &plan.vars, e, &mut cols).await?;
        }
    }
    let columns: Vec<String> = plan.items.iter().map(|i| i.name.clone()).collect();
    let offset = row_count(plan.offset, env).unwrap_or(0);
    let limit = row_count(plan.limit, env);
    // Rows needed before skipping the offset.
    let take = limit.map(|l| l.saturating_add(offset));
    let mut meter = Meter::new(view.graph.query_limits().max_result_bytes);
    let mut rows = if plan.aggregate {
        let rows = aggregate(view, plan, env, b, &cols, take)?;
        for row in &rows {
            meter.charge(row_bytes(row))?;
        }
        rows
    } else {
        plain(view, plan, env, b, &mut cols, take, &mut meter).await?
    };
    rows.drain(..offset.min(rows.len()));
    if let Some(n) = limit {
        rows.truncate(n);
    }
    Ok(QueryResult { manifest_version: view.snap.manifest_version, commit: view.snap.commit.id.clone(), columns, rows })
}

fn key_cmp(descending: bool, a: &Value, b: &Value) -> Ordering {
    let o = total_order(a, b);
    if descending { o.reverse() } else { o }
}

/// The value of `limit` or `offset`; `None` when absent or a null parameter.
pub(crate) fn row_count(rows: Option<Rows>, env: &Env) -> Option<usize> {
    let n = match rows? {
        Rows::Lit(n) => n,
        Rows::Param(i) => match env.params.get(i)? {
            Value::Int(n) => u64::try_from(*n).ok()?,
            Value::UInt(n) => *n,
            _ => return None,
        },
    };
    Some(usize::try_from(n).unwrap_or(usize::MAX))
}

fn row_bytes(row: &[Value]) -> usize {
    std::mem::size_of::<Vec<Value>>() + row.iter().map(Value::approx_bytes).sum::<usize>()
}

/// Row `r` of the result, charged to `meter`.
fn output_row(plan: &ReadPlan, env: &Env, b: &Bindings, cols: &Columns, r: usize, meter: &mut Meter) -> Result<Vec<Value>> {
    let row: Vec<Value> = plan.items.iter().map(|i| env.eval(&i.expr, b, r, cols)).collect();
    meter.charge(row_bytes(&row))?;
    Ok(row)
}

/// One output row per binding, sorted; only the first `take` when given.
/// Result rows and sort keys are charged to `meter` as they are built.
async fn plain(
    view: &View<'_>,
    plan: &ReadPlan,
    env: &Env,
    b: &Bindings,
    cols: &mut Columns,
    take: Option<usize>,
    meter: &mut Meter,
) -> Result<Vec<Vec<Value>>> {
    let n = b.len();
    let limit = take.unwrap_or(usize::MAX);
    if plan.order.is_empty() {
        return (0..n.min(limit))
            .map(|r| {
                env.deadline.tick(r)?;
                output_row(plan, env, b, cols, r, meter)
            })
            .collect();
    }
    // Ties are broken by the ids of the named variables, in binding order.
    // (A path is decided by its ends.)
    let tie_vars: Vec<usize> =
        (0..plan.vars.len()).filter(|&v| b.bound(v) && !plan.vars[v].anonymous && plan.vars[v].kind != super::plan::VarKind::Path).collect();
    for &v in &tie_vars {
        if let std::collections::hash_map::Entry::Vacant(e) = cols.entry((v, ID.to_string())) {
            e.insert(view.column(&plan.vars[v].type_name, ID).await?);
        }
    }
    let keys: Vec<Vec<Value>> = (0..n)
        .map(|r| {
            env.deadline.tick(r)?;
            let key: Vec<Value> = plan
                .order
                .iter()
                .map(|k| match &k.key {
                    OrderRef::Item(i) => env.eval(&plan.items[*i].expr, b, r, cols),
                    OrderRef::Expr(e) => env.eval(e, b, r, cols),
                })
                .chain(tie_vars.iter().map(|&v| env.eval(&PExpr::Id(v), b, r, cols)))
                .collect();
            meter.charge(row_bytes(&key))?;
            Ok(key)
        })
        .collect::<Result<_>>()?;
    let cmp = |x: &usize, y: &usize| {
        for (j, (a, c)) in keys[*x].iter().zip(&keys[*y]).enumerate() {
            let desc = plan.order.get(j).is_some_and(|k| k.descending);
            match key_cmp(desc, a, c) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    };
    let mut order: Vec<usize> = (0..n).collect();
    if limit < n {
        order.select_nth_unstable_by(limit, cmp);
        order.truncate(limit);
    }
    order.sort_by(cmp);
    env.deadline.check()?;
    order.into_iter().map(|r| output_row(plan, env, b, cols, r, meter)).collect()
}

enum Acc {
    /// `f(distinct x)`: the distinct values, folded by `f` at the end.
    Distinct(AggFn, std::collections::HashSet<Value>),
    Collect(Vec<Value>),
    Count(u64),
    Sum {
        int: i128,
        float: f64,
        any_float: bool,
        seen: bool,
    },
    Avg {
        total: f64,
        n: u64,
    },
    Min(Option<Value>),
    Max(Option<Value>),
}

impl Acc {
    fn new(f: AggFn, distinct: bool) -> Acc {
        if distinct {
            return Acc::Distinct(f, Default::default());
        }
        match f {
            AggFn::Collect => Acc::Collect(Vec::new()),
            AggFn::Count => Acc::Count(0),
            AggFn::Sum => Acc::Sum { int: 0, float: 0.0, any_float: false, seen: false },
            AggFn::Avg => Acc::Avg { total: 0.0, n: 0 },
            AggFn::Min => Acc::Min(None),
            AggFn::Max => Acc::Max(None),
        }
    }

    fn add(&mut self, v: Option<Value>) {
        let Some(v) = v else {
            // count(*)
            if let Acc::Count(n) = self {
                *n += 1;
            }
            return;
        };
        if v.is_null() {
            return;
        }
        match self {
            Acc::Distinct(_, set) => {
                set.insert(v);
            }
            Acc::Collect(items) => items.push(v),
            Acc::Count(n) => *n += 1,
            Acc::Sum { int, float, any_float, seen } => {
                *seen = true;
                match v {
                    Value::Int(i) => *int += i as i128,
                    Value::UInt(u) => *int += u as i128,
                    other => {
                        *any_float = true;
                        *float += other.as_f64().unwrap_or(0.0);
                    }
                }
            }
            Acc::Avg { total, n } => {
                *total += v.as_f64().unwrap_or(0.0);
                *n += 1;
            }
            Acc::Min(m) => {
                if m.as_ref().is_none_or(|c| total_order(&v, c) == Ordering::Less) {
                    *m = Some(v);
                }
            }
            Acc::Max(m) => {
                if m.as_ref().is_none_or(|c| total_order(&v, c) == Ordering::Greater) {
                    *m = Some(v);
                }
            }
        }
    }

    /// Folds another group's accumulator of the same function into this one.
    fn merge(&mut self, other: Acc) {
        match (self, other) {
            (Acc::Distinct(_, a), Acc::Distinct(_, b)) => a.extend(b),
            (Acc::Collect(a), Acc::Collect(b)) => a.extend(b),
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::Sum { int, float, any_float, seen }, Acc::Sum { int: i2, float: f2, any_float: a2, seen: s2 }) => {
                *int += i2;
                *float += f2;
                *any_float |= a2;
                *seen |= s2;
            }
            (Acc::Avg { total, n }, Acc::Avg { total: t2, n: n2 }) => {
                *total += t2;
                *n += n2;
            }
            (me @ Acc::Min(_), Acc::Min(Some(v))) | (me @ Acc::Max(_), Acc::Max(Some(v))) => me.add(Some(v)),
            _ => {}
        }
    }

    fn finish(self) -> Value {
        match self {
            Acc::Distinct(f, set) => {
                let mut values: Vec<Value> = set.into_iter().collect();
                values.sort_by(total_order);
                let mut acc = Acc::new(f, false);
                for v in values {
                    acc.add(Some(v));
                }
                acc.finish()
            }
            // Sorted: a result never depends on the order rows were found.
            Acc::Collect(mut items) => {
                items.sort_by(total_order);
                Value::List(items)
            }
            Acc::Count(n) => Value::Int(n as i64),
            Acc::Sum { seen: false, .. } => Value::Null,
            Acc::Sum { int, float, any_float: true, .. } => Value::Float(int as f64 + float),
            Acc::Sum { int, .. } => {
                if let Ok(i) = i64::try_from(int) {
                    Value::Int(i)
                } else if let Ok(u) = u64::try_from(int) {
                    Value::UInt(u)
                } else {
                    Value::Float(int as f64)
                }
            }
            Acc::Avg { n: 0, .. } => Value::Null,
            Acc::Avg { total, n } => Value::Float(total / n as f64),
            Acc::Min(m) | Acc::Max(m) => m.unwrap_or(Value::Null),
        }
    }
}

fn aggregate(view: &View<'_>, plan: &ReadPlan, env: &Env, b: &Bindings, cols: &Columns, take: Option<usize>) -> Result<Vec<Vec<Value>>> {
    let group_items: Vec<usize> = (0..plan.items.len()).filter(|&i| !plan.items[i].expr.is_aggregate()).collect();
    let optional = |e: &PExpr| {
        let mut vs = Vec::new();
        e.vars(&mut vs);
        vs.iter().any(|v| plan.vars[*v].optional)
    };
    let aggs: Vec<(usize, AggFn, Option<&PExpr>, bool)> = plan
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| match &it.expr {
            // count of a node variable counts its bindings (never null,
            // unless an optional block left it unbound).
            PExpr::Agg { func: AggFn::Count, arg: Some(a), distinct: false } if matches!(**a, PExpr::Id(_) | PExpr::Node(_)) && !optional(a) => {
                Some((i, AggFn::Count, None, false))
            }
            PExpr::Agg { func, arg, distinct } => Some((i, *func, arg.as_deref(), *distinct)),
            _ => None,
        })
        .collect();
    let new_accs = || aggs.iter().map(|(_, f, _, d)| Acc::new(*f, *d)).collect::<Vec<_>>();
    let accumulate = |accs: &mut Vec<Acc>, r: usize| {
        for (acc, (_, _, arg, _)) in accs.iter_mut().zip(&aggs) {
            acc.add(arg.map(|a| env.eval(a, b, r, cols)));
        }
    };
    // When every group item reads bound nodes, rows are first grouped by
    // those nodes' dense indexes (cheap), then groups with equal values merge.
    let mut node_vars = Vec::new();
    let by_nodes = group_items.iter().all(|&i| match &plan.items[i].expr {
        e @ (PExpr::Prop { .. } | PExpr::Id(_) | PExpr::Node(_)) if !optional(e) => {
            e.vars(&mut node_vars);
            true
        }
        _ => false,
    });
    node_vars.sort_unstable();
    node_vars.dedup();
    let mut index: HashMap<Vec<Value>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<Value>, Vec<Acc>)> = Vec::new();
    let add_group = |key: Vec<Value>, accs: Vec<Acc>, index: &mut HashMap<Vec<Value>, usize>, groups: &mut Vec<(Vec<Value>, Vec<Acc>)>| match index.get(&key) {
        Some(&g) => {
            for (a, o) in groups[g].1.iter_mut().zip(accs) {
                a.merge(o);
            }
        }
        None => {
            index.insert(key.clone(), groups.len());
            groups.push((key, accs));
        }
    };
    if group_items.is_empty() {
        // One group: no keys to build or look up.
        let mut accs = new_accs();
        if let [(_, AggFn::Count, None, false)] = aggs[..] {
            accs[0] = Acc::Count(b.len() as u64);
        } else {
            for r in 0..b.len() {
                env.deadline.tick(r)?;
                accumulate(&mut accs, r);
            }
        }
        groups.push((Vec::new(), accs));
    } else if by_nodes {
        // Rows grouped by the bound nodes: by one variable's dense index in a
        // flat table, or by several in a hash map keyed by all of them.
        let firsts: Vec<(usize, Vec<Acc>)> = if let [v] = node_vars[..] {
            let col = b.column(v);
            let mut slot_of: Vec<u32> = Vec::new();
            let mut slots: Vec<(usize, Vec<Acc>)> = Vec::new();
            for (r, &d) in col.iter().enumerate() {
                env.deadline.tick(r)?;
                let d = d as usize;
                if d >= slot_of.len() {
                    slot_of.resize(d + 1, u32::MAX);
                }
                if slot_of[d] == u32::MAX {
                    slot_of[d] = slots.len() as u32;
                    slots.push((r, new_accs()));
                }
                accumulate(&mut slots[slot_of[d] as usize].1, r);
            }
            slots
        } else {
            let mut dense: rustc_hash::FxHashMap<Vec<u32>, (usize, Vec<Acc>)> = Default::default();
            for r in 0..b.len() {
                env.deadline.tick(r)?;
                let k: Vec<u32> = node_vars.iter().map(|&v| b.get(v, r)).collect();
                let entry = dense.entry(k).or_insert_with(|| (r, new_accs()));
                accumulate(&mut entry.1, r);
            }
            let mut firsts: Vec<(usize, Vec<Acc>)> = dense.into_values().collect();
            firsts.sort_by_key(|(r, _)| *r);
            firsts
        };
        // When the key identifies every grouped node (by its id or its
        // @key), no two groups can have equal values: skip merging by value.
        let identified: Vec<usize> = group_items.iter().filter_map(|&i| identified_node(view, plan, &plan.items[i].expr)).collect();
        let distinct = node_vars.iter().all(|v| identified.contains(v));
        for (r, accs) in firsts {
            let key: Vec<Value> = group_items.iter().map(|&i| env.eval(&plan.items[i].expr, b, r, cols)).collect();
            if distinct {
                groups.push((key, accs));
            } else {
                add_group(key, accs, &mut index, &mut groups);
            }
        }
    } else {
        for r in 0..b.len() {
            env.deadline.tick(r)?;
            let key: Vec<Value> = group_items.iter().map(|&i| env.eval(&plan.items[i].expr, b, r, cols)).collect();
            match index.get(&key) {
                Some(&g) => accumulate(&mut groups[g].1, r),
                None => {
                    let mut accs = new_accs();
                    accumulate(&mut accs, r);
                    add_group(key, accs, &mut index, &mut groups);
                }
            }
        }
    }
    if groups.is_empty() && group_items.is_empty() {
        groups.push((Vec::new(), new_accs()));
    }
    let mut rows: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|(key, accs)| {
            let mut row = vec![Value::Null; plan.items.len()];
            for (k, &i) in key.into_iter().zip(&group_items) {
                row[i] = k;
            }
            for (acc, (i, _, _, _)) in accs.into_iter().zip(&aggs) {
                row[*i] = acc.finish();
            }
            row
        })
        .collect();
    let cmp = |x: &Vec<Value>, y: &Vec<Value>| {
        for k in &plan.order {
            let OrderRef::Item(i) = k.key else { continue };
            match key_cmp(k.descending, &x[i], &y[i]) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        for (a, c) in x.iter().zip(y) {
            match total_order(a, c) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    };
    // Only the first `take` rows are needed in order: select them, then sort.
    if let Some(n) = take
        && n < rows.len()
    {
        if n == 0 {
            rows.clear();
        } else {
            rows.select_nth_unstable_by(n - 1, cmp);
            rows.truncate(n);
        }
    }
    rows.sort_by(cmp);
    Ok(rows)
}

/// The variable whose nodes `e` tells apart (its id, the whole node, or a
/// single-property `@key`), if any.
fn identified_node(view: &View<'_>, plan: &ReadPlan, e: &PExpr) -> Option<usize> {
    match e {
        PExpr::Id(v) | PExpr::Node(v) => Some(*v),
        PExpr::Prop { var, prop } => view.type_def(&plan.vars[*var].type_name).is_ok_and(|t| t.key.len() == 1 && t.key[0] == *prop).then_some(*var),
        _ => None,
    }
}

impl QueryResult {
    /// One JSON object per row, keyed by column name.
    pub fn json_rows(&self) -> impl Iterator<Item = serde_json::Value> + '_ {
        self.rows.iter().map(|r| serde_json::Value::Object(self.columns.iter().cloned().zip(r.iter().map(Value::to_json)).collect()))
    }

    /// The metadata line of a result of query `name`.
    pub fn metadata_json(&self, name: &str) -> serde_json::Value {
        serde_json::json!({
            "kind": "metadata",
            "query": name,
            "manifest_version": self.manifest_version,
            "commit": self.commit,
            "columns": self.columns,
            "row_count": self.rows.len(),
        })
    }

    /// `{"metadata": ..., "rows": [...]}`: the CLI's `json` format and the
    /// server's `/query` response.
    pub fn to_json_doc(&self, name: &str) -> serde_json::Value {
        serde_json::json!({"metadata": self.metadata_json(name), "rows": self.json_rows().collect::<Vec<_>>()})
    }
}
