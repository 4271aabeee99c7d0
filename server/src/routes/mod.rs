//! The HTTP routes. Handlers are thin: they parse, authorize, call one
//! catalog or engine function, and map its typed error to a status.
//!
//! - [`health`]: `GET /healthz`, `GET /openapi.json` (no token needed).
//! - [`graphs`]: the lifecycle: list, show, create, delete, restore, purge.
//! - [`data`]: one graph's query, mutate, load, export, schema, snapshot;
//!   [`replies`]: the bodies they answer with.

pub mod data;
pub mod graphs;
pub mod health;
pub mod replies;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware;
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::{Shared, admit};

pub fn router(state: Shared) -> Router {
    let authenticated = Router::new()
        .route("/graphs", get(graphs::list).post(graphs::create))
        .route("/graphs/{id}", get(graphs::show).delete(graphs::delete))
        .route("/graphs/{id}/restore", post(graphs::restore))
        .route("/graphs/{id}/purge", post(graphs::purge))
        .route("/graphs/{id}/query", post(data::query))
        .route("/graphs/{id}/mutate", post(data::mutate))
        .route("/graphs/{id}/load", post(data::load))
        .route("/graphs/{id}/export", get(data::export).post(data::export))
        .route("/graphs/{id}/schema", get(data::schema))
        .route("/graphs/{id}/snapshot", get(data::snapshot))
        .route_layer(middleware::from_fn_with_state(state.clone(), admit));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/openapi.json", get(health::openapi))
        .merge(authenticated)
        .fallback(|method: Method, uri: Uri| async move { ApiError::no_route(method.as_str(), uri.path()) })
        .method_not_allowed_fallback(|method: Method, uri: Uri| async move { ApiError::method_not_allowed(method.as_str(), uri.path()) })
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), crate::guard::guard))
        .with_state(state)
}
