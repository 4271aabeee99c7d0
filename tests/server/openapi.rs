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
    // Every route the router declares is in the document with the same
    // methods, and the document lists no route the router lacks.
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    let documented: std::collections::BTreeSet<(String, String)> =
        doc["paths"].as_object().unwrap().iter().flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (path.clone(), m.clone()))).collect();
    let routed = routes_in_router();
    assert!(routed.len() >= 14, "the scan of routes/mod.rs found only {routed:?}");
    assert_eq!(routed, documented, "the router and the OpenAPI document disagree");
}

/// `(path, method)` of every `.route("PATH", get(..).post(..))` in the router.
fn routes_in_router() -> std::collections::BTreeSet<(String, String)> {
    let src = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes/mod.rs")).unwrap();
    let mut out = std::collections::BTreeSet::new();
    for call in src.split(".route(\"").skip(1) {
        let (path, rest) = call.split_once('"').unwrap();
        // The methods up to the end of this `.route(...)` call.
        let mut depth = 1;
        let end = rest.char_indices().find(|(_, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth == 0
        });
        let args = &rest[..end.map(|(i, _)| i).unwrap_or(rest.len())];
        for method in ["get", "post", "put", "patch", "delete"] {
            if args.contains(&format!("{method}(")) {
                out.insert((path.to_string(), method.to_string()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_server_serves_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let served = Api::new(&s).get("/openapi.json").await.json();
    let generated: serde_json::Value = serde_json::from_str(&omnigraph_server::openapi::document()).unwrap();
    assert_eq!(served, generated);
}

#[test]
fn the_servers_codes_are_defined_once_and_distinct() {
    use omnigraph_server::codes::ALL;
    let mut seen = std::collections::BTreeSet::new();
    for c in ALL {
        assert!(seen.insert(c.code), "{} is defined twice", c.code);
        assert!(c.code.starts_with("OG-") && !c.kind.is_empty() && !c.meaning.is_empty(), "{c:?}");
    }
    // Every code the server's sources write out is one of them (engine,
    // catalog and policy codes come from their own crates).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (i, _) in text.match_indices("\"OG-") {
            let lit: String = text[i + 1..].chars().take_while(|c| *c != '"').collect();
            let ours = lit.starts_with("OG-HTTP-") || lit.starts_with("OG-AUTH-") || lit.starts_with("OG-SERVER-");
            assert!(!ours || p.ends_with("codes.rs"), "{}: `{lit}` is written out; use the constant in codes.rs", p.display());
        }
    }
}
