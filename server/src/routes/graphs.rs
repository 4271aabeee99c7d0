//! Graph lifecycle routes. Each calls one catalog operation (the same code
//! as `omnigraph graphs ...`), run as its own task so that a client that
//! hangs up cannot stop it half way.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, FromRequest, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use omnigraph_catalog::lifecycle::retention::parse_duration_ms;
use omnigraph_catalog::{CatalogError, GraphEntry, GraphInfo};
use omnigraph_policy::Action;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{GraphId, gate, is_operator, params, refusal};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::registry::Serving;
use crate::state::{Actor, Shared};

/// A graph as the catalog records it, and whether this process serves it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphView {
    /// The catalog entry: `id`, `state` (reserved, initializing, active,
    /// deleting, deleted, failed), `location`, `incarnation`,
    /// `schema_hash`, `genesis_id`, times, `op` (the operation in flight)
    /// and `operation` (its sidecar), `metadata`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub graph: GraphInfo,
    /// Whether this server process serves the graph now.
    pub serving: Serving,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GraphList {
    pub catalog: String,
    pub graphs: Vec<GraphView>,
    /// Catalog records that do not read (`{id, code, error}`); the other
    /// graphs are listed and served as usual. `omnigraph recover` explains them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub unreadable: Vec<omnigraph_catalog::UnreadableRecord>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Include failed creates and tombstones whose data is gone.
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGraph {
    /// `[a-z0-9][a-z0-9_-]{0,62}`.
    pub id: String,
    /// The `.pg` schema source.
    pub schema: String,
    /// Rules for this graph only (`{"rules": [...]}`, as JSON or a YAML
    /// string); groups come from the server's policy file.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
    /// Free-form metadata kept on the catalog entry (a JSON object).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Keep the data this long (`30m`, `12h`, `7d`) for restore or purge.
    pub retain: Option<String>,
    /// Delete an imported graph with its data (its directory, which the
    /// catalog did not create); refused (`409 OG-CATALOG-016`) without it.
    #[serde(default)]
    pub remove_data: bool,
}

/// `{"error", "code", "kind", "details"?}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    /// Stable code, e.g. `OG-CATALOG-002`.
    pub code: String,
    pub kind: String,
    /// A list of problems with their positions or lines (schema, query,
    /// load errors), or an object (a version mismatch's table and versions,
    /// a refusal's reason).
    #[schema(value_type = Option<Value>)]
    pub details: Option<serde_json::Value>,
    /// A load's number of problems in all (`details` lists the first ones).
    pub total: Option<u64>,
}

fn view(state: &Shared, graph: GraphInfo) -> GraphView {
    let serving = state.registry.serving(&graph.entry.id);
    GraphView { graph, serving }
}

async fn entry_view(state: &Shared, e: GraphEntry) -> GraphView {
    let operation = match &e.op {
        Some(op) => omnigraph_catalog::Operation::read(state.catalog.store(), &op.id).await.ok().flatten(),
        None => None,
    };
    view(state, GraphInfo { entry: e, operation })
}

/// Runs a lifecycle operation on its own task.
async fn detached<T: Send + 'static>(f: impl Future<Output = Result<T, CatalogError>> + Send + 'static) -> ApiResult<T> {
    match tokio::spawn(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::internal(format!("lifecycle task failed: {e}"))),
    }
}

/// The graphs the caller may `read`, with their states (`graph_list`).
/// An operator (server-level `graph_delete`) also sees graphs whose own
/// rules no longer compile, and catalog records that do not read.
#[utoipa::path(get, path = "/graphs", tag = "graphs", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = GraphList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<Shared>, Extension(actor): Extension<Actor>, q: Result<Query<ListParams>, QueryRejection>) -> ApiResult<Json<GraphList>> {
    state.authorize_server(&actor, Action::GraphList)?;
    let p = params(q)?;
    let listing = state.catalog.list_all().await?;
    let operator = is_operator(&state, &actor);
    let graphs = listing
        .graphs
        .into_iter()
        .filter(|g| p.all || g.listed())
        .filter(|g| match state.registry.cached_policy_of(&g.entry) {
            Ok(policy) => refusal(&policy, &actor, Action::Read, &g.entry.id).is_none(),
            Err(_) => operator,
        })
        .map(|g| view(&state, g))
        .collect();
    let unreadable = if operator { listing.unreadable } else { Vec::new() };
    Ok(Json(GraphList { catalog: state.catalog.uri().to_string(), graphs, unreadable }))
}

/// One graph (`read` on it).
#[utoipa::path(get, path = "/graphs/{id}", tag = "graphs", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = GraphView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId) -> ApiResult<Json<GraphView>> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let g = state.catalog.show(&id).await?;
    if !g.listed() {
        return Err(CatalogError::NotFound { id }.into());
    }
    Ok(Json(view(&state, g)))
}

