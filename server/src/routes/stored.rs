//! One graph's stored queries (`docs/user/server.md`, "Stored queries"):
//! the catalog as typed tools, one query's source, adding and removing
//! (`queries_write`), and running one by name (`invoke_query`, which a
//! policy can narrow to some names with `queries:`).
//!
//! A query the caller may not run is answered like one that does not
//! exist (`404 OG-QUERY-021`), before the graph is looked up, so names do
//! not leak. The catalog lists the queries the caller may run (all of
//! them for a caller that may `read` the graph).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, FromRequest, Query, Request, State};
use axum::response::{IntoResponse, Response};
use omnigraph_policy::{Action, Resource};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{GraphId, gate, params, policy_for, refusal_on};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::routes::branches::{on_branch, one_branch};
use crate::routes::data::off_workers;
use crate::routes::graphs::ErrorBody;
use crate::routes::replies::{MutationReply, QueryReply};
use crate::state::{Actor, Shared};

/// One stored query as a typed tool.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredQueryReply {
    pub name: String,
    /// `@description`.
    pub description: Option<String>,
    /// `@instruction`: when to use it.
    pub instruction: Option<String>,
    /// `read` or `mutation`.
    pub kind: String,
    /// JSON Schema of the `params` object.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// JSON Schema of one result row (of the report, for a mutation).
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    /// A read's result columns, in order.
    pub columns: Vec<String>,
    /// Its `.gq` source (`GET /graphs/{id}/queries/{name}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The stored queries of a commit.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredQueriesReply {
    /// The commit they are read from.
    pub commit: String,
    pub queries: Vec<StoredQueryReply>,
}

/// Adds or replaces stored queries.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddQueriesRequest {
    /// `.gq` source: every query in it is stored (in place of one of the
    /// same name); one that does not typecheck refuses the whole source.
    pub source: String,
    /// The branch (default `main`; or `?branch=`).
    pub branch: Option<String>,
    /// The commit's message.
    pub message: Option<String>,
    /// Change only if the head is this commit (or `If-Match`).
    pub if_commit: Option<String>,
}

/// What a change of the stored queries did.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueriesChangeReply {
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: Vec<String>,
    /// The commit (kind `queries`); absent when nothing changed.
    pub commit: Option<String>,
}

impl From<omnigraph::stored::ChangeReport> for QueriesChangeReply {
    fn from(r: omnigraph::stored::ChangeReport) -> Self {
        QueriesChangeReply { added: r.added, replaced: r.replaced, removed: r.removed, unchanged: r.unchanged, commit: r.commit }
    }
}

/// Runs a stored query.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvokeRequest {
    /// Parameter values, e.g. `{"name": "Alice"}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub params: serde_json::Value,
    /// The branch (default `main`; or `?branch=`).
    pub branch: Option<String>,
    /// A read: the commit (or time) to read at.
    pub at: Option<String>,
    /// A mutation: the commit's message.
    pub message: Option<String>,
    /// A mutation: write only if the head is this commit (or `If-Match`).
    pub if_commit: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BranchParam {
    /// The branch (default `main`).
    pub branch: Option<String>,
}

/// The name in `/graphs/{id}/queries/{name}`, percent-decoded.
fn query_name(request_path: &str) -> String {
    let raw = request_path.split('/').nth(4).unwrap_or_default();
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().chars().take(256).collect()
}

fn unknown(name: &str) -> ApiError {
    omnigraph::Error::StoredQueryNotFound { name: name.to_string() }.into()
}

/// May `actor` run query `name` of graph `id` on `branch` (a read)? The
/// answer to a refusal is the one an unknown name gets.
async fn may_invoke(state: &Shared, actor: &Actor, id: &GraphId, branch: &str, name: &str) -> ApiResult<()> {
    let policy = if id.is_valid() { policy_for(state, id.as_str()).await? } else { Ok(state.policy.clone()) };
    match policy {
        Ok(p) if p.authorize_query(&actor.0, Resource::Graph(id.as_str()), branch, name, false).allowed => {}
        _ => return Err(unknown(name)),
    }
    omnigraph_catalog::entry::validate_id(id.as_str())?;
    Ok(())
}

