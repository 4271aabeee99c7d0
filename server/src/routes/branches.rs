//! One graph's branches: list, create, delete, merge; and how every data
//! route takes a branch (`?branch=` or `"branch"` in the body; `main` when
//! neither).
//!
//! The policy decides per branch: `branch_create`, `branch_delete` (on the
//! branch deleted), `branch_merge` (on the target), and `change` on the
//! branch written. A protected branch takes writes, merges and deletes
//! only from rules that name it.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, FromRequest, Request, State};
use axum::http::{StatusCode, Uri};
use omnigraph::Graph;
use omnigraph::graph::branches::{self, BranchInfo};
use omnigraph::merge::{MergeOptions, MergeReport};
use omnigraph_policy::{Action, MAIN_BRANCH};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{GraphId, gate, refusal_on};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::registry::Served;
use crate::routes::data::off_workers;
use crate::routes::graphs::ErrorBody;
use crate::routes::replies::{CommitReply, TypeCountsReply};
use crate::state::{Actor, Shared};

/// `?branch=`: the branch a data route reads or writes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BranchParams {
    /// The branch (default `main`).
    pub branch: Option<String>,
}

/// The branch a request names: `?branch=`, or `body` (the request body's
/// `branch`); both only when they agree.
pub fn one_branch(uri: &Uri, body: Option<&str>) -> ApiResult<Option<String>> {
    let query = uri.query().and_then(|q| url_param(q, "branch"));
    match (query, body) {
        (Some(q), Some(b)) if q != b => Err(ApiError::bad_body("`?branch=` and the body's `branch` name different branches; give one")),
        (q, b) => Ok(q.or(b.map(str::to_string))),
    }
}

/// The value of `name` in a query string, percent-decoded.
fn url_param(query: &str, name: &str) -> Option<String> {
    query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| {
        let v = v.replace('+', " ");
        percent_encoding::percent_decode_str(&v).decode_utf8_lossy().chars().take(256).collect()
    })
}

/// Checks `action` on `branch` (`main` when `None`) of the served graph
/// and gives the handle on that branch. The name is checked first (a coded
/// `400`, before any storage is read).
pub async fn on_branch(s: &Served, actor: &Actor, action: Action, id: &str, branch: Option<&str>) -> ApiResult<Graph> {
    let b = branch.unwrap_or(MAIN_BRANCH);
    if b != MAIN_BRANCH {
        omnigraph::storage::branch::validate_name(b)?;
    }
    if let Some(refused) = refusal_on(&s.policy, actor, action, id, Some(b)) {
        return Err(refused);
    }
    Ok(s.graph.on_branch(b).await?)
}

/// One branch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BranchReply {
    pub name: String,
    /// The branch it was created from (none for `main`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The commit it was created from (none for `main`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
    /// Its newest commit.
    pub head: CommitReply,
}

impl From<BranchInfo> for BranchReply {
    fn from(b: BranchInfo) -> Self {
        BranchReply { name: b.name, parent: b.parent, created_from: b.created_from, head: b.head.into() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BranchesReply {
    /// `main` first, then by name.
    pub branches: Vec<BranchReply>,
}

/// `POST /graphs/{id}/branches`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBranchRequest {
    /// 1-64 ASCII letters, digits, `-`, `_`, `.`; starts with a letter or digit.
    pub name: String,
    /// A branch (its head) or a commit id; default `main`.
    #[serde(default)]
    pub from: Option<String>,
    /// The message of the branch's first commit.
    #[serde(default)]
    pub message: Option<String>,
}

/// `POST /graphs/{id}/branches/{name}/merge`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The target branch (default `main`).
    #[serde(default)]
    pub into: Option<String>,
    /// Say what the merge would do; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Delete the source branch after the merge (needs `branch_delete` on it).
    #[serde(default)]
    pub delete_source: bool,
    /// The merge commit's message.
    #[serde(default)]
    pub message: Option<String>,
    /// Merge only if the target's head is this commit (else `412`).
    #[serde(default)]
    pub if_commit: Option<String>,
}

/// What a merge did (or, dry, would do).
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeReply {
    pub source: String,
    pub into: String,
    /// `merged`, `fast_forward` (the target had not moved since the base) or
    /// `up_to_date` (nothing to merge).
    pub outcome: String,
    pub dry_run: bool,
    /// The newest commit both branches contained.
    pub base: String,
    /// The source commit merged.
    pub source_head: String,
    /// The merge commit (none in a dry run or when up to date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitReply>,
    /// Per type, what the merge changes on the target.
    pub changes: BTreeMap<String, TypeCountsReply>,
    pub source_deleted: bool,
}

impl From<MergeReport> for MergeReply {
    fn from(r: MergeReport) -> Self {
        MergeReply {
            source: r.source,
            into: r.into,
            outcome: r.outcome.to_string(),
            dry_run: r.dry_run,
            base: r.base,
            source_head: r.source_head,
            commit: r.commit.map(Into::into),
            changes: r.changes.into_iter().map(|(t, n)| (t, TypeCountsReply { inserted: n.inserted, updated: n.updated, deleted: n.deleted })).collect(),
            source_deleted: r.source_deleted,
        }
    }
}

/// The `{name}` of a `/branches/{name}...` route, percent-decoded.
fn branch_in_path(uri: &Uri) -> String {
    let raw = uri.path().split('/').nth(4).unwrap_or_default();
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().chars().take(256).collect()
}

/// The graph's branches, `main` first, each with its head commit (`read`).
#[utoipa::path(get, path = "/graphs/{id}/branches", tag = "branches", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = BranchesReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId) -> ApiResult<Json<BranchesReply>> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let s = state.registry.resolve(&id).await?;
    let g = on_branch(&s, &actor, Action::Read, &id, None).await?;
    let all = off_workers(async move { branches::list(&g).await }).await??;
    Ok(Json(BranchesReply { branches: all.into_iter().map(Into::into).collect() }))
}

