//! One graph's schema: read it (at the head or any kept commit, `read`),
//! plan a change (`read`), apply one (`schema_apply`), on `main` or
//! `?branch=` / the body's `branch`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, FromRequest, Query, Request, State};
use omnigraph::evolve::{self, EvolveOptions, EvolveReport};
use omnigraph_policy::Action;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{GraphId, gate, params};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::routes::branches::{on_branch, one_branch};
use crate::routes::data::off_workers;
use crate::routes::graphs::ErrorBody;
use crate::routes::replies::{CommitReply, SchemaReply};
use crate::state::{Actor, Shared};

/// The most stored queries one plan re-checks.
pub const MAX_QUERIES: usize = 256;

/// A stored query to re-check against the new schema.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoredQuery {
    /// A name for the report (a file name, say).
    pub name: String,
    /// Its `.gq` source.
    pub source: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaChangeRequest {
    /// The new `.pg` source.
    pub schema: String,
    /// Apply steps that lose data (drops, narrowing, enum values in use).
    #[serde(default)]
    pub allow_data_loss: bool,
    /// The branch to change (default `main`; or `?branch=`).
    pub branch: Option<String>,
    /// Other queries to re-check: the plan lists each that would break
    /// (the graph's stored queries are always re-checked).
    #[serde(default)]
    pub queries: Vec<StoredQuery>,
    /// `.gq` sources whose queries replace the stored ones of the same
    /// names (or are added) in the same commit: how a change fixes a stored
    /// query it would break.
    #[serde(default)]
    pub update_queries: Vec<String>,
    /// Stored queries to remove in the same commit.
    #[serde(default)]
    pub drop_queries: Vec<String>,
    /// The commit's message (apply).
    pub message: Option<String>,
    /// Apply only if the head is this commit (or `If-Match`).
    pub if_commit: Option<String>,
}

/// One step of a schema change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepReply {
    /// `OG-EVOLVE-NNN`.
    pub code: String,
    pub kind: String,
    /// `Type` or `Type.property`.
    pub target: String,
    pub detail: String,
    /// Rewrites the type's stored rows.
    pub rewrites: bool,
    /// Loses stored data (needs `allow_data_loss`).
    pub loses_data: bool,
}

/// Why a change is (or would be) refused.
#[derive(Debug, Serialize, ToSchema)]
pub struct LintReply {
    /// `OG-LINT-NNN`.
    pub code: String,
    pub target: String,
    pub message: String,
}

/// What a plan found, or an apply did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaChangeReply {
    /// The schema hash before and after.
    pub from: String,
    pub to: String,
    pub steps: Vec<StepReply>,
    pub lints: Vec<LintReply>,
    /// Apply would run (no refusing lint).
    pub ok: bool,
    pub rewrites: bool,
    pub loses_data: bool,
    /// The commit an apply made (kind `schema`); absent for a plan, or when
    /// the graph already had this schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitReply>,
}

impl From<EvolveReport> for SchemaChangeReply {
    fn from(r: EvolveReport) -> Self {
        SchemaChangeReply {
            from: r.from,
            to: r.to,
            steps: r
                .steps
                .into_iter()
                .map(|s| StepReply {
                    code: s.code.into(),
                    kind: s.kind.into(),
                    target: s.target,
                    detail: s.detail,
                    rewrites: s.rewrites,
                    loses_data: s.loses_data,
                })
                .collect(),
            lints: r.lints.into_iter().map(|l| LintReply { code: l.code.into(), target: l.target, message: l.message }).collect(),
            ok: r.ok,
            rewrites: r.rewrites,
            loses_data: r.loses_data,
            commit: r.commit.map(CommitReply::from),
        }
    }
}

