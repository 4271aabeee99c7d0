//! Search inside graph queries: each search call of a plan
//! ([`SearchSpec`]) is computed once per run, before matching, into a table
//! of scores by dense index ([`Scores`]); expressions read it
//! ([`Env::search_value`](super::eval::Env)), and the matcher narrows the
//! searched variable to the rows a search keeps.
//!
//! Two ways to compute one:
//! - **Ranked** (the query's first `order` key is the search, in its own
//!   direction, with a `limit`): Lance returns the best `window` rows of the
//!   table that pass the variable's own filters (handed to Lance as a
//!   prefilter, so a selective filter still gives `k` rows), through the
//!   property's index when it has one. The rest of the match runs on those
//!   rows; when it keeps fewer than the query asks for and Lance had more,
//!   the query runs again with a window four times larger ([`widen`]).
//! - **Whole**: every row the search matches (the boolean searches, and a
//!   score used other than as the ranking): FTS without a limit, or an
//!   exact nearest-neighbour scan.
//!
//! Ordering by a search score keeps only the rows it scores (a text that
//! matches none of the terms, a null vector): both ways agree on that.

mod lance;

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::eval::Env;
use super::plan::{OrderRef, PClause, PExpr, ReadPlan, SearchKind, SearchSpec};
use super::pushdown;
use super::value::Value;
use super::view::View;
use crate::error::Result;

/// The most words a searched-for text may have: each is a walk of the
/// index's postings (a fuzzy one of up to 50 terms).
pub const MAX_SEARCH_WORDS: usize = 1024;

/// The first window of a ranked search: this many times the rows wanted.
const FIRST_WINDOW_FACTOR: usize = 2;
/// Each retry's window grows by this factor.
const WIDEN: usize = 4;

/// One search's result: the rows it keeps, by dense index, with their
/// score (1 for the yes/no searches).
#[derive(Debug, Default)]
pub struct Scores {
    pub by_row: FxHashMap<u32, f64>,
    /// Computed over a window that was full: rows past it may exist.
    pub truncated: bool,
    /// Higher scores are better (BM25, RRF); distances rank ascending.
    pub higher_first: bool,
}

impl Scores {
    /// The rows, ascending.
    pub fn rows(&self) -> Vec<u32> {
        let mut out: Vec<u32> = self.by_row.keys().copied().collect();
        out.sort_unstable();
        out
    }
}

/// The per-run state of a plan's searches.
#[derive(Debug, Default)]
pub struct SearchState {
    /// By search id.
    pub tables: Vec<Arc<Scores>>,
    pub kinds: Vec<SearchKind>,
    /// The ranked search's window, when the query has one.
    pub window: Option<usize>,
}

/// The search the query ranks by: the first `order` key, in the search's
/// own direction (best first), in a query that is not an aggregate.
pub fn ranking(plan: &ReadPlan) -> Option<usize> {
    if plan.aggregate || plan.limit.is_none() {
        return None;
    }
    let first = plan.order.first()?;
    let e = match &first.key {
        OrderRef::Item(i) => &plan.items.get(*i)?.expr,
        OrderRef::Expr(e) => e,
    };
    let PExpr::Search { id, .. } = e else { return None };
    let spec = &plan.searches[*id];
    (spec.kind.ranks() && first.descending == spec.kind.descending()).then_some(*id)
}

/// The rows the query asks for (`offset + limit`), once parameters are bound.
fn wanted(plan: &ReadPlan, env: &Env) -> Option<usize> {
    let limit = super::project::row_count(plan.limit, env)?;
    let offset = super::project::row_count(plan.offset, env).unwrap_or(0);
    Some(limit.saturating_add(offset))
}

/// The first window of the ranked search, if the query has one: the rows
/// wanted when nothing but the searched variable's own filters (handed to
/// Lance) constrains the match; twice as many (at least 10) when traversals
/// or other variables may drop some.
pub fn first_window(plan: &ReadPlan, env: &Env) -> Option<usize> {
    let id = ranking(plan)?;
    let want = wanted(plan, env)?.max(1);
    let v = plan.searches[id].var;
    let alone = plan.clauses.iter().all(|c| match c {
        PClause::Bind { var } => *var == v,
        PClause::Filter(e) => {
            let mut vs = Vec::new();
            e.vars(&mut vs);
            vs == [v] && !has_search(e)
        }
        _ => false,
    });
    Some(if alone { want } else { want.saturating_mul(FIRST_WINDOW_FACTOR).max(10) })
}

/// The next window when a ranked run returned fewer than `limit` rows
/// while its window was full; `None` when the answer stands.
pub fn widen(plan: &ReadPlan, env: &Env, rows_returned: usize) -> Option<usize> {
    let window = env.search.window?;
    let id = ranking(plan)?;
    let limit = super::project::row_count(plan.limit, env)?;
    let truncated = env.search.tables.get(id).is_some_and(|t| t.truncated);
    (rows_returned < limit && truncated).then(|| window.saturating_mul(WIDEN))
}

