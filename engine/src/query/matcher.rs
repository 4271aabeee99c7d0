//! Evaluates `match { }` into a table of bindings: one column of dense node
//! indexes per bound variable, each row one distinct assignment.
//!
//! Order of work: variables with pushed-down filters get their candidate
//! sets from Lance first; evaluation starts from the smallest candidate set,
//! follows traversals from bound variables through the adjacency (checking
//! the target's candidates), applies each filter as soon as its variables are
//! bound, and runs `not { }` blocks last as anti-joins.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::adjacency::Direction;
use super::column::Column;
use super::eval::{Env, truthy};
use super::limits::Deadline;
use super::node_ids::NodeIds;
use super::plan::{PClause, PExpr, ReadPlan, VarKind};
use super::pushdown;
use super::view::View;
use crate::error::{Error, Result};

/// The value of a variable an `optional { }` block did not bind in a row.
pub const NULL: u32 = u32::MAX;

/// Rows of bindings. `cols[v]` is `Some` once variable `v` is bound: a
/// node's (or edge's) dense index, or [`NULL`]; for a path variable an
/// index into `paths[v]`. When `origin` is tracked (the probe rows of an
/// anti-join or optional match), `origin[r]` is the input row that row `r`
/// came from; elsewhere it is empty, which saves a column per step.
#[derive(Clone, Debug)]
pub struct Bindings {
    pub cols: Vec<Option<Vec<u32>>>,
    pub origin: Vec<u32>,
    pub tracked: bool,
    rows: usize,
    pub paths: Vec<Option<Arc<Vec<Vec<u32>>>>>,
}

impl Bindings {
    pub fn unit(vars: usize) -> Bindings {
        Bindings { cols: vec![None; vars], origin: Vec::new(), tracked: false, rows: 1, paths: vec![None; vars] }
    }

    /// These rows, each tagged with its index (`origin`).
    fn probe(&self) -> Bindings {
        let mut p = self.clone();
        p.origin = (0..self.rows as u32).collect();
        p.tracked = true;
        p
    }