/// The stored queries the caller may run, as typed tools (all of them for
/// a caller that may `read` the graph); `?at=` and `?branch=` as for reads.
#[utoipa::path(get, path = "/graphs/{id}/queries", tag = "queries", params(("id" = String, Path), crate::routes::history::AtParams), security(("bearer" = [])),
    responses((status = 200, body = StoredQueriesReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    q: Result<Query<crate::routes::history::AtParams>, QueryRejection>,
) -> ApiResult<Json<StoredQueriesReply>> {
    // Reading the graph, or running some stored query of it.
    let reader = gate(&state, &actor, Action::Read, &id).await;
    if let Err(refused) = reader {
        gate(&state, &actor, Action::InvokeQuery, &id).await.map_err(|_| refused)?;
    }
    let GraphId(gid) = id.clone();
    let p = params(q)?;
    let at = crate::routes::history::parse_at(p.at.as_deref())?;
    let branch = p.branch.clone().unwrap_or_else(|| omnigraph_policy::MAIN_BRANCH.to_string());
    if branch != omnigraph_policy::MAIN_BRANCH {
        omnigraph::storage::branch::validate_name(&branch)?;
    }
    let s = state.registry.resolve(&gid).await?;
    let graph = s.graph.on_branch(&branch).await?;
    let snap = graph.snapshot_at(at.as_ref()).await?;
    let catalog = omnigraph::stored::catalog(&graph, &snap).await?;
    let can_read = refusal_on(&s.policy, &actor, Action::Read, &gid, Some(&branch)).is_none();
    let mut queries = Vec::new();
    for q in &catalog.queries {
        if !can_read && !s.policy.authorize_query(&actor.0, Resource::Graph(&gid), &branch, &q.name, false).allowed {
            continue;
        }
        queries.push(tool(&snap, q, false)?);
    }
    Ok(Json(StoredQueriesReply { commit: snap.commit.id.clone(), queries }))
}

fn tool(snap: &omnigraph::graph::Snapshot, q: &omnigraph::stored::StoredQuery, with_source: bool) -> ApiResult<StoredQueryReply> {
    let d = omnigraph::stored::tool::describe(&snap.schema.ir, q)?;
    let s = |k: &str| d[k].as_str().map(str::to_string);
    Ok(StoredQueryReply {
        name: q.name.clone(),
        description: s("description"),
        instruction: s("instruction"),
        kind: s("kind").unwrap_or_default(),
        params: d["params"].clone(),
        result: d["result"].clone(),
        columns: d["columns"].as_array().into_iter().flatten().filter_map(|c| c.as_str().map(str::to_string)).collect(),
        source: with_source.then(|| q.source.clone()),
    })
}

/// One stored query, with its source (as `list` describes it, for a caller
/// that may run it or read the graph).
#[utoipa::path(get, path = "/graphs/{id}/queries/{name}", tag = "queries", params(("id" = String, Path), ("name" = String, Path), crate::routes::history::AtParams), security(("bearer" = [])),
    responses((status = 200, body = StoredQueryReply), (status = 404, description = "No such query, or one the caller may not run (`OG-QUERY-021`)", body = ErrorBody)))]
pub async fn show(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    uri: axum::http::Uri,
    q: Result<Query<crate::routes::history::AtParams>, QueryRejection>,
) -> ApiResult<Json<StoredQueryReply>> {
    let name = query_name(uri.path());
    let p = params(q)?;
    let branch = p.branch.clone().unwrap_or_else(|| omnigraph_policy::MAIN_BRANCH.to_string());
    let reader = gate(&state, &actor, Action::Read, &id).await.is_ok();
    if !reader {
        may_invoke(&state, &actor, &id, &branch, &name).await?;
    }
    if branch != omnigraph_policy::MAIN_BRANCH {
        omnigraph::storage::branch::validate_name(&branch)?;
    }
    let at = crate::routes::history::parse_at(p.at.as_deref())?;
    let s = state.registry.resolve(id.as_str()).await?;
    let graph = s.graph.on_branch(&branch).await?;
    let snap = graph.snapshot_at(at.as_ref()).await?;
    let catalog = omnigraph::stored::catalog(&graph, &snap).await?;
    let q = catalog.get(&name).ok_or_else(|| unknown(&name))?;
    Ok(Json(tool(&snap, q, true)?))
}

/// Stores every query of `source` (`queries_write`), in place of stored
/// ones of the same names, as one commit of kind `queries`. A query that
/// does not typecheck against the schema refuses the whole source.
#[utoipa::path(post, path = "/graphs/{id}/queries", tag = "queries", request_body = AddQueriesRequest, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = QueriesChangeReply), (status = 400, description = "A query does not compile (`OG-QUERY-*`, with positions)", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn add(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Json<QueriesChangeReply>> {
    gate(&state, &actor, Action::QueriesWrite, &id).await?;
    let GraphId(id) = id;
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    let JsonBody(req) = JsonBody::<AddQueriesRequest>::from_request(request, &state).await?;
    let branch = one_branch(&uri, req.branch.as_deref())?;
    let s = state.registry.resolve(&id).await?;
    let graph = on_branch(&s, &actor, Action::QueriesWrite, &id, branch.as_deref()).await?;
    let opts = omnigraph::graph::WriteOptions {
        actor: Some(actor.0.clone()),
        message: req.message.clone(),
        if_commit: crate::routes::history::if_commit(&headers, req.if_commit.clone())?,
    };
    let report = off_workers(async move { omnigraph::stored::add(&graph, &req.source, &opts).await }).await??;
    Ok(Json(report.into()))
}

