//! One graph's data routes: query, mutate, load, export, schema, snapshot.
//!
//! Reads that find the graph retired or gone (deleted through another
//! process since this one opened it) drop the handle, look the id up in the
//! catalog again, and run once more on what it names now: a `404` for a
//! deleted graph, or the new incarnation of a re-created one. Writes are
//! never retried: the fence refused them and nothing was published.

use std::io::Write;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, FromRequest, Query, Request, State};
use axum::response::Response;
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph_policy::Action;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::access::{GraphId, gate, params};
use crate::body::{JsonBody, load_is_json, read_limited, stream_body};
use crate::error::{ApiError, ApiResult};
use crate::registry::Served;
use crate::routes::branches::{on_branch, one_branch};
use crate::routes::graphs::ErrorBody;
use crate::routes::replies::{LoadReply, MutationReply, QueryReply, SnapshotReply};
use crate::state::{Actor, Shared};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// `.gq` source with one or more queries.
    pub query: String,
    /// Which query of the source to run (needed when it declares several).
    #[serde(default)]
    pub name: Option<String>,
    /// Parameter values, e.g. `{"name": "Alice"}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub params: serde_json::Value,
    /// `/query` only: read the graph as it was at this commit, or at the
    /// last commit at or before this RFC 3339 time.
    #[serde(default)]
    pub at: Option<String>,
    /// `/mutate` only: the commit's message.
    #[serde(default)]
    pub message: Option<String>,
    /// `/mutate` only: write only if the head is this commit (else `412
    /// OG-HISTORY-003`); the `If-Match` header says the same.
    #[serde(default)]
    pub if_commit: Option<String>,
    /// The branch to read or write (default `main`; `?branch=` says the same).
    #[serde(default)]
    pub branch: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoadParams {
    /// `overwrite`, `append` (default) or `merge`; for NDJSON bodies.
    pub mode: Option<String>,
    /// How many line errors to list when the input is rejected (default 100).
    pub max_errors: Option<usize>,
    /// The input's name in error messages (default `request body`), e.g. the file name.
    pub source: Option<String>,
    /// The commit's message.
    pub message: Option<String>,
    /// Write only if the head is this commit (else `412 OG-HISTORY-003`);
    /// the `If-Match` header says the same.
    pub if_commit: Option<String>,
    /// The branch to load into (default `main`).
    pub branch: Option<String>,
}

/// The JSON form of a load (`Content-Type: application/json`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadRequest {
    /// Records: an array of JSONL objects, or NDJSON text.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub max_errors: Option<usize>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub if_commit: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Only this node or edge type.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// Export the graph as it was at this commit, or at the last commit at
    /// or before this RFC 3339 time.
    pub at: Option<String>,
    /// The branch (default `main`).
    pub branch: Option<String>,
}

/// True for errors that say outright "this handle's graph is gone": its
/// fence is retired, or its root no longer holds a graph.
fn gone(e: &ApiError) -> bool {
    e.cause == crate::error::Cause::GraphGone
}

/// Whether an error on a served graph came from the graph going away under
/// the request: the fence said so, or the request failed on storage (a
/// delete removing files mid-read, say) and the catalog no longer names this
/// incarnation as active. Client errors (a bad query, a forbidden action)
/// never are; they are answered as they are.
async fn went_away(state: &Shared, id: &str, served: &Served, e: &ApiError) -> bool {
    if gone(e) {
        return true;
    }
    if !e.status.is_server_error() {
        return false;
    }
    match state.catalog.entry(id).await {
        Ok(Some(now)) => !(now.state == omnigraph_catalog::State::Active && now.op.is_none() && now.incarnation == served.entry.incarnation),
        Ok(None) => true,
        // The catalog cannot tell either; keep the original error.
        Err(_) => false,
    }
}

/// Resolves `$id`, runs `$body` with the served graph bound to `$s`, and
/// when the graph went away under it, drops the handle and tries once more
/// against the catalog's current answer (a `404` for a deleted graph, the
/// new incarnation of a re-created one).
macro_rules! read_fresh {
    ($state:expr, $id:expr, |$s:ident| $body:expr) => {{
        let mut retried = false;
        loop {
            let $s: Arc<Served> = $state.registry.resolve(&$id).await?;
            let result: ApiResult<_> = $body;
            match result {
                Err(e) if !retried && went_away(&$state, &$id, &$s, &e).await => {
                    $state.registry.evict(&$id, &$s.entry.incarnation);
                    retried = true;
                }
                other => break other,
            }
        }
    }};
}

/// After a write failed: if its graph went away under it (deleted through
/// another process), drop the handle and answer with what the catalog says
/// now (`404` once the delete finished, `409` while it runs). Writes are
/// never retried: the fence or the failed publish kept them from landing.
async fn write_failed(state: &Shared, id: &str, served: &Served, e: ApiError) -> ApiError {
    if went_away(state, id, served, &e).await {
        state.registry.evict(id, &served.entry.incarnation);
        if let Err(now) = state.registry.resolve(id).await {
            return now;
        }
    }
    e
}