    /// The nodes of path `i` of path variable `v`.
    pub fn path(&self, v: usize, i: u32) -> &[u32] {
        self.paths[v].as_ref().and_then(|p| p.get(i as usize)).map_or(&[], |p| p.as_slice())
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn bound(&self, v: usize) -> bool {
        self.cols[v].is_some()
    }

    pub fn get(&self, v: usize, row: usize) -> u32 {
        self.cols[v].as_ref().expect("bound variable")[row]
    }

    /// Variable `v`'s dense index in every row.
    pub fn column(&self, v: usize) -> &[u32] {
        self.cols[v].as_deref().expect("bound variable")
    }

    fn keep(&self, mask: &[bool]) -> Bindings {
        let pick = |c: &Vec<u32>| c.iter().zip(mask).filter(|(_, k)| **k).map(|(x, _)| *x).collect::<Vec<_>>();
        Bindings {
            cols: self.cols.iter().map(|c| c.as_ref().map(pick)).collect(),
            origin: if self.tracked { pick(&self.origin) } else { Vec::new() },
            tracked: self.tracked,
            rows: mask.iter().filter(|k| **k).count(),
            paths: self.paths.clone(),
        }
    }

    /// Rows extended by `v`: row `r` repeated once per value in `vals[r]`.
    /// This is the one place bindings multiply, so the row limit is checked
    /// here, before memory grows past it (and the deadline as it goes).
    fn extend(&self, v: usize, limit: u64, deadline: &Deadline, per_row: impl FnMut(usize, &mut Vec<u32>)) -> Result<Bindings> {
        self.extend_with(&[v], limit, deadline, per_row)
    }

    /// Rows extended by several variables at once: `per_row` appends one
    /// tuple of `vars.len()` values per new row.
    fn extend_with(&self, vars: &[usize], limit: u64, deadline: &Deadline, mut per_row: impl FnMut(usize, &mut Vec<u32>)) -> Result<Bindings> {
        let k = vars.len().max(1);
        // Tuples go straight into `vals`; `rows` names each one's input row.
        let mut rows: Vec<u32> = Vec::with_capacity(self.len());
        let mut vals: Vec<u32> = Vec::with_capacity(self.len() * k);
        for r in 0..self.len() {
            deadline.tick(r)?;
            let before = vals.len();
            per_row(r, &mut vals);
            let n = (vals.len() - before) / k;
            vals.truncate(before + n * k);
            if (rows.len() + n) as u64 > limit {
                return Err(Error::QueryTooLarge { limit });
            }
            rows.extend(std::iter::repeat_n(r as u32, n));
        }
        let pick = |c: &Vec<u32>| rows.iter().map(|&r| c[r as usize]).collect::<Vec<u32>>();
        let mut cols: Vec<Option<Vec<u32>>> = self.cols.iter().map(|c| c.as_ref().map(pick)).collect();
        let origin = if self.tracked { pick(&self.origin) } else { Vec::new() };
        if let [v] = vars {
            cols[*v] = Some(vals);
        } else {
            let mut split: Vec<Vec<u32>> = vars.iter().map(|_| Vec::with_capacity(rows.len())).collect();
            for t in vals.chunks_exact(k) {
                for (col, &x) in split.iter_mut().zip(t) {
                    col.push(x);
                }
            }
            for (&v, col) in vars.iter().zip(split) {
                cols[v] = Some(col);
            }
        }
        Ok(Bindings { cols, origin, tracked: self.tracked, rows: rows.len(), paths: self.paths.clone() })
    }

    /// [`extend_with`](Bindings::extend_with) of two variables, each into
    /// a column of its own (no interleaved tuples to split).
    fn extend_pairs(
        &self,
        (va, vb): (usize, usize),
        limit: u64,
        deadline: &Deadline,
        mut per_row: impl FnMut(usize, &mut Vec<u32>, &mut Vec<u32>),
    ) -> Result<Bindings> {
        // Most steps keep about one row per input row: start there.
        let mut rows: Vec<u32> = Vec::with_capacity(self.len());
        let (mut a, mut b) = (Vec::with_capacity(self.len()), Vec::with_capacity(self.len()));
        for r in 0..self.len() {
            deadline.tick(r)?;
            let before = a.len();
            per_row(r, &mut a, &mut b);
            let n = a.len() - before;
            if (rows.len() + n) as u64 > limit {
                return Err(Error::QueryTooLarge { limit });
            }
            rows.extend(std::iter::repeat_n(r as u32, n));
        }
        let pick = |c: &Vec<u32>| rows.iter().map(|&r| c[r as usize]).collect::<Vec<u32>>();
        let mut cols: Vec<Option<Vec<u32>>> = self.cols.iter().map(|c| c.as_ref().map(pick)).collect();
        let origin = if self.tracked { pick(&self.origin) } else { Vec::new() };
        cols[va] = Some(a);
        cols[vb] = Some(b);
        Ok(Bindings { cols, origin, tracked: self.tracked, rows: rows.len(), paths: self.paths.clone() })
    }

    /// Keeps one row per distinct assignment of `vars`.
    pub fn distinct(&self, vars: &[usize]) -> Bindings {
        let mut seen = FxHashSet::default();
        let mask: Vec<bool> = (0..self.len()).map(|r| seen.insert(vars.iter().map(|&v| self.get(v, r)).collect::<Vec<_>>())).collect();
        self.keep(&mask)
    }
}

/// The members of two ascending lists.
fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

struct Bitset(Vec<u64>);

impl Bitset {
    fn of(n: usize, members: &[u32]) -> Bitset {
        let mut b = vec![0u64; n.div_ceil(64)];
        for &m in members {
            b[m as usize / 64] |= 1 << (m % 64);
        }
        Bitset(b)
    }

    fn has(&self, m: u32) -> bool {
        self.0.get(m as usize / 64).is_some_and(|w| w & (1 << (m % 64)) != 0)
    }
}

struct Candidates {
    list: Vec<u32>,
    set: Bitset,
}

struct Admit {
    ids: Arc<NodeIds>,
    cand: Option<Arc<Candidates>>,
}

impl Admit {
    fn ok(&self, m: u32) -> bool {
        self.cand.as_ref().is_none_or(|c| c.set.has(m)) && self.ids.is_live(m)
    }
}

pub struct Matcher<'a, 'g> {
    pub view: &'a View<'g>,
    pub plan: &'a ReadPlan,
    pub env: &'a mut Env,
    /// Top-level filters Lance already applied, by address.
    pushed: FxHashSet<usize>,
    candidates: HashMap<usize, Arc<Candidates>>,
}

impl<'a, 'g> Matcher<'a, 'g> {
    pub fn new(view: &'a View<'g>, plan: &'a ReadPlan, env: &'a mut Env) -> Self {
        Matcher { view, plan, env, pushed: FxHashSet::default(), candidates: HashMap::new() }
    }

