//! The lifecycle routes and the per-graph routes on one server.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn create_list_show_delete_with_their_status_codes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);

    let h = api.get("/healthz").await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");

    let r = api.create("people").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.location.as_deref(), Some("/graphs/people"));
    assert_eq!(r.json()["state"], "active");
    assert_eq!(r.json()["serving"]["status"], "serving");

    let dup = api.create("people").await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(), "OG-CATALOG-002");

    let list = api.get("/graphs").await;
    assert_eq!(list.status, 200);
    let ids: Vec<_> = list.json()["graphs"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["people"]);

    let show = api.get("/graphs/people").await;
    assert_eq!(show.status, 200);
    assert_eq!(show.json()["id"], "people");
    assert!(show.json()["schema_hash"].is_string());
    assert_eq!(api.get("/graphs/nobody").await.status, 404);

    let del = api.delete("/graphs/people").await;
    assert_eq!(del.status, 200, "{}", del.text);
    assert_eq!(del.json()["state"], "deleted");
    assert_eq!(api.get("/graphs/people").await.status, 404);
    let q = api.query("people", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(q.status, 404);
    assert_eq!(api.delete("/graphs/people").await.status, 404);
    assert_eq!(api.delete("/graphs/never").await.code(), "OG-CATALOG-004");

    // The id is free again: a new incarnation.
    let again = api.create("people").await;
    assert_eq!(again.status, 201);
    assert_ne!(again.json()["incarnation"], r.json()["incarnation"]);
}

#[tokio::test]
async fn bad_requests_get_400_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    let before = tree_hash(dir.path());

    let r = api.post("/graphs", &json!({"id": "Bad Id!", "schema": SCHEMA})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "OG-CATALOG-001");

    let r = api.post("/graphs", &json!({"id": "ok", "schema": "node Person {\n  name: Strin @key\n}\n"})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let details = r.json()["details"].as_array().unwrap().clone();
    assert_eq!(details[0]["line"], 2, "{details:?}");
    assert!(details[0]["col"].as_u64().unwrap() > 0);

    let r = api.post_raw("/graphs", "application/json", "{\"id\": \"ok\", ").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "OG-HTTP-001");
    assert!(r.json()["error"].as_str().unwrap().contains("line 1"), "{}", r.text);

    let r = api.post("/graphs", &json!({"id": "ok", "schema": SCHEMA, "colour": "red"})).await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("colour"));

    let r = api.post("/graphs", &json!({"id": "ok", "schema": SCHEMA, "policy": {"rules": [{"allow": ["nope"], "actors": ["x"]}]}})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "OG-POLICY-002");

    assert_eq!(tree_hash(dir.path()), before, "a 400 wrote something");
    assert_eq!(api.get("/graphs/ok").await.status, 404);

    let r = api.get("/no/such/route").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "OG-HTTP-005");
    let r = api.delete("/graphs").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.code(), "OG-HTTP-007");
}