fn options(req: &SchemaChangeRequest) -> ApiResult<EvolveOptions> {
    for (field, n) in [("queries", req.queries.len()), ("update_queries", req.update_queries.len()), ("drop_queries", req.drop_queries.len())] {
        if n > MAX_QUERIES {
            return Err(ApiError::bad_body(format!("`{field}`: {n} given, at most {MAX_QUERIES}")));
        }
    }
    Ok(EvolveOptions {
        allow_data_loss: req.allow_data_loss,
        queries: req.queries.iter().map(|q| (q.name.clone(), q.source.clone())).collect(),
        update_queries: req.update_queries.clone(),
        drop_queries: req.drop_queries.clone(),
        ..Default::default()
    })
}

/// The schema of the head, or of the commit `?at=` names (`read`).
#[utoipa::path(get, path = "/graphs/{id}/schema", tag = "schema", params(("id" = String, Path), crate::routes::history::AtParams), security(("bearer" = [])),
    responses((status = 200, body = SchemaReply), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn show(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    q: Result<Query<crate::routes::history::AtParams>, QueryRejection>,
) -> ApiResult<Json<SchemaReply>> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let p = params(q)?;
    let at = crate::routes::history::parse_at(p.at.as_deref())?;
    let s = state.registry.resolve(&id).await?;
    let graph = on_branch(&s, &actor, Action::Read, &id, p.branch.as_deref()).await?;
    let g = graph.bound_at(at.as_ref()).await?;
    let ir = serde_json::to_value(g.schema()).expect("the schema IR serializes");
    Ok(Json(SchemaReply { schema_hash: g.schema_hash().to_string(), source: g.schema_source().to_string(), ir }))
}

/// Says what applying `schema` would do, step by step, checked against the
/// stored rows and the `queries` given; changes nothing (`read`). A plan
/// that would be refused is still a `200` with `ok: false` and its lints.
#[utoipa::path(post, path = "/graphs/{id}/schema/plan", tag = "schema", request_body = SchemaChangeRequest, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = SchemaChangeReply), (status = 400, description = "The schema does not compile (`OG-SCHEMA-*`)", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn plan(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Json<SchemaChangeReply>> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let uri = request.uri().clone();
    let JsonBody(req) = JsonBody::<SchemaChangeRequest>::from_request(request, &state).await?;
    let branch = one_branch(&uri, req.branch.as_deref())?;
    let s = state.registry.resolve(&id).await?;
    let graph = on_branch(&s, &actor, Action::Read, &id, branch.as_deref()).await?;
    let opts = options(&req)?;
    let report = off_workers(async move { evolve::plan(&graph, &req.schema, &opts).await }).await??;
    Ok(Json(report.into()))
}

/// Applies `schema` as one commit of kind `schema` (`schema_apply`), then
/// builds the indexes it asks for. Refused (`409`, nothing written) when a
/// lint says so: the lints are in `details`.
#[utoipa::path(post, path = "/graphs/{id}/schema/apply", tag = "schema", request_body = SchemaChangeRequest, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = SchemaChangeReply), (status = 400, description = "The schema does not compile (`OG-SCHEMA-*`)", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Refused by a lint (`OG-LINT-*`, listed in `details`), or a lost race", body = ErrorBody),
        (status = 412, description = "The head is not `if_commit`", body = ErrorBody)))]
pub async fn apply(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Json<SchemaChangeReply>> {
    gate(&state, &actor, Action::SchemaApply, &id).await?;
    let GraphId(id) = id;
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    let JsonBody(req) = JsonBody::<SchemaChangeRequest>::from_request(request, &state).await?;
    let branch = one_branch(&uri, req.branch.as_deref())?;
    let s = state.registry.resolve(&id).await?;
    let graph = on_branch(&s, &actor, Action::SchemaApply, &id, branch.as_deref()).await?;
    let mut opts = options(&req)?;
    opts.write = omnigraph::graph::WriteOptions {
        actor: Some(actor.0.clone()),
        message: req.message.clone(),
        if_commit: crate::routes::history::if_commit(&headers, req.if_commit.clone())?,
    };
    let report = off_workers(async move { evolve::apply(&graph, &req.schema, &opts).await }).await??;
    Ok(Json(report.into()))
}
