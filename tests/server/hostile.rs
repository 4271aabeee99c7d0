//! Hostile requests: each gets a coded error, the stored graph stays as it
//! was, and the process keeps serving everyone else.

use serde_json::json;

use crate::common::*;

/// The server still answers, and graph `g` still holds `DATA`.
async fn still_serving(api: &Api, s: &Server) {
    assert_eq!(api.get("/healthz").await.status, 200, "{}", s.stderr());
    let q = api.query("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(column(&q.json(), "f.name"), ["bob"]);
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}

#[tokio::test]
async fn deep_nesting_and_long_chains_in_queries_do_not_take_the_server_down() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    // 100,000 parentheses: 200 KB, under the body limit.
    let deep = format!("query q() {{ match {{ $p: Person $p.age = {}1{} }} return {{ $p.name }} }}", "(".repeat(100_000), ")".repeat(100_000));
    let r = api.query("g", &deep, json!({})).await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-QUERY-017"), "{}", r.text);
    still_serving(&api, &s).await;
    // The same through a mutation.
    let r = api.mutate("g", &deep, json!({})).await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-QUERY-017"), "{}", r.text);
    // A 50,000-part `and` chain is answered (it is flat, not deep).
    let ands: Vec<String> = (0..50_000).map(|i| format!("$p.age != {}", 1000 + i)).collect();
    let long = format!("query q() {{ match {{ $p: Person {} and $p.name = \"bob\" }} return {{ $p.name }} }}", ands.join(" and "));
    let r = api.query("g", &long, json!({})).await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    assert_eq!(column(&r.json(), "p.name"), ["bob"]);
    still_serving(&api, &s).await;
}

#[tokio::test]
async fn deep_json_bodies_and_deep_schemas_are_refused_with_codes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    // Parameters nested 100,000 deep.
    let params = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!("{{\"query\": {}, \"params\": {{\"name\": {params}}}}}", serde_json::to_string(FRIENDS).unwrap());
    let r = api.post_raw("/graphs/g/query", "application/json", body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.code().starts_with("OG-HTTP"), "{}", r.text);
    still_serving(&api, &s).await;
    // A load line nested that deep is an invalid line, and nothing is loaded.
    let line = format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"deep\",\"age\":{params}}}}}\n");
    let r = api.load("g", &line).await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-LOAD-001"), "{}", &r.text[..r.text.len().min(300)]);
    // A schema with list types nested 100,000 deep.
    let schema = format!("node Person {{ name: String @key\n tags: {}String{}? }}", "[".repeat(100_000), "]".repeat(100_000));
    let r = api.post("/graphs", &json!({"id": "deep", "schema": schema})).await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-SCHEMA-016"), "{}", &r.text[..r.text.len().min(300)]);
    assert_eq!(api.get("/graphs/deep").await.status, 404);
    still_serving(&api, &s).await;
    let snap = api.get("/graphs/g/snapshot").await.json();
    let people = snap["tables"].as_array().unwrap().iter().find(|t| t["name"] == "Person").unwrap()["row_count"].clone();
    assert_eq!(people, 3, "{snap}");
}

#[tokio::test]
async fn an_out_of_range_retention_is_a_400_and_the_graph_stays_active() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    for bad in ["100000000d", "9223372036854775807ms", "3651d", "0s", "soon"] {
        let r = api.delete(&format!("/graphs/g?retain={bad}")).await;
        assert_eq!((r.status, r.code().as_str()), (400, "OG-ARG-001"), "{bad}: {}", r.text);
        assert_eq!(api.get("/graphs/g").await.json()["state"], "active", "{bad}");
    }
    still_serving(&api, &s).await;
    let r = api.delete("/graphs/g?retain=3650d").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(api.post("/graphs/g/restore", &json!({})).await.status, 200);
    still_serving(&api, &s).await;
}

/// Graph `g`'s Person rows, to check a refused request changed nothing.
async fn people(api: &Api) -> serde_json::Value {
    let snap = api.get("/graphs/g/snapshot").await.json();
    snap["tables"].as_array().unwrap().iter().find(|t| t["name"] == "Person").unwrap()["row_count"].clone()
}