#[tokio::test]
async fn query_mutate_load_export_schema_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    assert_eq!(api.create("g").await.status, 201);

    let r = api.load("g", DATA).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["rows"]["Person"], 3);

    let q = api.query("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(column(&q.json(), "f.name"), ["bob"]);
    assert_eq!(q.json()["metadata"]["row_count"], 1);

    // A mutation sent to /query is refused; nothing changes.
    let add = "query add($a: String, $b: String) { insert Person { name: $b } insert Knows { from: $a, to: $b } }";
    let r = api.query("g", add, json!({"a": "alice", "b": "dan"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "OG-HTTP-006");
    let r = api.mutate("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(r.status, 400);

    let r = api.mutate("g", add, json!({"a": "alice", "b": "dan"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["inserted"], 2);
    let q = api.query("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(column(&q.json(), "f.name"), ["bob", "dan"]);

    // Query errors carry positions.
    let r = api.query("g", "query q() { match { $p: Persn } return { $p.name } }", json!({})).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["details"][0]["line"].is_number(), "{}", r.text);

    // The JSON form of a load: an array of records, merge mode.
    let r = api.post("/graphs/g/load", &json!({"mode": "merge", "data": [{"type": "Person", "data": {"name": "carol", "age": 7}}]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let snap = api.get("/graphs/g/snapshot").await;
    assert_eq!(snap.status, 200);
    let people = snap.json()["tables"].as_array().unwrap().iter().find(|t| t["name"] == "Person").unwrap()["row_count"].clone();
    assert_eq!(people, 4);

    let schema = api.get("/graphs/g/schema").await;
    assert_eq!(schema.json()["source"], SCHEMA);

    // Export streams NDJSON that loads back into an identical graph.
    let export = api.get("/graphs/g/export").await;
    assert_eq!(export.status, 200);
    assert_eq!(export.text.lines().count(), 4 + 1 + 3 + 1, "{}", export.text);
    assert_eq!(api.create("copy").await.status, 201);
    let r = api.load("copy", &export.text).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(api.get("/graphs/copy/export").await.text, export.text);
    let only = api.get("/graphs/g/export?type=City").await;
    assert_eq!(only.text.lines().count(), 1);
    let bad = api.get("/graphs/g/export?type=Nope").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_bad_load_is_rejected_with_line_numbers_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let before = api.get("/graphs/g/snapshot").await.json();

    let bad =
        format!("{DATA}{{\"type\":\"Person\",\"data\":{{\"name\":\"zed\",\"age\":\"old\"}}}}\n{{\"edge\":\"Knows\",\"from\":\"alice\",\"to\":\"nobody\"}}\n");
    let r = api.load("g", &bad).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.code(), "OG-LOAD-001");
    let lines: Vec<u64> = r.json()["details"].as_array().unwrap().iter().map(|d| d["line"].as_u64().unwrap()).collect();
    assert!(lines.contains(&8) && lines.contains(&9), "{lines:?}");
    assert_eq!(api.get("/graphs/g/snapshot").await.json(), before);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--max-body-bytes", "4096", "--max-load-bytes", "4096", "--max-query-bytes", "4096"].map(String::from).to_vec();
    let s = Server::start_with(dir.path(), Opts { args, ..Default::default() });
    let api = Api::new(&s);
    assert_eq!(api.create("g").await.status, 201);
    let before = api.get("/graphs/g/snapshot").await.json();

    let big: String = (0..400).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\"}}}}\n")).collect();
    let r = api.load("g", &big).await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.code(), "OG-HTTP-002");
    let r = api.post("/graphs/g/load", &json!({"data": big})).await;
    assert_eq!(r.status, 413);
    let r = api.post("/graphs", &json!({"id": "h", "schema": format!("{SCHEMA}{}", " ".repeat(5000))})).await;
    assert_eq!(r.status, 413);
    assert_eq!(api.get("/graphs/g/snapshot").await.json(), before);
    assert_eq!(api.get("/graphs/h").await.status, 404);
}

#[tokio::test]
async fn the_server_keeps_serving_when_its_output_pipes_close() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(server_bin())
        .arg("--catalog")
        .arg(dir.path())
        .args(["--bind", "127.0.0.1:0"])
        .env_remove("OMNIGRAPH_FAILPOINT")
        .env_remove("OMNIGRAPH_TOKENS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the first banner line, then close both pipes (a log reader that went away).
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    drop(child.stderr.take());
    let base = first.strip_prefix("omnigraph-server listening on ").unwrap().trim().to_string();
    let api = Api { base, token: None, http: client() };
    // Creates and deletes log lines to the closed stderr.
    for id in ["a", "b"] {
        let r = api.create(id).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    assert_eq!(api.delete("/graphs/a").await.status, 200);
    assert_eq!(api.get("/healthz").await.status, 200);
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    let _ = child.kill();
    let _ = child.wait();
}
