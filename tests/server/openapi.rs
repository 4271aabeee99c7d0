//! The checked-in `server/openapi.json` must match what the code generates.

use crate::common::*;

#[test]
fn checked_in_openapi_matches_the_code() {
    let generated = omnigraph_server::openapi::document();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "{} is out of date; regenerate it with `target/debug/omnigraph-server --print-openapi > server/openapi.json`",
        path.display()
    );
}

/// The router and the document are built from one list (`routes::public`,
/// `routes::authenticated`); this checks the result from outside: every
/// documented path answers every documented method (with the graph's
/// answer, not the router's "no such route" or "method not allowed").
#[tokio::test]
async fn every_documented_route_and_method_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    let doc: serde_json::Value = serde_json::from_str(&omnigraph_server::openapi::document()).unwrap();
    let mut seen = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let url = format!("{}{}", api.base, path.replace("{id}", "nosuchgraph"));
        for method in ops.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = send(api.auth(client().request(m, &url))).await;
            assert!(!["OG-HTTP-005", "OG-HTTP-007"].contains(&r.code().as_str()), "{method} {path}: {} {}", r.status, r.text);
            seen += 1;
        }
        // A method the document does not list is refused by the router.
        if !ops.as_object().unwrap().contains_key("put") {
            let r = send(api.auth(client().put(&url))).await;
            assert_eq!((r.status, r.code().as_str()), (405, "OG-HTTP-007"), "PUT {path}");
        }
    }
    assert!(seen >= 14, "the document lists only {seen} operations");
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
fn the_servers_codes_are_defined_once_and_no_code_is_written_out_elsewhere() {
    use omnigraph_server::codes::ALL;
    let mut seen = std::collections::BTreeSet::new();
    for c in ALL {
        assert!(seen.insert(c.code), "{} is defined twice", c.code);
        assert!(c.code.starts_with("OG-") && !c.kind.is_empty() && !c.meaning.is_empty(), "{c:?}");
    }
    // No source writes a code out but the one table of its crate.
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stack: Vec<_> = ["engine", "catalog", "recovery", "policy", "server", "cli"].iter().map(|c| repo.join(c).join("src")).collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (i, _) in text.match_indices("\"OG-") {
            let lit: String = text[i + 1..].chars().take_while(|c| *c != '"').collect();
            // A code is `OG-AREA-NNN`; `"OG-..."` in prose is not one.
            let number = lit.split(['-', ' ']).nth(2).unwrap_or("");
            if number.len() != 3 || !number.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let table = p.ends_with("codes.rs") || p.ends_with("policy/src/error.rs");
            assert!(table, "{}: `{lit}` is written out; use the constant of the crate's code table", p.display());
        }
    }
}

#[test]
fn every_crates_error_codes_are_one_table_each_and_distinct_across_crates() {
    // (code, kind, HTTP status) of every table: engine, catalog, policy, server.
    let mut all: Vec<(&str, &str, Option<u16>)> = Vec::new();
    all.extend(omnigraph::codes::ALL.iter().chain(omnigraph::codes::PROBLEMS).map(|c| (c.code, c.kind, Some(c.status))));
    all.extend(omnigraph_catalog::codes::ALL.iter().chain(omnigraph_recovery::codes::ALL).map(|c| (c.code, c.kind, Some(c.status))));
    all.extend(omnigraph_policy::error::ALL.iter().map(|c| (c.code, c.kind, None)));
    all.extend(omnigraph_server::codes::ALL.iter().map(|c| (c.code, c.kind, c.status.map(|s| s.as_u16()))));
    let (mut codes, mut kinds) = (std::collections::BTreeSet::new(), std::collections::BTreeMap::new());
    for (code, kind, status) in &all {
        assert!(codes.insert(*code), "{code} is defined twice");
        // A kind names one code (the two `storage` kinds are told apart by area).
        if let Some(other) = kinds.insert(*kind, *code) {
            assert!(kind == &"storage" && other != *code, "kind `{kind}` names both {other} and {code}");
        }
        assert!(status.is_none_or(|s| (400..600).contains(&s)), "{code}: {status:?} is not an error status");
    }
    // A schema change's steps are codes too, not errors: distinct from all.
    for c in omnigraph::codes::STEPS {
        assert!(codes.insert(c.code), "{} is defined twice", c.code);
        assert!(kinds.insert(c.kind, c.code).is_none(), "kind `{}` names two codes", c.kind);
        assert!(c.code.starts_with("OG-EVOLVE-") && c.status == 200, "{c:?}");
    }
    assert!(all.len() > 110, "only {} codes found", all.len());
    // The engine and catalog answer through their tables.
    let e = omnigraph::Error::QueryTimeout { ms: 5 };
    assert_eq!((e.code(), e.http_status(), e.kind()), ("OG-QUERY-019", 504, "query_timeout"));
    let c = omnigraph_catalog::CatalogError::NotFound { id: "x".into() };
    assert_eq!((c.code(), c.http_status(), c.kind()), ("OG-CATALOG-004", 404, "not_found"));
    let wrapped = omnigraph_catalog::CatalogError::Engine(omnigraph::Error::GraphRetired { root: "r".into(), op: "o".into() });
    assert_eq!((wrapped.code(), wrapped.http_status()), ("OG-OPEN-005", 404));
}