/// Creates a branch from a branch or a commit: nothing is copied
/// (`branch_create`; `201`).
#[utoipa::path(post, path = "/graphs/{id}/branches", tag = "branches", request_body = CreateBranchRequest, params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 201, body = BranchReply), (status = 400, description = "A bad name (`OG-BRANCH-001`) or `from`", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The name is taken (`OG-BRANCH-003`)", body = ErrorBody)))]
pub async fn create(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    request: Request,
) -> ApiResult<(StatusCode, Json<BranchReply>)> {
    gate(&state, &actor, Action::BranchCreate, &id).await?;
    let GraphId(id) = id;
    let JsonBody(req) = JsonBody::<CreateBranchRequest>::from_request(request, &state).await?;
    omnigraph::storage::branch::validate_name(&req.name)?;
    let s = state.registry.resolve(&id).await?;
    if let Some(refused) = refusal_on(&s.policy, &actor, Action::BranchCreate, &id, Some(&req.name)) {
        return Err(refused);
    }
    let g = s.graph.clone();
    let opts = omnigraph::graph::WriteOptions { actor: Some(actor.0.clone()), message: req.message.clone(), if_commit: None };
    let info = off_workers(async move { branches::create(&g, &req.name, req.from.as_deref(), &opts).await }).await??;
    Ok((StatusCode::CREATED, Json(info.into())))
}

/// Deletes a branch (`branch_delete` on it). `main` cannot be deleted; nor
/// a branch others were created from.
#[utoipa::path(delete, path = "/graphs/{id}/branches/{name}", tag = "branches", params(("id" = String, Path), ("name" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = DeletedBranchReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`main`, or a branch others were created from (`OG-BRANCH-004`)", body = ErrorBody)))]
pub async fn delete(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, uri: Uri) -> ApiResult<Json<DeletedBranchReply>> {
    gate(&state, &actor, Action::BranchDelete, &id).await?;
    let GraphId(id) = id;
    let name = branch_in_path(&uri);
    if name != MAIN_BRANCH {
        omnigraph::storage::branch::validate_name(&name)?;
    }
    let s = state.registry.resolve(&id).await?;
    if let Some(refused) = refusal_on(&s.policy, &actor, Action::BranchDelete, &id, Some(&name)) {
        return Err(refused);
    }
    let g = s.graph.clone();
    let n = name.clone();
    off_workers(async move { branches::delete(&g, &n).await }).await??;
    Ok(Json(DeletedBranchReply { deleted: name }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedBranchReply {
    pub deleted: String,
}

/// Merges branch `{name}` into `into` (default `main`): three-way by
/// entity; any conflict writes nothing and answers `409` with every
/// conflict (`branch_merge` on the target).
#[utoipa::path(post, path = "/graphs/{id}/branches/{name}/merge", tag = "branches", request_body = MergeRequest, params(("id" = String, Path), ("name" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = MergeReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Conflicts (`OG-MERGE-001`, listed in `conflicts`), or a merge that cannot run (`OG-MERGE-002`)", body = ErrorBody),
        (status = 412, description = "The target's head is not `if_commit`", body = ErrorBody)))]
pub async fn merge(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, uri: Uri, request: Request) -> ApiResult<Json<MergeReply>> {
    gate(&state, &actor, Action::BranchMerge, &id).await?;
    let GraphId(id) = id;
    let source = branch_in_path(&uri);
    let headers = request.headers().clone();
    let JsonBody(req) = JsonBody::<MergeRequest>::from_request(request, &state).await?;
    for b in std::iter::once(source.as_str()).chain(req.into.as_deref()) {
        if b != MAIN_BRANCH {
            omnigraph::storage::branch::validate_name(b)?;
        }
    }
    let s = state.registry.resolve(&id).await?;
    let into = req.into.clone().unwrap_or_else(|| MAIN_BRANCH.to_string());
    on_branch(&s, &actor, Action::Read, &id, Some(&source)).await?;
    let g = on_branch(&s, &actor, Action::BranchMerge, &id, Some(&into)).await?;
    if req.delete_source
        && let Some(refused) = refusal_on(&s.policy, &actor, Action::BranchDelete, &id, Some(&source))
    {
        return Err(refused);
    }
    let wopts = omnigraph::graph::WriteOptions {
        actor: Some(actor.0.clone()),
        message: req.message.clone(),
        if_commit: crate::routes::history::if_commit(&headers, req.if_commit.clone())?,
    };
    let opts = MergeOptions { into: Some(into), dry_run: req.dry_run, delete_source: req.delete_source };
    let report = off_workers(async move { omnigraph::merge::merge(&g, &source, &opts, &wopts).await }).await??;
    Ok(Json(report.into()))
}
