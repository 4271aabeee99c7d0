//! [`AppState`], shared by every handler, and the admission middleware
//! every authenticated route passes: token -> actor, then the actor's
//! in-flight slot.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use omnigraph_catalog::Catalog;
use omnigraph_policy::{Action, Policy, Resource};

use crate::auth::Tokens;
use crate::error::{ApiError, ApiResult};
use crate::limits::InFlight;
use crate::registry::Registry;

#[derive(Debug)]
pub struct AppState {
    pub catalog: Catalog,
    pub registry: Arc<Registry>,
    pub tokens: Tokens,
    pub policy: Arc<Policy>,
    pub in_flight: InFlight,
    /// Largest JSON-form `/load` body.
    pub max_body_bytes: usize,
    /// Largest streamed NDJSON `/load` body (`None`: no limit).
    pub max_load_bytes: Option<u64>,
    /// Longest line of a load.
    pub max_line_bytes: usize,
    /// Largest JSON body of every other route (queries, mutations, schemas).
    pub max_query_bytes: usize,
    /// How long a streamed body may stall: a load body that sends nothing,
    /// or an export or query result the client does not read.
    pub idle_timeout: std::time::Duration,
    /// Set when no tokens are configured (see [`crate::guard`]).
    pub browser_guard: Option<crate::guard::BrowserGuard>,
    /// What scheduled maintenance did (`/healthz`).
    pub maintenance: Arc<crate::background::MaintenanceStatus>,
}

pub type Shared = Arc<AppState>;

/// The authenticated actor of a request (from its token only).
#[derive(Debug, Clone)]
pub struct Actor(pub String);

/// Authenticates, takes an in-flight slot, and hands the actor to the handler.
pub async fn admit(State(state): State<Shared>, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let actor = state.tokens.authenticate(req.headers())?;
    let permit = state.in_flight.try_acquire(&actor).ok_or_else(|| ApiError::too_many_in_flight(&actor, state.in_flight.limit()))?;
    req.extensions_mut().insert(Actor(actor));
    let response = next.run(req).await;
    // A streamed body (export, a query's rows) is still being produced
    // after the handler returns: the slot is held until the body is
    // finished or dropped (the client went away), not just until now.
    use axum::body::HttpBody;
    if response.body().size_hint().exact().is_some() {
        drop(permit);
        return Ok(response);
    }
    Ok(response.map(|body| {
        let stream = futures::StreamExt::map(body.into_data_stream(), move |chunk| {
            let _held = &permit;
            chunk
        });
        axum::body::Body::from_stream(stream)
    }))
}

impl AppState {
    /// Server-level actions (`graph_list`, `graph_create`, `graph_delete`).
    pub fn authorize_server(&self, actor: &Actor, action: Action) -> ApiResult<()> {
        let d = self.policy.authorize(&actor.0, action, Resource::Server);
        match d.denial {
            None => Ok(()),
            Some(why) => Err(ApiError::forbidden_because(&actor.0, action.as_str(), "on this server", Some(&why))),
        }
    }
}

/// Per-graph actions, decided by the graph's own policy (the server's plus
/// the rules attached to the graph).
pub fn authorize_graph(policy: &Policy, actor: &Actor, action: Action, id: &str) -> ApiResult<()> {
    match crate::access::refusal(policy, actor, action, id) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}