/// A flag set when it is dropped.
#[derive(Default)]
struct CancelOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Runs `work` on a blocking thread, so that a query's computing never
/// holds one of the few async workers every connection shares.
pub async fn off_workers<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> ApiResult<T> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work)).await.map_err(|e| ApiError::internal(format!("query task failed: {e}")))
}

async fn run_query(s: &Served, actor: &Actor, id: &str, req: &QueryRequest, branch: Option<&str>) -> ApiResult<(String, omnigraph::query::QueryResult)> {
    let graph = on_branch(s, actor, Action::Read, id, branch).await?;
    if req.message.is_some() || req.if_commit.is_some() {
        return Err(ApiError::bad_body("`message` and `if_commit` are for writes (POST /graphs/{id}/mutate)"));
    }
    let at = crate::routes::history::parse_at(req.at.as_deref())?;
    // Compiled against the schema of the commit it reads.
    let snap = graph.snapshot_at(at.as_ref()).await?;
    let graph = graph.bound(&snap);
    let plans = omnigraph::query::compile(graph.schema(), &req.query)?;
    let plan = omnigraph::query::select(&plans, req.name.as_deref())?.clone();
    if plan.is_mutation() {
        return Err(ApiError::wrong_query_kind(format!("`{}` is a mutation; send it to POST /graphs/{id}/mutate", plan.name)));
    }
    let params = req.params.clone();
    let name = plan.name.clone();
    // Set when this handler is dropped (the client went away), so the query
    // stops at its next check instead of computing for nobody.
    let gone = CancelOnDrop::default();
    let deadline = omnigraph::query::limits::Deadline::start(graph.query_limits().timeout).with_cancel(gone.0.clone());
    let gid = id.to_string();
    let r = off_workers(async move {
        let r = omnigraph::query::run_read_on(&graph, snap, &plan, &params, deadline).await;
        if matches!(r, Err(omnigraph::Error::QueryCancelled)) {
            crate::log!("query `{}` on graph `{gid}` stopped: its client went away", plan.name);
        }
        r
    })
    .await??;
    drop(gone);
    Ok((name, r))
}

/// Runs a read query (`read`). A mutation sent here is a `400`.
#[utoipa::path(post, path = "/graphs/{id}/query", tag = "data", request_body = QueryRequest, params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The metadata, then one object per row", body = QueryReply),
        (status = 400, description = "Query errors with positions, a mutation, bad parameters", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "The query is too large (`OG-QUERY-016`) or its result is (`OG-QUERY-018`)", body = ErrorBody),
        (status = 503, description = "The graph is not served (quarantined)", body = ErrorBody),
        (status = 504, description = "The query ran past the server's deadline (`OG-QUERY-019`)", body = ErrorBody)))]