#[tokio::test]
async fn without_tokens_a_web_page_cannot_write_or_read_through_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let port = s.url.rsplit(':').next().unwrap().to_string();
    // A no-cors `fetch` can send text/plain or a form body, never JSON.
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let r = api.post_raw("/graphs/g/load?mode=overwrite", ct, "{\"type\":\"Person\",\"data\":{\"name\":\"mallory\"}}\n").await;
        assert_eq!((r.status, r.code().as_str()), (415, "OG-HTTP-008"), "{ct}: {}", r.text);
        let r = api.post_raw("/graphs/g/mutate", ct, json!({"query": "query d() { delete Person where name = \"alice\" }"}).to_string()).await;
        assert_eq!((r.status, r.code().as_str()), (415, "OG-HTTP-008"), "{ct}: {}", r.text);
        let r = api.post_raw("/graphs", ct, json!({"id": "evil", "schema": SCHEMA}).to_string()).await;
        assert_eq!((r.status, r.code().as_str()), (415, "OG-HTTP-008"), "{ct}: {}", r.text);
    }
    assert_eq!(people(&api).await, 3);
    // A body-less POST from another origin (purge, restore) carries `Origin`.
    let http = client();
    for origin in ["http://evil.example", "null", "https://127.0.0.1:1"] {
        let r = send(http.post(format!("{}/graphs/g/purge", s.url)).header("origin", origin)).await;
        assert_eq!((r.status, r.code().as_str()), (403, "OG-HTTP-012"), "{origin}: {}", r.text);
        let r = send(
            http.post(format!("{}/graphs/g/load", s.url))
                .header("origin", origin)
                .header("content-type", "application/x-ndjson")
                .body("{\"type\":\"Person\",\"data\":{\"name\":\"mallory\"}}\n"),
        )
        .await;
        assert_eq!((r.status, r.code().as_str()), (403, "OG-HTTP-012"), "{origin}: {}", r.text);
    }
    // DNS rebinding: the page's name now points at 127.0.0.1, so `Host` names it.
    for host in [format!("evil.example:{port}"), "evil.example".to_string(), format!("127.0.0.1.evil.example:{port}"), "127.0.0.1:1".to_string()] {
        let r = send(http.get(format!("{}/graphs", s.url)).header("host", host.as_str())).await;
        assert_eq!((r.status, r.code().as_str()), (403, "OG-HTTP-011"), "{host}: {}", r.text);
        let r = send(http.get(format!("{}/healthz", s.url)).header("host", host.as_str())).await;
        assert_eq!(r.status, 403, "{host}");
    }
    // The server's own names still work, and so does a same-origin request.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("LOCALHOST:{port}")] {
        let r = send(http.get(format!("{}/graphs", s.url)).header("host", host.as_str())).await;
        assert_eq!(r.status, 200, "{host}: {}", r.text);
    }
    let r = send(http.get(format!("{}/graphs", s.url)).header("origin", format!("http://localhost:{port}"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(people(&api).await, 3);
    still_serving(&api, &s).await;
}

#[tokio::test]
async fn query_bodies_have_their_own_smaller_limit() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--max-query-bytes".into(), "65536".into()], ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    // Just under the limit: parsed (and refused for what it says).
    let pad = " ".repeat(60_000);
    let r = api.query("g", &format!("{FRIENDS}{pad}"), json!({"name": "alice"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Over it: 413 before the text is read, let alone tokenized.
    let pad = " ".repeat(70_000);
    let r = api.query("g", &format!("{FRIENDS}{pad}"), json!({"name": "alice"})).await;
    assert_eq!((r.status, r.code().as_str()), (413, "OG-HTTP-002"), "{}", r.text);
    assert!(r.text.contains("65536"), "{}", r.text);
    // Loads keep the larger body limit.
    let many: String = (0..2_000).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i:05}\",\"age\":{}}}}}\n", i % 90)).collect();
    assert!(many.len() > 65_536);
    let r = api.load("g", &many).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(people(&api).await, 2_003);
}
