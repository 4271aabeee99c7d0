//! One graph's maintenance (`admin`): `optimize` compacts its tables and
//! rebuilds their indexes as a commit that changes no entity; `cleanup`
//! removes the versions no kept commit needs. The server can also run both
//! on a schedule (`--maintenance-interval`, [`crate::background`]).

use axum::Json;
use axum::extract::{Extension, FromRequest, Request, State};
use omnigraph::graph::cleanup::{CleanupOptions, DEFAULT_KEEP_COMMITS, DEFAULT_KEEP_DAYS};
use omnigraph_policy::Action;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{GraphId, gate};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::routes::branches::{on_branch, one_branch};
use crate::routes::data::off_workers;
use crate::routes::graphs::ErrorBody;
use crate::routes::replies::CommitReply;
use crate::state::{Actor, Shared};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizeRequest {
    /// The commit's message.
    pub message: Option<String>,
}

/// What optimize did to one table.
#[derive(Debug, Serialize, ToSchema)]
pub struct TableOptimizedReply {
    pub table: String,
    pub fragments_before: usize,
    pub fragments_after: usize,
    pub rows_rewritten: u64,
    pub deleted_rows_dropped: u64,
    pub indexes_rebuilt: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptimizeReply {
    /// The commit it made (kind `optimize`); absent when every table was
    /// already compact and indexed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitReply>,
    /// The tables it changed.
    pub tables: Vec<TableOptimizedReply>,
}

impl From<omnigraph::graph::optimize::OptimizeReport> for OptimizeReply {
    fn from(r: omnigraph::graph::optimize::OptimizeReport) -> Self {
        OptimizeReply {
            commit: r.commit.map(CommitReply::from),
            tables: r
                .tables
                .into_iter()
                .map(|t| TableOptimizedReply {
                    table: t.table,
                    fragments_before: t.fragments_before,
                    fragments_after: t.fragments_after,
                    rows_rewritten: t.rows_rewritten,
                    deleted_rows_dropped: t.deleted_rows_dropped,
                    indexes_rebuilt: t.indexes_rebuilt,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CleanupRequest {
    /// Keep every commit younger than this many days (default 7).
    pub keep_days: Option<f64>,
    /// Keep the last this many commits (default 100, at least 1).
    pub keep_commits: Option<u64>,
    /// Say what would be removed; remove nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What cleanup removed from one dataset (a type's table, or `__manifest`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetCleanedReply {
    pub table: String,
    pub versions_removed: u64,
    pub files_removed: u64,
    pub bytes_freed: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CleanupReply {
    pub dry_run: bool,
    /// The oldest commit kept: reads and change cursors before it are
    /// `410 OG-HISTORY-002`.
    pub oldest_kept: CommitReply,
    pub commits_removed: u64,
    pub bytes_freed: u64,
    pub files_removed: u64,
    pub tables: Vec<DatasetCleanedReply>,
}

impl From<omnigraph::graph::cleanup::CleanupReport> for CleanupReply {
    fn from(r: omnigraph::graph::cleanup::CleanupReport) -> Self {
        CleanupReply {
            dry_run: r.dry_run,
            oldest_kept: r.oldest_kept.into(),
            commits_removed: r.commits_removed,
            bytes_freed: r.bytes_freed,
            files_removed: r.files_removed,
            tables: r
                .tables
                .into_iter()
                .map(|t| DatasetCleanedReply {
                    table: t.table,
                    versions_removed: t.versions_removed,
                    files_removed: t.files_removed,
                    bytes_freed: t.bytes_freed,
                })
                .collect(),
        }
    }
}

/// Compacts the graph's tables and rebuilds their indexes, as one commit
/// that changes no entity (`admin`).
#[utoipa::path(post, path = "/graphs/{id}/optimize", tag = "maintenance", request_body = OptimizeRequest, params(("id" = String, Path), crate::routes::branches::BranchParams), security(("bearer" = [])),
    responses((status = 200, body = OptimizeReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn optimize(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Json<OptimizeReply>> {
    gate(&state, &actor, Action::Admin, &id).await?;
    let GraphId(id) = id;
    let s = state.registry.resolve(&id).await?;
    let branch = one_branch(request.uri(), None)?;
    let graph = on_branch(&s, &actor, Action::Admin, &id, branch.as_deref()).await?;
    let JsonBody(req) = JsonBody::<OptimizeRequest>::from_request(request, &state).await?;
    let opts = omnigraph::graph::WriteOptions { actor: Some(actor.0.clone()), message: req.message, if_commit: None };
    opts.validate()?;
    let report = off_workers(async move { omnigraph::graph::optimize::optimize(&graph, &opts).await }).await??;
    Ok(Json(report.into()))
}

/// Removes the table and manifest versions no kept commit needs: kept are
/// the commits younger than `keep_days`, the last `keep_commits`, and those
/// a read in flight is reading (`admin`).
#[utoipa::path(post, path = "/graphs/{id}/cleanup", tag = "maintenance", request_body = CleanupRequest, params(("id" = String, Path), crate::routes::branches::BranchParams), security(("bearer" = [])),
    responses((status = 200, body = CleanupReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cleanup(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, request: Request) -> ApiResult<Json<CleanupReply>> {
    gate(&state, &actor, Action::Admin, &id).await?;
    let GraphId(id) = id;
    let s = state.registry.resolve(&id).await?;
    let branch = one_branch(request.uri(), None)?;
    let graph = on_branch(&s, &actor, Action::Admin, &id, branch.as_deref()).await?;
    let JsonBody(req) = JsonBody::<CleanupRequest>::from_request(request, &state).await?;
    let opts = CleanupOptions {
        keep_days: req.keep_days.unwrap_or(DEFAULT_KEEP_DAYS),
        keep_commits: req.keep_commits.unwrap_or(DEFAULT_KEEP_COMMITS),
        dry_run: req.dry_run,
    };
    opts.validate().map_err(ApiError::from)?;
    let report = off_workers(async move { omnigraph::graph::cleanup::cleanup(&graph, &opts).await }).await??;
    Ok(Json(report.into()))
}