pub async fn query(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Response> {
    // The right to read the graph comes before the graph and the body.
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let uri = request.uri().clone();
    let JsonBody(req) = JsonBody::<QueryRequest>::from_request(request, &state).await?;
    let branch = one_branch(&uri, req.branch.as_deref())?;
    let (name, result) = read_fresh!(state, id, |s| run_query(&s, &actor, &id, &req, branch.as_deref()).await)?;
    Ok(crate::body::query_result(result, &name))
}

/// Runs a mutation (`change`): all its statements publish as one commit.
#[utoipa::path(post, path = "/graphs/{id}/mutate", tag = "data", request_body = QueryRequest, params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "What changed, published as one commit", body = MutationReply),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Another process published first (`OG-PUBLISH-001`); nothing was published", body = ErrorBody)))]
pub async fn mutate(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Json<MutationReply>> {
    gate(&state, &actor, Action::Change, &id).await?;
    let GraphId(id) = id;
    let s = state.registry.resolve(&id).await?;
    let headers = request.headers().clone();
    let uri = request.uri().clone();
    let JsonBody(req) = JsonBody::<QueryRequest>::from_request(request, &state).await?;
    let branch = one_branch(&uri, req.branch.as_deref())?;
    let graph = on_branch(&s, &actor, Action::Change, &id, branch.as_deref()).await?;
    if req.at.is_some() {
        return Err(ApiError::bad_body("`at` is for reads: a write always lands on the head (use `if_commit` to require one)"));
    }
    let opts = omnigraph::graph::WriteOptions {
        actor: Some(actor.0.clone()),
        message: req.message.clone(),
        if_commit: crate::routes::history::if_commit(&headers, req.if_commit.clone())?,
    };
    opts.validate()?;
    // Compiled against the schema of the head the handle knows; the batch
    // refuses it if the head's schema is another (a schema change through
    // another process): then once more against the head's.
    let known = graph.bound_to_known().await?;
    let (known, plan) = match mutation_plan(&known, &req, &id) {
        Ok(plan) => (known, plan),
        // Refused by a schema the head may have left: by the head's.
        Err(e) => {
            let (head, _) = graph.current().await?;
            if head.schema_hash() == known.schema_hash() {
                return Err(e);
            }
            let plan = mutation_plan(&head, &req, &id)?;
            (head, plan)
        }
    };
    let gid = id.clone();
    let result: ApiResult<omnigraph::query::MutationReport> = off_workers(async move {
        // Mutations arriving together publish as one batch (the engine's
        // group commit), each answered with its own result.
        match omnigraph::query::run_mutation_with(&known, &plan, &req.params, &opts).await {
            Err(omnigraph::Error::SchemaMoved { .. }) => {
                let (head, _) = graph.current().await?;
                let plan = mutation_plan(&head, &req, &gid)?;
                Ok(omnigraph::query::run_mutation_with(&head, &plan, &req.params, &opts).await?)
            }
            other => Ok(other?),
        }
    })
    .await?;
    match result {
        Ok(report) => Ok(Json(report.into())),
        Err(e) => Err(write_failed(&state, &id, &s, e).await),
    }
}

/// The mutation `req` names, compiled against `graph`'s schema.
fn mutation_plan(graph: &omnigraph::Graph, req: &QueryRequest, id: &str) -> ApiResult<omnigraph::query::Plan> {
    let plans = omnigraph::query::compile(graph.schema(), &req.query)?;
    let plan = omnigraph::query::select(&plans, req.name.as_deref())?.clone();
    if !plan.is_mutation() {
        return Err(ApiError::wrong_query_kind(format!("`{}` is a read query; send it to POST /graphs/{id}/query", plan.name)));
    }
    Ok(plan)
}

/// A `/load` body: held in memory (the JSON form), or streamed.
enum LoadInput {
    Held(bytes::Bytes),
    Streamed(Box<dyn std::io::BufRead + Send>),
}

fn parse_mode(mode: Option<&str>) -> ApiResult<LoadMode> {
    mode.map(|m| m.parse::<LoadMode>()).transpose().map_err(ApiError::from).map(|m| m.unwrap_or(LoadMode::Append))
}

/// Loads JSONL records (`change`): an NDJSON body (`?mode=`), or JSON
/// `{"data": [...] | "<ndjson>", "mode": "merge"}`. The whole input is
/// checked before anything is written; a bad input changes nothing.
#[utoipa::path(post, path = "/graphs/{id}/load", tag = "data", params(("id" = String, Path), LoadParams), security(("bearer" = [])),
    request_body(description = "NDJSON (one record per line), or JSON with `data` and `mode`", content(
        (LoadRequest = "application/json"),
        (String = "application/x-ndjson"))),
    responses(
        (status = 200, description = "What the load read and published", body = LoadReply),
        (status = 400, description = "Invalid lines (`details` lists them with line numbers)", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn load(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    q: Result<Query<LoadParams>, QueryRejection>,
    req: Request,
) -> ApiResult<Json<LoadReply>> {
    gate(&state, &actor, Action::Change, &id).await?;
    let GraphId(id) = id;
    let p = params(q)?;
    let s = state.registry.resolve(&id).await?;
    if let Some(b) = &p.branch {
        // Checked before the body is read; a JSON body's `branch` after.
        on_branch(&s, &actor, Action::Change, &id, Some(b)).await?;
    }
    let is_json = load_is_json(&req)?;
    let mut branch = p.branch.clone();
    let headers = req.headers().clone();
    let (mut message, mut body_if) = (p.message.clone(), p.if_commit.clone());
    // The JSON form is in memory and can be read again, so a load that
    // loses the publish race to another server runs again; an NDJSON body
    // streams through once.
    let (mut opts, input, over): (LoadOptions, LoadInput, _) = if is_json {
        let bytes = read_limited(req, state.max_body_bytes).await?;
        let body: LoadRequest = serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_body(format!("request body: {e}")))?;
        let text = match body.data {
            serde_json::Value::String(s) => s,
            serde_json::Value::Array(items) => {
                let mut out = String::new();
                for item in items {
                    out.push_str(&serde_json::to_string(&item).expect("serializable"));
                    out.push('\n');
                }
                out
            }
            _ => return Err(ApiError::bad_body("`data` must be an array of records or NDJSON text")),
        };
        message = body.message.or(message);
        body_if = body.if_commit.or(body_if);
        match (&branch, body.branch) {
            (Some(q), Some(b)) if *q != b => return Err(ApiError::bad_body("`?branch=` and the body's `branch` name different branches; give one")),
            (_, b) => branch = branch.or(b),
        }
        let mut opts = LoadOptions::new(parse_mode(body.mode.as_deref().or(p.mode.as_deref()))?, "request body");
        if let Some(n) = body.max_errors.or(p.max_errors) {
            opts.max_errors = n;
        }
        (opts, LoadInput::Held(bytes::Bytes::from(text.into_bytes())), None)
    } else {
        let mut opts = LoadOptions::new(parse_mode(p.mode.as_deref())?, "request body");
        if let Some(n) = p.max_errors {
            opts.max_errors = n;
        }
        let limit = state.max_load_bytes.map(|n| usize::try_from(n).unwrap_or(usize::MAX)).unwrap_or(usize::MAX);
        let (reader, over) = stream_body(req.into_body(), limit, state.idle_timeout);
        (opts, LoadInput::Streamed(Box::new(reader)), Some(over))
    };
    opts.max_line_bytes = state.max_line_bytes;
    opts.write = omnigraph::graph::WriteOptions { actor: Some(actor.0.clone()), message, if_commit: crate::routes::history::if_commit(&headers, body_if)? };
    opts.write.validate()?;
    opts.source_name = p.source.as_deref().filter(|s| !s.is_empty()).map(|s| s.chars().take(200).collect()).unwrap_or_else(|| "request body".into());
    let graph = on_branch(&s, &actor, Action::Change, &id, branch.as_deref()).await?;
    let started = std::time::Instant::now();
    // The load takes the graph handle's write turn (mutations wait).
    let result = tokio::spawn(async move {
        let g = &graph;
        match input {
            LoadInput::Held(b) => omnigraph::load::load_rereading(g, || Ok(std::io::Cursor::new(b.clone())), &opts, &mut |_| {}).await,
            LoadInput::Streamed(r) => omnigraph::load::load(g, r, &opts, &mut |_| {}).await,
        }
    })
    .await
    .map_err(|e| ApiError::internal(format!("load task failed: {e}")))?;
    match result {
        Ok(report) => Ok(Json(LoadReply::of(report, started.elapsed()))),
        Err(e) => match over.as_ref().and_then(|f| f.error(state.max_load_bytes.unwrap_or(u64::MAX) as usize, state.idle_timeout)) {
            Some(stopped) => Err(stopped),
            None => Err(write_failed(&state, &id, &s, e.into()).await),
        },
    }
}

/// Streams the graph (or one type) as NDJSON that `/load` reads back
/// (`export`).
#[utoipa::path(method(get, post), path = "/graphs/{id}/export", tag = "data", params(("id" = String, Path), ExportParams), security(("bearer" = [])),
    responses((status = 200, description = "NDJSON, one record per line", content_type = "application/x-ndjson", body = String),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    q: Result<Query<ExportParams>, QueryRejection>,
) -> ApiResult<Response> {
    gate(&state, &actor, Action::Export, &id).await?;
    let GraphId(id) = id;
    let p = params(q)?;
    let at = crate::routes::history::parse_at(p.at.as_deref())?;
    let graph = read_fresh!(state, id, |s| {
        let checked: ApiResult<omnigraph::Graph> = async {
            let graph = on_branch(&s, &actor, Action::Export, &id, p.branch.as_deref()).await?;
            if let Some(t) = &p.type_name {
                graph.type_named(t)?;
            }
            graph.snapshot_at(at.as_ref()).await?;
            Ok(graph)
        }
        .await;
        checked
    })?;
    let only = p.type_name.clone();
    Ok(crate::body::ndjson_from_blocking(state.idle_timeout, move |w, handle| {
        match handle.block_on(omnigraph::export::export_at(&graph, only.as_deref(), at.as_ref(), w)) {
            Ok(_) => {
                let _ = w.flush();
            }
            Err(omnigraph::Error::Io(io)) if io.kind() == std::io::ErrorKind::TimedOut => {
                crate::log!("export of graph `{id}`: {io}; cut off, its thread is free again");
            }
            Err(e) => w.fail(format!("export stopped: {} {e}", e.code())),
        }
    }))
}

/// The published snapshot: manifest version, tables, row counts (`read`).
#[utoipa::path(get, path = "/graphs/{id}/snapshot", tag = "data", params(("id" = String, Path), crate::routes::history::AtParams), security(("bearer" = [])),
    responses((status = 200, body = SnapshotReply), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn snapshot(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    q: Result<Query<crate::routes::history::AtParams>, QueryRejection>,
) -> ApiResult<Json<SnapshotReply>> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let p = params(q)?;
    let at = crate::routes::history::parse_at(p.at.as_deref())?;
    read_fresh!(state, id, |s| {
        let r: ApiResult<SnapshotReply> = async {
            let graph = on_branch(&s, &actor, Action::Read, &id, p.branch.as_deref()).await?;
            Ok(graph.snapshot_at(at.as_ref()).await?.into())
        }
        .await;
        r
    })
    .map(Json)
}
