//! The HTTP routes. Handlers are thin: they parse, authorize, call one
//! catalog or engine function, and map its typed error to a status.
//!
//! - [`health`]: `GET /healthz`, `GET /openapi.json` (no token needed).
//! - [`graphs`]: the lifecycle: list, show, create, delete, restore, purge.
//! - [`data`]: one graph's query, mutate, load, export, snapshot;
//!   [`replies`]: the bodies they answer with.
//! - [`history`]: one graph's commits; `at` and `If-Match` for the data
//!   routes.
//! - [`maintenance`]: one graph's `optimize` and `cleanup`.
//! - [`branches`]: one graph's branches: list, create, delete, merge; the
//!   `branch` every data route takes.
//! - [`schema`]: one graph's schema: show (at any kept commit), plan and
//!   apply a change.
//! - [`stored`]: one graph's stored queries: the catalog as typed tools,
//!   add, remove, and run one by name.

pub mod branches;
pub mod data;
pub mod graphs;
pub mod health;
pub mod history;
pub mod maintenance;
pub mod replies;
pub mod schema;
pub mod search;
pub mod stored;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::middleware;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::{Shared, admit};

/// The routes that need no token. Each `routes!` takes the handlers of one
/// path; their methods and path come from their `#[utoipa::path]`, so the
/// router and the OpenAPI document are built from this one list.
fn public() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(health::healthz)).routes(routes!(health::openapi))
}

/// The routes behind authentication and admission.
fn authenticated() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(graphs::list, graphs::create))
        .routes(routes!(graphs::show, graphs::delete))
        .routes(routes!(graphs::restore))
        .routes(routes!(graphs::purge))
        .routes(routes!(data::query))
        .routes(routes!(data::mutate))
        .routes(routes!(data::load))
        .routes(routes!(data::export))
        .routes(routes!(schema::show))
        .routes(routes!(schema::plan))
        .routes(routes!(schema::apply))
        .routes(routes!(data::snapshot))
        .routes(routes!(history::commits))
        .routes(routes!(history::commit))
        .routes(routes!(history::changes))
        .routes(routes!(maintenance::optimize))
        .routes(routes!(maintenance::cleanup))
        .routes(routes!(search::indexes))
        .routes(routes!(search::embed))
        .routes(routes!(branches::list, branches::create))
        .routes(routes!(branches::delete))
        .routes(routes!(branches::merge))
        .routes(routes!(stored::list, stored::add))
        .routes(routes!(stored::show, stored::invoke, stored::remove))
}

/// The paths and operations of every route (for `openapi::document`).
pub fn described() -> utoipa::openapi::OpenApi {
    let mut api = public().split_for_parts().1;
    api.merge(authenticated().split_for_parts().1);
    api
}

pub fn router(state: Shared) -> Router {
    let (authenticated, _) = authenticated().split_for_parts();
    let (public, _) = public().split_for_parts();
    let authenticated = authenticated.route_layer(middleware::from_fn_with_state(state.clone(), admit));
    public
        .merge(authenticated)
        .fallback(|method: Method, uri: Uri| async move { ApiError::no_route(method.as_str(), uri.path()) })
        .method_not_allowed_fallback(|method: Method, uri: Uri| async move { ApiError::method_not_allowed(method.as_str(), uri.path()) })
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), crate::guard::guard))
        .with_state(state)
}
