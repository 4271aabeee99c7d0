//! The OpenAPI description, generated from the handlers' annotations and
//! the router's one list of routes (`routes::described`).
//! `openapi.json` at the repository's `server/` folder is a checked-in copy;
//! a test fails when it drifts (regenerate it with
//! `omnigraph-server --print-openapi > server/openapi.json`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{data, graphs, health, replies};

#[derive(OpenApi)]
#[openapi(
    info(title = "omnigraph-server", description = "Many property graphs from one catalog: lifecycle, queries, loads, exports."),
    components(schemas(graphs::GraphView, graphs::GraphList, graphs::CreateGraph, graphs::ErrorBody, data::QueryRequest, data::LoadRequest, health::Health, health::CacheHealth, replies::QueryReply, replies::QueryMetadata, replies::MutationReply, replies::LoadReply, replies::SchemaReply, replies::SnapshotReply, replies::TableReply)),
    modifiers(&Bearer),
    tags((name = "graphs", description = "Graph lifecycle"), (name = "data", description = "One graph's data"), (name = "server", description = "Health and API description"))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The whole document: the info, tags and security scheme above, and every
/// route's path and operation.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = ApiDoc::openapi();
    api.merge(crate::routes::described());
    api
}

/// The document as checked in: pretty JSON with a final newline.
pub fn document() -> String {
    let mut s = openapi().to_pretty_json().expect("OpenAPI serializes");
    s.push('\n');
    s
}