    /// Runs the whole `match`; anonymous variables are projected away.
    pub async fn run(&mut self) -> Result<Bindings> {
        self.push_down().await?;
        let start = Bindings::unit(self.plan.vars.len());
        let mut out = self.clauses(&self.plan.clauses, start).await?;
        if out.is_empty() {
            // Matching stops at the first empty step: every variable is
            // then bound, to no rows.
            for c in out.cols.iter_mut().filter(|c| c.is_none()) {
                *c = Some(Vec::new());
            }
        }
        let named: Vec<usize> = (0..self.plan.vars.len()).filter(|&v| out.bound(v) && !self.plan.vars[v].anonymous).collect();
        let any_anonymous = (0..self.plan.vars.len()).any(|v| out.bound(v) && self.plan.vars[v].anonymous);
        Ok(if any_anonymous { out.distinct(&named) } else { out })
    }

    /// Candidate sets from top-level filters: an id or single-property
    /// string `@key` compared for equality is answered from the node-id map
    /// the view caches (a point lookup without touching Lance); other
    /// filters Lance can evaluate become one scan per variable.
    async fn push_down(&mut self) -> Result<()> {
        // Searches first: the rows each keeps narrow its variable below.
        let mut from_search: HashMap<usize, Vec<u32>> = HashMap::new();
        for (v, list, part) in super::search::prepare(self.view, self.plan, self.env).await? {
            let merged = match from_search.remove(&v) {
                None => list,
                Some(have) => intersect(&have, &list),
            };
            from_search.insert(v, merged);
            if let Some(p) = part {
                self.pushed.insert(p as *const PExpr as usize);
            }
        }
        self.push_filters().await?;
        for (v, list) in from_search {
            let n = self.view.node_ids(&self.plan.vars[v].type_name).await?.len();
            let list = match self.candidates.get(&v) {
                Some(c) => intersect(&c.list, &list),
                None => list,
            };
            self.candidates.insert(v, Arc::new(Candidates { set: Bitset::of(n, &list), list }));
        }
        Ok(())
    }

