//! A graph's search indexes and embeddings: `GET /graphs/{id}/indexes`
//! (each index, the rows it covers; `read`) and `POST /graphs/{id}/embed`
//! (compute the `@embed` vectors rows lack, or all of them; `change`).

use axum::Json;
use axum::extract::{Extension, FromRequest, Request, State};
use omnigraph_policy::Action;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{GraphId, gate};
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::routes::branches::{on_branch, one_branch};
use crate::routes::data::off_workers;
use crate::routes::graphs::ErrorBody;
use crate::state::{Actor, Shared};

/// One index of the graph.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexReply {
    #[serde(rename = "type")]
    pub type_name: String,
    pub property: String,
    /// `scalar`, `text` or `vector`.
    pub kind: String,
    pub name: String,
    /// `current`, `stale` (rows written since are searched without it),
    /// `missing`, or `exact` (a vector table too small to need one).
    pub state: String,
    pub rows: u64,
    pub rows_covered: u64,
    pub rows_uncovered: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndexesReply {
    pub indexes: Vec<IndexReply>,
}

/// The graph's indexes at the head of the branch (`read`).
#[utoipa::path(get, path = "/graphs/{id}/indexes", tag = "search", params(("id" = String, Path), crate::routes::branches::BranchParams), security(("bearer" = [])),
    responses((status = 200, body = IndexesReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn indexes(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Json<IndexesReply>> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let s = state.registry.resolve(&id).await?;
    let branch = one_branch(request.uri(), None)?;
    let graph = on_branch(&s, &actor, Action::Read, &id, branch.as_deref()).await?;
    let list = off_workers(async move { omnigraph::graph::indexes::status(&graph).await }).await??;
    Ok(Json(IndexesReply {
        indexes: list
            .into_iter()
            .map(|i| IndexReply {
                type_name: i.type_name,
                property: i.property,
                kind: i.kind.to_string(),
                name: i.name,
                state: i.state.to_string(),
                rows: i.rows,
                rows_covered: i.rows_covered,
                rows_uncovered: i.rows_uncovered,
            })
            .collect(),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbedRequest {
    /// Only this type (every type with an `@embed` property otherwise).
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// Embed every row again with the configured model (after a model
    /// change); otherwise only rows with a source text and no vector.
    #[serde(default)]
    pub all: bool,
    /// The commits' message.
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PropertyEmbeddedReply {
    #[serde(rename = "type")]
    pub type_name: String,
    pub property: String,
    pub source: String,
    pub rows_embedded: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmbedReply {
    pub model: String,
    pub properties: Vec<PropertyEmbeddedReply>,
    /// The commits made, a chunk of 1,000 rows each.
    pub commits: Vec<String>,
}

/// Computes the `@embed` vectors rows lack (or all, with `all`), through
/// the server's embedding provider, a commit per 1,000 rows (`change`).
#[utoipa::path(post, path = "/graphs/{id}/embed", tag = "search", request_body = EmbedRequest, params(("id" = String, Path), crate::routes::branches::BranchParams), security(("bearer" = [])),
    responses((status = 200, body = EmbedReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "another model made the stored vectors (`OG-EMBED-003`)", body = ErrorBody),
        (status = 502, description = "the provider failed (`OG-EMBED-001`)", body = ErrorBody),
        (status = 503, description = "no provider is configured (`OG-EMBED-002`)", body = ErrorBody)))]
pub async fn embed(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Json<EmbedReply>> {
    gate(&state, &actor, Action::Change, &id).await?;
    let GraphId(id) = id;
    let s = state.registry.resolve(&id).await?;
    let branch = one_branch(request.uri(), None)?;
    let graph = on_branch(&s, &actor, Action::Change, &id, branch.as_deref()).await?;
    let JsonBody(req) = JsonBody::<EmbedRequest>::from_request(request, &state).await?;
    let opts = omnigraph::graph::WriteOptions { actor: Some(actor.0.clone()), message: req.message, if_commit: None };
    opts.validate()?;
    let report = off_workers(async move { omnigraph::embed::refresh::refresh(&graph, req.type_name.as_deref(), req.all, &opts, &mut |_| {}).await }).await??;
    Ok(Json(EmbedReply {
        model: report.model,
        properties: report
            .properties
            .into_iter()
            .map(|p| PropertyEmbeddedReply { type_name: p.type_name, property: p.property, source: p.source, rows_embedded: p.rows_embedded })
            .collect(),
        commits: report.commits,
    }))
}
