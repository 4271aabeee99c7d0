//! Who may do what to which graph, decided before anything about the
//! graph is looked up or revealed.
//!
//! A graph route first takes its id raw ([`GraphId`]: never rejected by
//! the router, so a malformed id is answered after the policy check), then
//! [`gate`] asks the policy that applies to that id:
//! - a graph the catalog has an entry for (in any state: served, being
//!   created or deleted, deleted with retention, quarantined) is decided by
//!   its own policy, the server's plus the rules stored on the entry;
//! - an id with no entry, or a malformed one, by the server's policy.
//!
//! A refused caller gets the same `403` whether the graph exists, was
//! deleted or never existed; only a caller the policy allows learns which
//! (`404`, `409`, `503`). A graph whose stored rules no longer compile
//! (they name a group the server's file dropped) refuses everyone, except
//! that an operator (server-level `graph_delete`) may see it and why.
//!
//! Each data handler asks once more, against the handle it then resolves:
//! a graph deleted and re-created between the two (or on a retry after it
//! went away) may carry other rules. Both are in-memory Cedar calls.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use omnigraph_policy::{Action, Policy, Resource};

use crate::error::{ApiError, ApiResult};
use crate::state::{Actor, AppState, Shared};

/// The `{id}` of a `/graphs/{id}...` route, percent-decoded (invalid UTF-8
/// replaced), not yet validated.
#[derive(Debug, Clone)]
pub struct GraphId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for GraphId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.path().split('/').nth(2).unwrap_or_default();
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        // Kept short: the id only ever goes into a policy request and messages.
        Ok(GraphId(decoded.chars().take(256).collect()))
    }
}

impl GraphId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_valid(&self) -> bool {
        omnigraph_catalog::entry::validate_id(&self.0).is_ok()
    }
}

/// The policy that decides for graph `id`: `Ok` its own (or the server's
/// when no entry names it), `Err` when its stored rules do not compile.
pub async fn policy_for(state: &AppState, id: &str) -> ApiResult<Result<Arc<Policy>, omnigraph_policy::PolicyError>> {
    if let Some(p) = state.registry.served_policy(id) {
        return Ok(Ok(p));
    }
    Ok(match state.catalog.entry(id).await? {
        Some(e) => state.registry.policy_of(&e),
        None => Ok(state.policy.clone()),
    })
}

/// Whether `actor` is an operator: may delete graphs (server-level).
pub fn is_operator(state: &AppState, actor: &Actor) -> bool {
    state.policy.authorize(&actor.0, Action::GraphDelete, Resource::Server).allowed
}

/// The refusal of `action` on graph `id` under `policy`. A caller that may
/// read the graph is told why; one that may not learns nothing more than
/// "refused", the same for every id.
pub fn refusal(policy: &Policy, actor: &Actor, action: Action, id: &str) -> Option<ApiError> {
    refusal_on(policy, actor, action, id, Some(omnigraph_policy::MAIN_BRANCH))
}

/// [`refusal`] on `branch`; on some branch when `None` (before the request
/// body, which names the branch, is read).
pub fn refusal_on(policy: &Policy, actor: &Actor, action: Action, id: &str, branch: Option<&str>) -> Option<ApiError> {
    let d = match branch {
        Some(b) => policy.authorize_on_branch(&actor.0, action, Resource::Graph(id), b),
        None => policy.authorize_some_branch(&actor.0, action, Resource::Graph(id)),
    };
    if d.allowed {
        return None;
    }
    let why = policy.authorize(&actor.0, Action::Read, Resource::Graph(id)).allowed.then_some(()).and(d.denial);
    Some(ApiError::forbidden_because(&actor.0, action.as_str(), &format!("on graph `{id}`"), why.as_ref()))
}

/// Authorizes `action` on graph `id` before anything about it is looked
/// up; then checks the id. `Ok` means: go on and resolve the graph.
pub async fn gate(state: &Shared, actor: &Actor, action: Action, id: &GraphId) -> ApiResult<()> {
    let valid = id.is_valid();
    let policy = if valid { policy_for(state, id.as_str()).await? } else { Ok(state.policy.clone()) };
    match policy {
        Ok(p) => {
            if let Some(refused) = refusal_on(&p, actor, action, id.as_str(), None) {
                return Err(refused);
            }
        }
        // Fail closed; an operator goes on, to learn why it is not served.
        Err(_) if is_operator(state, actor) => {}
        Err(_) => return Err(ApiError::forbidden_because(&actor.0, action.as_str(), &format!("on graph `{}`", id.as_str()), None)),
    }
    omnigraph_catalog::entry::validate_id(id.as_str())?;
    Ok(())
}

/// A query string that did not parse, answered after the policy check.
pub fn params<T>(q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>) -> ApiResult<T> {
    q.map(|axum::extract::Query(t)| t).map_err(|e| ApiError::bad_param(e.body_text()))
}