    async fn push_filters(&mut self) -> Result<()> {
        let mut by_var: HashMap<usize, Vec<(&PExpr, datafusion_expr::Expr)>> = HashMap::new();
        let mut by_id: HashMap<usize, Vec<(&PExpr, String)>> = HashMap::new();
        let mut by_set: HashMap<usize, Vec<(&PExpr, String, pushdown::InSet)>> = HashMap::new();
        #[allow(clippy::type_complexity)]
        let mut by_column: HashMap<usize, Vec<(&PExpr, String, super::ast::CmpOp, datafusion_common::ScalarValue)>> = HashMap::new();
        let column_of_var = |v: usize| {
            move |x: &PExpr| match x {
                PExpr::Prop { var, prop } if *var == v => Some(prop.clone()),
                _ => None,
            }
        };
        for c in &self.plan.clauses {
            let PClause::Filter(e) = c else { continue };
            for part in e.conjuncts() {
                let mut vs = Vec::new();
                part.vars(&mut vs);
                let [v] = vs[..] else { continue };
                // An optional variable's filter must also drop the rows
                // where it stayed null: evaluated after the block, in memory.
                if self.plan.vars[v].optional || self.plan.vars[v].kind == VarKind::Path {
                    continue;
                }
                let t = self.view.type_def(&self.plan.vars[v].type_name)?;
                if let Some(id) = pushdown::id_equality(part, v, t, &self.env.params) {
                    by_id.entry(v).or_default().push((part, id));
                    continue;
                }
                let column_of = |x: &PExpr| match x {
                    PExpr::Prop { var, prop } if *var == v => Some(prop.clone()),
                    _ => None,
                };
                // A long `in` list: the column probed against a set.
                if let Some((prop, set)) = pushdown::long_in(part, &self.env.params, &column_of)
                    && match (&set, t.property(&prop).map(|p| &p.ty)) {
                        (pushdown::InSet::Strs(_), None) => prop == "id",
                        (pushdown::InSet::Strs(_), Some(ty)) => matches!(ty, crate::schema::PropType::String | crate::schema::PropType::Enum(_)),
                        (pushdown::InSet::Ints(_), Some(ty)) => {
                            matches!(
                                ty,
                                crate::schema::PropType::I32 | crate::schema::PropType::I64 | crate::schema::PropType::U32 | crate::schema::PropType::U64
                            )
                        }
                        (pushdown::InSet::Ints(_), None) => false,
                    }
                {
                    by_set.entry(v).or_default().push((part, prop, set));
                    continue;
                }
                // A comparison on a property without a scalar index runs on
                // the cached column view; the rest goes to a Lance scan.
                if let Some((prop, op, value)) = pushdown::comparison(part, t, &self.env.params, &column_of)
                    && !matches!(prop.as_str(), "id" | "src" | "dst")
                    && !crate::graph::indexes::indexed_columns(t).contains(&prop)
                {
                    by_column.entry(v).or_default().push((part, prop, op, value));
                    continue;
                }
                if let Some(x) = pushdown::to_lance(part, t, &self.env.params, &column_of) {
                    by_var.entry(v).or_default().push((part, x));
                }
            }
        }
        // Column filters (intersected), and those the kernels cannot run
        // handed to Lance with the variable's other filters.
        let mut from_columns: HashMap<usize, Vec<u32>> = HashMap::new();
        for (v, parts) in by_set {
            if by_id.contains_key(&v) {
                continue;
            }
            let type_name = &self.plan.vars[v].type_name;
            let ids = self.view.node_ids(type_name).await?;
            for (part, prop, set) in parts {
                let col = self.view.column(type_name, &prop).await?;
                let mut list = Vec::new();
                for (i, d) in ids.live().enumerate() {
                    self.env.deadline.tick(i)?;
                    if set.contains(&col.value(d as usize)) {
                        list.push(d);
                    }
                }
                let merged = match from_columns.remove(&v) {
                    None => list,
                    Some(have) => intersect(&have, &list),
                };
                from_columns.insert(v, merged);
                self.pushed.insert(part as *const PExpr as usize);
            }
        }
        // A match that starts from a node pinned by id reaches the other
        // variables through it: their column filters are cheaper checked
        // on the few rows it reaches than over their whole tables.
        let pinned = !by_id.is_empty();
        for (v, parts) in by_column {
            if by_id.contains_key(&v) || pinned {
                continue;
            }
            let type_name = &self.plan.vars[v].type_name;
            let t = self.view.type_def(type_name)?;
            for (part, prop, op, value) in parts {
                match self.view.column_matches(type_name, &prop, op, &value).await? {
                    Some(list) => {
                        let merged = match from_columns.remove(&v) {
                            None => list,
                            Some(have) => intersect(&have, &list),
                        };
                        from_columns.insert(v, merged);
                        self.pushed.insert(part as *const PExpr as usize);
                    }
                    None => {
                        if let Some(x) = pushdown::to_lance(part, t, &self.env.params, &column_of_var(v)) {
                            by_var.entry(v).or_default().push((part, x));
                        }
                    }
                }
            }
        }
        for (v, parts) in by_id {
            let ids = self.view.node_ids(&self.plan.vars[v].type_name).await?;
            // Every equality must name the same node.
            let mut found = ids.dense(&parts[0].1).filter(|&d| ids.id(d) == parts[0].1);
            if parts.iter().any(|(_, id)| *id != parts[0].1) {
                found = None;
            }
            let list: Vec<u32> = found.into_iter().collect();
            self.candidates.insert(v, Arc::new(Candidates { set: Bitset::of(ids.len(), &list), list }));
            for (p, _) in parts {
                self.pushed.insert(p as *const PExpr as usize);
            }
            // Lance filters on the same variable are checked in memory on
            // the (at most one) candidate instead of scanning for them.
            by_var.remove(&v);
        }
        for (v, mut parts) in by_var {
            // DataFusion walks (and clones) an `and` chain recursively: only
            // the first few conjuncts go to Lance; the rest stay unpushed
            // and are evaluated in memory on what the scan returns.
            parts.truncate(pushdown::MAX_PUSHED_CONJUNCTS);
            let filter = pushdown::and_all(parts.iter().map(|(_, x)| x.clone())).expect("non-empty");
            let type_name = &self.plan.vars[v].type_name;
            let mut list = self.view.filtered(type_name, filter).await?;
            if let Some(cols) = from_columns.remove(&v) {
                list = intersect(&list, &cols);
            }
            let n = self.view.node_ids(type_name).await?.len();
            self.candidates.insert(v, Arc::new(Candidates { set: Bitset::of(n, &list), list }));
            for (p, _) in parts {
                self.pushed.insert(p as *const PExpr as usize);
            }
        }
        for (v, list) in from_columns {
            let n = self.view.node_ids(&self.plan.vars[v].type_name).await?.len();
            self.candidates.insert(v, Arc::new(Candidates { set: Bitset::of(n, &list), list }));
        }
        Ok(())
    }

    async fn size_of(&self, v: usize) -> Result<usize> {
        Ok(match self.candidates.get(&v) {
            Some(c) => c.list.len(),
            None => self.view.node_ids(&self.plan.vars[v].type_name).await?.live_len(),
        })
    }

