//! One graph's history: its commits, newest first, and one commit by id
//! (`read`); and how the data routes take `at` (read as of a commit or a
//! time) and `If-Match` (write only over this commit).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, Uri};
use omnigraph::graph::history::{At, MAX_PAGE};
use omnigraph_policy::Action;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::{GraphId, gate, params};
use crate::error::{ApiError, ApiResult};
use crate::routes::branches::on_branch;
use crate::routes::graphs::ErrorBody;
use crate::routes::replies::{CommitReply, CommitsReply};
use crate::state::{Actor, Shared};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitsParams {
    /// How many commits (default 20, at most 1000).
    pub limit: Option<usize>,
    /// Start just before this commit (the `next` of the previous page).
    pub before: Option<String>,
    /// The branch (default `main`).
    pub branch: Option<String>,
}

/// Where a read looks: `?at=<commit id | RFC 3339 time>` (or `"at"` in a
/// query body); the head when absent.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtParams {
    /// A commit id, or a time (the last commit at or before it).
    pub at: Option<String>,
    /// The branch (default `main`).
    pub branch: Option<String>,
}

/// `at` parsed (`400` when it is neither a commit id nor a time).
pub fn parse_at(at: Option<&str>) -> ApiResult<Option<At>> {
    Ok(at.map(At::parse).transpose()?)
}

/// The commit a write must publish over: the `If-Match` header
/// (`"<commit>"`, quotes optional) or the body's `if_commit`, not both.
pub fn if_commit(headers: &HeaderMap, body: Option<String>) -> ApiResult<Option<String>> {
    let header = match headers.get(axum::http::header::IF_MATCH) {
        None => None,
        Some(v) => {
            let v = v.to_str().map_err(|_| ApiError::bad_body("If-Match: not text"))?.trim();
            Some(v.trim_matches('"').to_string())
        }
    };
    match (header, body) {
        (Some(h), Some(b)) if h != b => Err(ApiError::bad_body("If-Match and `if_commit` name different commits; give one")),
        (h, b) => Ok(h.or(b)),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The commit to start after (the `next` of the previous answer).
    pub from: String,
    /// The last commit to include (default: the head).
    pub to: Option<String>,
    /// The branch (default `main`).
    pub branch: Option<String>,
}

/// Entity-level changes after `from`, one NDJSON line per commit, oldest
/// first (at most 10,000), then `{"next": "<commit>"}`: the cursor to resume
/// from (`read`).
#[utoipa::path(get, path = "/graphs/{id}/changes", tag = "history", params(("id" = String, Path), ChangesParams), security(("bearer" = [])),
    responses((status = 200, description = "NDJSON: one line per commit, then the cursor", content_type = "application/x-ndjson", body = String),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn changes(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    q: Result<Query<ChangesParams>, QueryRejection>,
) -> ApiResult<axum::response::Response> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let p = params(q)?;
    let s = state.registry.resolve(&id).await?;
    let graph = on_branch(&s, &actor, Action::Read, &id, p.branch.as_deref()).await?;
    // Both ends are checked before the answer starts (coded statuses).
    let from = graph.commit(&p.from).await?;
    if let Some(to) = &p.to {
        graph.commit(to).await?;
    }
    Ok(crate::body::ndjson_from_blocking(state.idle_timeout, move |w, handle| {
        use std::io::Write;
        let mut last = from.id.clone();
        let mut emit = |c: serde_json::Value| -> omnigraph::Result<()> {
            last = c["commit"].as_str().unwrap_or_default().to_string();
            writeln!(w, "{c}")?;
            Ok(())
        };
        match handle.block_on(omnigraph::changes::changes(&graph, &from.id, p.to.as_deref(), &mut emit)) {
            Ok(_) => {
                let _ = writeln!(w, "{}", serde_json::json!({"next": last}));
                let _ = w.flush();
            }
            Err(e) => w.fail(format!("changes stopped: {} {e}", e.code())),
        }
    }))
}

/// The graph's commits, newest first, a page at a time (`read`).
#[utoipa::path(get, path = "/graphs/{id}/commits", tag = "history", params(("id" = String, Path), CommitsParams), security(("bearer" = [])),
    responses((status = 200, body = CommitsReply), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 410, description = "`before` names a commit cleanup removed (`OG-HISTORY-002`)", body = ErrorBody)))]
pub async fn commits(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    id: GraphId,
    q: Result<Query<CommitsParams>, QueryRejection>,
) -> ApiResult<Json<CommitsReply>> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    let p = params(q)?;
    let limit = p.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_body(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let s = state.registry.resolve(&id).await?;
    let graph = on_branch(&s, &actor, Action::Read, &id, p.branch.as_deref()).await?;
    Ok(Json(graph.commits(limit, p.before.as_deref()).await?.into()))
}

/// One commit: its actor, time, kind, message and what it changed (`read`).
#[utoipa::path(get, path = "/graphs/{id}/commits/{commit}", tag = "history", params(("id" = String, Path), ("commit" = String, Path), crate::routes::branches::BranchParams), security(("bearer" = [])),
    responses((status = 200, body = CommitReply), (status = 404, body = ErrorBody),
        (status = 410, description = "Cleanup removed it (`OG-HISTORY-002`)", body = ErrorBody)))]
pub async fn commit(State(state): State<Shared>, Extension(actor): Extension<Actor>, id: GraphId, uri: Uri) -> ApiResult<Json<CommitReply>> {
    gate(&state, &actor, Action::Read, &id).await?;
    let GraphId(id) = id;
    // Taken from the path as sent (a malformed id is a coded 404 below).
    let raw = uri.path().split('/').nth(4).unwrap_or_default();
    let commit: String = percent_encoding::percent_decode_str(raw).decode_utf8_lossy().chars().take(64).collect();
    let s = state.registry.resolve(&id).await?;
    let branch = crate::routes::branches::one_branch(&uri, None)?;
    let graph = on_branch(&s, &actor, Action::Read, &id, branch.as_deref()).await?;
    Ok(Json(graph.commit(&commit).await?.into()))
}