/// Checks `value` against `schema` of the document `doc`: objects with
/// declared properties have exactly those keys (none missing that are
/// required, none undeclared), arrays have items of the declared schema,
/// and scalars have the declared type. Returns every mismatch, with its path.
fn mismatches(doc: &serde_json::Value, schema: &serde_json::Value, value: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    use serde_json::Value as J;
    if let Some(r) = schema.get("$ref").and_then(J::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return mismatches(doc, &doc["components"]["schemas"][name], value, at, out);
    }
    if let Some(alts) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(J::as_array) {
        let fits = alts.iter().any(|alt| {
            let mut m = Vec::new();
            mismatches(doc, alt, value, at, &mut m);
            m.is_empty()
        });
        if !fits {
            out.push(format!("{at}: {value} fits none of {schema}"));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        J::String(t) => vec![t.as_str()],
        J::Array(ts) => ts.iter().filter_map(J::as_str).collect(),
        _ => vec![],
    };
    let actual = match value {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(n) if n.is_u64() || n.is_i64() => "integer",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    };
    let fits = types.is_empty() || types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
    if !fits {
        out.push(format!("{at}: a {actual} where the document says {types:?}"));
        return;
    }
    match value {
        J::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(J::as_object) {
                for key in map.keys() {
                    match props.get(key) {
                        Some(p) => mismatches(doc, p, &map[key], &format!("{at}.{key}"), out),
                        None => out.push(format!("{at}.{key}: not in the document")),
                    }
                }
                for req in schema.get("required").and_then(J::as_array).into_iter().flatten().filter_map(J::as_str) {
                    if !map.contains_key(req) {
                        out.push(format!("{at}.{req}: required by the document, missing from the answer"));
                    }
                }
            } else if let Some(extra) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                for (key, v) in map {
                    mismatches(doc, extra, v, &format!("{at}.{key}"), out);
                }
            }
        }
        J::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    mismatches(doc, item, v, &format!("{at}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_json_answer_has_the_shape_the_document_declares() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    let doc: serde_json::Value = serde_json::from_str(&omnigraph_server::openapi::document()).unwrap();
    let created = api.create("g").await;
    let loaded = api.load("g", DATA).await;
    let answers = [
        ("/graphs", "post", 201, created),
        ("/graphs/{id}/load", "post", 200, loaded),
        ("/graphs/{id}/query", "post", 200, api.query("g", FRIENDS, serde_json::json!({"name": "bob"})).await),
        ("/graphs/{id}/mutate", "post", 200, api.mutate("g", "query m() { insert Person { name: \"zed\", age: 3 } }", serde_json::json!({})).await),
        ("/graphs/{id}/schema", "get", 200, api.get("/graphs/g/schema").await),
        (
            "/graphs/{id}/schema/plan",
            "post",
            200,
            api.post("/graphs/g/schema/plan", &serde_json::json!({"schema": SCHEMA.replace("age: I32?", "age: I64?")})).await,
        ),
        (
            "/graphs/{id}/schema/apply",
            "post",
            200,
            api.post("/graphs/g/schema/apply", &serde_json::json!({"schema": SCHEMA.replace("age: I32?", "age: I32?\n    nick: String?")})).await,
        ),
        ("/graphs/{id}/schema/apply", "post", 409, api.post("/graphs/g/schema/apply", &serde_json::json!({"schema": SCHEMA.replace("age: I32?", "")})).await),
        ("/graphs/{id}/snapshot", "get", 200, api.get("/graphs/g/snapshot").await),
        ("/graphs/{id}", "get", 200, api.get("/graphs/g").await),
        ("/graphs", "get", 200, api.get("/graphs").await),
        ("/healthz", "get", 200, api.get("/healthz").await),
        ("/graphs/{id}/query", "post", 400, api.query("g", "query q() { match { $p: Nope } return { $p } }", serde_json::json!({})).await),
        ("/graphs/{id}/load", "post", 400, api.load("g", "{\"type\":\"Person\",\"data\":{}}\nnot json\n").await),
        ("/graphs/{id}", "delete", 200, api.delete("/graphs/g").await),
    ];
    let mut problems = Vec::new();
    for (path, method, status, answer) in &answers {
        assert_eq!(answer.status, *status, "{method} {path}: {}", answer.text);
        let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{method} {path} documents no JSON body for {status}");
        mismatches(&doc, schema, &answer.json(), &format!("{method} {path} {status}"), &mut problems);
    }
    assert!(problems.is_empty(), "answers that differ from the OpenAPI document:\n{}", problems.join("\n"));
    // The checker catches a difference: an undeclared key, a wrong type.
    let snapshot = &doc["paths"]["/graphs/{id}/snapshot"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    let mut caught = Vec::new();
    mismatches(&doc, snapshot, &serde_json::json!({"root": 1, "surprise": true}), "x", &mut caught);
    assert!(caught.len() >= 3, "{caught:?}");
}