    fn clauses<'s>(&'s mut self, clauses: &'a [PClause], mut b: Bindings) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Bindings>> + Send + 's>>
    where
        'a: 's,
    {
        Box::pin(async move {
            let mut to_bind: Vec<usize> = Vec::new();
            for c in clauses {
                match c {
                    PClause::Bind { var } => to_bind.push(*var),
                    PClause::Traverse { from, to, edge_var, .. } => to_bind.extend([*from, *to].into_iter().chain(*edge_var)),
                    PClause::Path { from, to, .. } => to_bind.extend([*from, *to]),
                    _ => {}
                }
            }
            to_bind.retain(|v| !b.bound(*v));
            to_bind.sort_unstable();
            to_bind.dedup();
            let mut pending: Vec<&'a PClause> = clauses.iter().filter(|c| !matches!(c, PClause::Bind { .. })).collect();
            // A filter fully answered by a candidate set needs no second look.
            pending.retain(|c| !matches!(c, PClause::Filter(e) if self.pushed.contains(&(e as *const PExpr as usize))));
            loop {
                if b.is_empty() {
                    return Ok(b);
                }
                self.env.deadline.check()?;
                // Filters whose variables are bound.
                let mut progressed = false;
                let mut i = 0;
                while i < pending.len() {
                    if let PClause::Filter(e) = pending[i] {
                        let mut vs = Vec::new();
                        e.vars(&mut vs);
                        if vs.iter().all(|v| b.bound(*v)) {
                            b = self.filter(e, b).await?;
                            pending.remove(i);
                            progressed = true;
                            continue;
                        }
                    }
                    i += 1;
                }
                if progressed {
                    continue;
                }
                // Traversals: both ends bound first (a check), then one end
                // (or the edge); paths once an end is bound.
                let both = |c: &&PClause| matches!(c, PClause::Traverse { from, to, .. } if b.bound(*from) && b.bound(*to));
                let one = |c: &&PClause| match c {
                    PClause::Traverse { from, to, edge_var, .. } => b.bound(*from) || b.bound(*to) || edge_var.is_some_and(|k| b.bound(k)),
                    PClause::Path { from, to, .. } => b.bound(*from) || b.bound(*to),
                    _ => false,
                };
                if let Some(i) = pending.iter().position(both).or_else(|| pending.iter().position(one)) {
                    b = match pending.remove(i) {
                        PClause::Traverse { from, edge, hops, to, edge_var: Some(k), undirected } => {
                            let _ = hops;
                            self.traverse_edge(b, *from, edge, *k, *to, *undirected).await?
                        }
                        PClause::Traverse { from, edge, hops, to, edge_var: None, undirected } => {
                            self.traverse(b, *from, edge, *hops, *to, *undirected).await?
                        }
                        PClause::Path { var, from, edge, hops, to, undirected, all } => {
                            self.path(b, *var, *from, edge, (*hops, *all), *to, *undirected).await?
                        }
                        _ => unreachable!("only traversals and paths are picked"),
                    };
                    continue;
                }
                // Nothing connects: bind the smallest unbound variable.
                let mut best: Option<(usize, usize)> = None;
                for &v in &to_bind {
                    if !b.bound(v) {
                        let n = self.seed_cost(v, &pending, &b).await?;
                        if best.is_none_or(|(_, m)| n < m) {
                            best = Some((v, n));
                        }
                    }
                }
                if let Some((v, _)) = best {
                    b = self.seed(b, v).await?;
                    continue;
                }
                // Optional blocks, in order; then the filters they enable.
                if let Some(i) = pending.iter().position(|c| matches!(c, PClause::Optional(_))) {
                    let PClause::Optional(inner) = pending.remove(i) else { unreachable!("picked an optional block") };
                    b = self.left_join(b, inner).await?;
                    continue;
                }
                // Only `not { }` blocks (and filters of unbound inner
                // variables, which cannot occur after typechecking) remain.
                for c in std::mem::take(&mut pending) {
                    if let PClause::Not(inner) = c {
                        b = self.anti_join(b, inner).await?;
                    }
                }
                return Ok(b);
            }
        })
    }

