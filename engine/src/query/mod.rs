//! The `.gq` query language.
//!
//! Module map:
//! - [`ast`], [`parser`]: source to syntax tree (`OG-QUERY-001`).
//! - [`check`]: the typechecker, source of every other `OG-QUERY-*` code
//!   found before execution; produces a [`plan::Plan`].
//! - [`value`]: runtime values, comparison, JSON.
//! - [`view`]: a snapshot's node ids, columns and adjacency, cached per
//!   table version; [`adjacency`]: the CSR and variable-length reach.
//! - [`pushdown`]: filters handed to Lance scans (and its scalar indexes).
//! - [`matcher`]: `match` to bindings; [`eval`]: expressions;
//!   [`project`]: `return`, aggregates, `order`, `limit`, `offset`.
//! - [`limits`]: the row, result-size and time bounds of one query.
//! - [`mutate`]: `insert`/`update`/`delete`, validated and published as one
//!   atomic `__manifest` commit.

pub(crate) mod adjacency;
pub(crate) mod ast;
pub mod check;
pub(crate) mod column;
pub(crate) mod delta;
pub(crate) mod edges;
pub(crate) mod eval;
pub mod limits;
pub(crate) mod matcher;
pub(crate) mod mutate;
pub(crate) mod node_ids;
pub mod parser;
pub mod plan;
pub(crate) mod project;
pub(crate) mod pushdown;
pub(crate) mod rebase;
pub(crate) mod search;
pub(crate) mod value;
pub(crate) mod view;

use serde_json::Value as Json;

pub use check::MAX_HOPS;
pub use mutate::{MAX_BATCH, MutationReport};
pub use plan::Plan;
pub use project::QueryResult;
pub use value::Value;

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::load::value::convert;
use crate::schema::SchemaIr;

/// Parses and typechecks every query in `src` against `schema`. A plan
/// runs only on a commit of that schema (`SchemaMoved` otherwise): compile
/// against [`Graph::current`]'s schema, or [`Graph::bound_at`]'s for a read
/// at an older commit.
pub fn compile(schema: &SchemaIr, src: &str) -> Result<Vec<Plan>> {
    let decls = parser::parse(src).map_err(|d| Error::Query(vec![d]))?;
    check::check_all(schema, &decls).map_err(Error::Query)
}

/// Picks the query to run: the one named, or the only one in the file.
pub fn select<'p>(plans: &'p [Plan], name: Option<&str>) -> Result<&'p Plan> {
    let names = || plans.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    match name {
        Some(n) => plans.iter().find(|p| p.name == n).ok_or_else(|| Error::QueryNotFound(format!("no query named `{n}` (queries: {})", names()))),
        None if plans.len() == 1 => Ok(&plans[0]),
        None => Err(Error::QueryNotFound(format!("the file declares several queries; name one of: {}", names()))),
    }
}

/// Checks `params` (a JSON object) against the query's declared parameters.
pub fn bind_params(plan: &Plan, params: &Json) -> Result<Vec<Value>> {
    let empty = serde_json::Map::new();
    let obj = match params {
        Json::Object(o) => o,
        Json::Null => &empty,
        _ => return Err(Error::Param { name: "*".into(), message: "parameters must be a JSON object".into() }),
    };
    for k in obj.keys() {
        if !plan.params.iter().any(|p| p.name == *k) {
            let declared: Vec<String> = plan.params.iter().map(|p| format!("${}", p.name)).collect();
            return Err(Error::Param {
                name: k.clone(),
                message: format!("query `{}` declares no such parameter (declared: {})", plan.name, declared.join(", ")),
            });
        }
    }
    let values = plan
        .params
        .iter()
        .map(|spec| match obj.get(&spec.name) {
            None | Some(Json::Null) if spec.nullable => Ok(Value::Null),
            None | Some(Json::Null) => Err(Error::Param { name: spec.name.clone(), message: format!("missing value of type {}", spec.ty) }),
            Some(v) => convert(&spec.name, &spec.ty, v.clone()).map(Value::from).map_err(|e| {
                // The loader's message names a property; here the subject is the parameter.
                let prefix = format!("property `{}` ", spec.name);
                let message = e.message.strip_prefix(&prefix).map(str::to_string).unwrap_or(e.message);
                Error::Param { name: spec.name.clone(), message }
            }),
        })
        .collect::<Result<Vec<Value>>>()?;
    if let plan::PlanBody::Read(read) = &plan.body {
        for (word, rows) in [("limit", read.limit), ("offset", read.offset)] {
            if let Some(plan::Rows::Param(i)) = rows
                && let Value::Int(n @ ..0) = values[i]
            {
                return Err(Error::Param { name: plan.params[i].name.clone(), message: format!("{word} must not be negative, got {n}") });
            }
        }
    }
    Ok(values)
}