/// Creates a graph: reserve, init fresh storage, publish active
/// (`graph_create`). Nothing is written on a 400.
#[utoipa::path(post, path = "/graphs", tag = "graphs", request_body = CreateGraph, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the graph", body = GraphView),
        (status = 400, description = "Bad id, schema (with positions) or policy", body = ErrorBody),
        (status = 409, description = "The id is taken or an operation on it is in flight", body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub async fn create(State(state): State<Shared>, Extension(actor): Extension<Actor>, request: Request) -> ApiResult<Response> {
    // Authorize before reading the body: an actor without `graph_create`
    // gets 403 whatever it sends.
    state.authorize_server(&actor, Action::GraphCreate)?;
    let JsonBody(req) = JsonBody::<CreateGraph>::from_request(request, &state).await?;
    omnigraph_catalog::entry::validate_id(&req.id)?;
    let mut metadata = match req.metadata {
        None | Some(serde_json::Value::Null) => serde_json::Map::new(),
        Some(serde_json::Value::Object(m)) => m,
        Some(_) => return Err(ApiError::bad_body("`metadata` must be a JSON object")),
    };
    // A graph's rules come only from `policy`, validated below; metadata is
    // data and must never carry rules past that validation.
    if metadata.contains_key("policy") {
        return Err(ApiError::bad_body("`metadata.policy` is reserved: give a graph's rules in the `policy` field, where they are checked"));
    }
    if let Some(policy) = req.policy {
        let rules = match policy {
            serde_json::Value::String(yaml) => {
                serde_norway::from_str::<serde_json::Value>(&yaml).map_err(|e| ApiError::bad_body(format!("`policy` is not YAML: {e}")))?
            }
            v => v,
        };
        state.policy.with_graph_rules(&req.id, &rules)?;
        metadata.insert("policy".into(), rules);
    }
    let metadata = if metadata.is_empty() { serde_json::Value::Null } else { serde_json::Value::Object(metadata) };
    let catalog = state.catalog.clone().with_actor(&actor.0);
    let (id, schema) = (req.id.clone(), req.schema);
    let entry = detached(async move { catalog.create(&id, &schema, metadata).await }).await?;
    crate::log!("created graph `{}` (incarnation {}) for {}", entry.id, entry.incarnation, actor.0);
    state.registry.adopt(&entry).await;
    let location = format!("/graphs/{}", entry.id);
    let mut r = (StatusCode::CREATED, Json(entry_view(&state, entry).await)).into_response();
    r.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).expect("ids are header-safe"));
    Ok(r)
}

/// Deletes a graph (`graph_delete`). Returns once the graph is fenced
/// (no process can read or write it) and no longer served here.
#[utoipa::path(delete, path = "/graphs/{id}", tag = "graphs", params(("id" = String, Path), DeleteParams), security(("bearer" = [])),
    responses((status = 200, body = GraphView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    GraphId(id): GraphId,
    q: Result<Query<DeleteParams>, QueryRejection>,
) -> ApiResult<Json<GraphView>> {
    state.authorize_server(&actor, Action::GraphDelete)?;
    let p = params(q)?;
    omnigraph_catalog::entry::validate_id(&id)?;
    let retain_ms = p.retain.as_deref().map(parse_duration_ms).transpose()?;
    let catalog = state.catalog.clone().with_actor(&actor.0);
    let gid = id.clone();
    let opts = omnigraph_catalog::lifecycle::delete::DeleteOptions { retain_ms, remove_imported_data: p.remove_data };
    let entry = detached(async move { catalog.delete(&gid, opts).await }).await?;
    state.registry.evict(&id, &entry.incarnation);
    crate::log!("deleted graph `{id}` (incarnation {}) for {}", entry.incarnation, actor.0);
    Ok(Json(entry_view(&state, entry).await))
}

/// Brings back a deleted graph whose data is retained (`graph_create`).
#[utoipa::path(post, path = "/graphs/{id}/restore", tag = "graphs", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = GraphView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn restore(State(state): State<Shared>, Extension(actor): Extension<Actor>, GraphId(id): GraphId) -> ApiResult<Json<GraphView>> {
    state.authorize_server(&actor, Action::GraphCreate)?;
    omnigraph_catalog::entry::validate_id(&id)?;
    let catalog = state.catalog.clone().with_actor(&actor.0);
    let gid = id.clone();
    let entry = detached(async move { catalog.restore(&gid).await }).await?;
    state.registry.adopt(&entry).await;
    Ok(Json(entry_view(&state, entry).await))
}

/// Removes a retained deleted graph's data now (`graph_delete`).
#[utoipa::path(post, path = "/graphs/{id}/purge", tag = "graphs", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = GraphView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn purge(State(state): State<Shared>, Extension(actor): Extension<Actor>, GraphId(id): GraphId) -> ApiResult<Json<GraphView>> {
    state.authorize_server(&actor, Action::GraphDelete)?;
    omnigraph_catalog::entry::validate_id(&id)?;
    let catalog = state.catalog.clone().with_actor(&actor.0);
    let gid = id.clone();
    let entry = detached(async move { catalog.purge(&gid).await }).await?;
    Ok(Json(entry_view(&state, entry).await))
}