    /// What binding `v` first costs: its candidates; for a node at the end
    /// of an edge variable that a filter narrowed, the edges it would
    /// expand to (its rows times the edges per node), so that a selective
    /// edge filter starts the match from the edges it keeps.
    async fn seed_cost(&self, v: usize, pending: &[&PClause], b: &Bindings) -> Result<usize> {
        let mut n = self.size_of(v).await?;
        if self.plan.vars[v].kind != VarKind::Node {
            return Ok(n);
        }
        for c in pending {
            let PClause::Traverse { from, to, edge_var: Some(k), edge, .. } = c else { continue };
            if (*from != v && *to != v) || b.bound(*k) || !self.candidates.contains_key(k) {
                continue;
            }
            let edges = self.view.node_ids(edge).await?.live_len();
            let nodes = self.view.node_ids(&self.plan.vars[v].type_name).await?.live_len().max(1);
            n = n.max(((n as u128 * edges as u128) / nodes as u128) as usize);
        }
        Ok(n)
    }

    async fn seed(&self, b: Bindings, v: usize) -> Result<Bindings> {
        let all: Vec<u32>;
        let list: &[u32] = match self.candidates.get(&v) {
            Some(c) => &c.list,
            None => {
                all = self.view.node_ids(&self.plan.vars[v].type_name).await?.live().collect();
                &all
            }
        };
        b.extend(v, self.view.graph.query_limits().max_rows, &self.env.deadline, |_, out| out.extend_from_slice(list))
    }

    /// What may bind variable `v`: a live row of its type, among its
    /// candidates when a filter was pushed down.
    async fn admit(&self, v: usize) -> Result<Admit> {
        Ok(Admit { ids: self.view.node_ids(&self.plan.vars[v].type_name).await?, cand: self.candidates.get(&v).cloned() })
    }

    async fn traverse(&self, b: Bindings, from: usize, edge: &str, hops: Option<(u32, u32)>, to: usize, undirected: bool) -> Result<Bindings> {
        let adj = self.view.adjacency(edge).await?;
        let (src, dst, dir) = match (b.bound(from), undirected) {
            (_, true) => {
                if b.bound(from) {
                    (from, to, Direction::Both)
                } else {
                    (to, from, Direction::Both)
                }
            }
            (true, false) => (from, to, Direction::Forward),
            (false, false) => (to, from, Direction::Backward),
        };
        let dst_ids = self.view.node_ids(&self.plan.vars[dst].type_name).await?;
        let n_dst = dst_ids.len();
        let admit = self.admit(dst).await?;
        if b.bound(dst) {
            // Both ends bound: keep rows whose pair is joined.
            let mut seen = vec![0u32; n_dst];
            let mut reach = Vec::new();
            let deadline = self.env.deadline.clone();
            let mask: Vec<bool> = (0..b.len())
                .map(|r| {
                    deadline.tick(r)?;
                    let (s, d) = (b.get(src, r), b.get(dst, r));
                    if s == NULL || d == NULL {
                        return Ok(false);
                    }
                    match hops {
                        None => Ok(adj.joined(s, d, dir)),
                        Some((min, max)) => {
                            reach.clear();
                            adj.reach(s, min, max, dir, &mut seen, &mut reach);
                            Ok(reach.contains(&d))
                        }
                    }
                })
                .collect::<Result<_>>()?;
            return Ok(b.keep(&mask));
        }
        let mut seen = vec![0u32; if hops.is_some() { n_dst } else { 0 }];
        let mut buf = Vec::new();
        b.extend(dst, self.view.graph.query_limits().max_rows, &self.env.deadline, |r, out| {
            let s = b.get(src, r);
            if s == NULL {
                return;
            }
            match hops {
                None => {
                    adj.neighbours_any(s, dir, &mut buf);
                    out.extend(buf.iter().copied().filter(|m| admit.ok(*m)));
                }
                Some((min, max)) => {
                    let mut reach = Vec::new();
                    adj.reach(s, min, max, dir, &mut seen, &mut reach);
                    out.extend(reach.into_iter().filter(|m| admit.ok(*m)));
                }
            }
        })
    }

