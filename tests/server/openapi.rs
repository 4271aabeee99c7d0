//! The checked-in `server/openapi.json` must match what the code generates.

use crate::common::*;

#[test]
fn checked_in_openapi_matches_the_code() {
    let generated = omnigraph_server::openapi::document();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "{} is out of date; regenerate it with `cargo run -p omnigraph-server -- --print-openapi > server/openapi.json`",
        path.display()
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    for route in [
        "/graphs",
        "/graphs/{id}",
        "/graphs/{id}/query",
        "/graphs/{id}/mutate",
        "/graphs/{id}/load",
        "/graphs/{id}/export",
        "/graphs/{id}/schema",
        "/graphs/{id}/snapshot",
        "/healthz",
    ] {
        assert!(doc["paths"][route].is_object(), "{route} missing from the OpenAPI document");
    }
}

#[tokio::test]
async fn the_server_serves_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let served = Api::new(&s).get("/openapi.json").await.json();
    let generated: serde_json::Value = serde_json::from_str(&omnigraph_server::openapi::document()).unwrap();
    assert_eq!(served, generated);
}