/// Runs a read query against the graph's latest snapshot.
pub async fn run_read(graph: &Graph, plan: &Plan, params: &Json) -> Result<QueryResult> {
    run_read_until(graph, plan, params, limits::Deadline::start(graph.query_limits().timeout)).await
}

/// [`run_read`] that stops at `deadline` (its time or its cancel flag).
pub async fn run_read_until(graph: &Graph, plan: &Plan, params: &Json, deadline: limits::Deadline) -> Result<QueryResult> {
    run_read_at(graph, plan, params, deadline, None).await
}

/// [`run_read_until`] on the graph as it was at `at` (now when `None`).
pub async fn run_read_at(graph: &Graph, plan: &Plan, params: &Json, deadline: limits::Deadline, at: Option<&crate::graph::history::At>) -> Result<QueryResult> {
    if !matches!(plan.body, plan::PlanBody::Read(_)) {
        return Err(Error::QueryKind(format!("`{}` is a mutation; run it with `mutate`", plan.name)));
    }
    run_read_on(graph, graph.snapshot_at(at).await?, plan, params, deadline).await
}

/// [`run_read_until`] on `snap`, a snapshot of `graph` the caller took (to
/// compile the query against its schema first: `graph.bound(&snap)`).
pub async fn run_read_on(graph: &Graph, snap: crate::graph::Snapshot, plan: &Plan, params: &Json, deadline: limits::Deadline) -> Result<QueryResult> {
    let plan::PlanBody::Read(read) = &plan.body else {
        return Err(Error::QueryKind(format!("`{}` is a mutation; run it with `mutate`", plan.name)));
    };
    let env = eval::Env::new(bind_params(plan, params)?).with_deadline(deadline);
    check_search_texts(plan, read, &env.params)?;
    if snap.schema_hash != plan.schema_hash {
        return Err(Error::SchemaMoved { what: format!("query `{}` was compiled", plan.name), hash: snap.schema_hash });
    }
    let graph = &graph.bound(&snap);
    let view = view::View::new(graph, snap);
    let mut env = env;
    // A query ranked by a search runs on its best rows first, and again on
    // more of them while the match keeps too few (see `search`).
    env.search.window = search::first_window(read, &env);
    loop {
        let bindings = matcher::Matcher::new(&view, read, &mut env).run().await?;
        let result = project::project(&view, read, &env, &bindings).await?;
        match search::widen(read, &env, result.rows.len()) {
            Some(next) => env.search.window = Some(next),
            None => return Ok(result),
        }
    }
}

/// Refuses a text search for more than [`search::MAX_SEARCH_WORDS`] words
/// (each word is a posting-list walk, a fuzzy one up to 50).
fn check_search_texts(plan: &Plan, read: &plan::ReadPlan, values: &[Value]) -> Result<()> {
    for s in read.searches.iter().filter(|s| s.kind != plan::SearchKind::Nearest) {
        if let plan::PExpr::Param(i) = s.query
            && let Some(Value::Str(text)) = values.get(i)
        {
            let words = text.split_whitespace().count();
            if words > search::MAX_SEARCH_WORDS {
                return Err(Error::Param {
                    name: plan.params[i].name.clone(),
                    message: format!("a search text has at most {} words, this one has {words}", search::MAX_SEARCH_WORDS),
                });
            }
        }
    }
    Ok(())
}

/// Runs a mutation query: every statement sees the ones before it, and the
/// whole query publishes as one commit (or nothing on any error).
pub async fn run_mutation(graph: &Graph, plan: &Plan, params: &Json) -> Result<MutationReport> {
    run_mutation_with(graph, plan, params, &crate::graph::WriteOptions::default()).await
}

/// [`run_mutation`] as `opts` say: the commit's actor and message, and the
/// commit the head must be (`if_commit`).
pub async fn run_mutation_with(graph: &Graph, plan: &Plan, params: &Json, opts: &crate::graph::WriteOptions) -> Result<MutationReport> {
    let plan::PlanBody::Mutate(stmts) = &plan.body else {
        return Err(Error::QueryKind(format!("`{}` is a read query; run it with `query`", plan.name)));
    };
    let env = eval::Env::new(bind_params(plan, params)?).with_deadline(limits::Deadline::start(graph.query_limits().timeout));
    mutate::run(graph, stmts, env, &plan.schema_hash, opts).await
}