    /// `$a $k:edge $b`: one row per matching edge, binding whichever of the
    /// three are not bound yet.
    async fn traverse_edge(&self, b: Bindings, from: usize, edge: &str, k: usize, to: usize, undirected: bool) -> Result<Bindings> {
        let x = self.view.edge_index(edge).await?;
        let (af, ak, at) = (self.admit(from).await?, self.admit(k).await?, self.admit(to).await?);
        let slots = [from, k, to];
        let mut unbound: Vec<usize> = slots.iter().copied().filter(|v| !b.bound(*v)).collect();
        unbound.dedup();
        let admits = [&af, &ak, &at];
        // The common plan: the edges were bound first (from their
        // candidates), and each row only needs its two ends.
        if b.bound(k) && !b.bound(from) && !b.bound(to) && !undirected {
            let same = from == to;
            let limit = self.view.graph.query_limits().max_rows;
            if same {
                return b.extend(from, limit, &self.env.deadline, |r, out| {
                    if let Some((s, d)) = x.ends(b.get(k, r))
                        && s == d
                        && af.ok(s)
                    {
                        out.push(s);
                    }
                });
            }
            return b.extend_pairs((from, to), limit, &self.env.deadline, |r, fs, ts| {
                if let Some((s, d)) = x.ends(b.get(k, r))
                    && af.ok(s)
                    && at.ok(d)
                {
                    fs.push(s);
                    ts.push(d);
                }
            });
        }
        // From one bound end, directed: each edge out of (or into) it that
        // the edge's and the other end's candidates admit.
        if !b.bound(k) && !undirected && from != to && (b.bound(from) != b.bound(to)) {
            let forward = b.bound(from);
            let (src, other, admit_other) = if forward { (from, to, &at) } else { (to, from, &af) };
            return b.extend_pairs((k, other), self.view.graph.query_limits().max_rows, &self.env.deadline, |r, ks, os| {
                let s = b.get(src, r);
                if s == NULL {
                    return;
                }
                let edges = if forward { x.leaving(s) } else { x.entering(s) };
                for &e in edges {
                    if !ak.ok(e) {
                        continue;
                    }
                    let o = if forward { x.dst[e as usize] } else { x.src[e as usize] };
                    if o != NULL && admit_other.ok(o) {
                        ks.push(e);
                        os.push(o);
                    }
                }
            });
        }
        let mut triples: Vec<[u32; 3]> = Vec::new();
        b.extend_with(&unbound.clone(), self.view.graph.query_limits().max_rows, &self.env.deadline, |r, out| {
            triples.clear();
            let bound = |v: usize| b.bound(v).then(|| b.get(v, r));
            if let Some(e) = bound(k) {
                if let Some((s, d)) = x.ends(e) {
                    triples.push([s, e, d]);
                    if undirected && s != d {
                        triples.push([d, e, s]);
                    }
                }
            } else if let Some(s) = bound(from) {
                triples.extend(x.leaving(s).iter().filter_map(|&e| Some([s, e, x.ends(e)?.1])));
                if undirected {
                    triples.extend(x.entering(s).iter().filter_map(|&e| x.ends(e).filter(|(o, _)| *o != s).map(|(o, _)| [s, e, o])));
                }
            } else if let Some(d) = bound(to) {
                triples.extend(x.entering(d).iter().filter_map(|&e| Some([x.ends(e)?.0, e, d])));
                if undirected {
                    triples.extend(x.leaving(d).iter().filter_map(|&e| x.ends(e).filter(|(_, o)| *o != d).map(|(_, o)| [o, e, d])));
                }
            }
            'next: for t in triples.iter() {
                // Each slot: equal to its bound value, or admitted and (for a
                // variable in two slots) the same in both.
                let mut assigned: [(usize, u32); 3] = [(usize::MAX, 0); 3];
                for (j, (&v, &val)) in slots.iter().zip(t).enumerate() {
                    if val == NULL {
                        continue 'next;
                    }
                    match bound(v) {
                        Some(have) if have != val => continue 'next,
                        Some(_) => {}
                        None => {
                            if let Some((_, prev)) = assigned.iter().find(|(w, _)| *w == v) {
                                if *prev != val {
                                    continue 'next;
                                }
                            } else if !admits[j].ok(val) {
                                continue 'next;
                            }
                            assigned[j] = (v, val);
                        }
                    }
                }
                for v in &unbound {
                    let val = assigned.iter().find(|(w, _)| w == v).map_or(NULL, |(_, x)| *x);
                    out.push(val);
                }
            }
        })
    }

