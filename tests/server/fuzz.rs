//! Property test of the HTTP JSON bodies: random and mutated bodies sent to
//! every JSON route of one server process. Each gets a coded 4xx (or a
//! valid answer), the graph stays as it was unless the request was a valid
//! write, and the process keeps serving. Case count: see
//! docs/dev/hardening.md (`PROPTEST_CASES` raises it; scripts/fuzz.sh).

use proptest::prelude::*;
use serde_json::{Value as Json, json};

use crate::common::*;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Json::from),
        ".{0,40}".prop_map(Json::from),
        prop::sample::select(vec![
            FRIENDS,
            "query q() { match { $p: Person } return { $p } }",
            "query d() { delete Person where name = \"zz\" }",
            "node X { k: String @key }",
            "ada",
            "alice",
            "people"
        ])
        .prop_map(Json::from),
    ]
}

fn value() -> impl Strategy<Value = Json> {
    leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::from),
            prop::collection::btree_map(
                prop::sample::select(vec!["query", "name", "params", "id", "schema", "data", "mode", "policy", "metadata", "max_errors", "x"])
                    .prop_map(String::from),
                inner,
                0..6
            )
            .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// A body: JSON of any shape, or broken text.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => value().prop_map(|v| v.to_string()),
        1 => value().prop_map(|v| { let s = v.to_string(); s.chars().take(s.chars().count() / 2).collect::<String>() }),
        1 => ".{0,64}",
    ]
}

#[test]
fn random_json_bodies_get_coded_answers_and_the_server_stays_up() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    rt.block_on(api.create_loaded("g"));
    let routes = [
        "/graphs",
        "/graphs/g/query",
        "/graphs/g/mutate",
        "/graphs/g/load",
        "/graphs/g/export",
        "/graphs/g/schema/plan",
        "/graphs/g/queries",
        "/graphs/g/queries/friends",
    ];
    let config = ProptestConfig { cases: cases(150), failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(route in prop::sample::select(routes.to_vec()), b in body())| {
        let r = rt.block_on(api.post_raw(route, "application/json", b.clone()));
        prop_assert!(r.status < 500, "{route} {b}: {} {}", r.status, r.text);
        if r.status >= 400 {
            let code = r.json()["code"].as_str().unwrap_or_default().to_string();
            prop_assert!(code.starts_with("OG-"), "{route} {b}: {}", r.text);
        }
    });
    // Still serving, and the graph still answers as loaded (no random
    // body was a write that removes alice's friend).
    rt.block_on(async {
        assert_eq!(api.get("/healthz").await.status, 200);
        let q = api.query("g", FRIENDS, json!({"name": "alice"})).await;
        assert_eq!(column(&q.json(), "f.name"), ["bob"], "{}", q.text);
    });
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}