/// Computes every search of `plan` into `env.search.tables`; returns the
/// variables to narrow: `(var, rows, the top-level filter it answers)`.
pub async fn prepare<'p>(view: &View<'_>, plan: &'p ReadPlan, env: &mut Env) -> Result<Vec<(usize, Vec<u32>, Option<&'p PExpr>)>> {
    if plan.searches.is_empty() {
        return Ok(Vec::new());
    }
    let ranked = ranking(plan);
    let window = env.search.window;
    // The searches the ranking is made of run over the window.
    let mut windowed = vec![false; plan.searches.len()];
    if let (Some(id), Some(_)) = (ranked, window) {
        windowed[id] = true;
        for &p in &plan.searches[id].parts {
            windowed[p] = true;
        }
    }
    let mut tables: Vec<Arc<Scores>> = Vec::with_capacity(plan.searches.len());
    // The ranking's variable's prefilter, made once (rrf's two sides share it).
    let mut prefilters: Option<(usize, Option<datafusion_expr::Expr>)> = None;
    for (id, spec) in plan.searches.iter().enumerate() {
        env.deadline.check()?;
        let scores = if spec.kind == SearchKind::Rrf {
            fuse(spec, &tables)
        } else {
            let prefilter = match (windowed[id], &prefilters) {
                (false, _) => None,
                (true, Some((v, f))) if *v == spec.var => f.clone(),
                (true, _) => {
                    let f = own_filters(view, plan, spec.var, env)?;
                    prefilters = Some((spec.var, f.clone()));
                    f
                }
            };
            let limit = if windowed[id] { window } else { None };
            lance::run(view, plan, spec, env, limit, prefilter).await?
        };
        tables.push(Arc::new(scores));
    }
    env.search.tables = tables;
    env.search.kinds = plan.searches.iter().map(|s| s.kind).collect();
    let mut narrow = Vec::new();
    // A yes/no search that is a whole top-level conjunct keeps its rows.
    for c in &plan.clauses {
        let PClause::Filter(e) = c else { continue };
        for part in e.conjuncts() {
            if let PExpr::Search { id, var } = part
                && !plan.searches[*id].kind.ranks()
            {
                narrow.push((*var, env.search.tables[*id].rows(), Some(part)));
            }
        }
    }
    if let Some(id) = ranked {
        narrow.push((plan.searches[id].var, env.search.tables[id].rows(), None));
    }
    Ok(narrow)
}

/// The variable's top-level filters Lance can evaluate, as one prefilter.
fn own_filters(view: &View<'_>, plan: &ReadPlan, v: usize, env: &Env) -> Result<Option<datafusion_expr::Expr>> {
    let t = view.type_def(&plan.vars[v].type_name)?;
    let column_of = |x: &PExpr| match x {
        PExpr::Prop { var, prop } if *var == v => Some(prop.clone()),
        _ => None,
    };
    let mut parts = Vec::new();
    for c in &plan.clauses {
        let PClause::Filter(e) = c else { continue };
        for part in e.conjuncts() {
            let mut vs = Vec::new();
            part.vars(&mut vs);
            if vs != [v] || has_search(part) {
                continue;
            }
            if let Some(x) = pushdown::to_lance(part, t, &env.params, &column_of) {
                parts.push(x);
            }
        }
    }
    parts.truncate(pushdown::MAX_PUSHED_CONJUNCTS);
    Ok(pushdown::and_all(parts))
}

fn has_search(e: &PExpr) -> bool {
    let mut found = false;
    super::eval::leaves(e, &mut |x| found |= matches!(x, PExpr::Search { .. }));
    found
}

/// Reciprocal rank fusion: a row's score is the sum over the two rankings
/// of `1 / (k + rank)` (rank 1 the best), for each ranking that has it.
fn fuse(spec: &SearchSpec, tables: &[Arc<Scores>]) -> Scores {
    let mut out = Scores { higher_first: true, ..Scores::default() };
    for &p in &spec.parts {
        let t = &tables[p];
        out.truncated |= t.truncated;
        let mut ranked: Vec<(u32, f64)> = t.by_row.iter().map(|(&r, &s)| (r, s)).collect();
        // Best first; ties by row for a stable answer.
        let descending = t.higher_first;
        ranked.sort_by(|a, b| {
            let o = a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal);
            (if descending { o.reverse() } else { o }).then(a.0.cmp(&b.0))
        });
        for (rank, (row, _)) in ranked.into_iter().enumerate() {
            *out.by_row.entry(row).or_insert(0.0) += 1.0 / (spec.rrf_k + rank as f64 + 1.0);
        }
    }
    out
}

/// The value of search `id` for dense row `d` of its variable.
pub fn value(env: &Env, id: usize, d: u32) -> Value {
    let Some(t) = env.search.tables.get(id) else { return Value::Null };
    match (env.search.kinds.get(id), t.by_row.get(&d)) {
        (Some(k), found) if !k.ranks() => Value::Bool(found.is_some()),
        (_, Some(s)) => Value::Float(*s),
        (_, None) => Value::Null,
    }
}