    /// `$p = shortest($a edge{min,max} $b)`: one shortest path per pair of
    /// ends (from the bound end to each admitted node at the other).
    #[allow(clippy::too_many_arguments)]
    async fn path(&self, b: Bindings, var: usize, from: usize, edge: &str, (hops, all): ((u32, u32), bool), to: usize, undirected: bool) -> Result<Bindings> {
        let adj = self.view.adjacency(edge).await?;
        let forward = b.bound(from);
        let (src, dst) = if forward { (from, to) } else { (to, from) };
        let dir = match (undirected, forward) {
            (true, _) => Direction::Both,
            (false, true) => Direction::Forward,
            (false, false) => Direction::Backward,
        };
        let admit = self.admit(dst).await?;
        let dst_bound = b.bound(dst);
        let mut store: Vec<Vec<u32>> = Vec::new();
        let mut held = 0usize;
        let mut failed: Option<Error> = None;
        let deadline = self.env.deadline.clone();
        let mut steps = 0usize;
        let vars: Vec<usize> = if dst_bound { vec![var] } else { vec![dst, var] };
        let mut out_b = b.extend_with(&vars, self.view.graph.query_limits().max_rows, &self.env.deadline, |r, out| {
            let s = b.get(src, r);
            let target = dst_bound.then(|| b.get(dst, r));
            if s == NULL || target == Some(NULL) || failed.is_some() {
                return;
            }
            let mut tick = || {
                steps += 1;
                deadline.tick(steps)
            };
            let limit = self.view.graph.query_limits().max_rows as usize;
            let found = if all {
                adj.all_shortest(s, hops, dir, target, &|m| admit.ok(m), &mut tick, limit)
            } else {
                adj.shortest(s, hops, dir, target, &|m| admit.ok(m), &mut tick)
            };
            match found {
                Ok(paths) => {
                    // Every path's nodes are held: bounded like rows.
                    held += paths.iter().map(Vec::len).sum::<usize>();
                    if held as u64 > self.view.graph.query_limits().max_rows {
                        failed = Some(Error::QueryTooLarge { limit: self.view.graph.query_limits().max_rows });
                        return;
                    }
                    for mut p in paths {
                        let end = *p.last().expect("a path has a node");
                        if !forward {
                            p.reverse();
                        }
                        if !dst_bound {
                            out.push(end);
                        }
                        out.push(store.len() as u32);
                        store.push(p);
                    }
                }
                Err(e) => failed = Some(e),
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        out_b.paths[var] = Some(Arc::new(store));
        Ok(out_b)
    }

    /// `optional { }`: each row extended by the block's matches, or kept
    /// once with the block's new variables null when it has none.
    async fn left_join(&mut self, b: Bindings, inner: &'a [PClause]) -> Result<Bindings> {
        let matched = self.clauses(inner, b.probe()).await?;
        let mut by_row: Vec<Vec<u32>> = vec![Vec::new(); b.len()];
        for (m, &o) in matched.origin.iter().enumerate() {
            by_row[o as usize].push(m as u32);
        }
        let total: usize = by_row.iter().map(|m| m.len().max(1)).sum();
        let limit = self.view.graph.query_limits().max_rows;
        if total as u64 > limit {
            return Err(Error::QueryTooLarge { limit });
        }
        // (row of `b`, row of `matched` or none)
        let picks: Vec<(usize, Option<u32>)> =
            by_row.iter().enumerate().flat_map(|(r, ms)| if ms.is_empty() { vec![(r, None)] } else { ms.iter().map(|m| (r, Some(*m))).collect() }).collect();
        let cols = (0..b.cols.len())
            .map(|v| {
                if !matched.bound(v) {
                    return None;
                }
                Some(
                    picks
                        .iter()
                        .map(|&(r, m)| match m {
                            Some(m) => matched.get(v, m as usize),
                            None if b.bound(v) => b.get(v, r),
                            None => NULL,
                        })
                        .collect(),
                )
            })
            .collect();
        let origin = if b.tracked { picks.iter().map(|&(r, _)| b.origin[r]).collect() } else { Vec::new() };
        Ok(Bindings { cols, origin, tracked: b.tracked, rows: picks.len(), paths: matched.paths })
    }

    async fn filter(&mut self, e: &PExpr, b: Bindings) -> Result<Bindings> {
        let cols = self.env.prefetch(self.view, &self.plan.vars, e).await?;
        let env = &*self.env;
        let mask: Vec<bool> = (0..b.len()).map(|r| env.deadline.tick(r).map(|_| truthy(&env.eval(e, &b, r, &cols)))).collect::<Result<_>>()?;
        Ok(b.keep(&mask))
    }

    /// Keeps the rows for which `inner` finds no match.
    async fn anti_join(&mut self, b: Bindings, inner: &'a [PClause]) -> Result<Bindings> {
        let matched = self.clauses(inner, b.probe()).await?;
        let mut hit = vec![false; b.len()];
        for &o in &matched.origin {
            hit[o as usize] = true;
        }
        let mask: Vec<bool> = hit.iter().map(|h| !h).collect();
        Ok(b.keep(&mask))
    }
}

/// Columns an expression reads, keyed by (variable, property).
pub type Columns = HashMap<(usize, String), Column>;