/// Removes a stored query (`queries_write`) as one commit.
#[utoipa::path(delete, path = "/graphs/{id}/queries/{name}", tag = "queries", params(("id" = String, Path), ("name" = String, Path), BranchParam), security(("bearer" = [])),
    responses((status = 200, body = QueriesChangeReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    q: Result<Query<BranchParam>, QueryRejection>,
) -> ApiResult<Json<QueriesChangeReply>> {
    gate(&state, &actor, Action::QueriesWrite, &id).await?;
    let GraphId(id) = id;
    let name = query_name(uri.path());
    let p = params(q)?;
    let s = state.registry.resolve(&id).await?;
    let graph = on_branch(&s, &actor, Action::QueriesWrite, &id, p.branch.as_deref()).await?;
    let opts = omnigraph::graph::WriteOptions { actor: Some(actor.0.clone()), message: None, if_commit: crate::routes::history::if_commit(&headers, None)? };
    let report = off_workers(async move { omnigraph::stored::remove(&graph, &[name], &opts).await }).await??;
    Ok(Json(report.into()))
}

/// Runs stored query `name` (`invoke_query` on that name): a read answers
/// like `/query`, a mutation like `/mutate`. A query the caller may not
/// run is a `404`, like one that does not exist.
#[utoipa::path(post, path = "/graphs/{id}/queries/{name}", tag = "queries", request_body = InvokeRequest, params(("id" = String, Path), ("name" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "A read's metadata and rows (as `/query`), or a mutation's report (as `/mutate`)", body = QueryReply),
        (status = 400, description = "Bad parameters (`OG-QUERY-013`)", body = ErrorBody),
        (status = 403, description = "A mutation on a protected branch the caller's rule does not name", body = ErrorBody),
        (status = 404, description = "No such query, or one the caller may not run (`OG-QUERY-021`)", body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn invoke(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Response> {
    let name = query_name(request.uri().path());
    let uri = request.uri().clone();
    let url_branch = one_branch(&uri, None)?;
    may_invoke(&state, &actor, &id, url_branch.as_deref().unwrap_or(omnigraph_policy::MAIN_BRANCH), &name).await?;
    let headers = request.headers().clone();
    let JsonBody(req) = JsonBody::<InvokeRequest>::from_request(request, &state).await?;
    let branch = one_branch(&uri, req.branch.as_deref())?.unwrap_or_else(|| omnigraph_policy::MAIN_BRANCH.to_string());
    may_invoke(&state, &actor, &id, &branch, &name).await?;
    if branch != omnigraph_policy::MAIN_BRANCH {
        omnigraph::storage::branch::validate_name(&branch)?;
    }
    let GraphId(gid) = id;
    let s = state.registry.resolve(&gid).await?;
    let graph = s.graph.on_branch(&branch).await?;
    let at = crate::routes::history::parse_at(req.at.as_deref())?;
    let snap = graph.snapshot_at(at.as_ref()).await?;
    let plan = omnigraph::stored::find(&graph, &snap, &name).await?;
    if !plan.is_mutation() {
        if req.message.is_some() || req.if_commit.is_some() {
            return Err(ApiError::bad_body(format!("`{name}` is a read; `message` and `if_commit` are for stored mutations")));
        }
        let graph = graph.bound(&snap);
        let deadline = omnigraph::query::limits::Deadline::start(graph.query_limits().timeout);
        let params = req.params.clone();
        let result = off_workers(async move { omnigraph::query::run_read_on(&graph, snap, &plan, &params, deadline).await }).await??;
        return Ok(crate::body::query_result(result, &name));
    }
    if at.is_some() {
        return Err(ApiError::bad_body(format!("`{name}` is a mutation; a write lands on the head (`at` is for reads)")));
    }
    // A stored mutation writes the branch: a protected one needs a rule
    // that names it.
    let d = s.policy.authorize_query(&actor.0, Resource::Graph(&gid), &branch, &name, true);
    if !d.allowed {
        return Err(ApiError::forbidden_because(&actor.0, "invoke_query", &format!("`{name}` on graph `{gid}`"), d.denial.as_ref()));
    }
    let opts = omnigraph::graph::WriteOptions {
        actor: Some(actor.0.clone()),
        message: req.message.clone(),
        if_commit: crate::routes::history::if_commit(&headers, req.if_commit.clone())?,
    };
    opts.validate()?;
    let report = off_workers(async move {
        let (head, head_snap) = graph.current().await?;
        let plan = omnigraph::stored::find(&head, &head_snap, &name).await?;
        match omnigraph::query::run_mutation_with(&head, &plan, &req.params, &opts).await {
            // A schema change landed in between: once more on the new head.
            Err(omnigraph::Error::SchemaMoved { .. }) => {
                let (head, head_snap) = graph.current().await?;
                let plan = omnigraph::stored::find(&head, &head_snap, &name).await?;
                omnigraph::query::run_mutation_with(&head, &plan, &req.params, &opts).await
            }
            other => other,
        }
    })
    .await??;
    Ok(Json(MutationReply::from(report)).into_response())
}
