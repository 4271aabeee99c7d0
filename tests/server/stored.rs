//! Stored queries over HTTP: the catalog as typed tools, adding and
//! removing, running by name (reads and mutations, with the same answers
//! as `/query` and `/mutate`), `invoke_query` narrowed to names with a
//! denied name answered like an unknown one, and the newer query
//! constructs through the server.

use serde_json::{Value as Json, json};

use crate::auth::secured_with;
use crate::common::*;

const QUERIES: &str = r#"@description("Who a person knows")
@instruction("Use for questions about someone's friends")
query friends($name: String) {
    match { $p: Person { name: $name } $p knows $f }
    return { $f.name }
    order { $f.name }
}

@description("Add or update a person")
query add_person($name: String, $age: I32?) {
    upsert Person { name: $name, age: $age }
}

query report() {
    match { $p: Person optional { $p livesIn $c } }
    return { $p.name, coalesce($c.name, "-") as city }
    order { $p.name }
}
"#;

fn names(doc: &Json) -> Vec<String> {
    doc["queries"].as_array().unwrap().iter().map(|q| q["name"].as_str().unwrap().to_string()).collect()
}

async fn stored_flow(catalog: &str) {
    let s = Server::start(catalog);
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let empty = api.get("/graphs/g/queries").await;
    assert_eq!((empty.status, names(&empty.json()).len()), (200, 0), "{}", empty.text);

    // Added: one commit of kind `queries`.
    let r = api.post("/graphs/g/queries", &json!({"source": QUERIES, "message": "tools"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["added"], json!(["friends", "add_person", "report"]));
    let commit = r.json()["commit"].as_str().unwrap().to_string();
    let c = api.get(&format!("/graphs/g/commits/{commit}")).await.json();
    assert_eq!((c["kind"].as_str(), c["message"].as_str()), (Some("queries"), Some("tools")), "{c}");

    // The catalog: typed tools.
    let list = api.get("/graphs/g/queries").await.json();
    assert_eq!(names(&list), ["add_person", "friends", "report"]);
    let friends = list["queries"].as_array().unwrap().iter().find(|q| q["name"] == "friends").unwrap().clone();
    assert_eq!(friends["kind"], "read");
    assert_eq!(friends["instruction"], "Use for questions about someone's friends");
    assert_eq!(friends["params"], json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": false}));
    assert_eq!(friends["result"]["properties"]["f.name"]["type"], json!(["string", "null"]));
    assert_eq!(friends["columns"], json!(["f.name"]));
    assert!(friends.get("source").is_none());
    let one = api.get("/graphs/g/queries/friends").await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert!(one.json()["source"].as_str().unwrap().starts_with("@description(\"Who a person knows\")"));

    // Run by name: a read answers like /query, a mutation like /mutate.
    let r = api.post("/graphs/g/queries/friends", &json!({"params": {"name": "alice"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let adhoc = api.query("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(r.json()["rows"], adhoc.json()["rows"]);
    assert_eq!(r.json()["metadata"]["query"], "friends");
    let r = api.post("/graphs/g/queries/add_person", &json!({"params": {"name": "alice", "age": 32}, "message": "birthday"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.json()["inserted"].as_u64(), r.json()["updated"].as_u64()), (Some(0), Some(1)));
    let r = api.post("/graphs/g/queries/report", &json!({})).await;
    assert_eq!(column(&r.json(), "city"), ["paris", "-", "-"]);
    // Bad parameters, unknown names, unknown fields: coded errors.
    let r = api.post("/graphs/g/queries/friends", &json!({"params": {"nme": "alice"}})).await;
    assert_eq!((r.status, r.code()), (400, "OG-QUERY-013".to_string()), "{}", r.text);
    let r = api.post("/graphs/g/queries/nope", &json!({})).await;
    assert_eq!((r.status, r.code()), (404, "OG-QUERY-021".to_string()), "{}", r.text);
    let r = api.post("/graphs/g/queries/friends", &json!({"params": {"name": "a"}, "bogus": 1})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // A source that does not typecheck changes nothing.
    let r = api.post("/graphs/g/queries", &json!({"source": "query bad() { match { $p: Person } return { $p.nope } }"})).await;
    assert_eq!((r.status, r.code()), (400, "OG-QUERY-003".to_string()), "{}", r.text);
    assert_eq!(names(&api.get("/graphs/g/queries").await.json()).len(), 3);

    // A schema change that breaks one is refused unless it replaces it.
    let renamed = SCHEMA.replace("edge LivesIn: Person -> City", "edge ResidesIn: Person -> City @rename_from(\"LivesIn\")");
    let r = api.post("/graphs/g/schema/apply", &json!({"schema": renamed})).await;
    assert_eq!((r.status, r.code()), (409, "OG-LINT-004".to_string()), "{}", r.text);
    let fixed = "query report() { match { $p: Person optional { $p residesIn $c } } return { $p.name, coalesce($c.name, \"-\") as city } order { $p.name } }";
    let r = api.post("/graphs/g/schema/apply", &json!({"schema": renamed, "update_queries": [fixed]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.post("/graphs/g/queries/report", &json!({})).await;
    assert_eq!(column(&r.json(), "city"), ["paris", "-", "-"], "{}", r.text);
    // Older commits keep their queries.
    let then = api.get(&format!("/graphs/g/queries?at={commit}")).await.json();
    assert!(then["queries"].as_array().unwrap().iter().any(|q| q["name"] == "report"));

    // Removed: a commit; then unknown.
    let r = api.delete("/graphs/g/queries/add_person").await;
    assert_eq!((r.status, r.json()["removed"].clone()), (200, json!(["add_person"])), "{}", r.text);
    let r = api.post("/graphs/g/queries/add_person", &json!({"params": {"name": "x"}})).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn stored_queries_over_http_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    stored_flow(dir.path().to_str().unwrap()).await;
}

#[tokio::test]
async fn stored_queries_over_http_on_s3() {
    let Some(catalog) = s3_catalog("stored") else { return };
    stored_flow(&catalog).await;
}

const TOKENS: &str = r#"{"admin": "admin-token-0123456789", "agent": "agent-token-0123456789", "reader": "reader-token-0123456789"}"#;

const POLICY: &str = r#"
groups:
  admins: [admin]
protected_branches: [main]
rules:
  - allow: [graph_list, graph_create, read, change, schema_apply, queries_write, invoke_query]
    groups: [admins]
    branches: [main]
  - allow: [invoke_query]
    actors: [agent]
    queries: [friends, "add*"]
  - allow: [read]
    actors: [reader]
"#;

#[tokio::test]
async fn invoke_query_is_narrowed_to_names_and_a_denied_name_looks_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured_with(dir.path(), TOKENS, Some(POLICY), &[]);
    let admin = Api::with_token(&s, "admin-token-0123456789");
    admin.create_loaded("g").await;
    let r = admin.post("/graphs/g/queries", &json!({"source": QUERIES})).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let agent = Api::with_token(&s, "agent-token-0123456789");
    // The catalog lists what the agent may run; the rest is unknown to it.
    let list = agent.get("/graphs/g/queries").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(names(&list.json()), ["add_person", "friends"]);
    let r = agent.post("/graphs/g/queries/friends", &json!({"params": {"name": "alice"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let denied = agent.post("/graphs/g/queries/report", &json!({})).await;
    let unknown = agent.post("/graphs/g/queries/nope", &json!({})).await;
    assert_eq!((denied.status, denied.code()), (404, "OG-QUERY-021".to_string()), "{}", denied.text);
    assert_eq!((unknown.status, unknown.code()), (404, "OG-QUERY-021".to_string()));
    assert_eq!(agent.get("/graphs/g/queries/report").await.status, 404);
    // A name it may not run, on a graph that does not exist: the same.
    assert_eq!(agent.post("/graphs/absent/queries/report", &json!({})).await.code(), "OG-QUERY-021");
    // One it may run: it learns the graph is absent, as for any route.
    assert_eq!(agent.post("/graphs/absent/queries/friends", &json!({})).await.status, 404);
    // A stored mutation on protected `main` needs a rule naming the branch.
    let r = agent.post("/graphs/g/queries/add_person", &json!({"params": {"name": "x"}})).await;
    assert_eq!((r.status, r.code()), (403, "OG-AUTH-003".to_string()), "{}", r.text);
    assert!(r.text.contains("protected"), "{}", r.text);
    // No ad hoc queries, no changes to the catalog.
    assert_eq!(agent.query("g", FRIENDS, json!({"name": "alice"})).await.status, 403);
    assert_eq!(agent.post("/graphs/g/queries", &json!({"source": "query x() { match { $p: Person } return { $p.name } }"})).await.status, 403);
    assert_eq!(agent.delete("/graphs/g/queries/friends").await.status, 403);

    // A reader sees every query but may run none.
    let reader = Api::with_token(&s, "reader-token-0123456789");
    assert_eq!(names(&reader.get("/graphs/g/queries").await.json()).len(), 3);
    assert_eq!(reader.post("/graphs/g/queries/friends", &json!({"params": {"name": "alice"}})).await.status, 404);
}

#[tokio::test]
async fn new_query_constructs_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let q = "query q() { match { $a: Person  $a <knows> $b  $b.name in [\"alice\", \"carol\"] } return { $a.name, $b.name, upper($b.name) as up } order { $a.name, $b.name } }";
    let r = api.query("g", q, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(column(&r.json(), "a.name"), ["bob", "bob"]);
    assert_eq!(column(&r.json(), "up"), ["ALICE", "CAROL"]);
    let r = api.mutate("g", "query m() { upsert Person { name: \"dan\", age: 5 } upsert Person { name: \"alice\", age: 60 } }", json!({})).await;
    assert_eq!((r.json()["inserted"].as_u64(), r.json()["updated"].as_u64()), (Some(1), Some(1)), "{}", r.text);
    let r = api
        .query(
            "g",
            "query q() { match { $a: Person { name: \"alice\" } $p = shortest($a knows{1,5} $b) } return { $b.name, length($p) } order { $b.name } }",
            json!({}),
        )
        .await;
    assert_eq!(r.json()["rows"], json!([{"b.name": "bob", "length(p)": 1}, {"b.name": "carol", "length(p)": 2}]), "{}", r.text);
}

#[tokio::test]
async fn hostile_stored_query_requests_get_coded_answers_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    assert_eq!(api.post("/graphs/g/queries", &json!({"source": QUERIES})).await.status, 200);
    let head = api.get("/graphs/g/snapshot").await.json()["commit"]["id"].clone();
    let long = "x".repeat(10_000);
    let cases: Vec<(Resp, u16, &str)> = vec![
        (api.post("/graphs/g/queries/%FF%FE", &json!({})).await, 404, "OG-QUERY-021"),
        (api.post(&format!("/graphs/g/queries/{long}"), &json!({})).await, 404, "OG-QUERY-021"),
        (api.get("/graphs/g/queries/..%2F..%2Fetc").await, 404, "OG-QUERY-021"),
        (api.get("/graphs/g/queries?at=yesterday").await, 400, "OG-ARG-001"),
        (api.get("/graphs/g/queries?branch=..%2Fx").await, 400, "OG-BRANCH-001"),
        (api.post("/graphs/g/queries/friends", &json!({"params": [1, 2]})).await, 400, "OG-QUERY-013"),
        (api.post("/graphs/g/queries/friends", &json!({"params": {"name": 7}})).await, 400, "OG-QUERY-013"),
        (api.post("/graphs/g/queries/friends", &json!({"params": {"name": "alice"}, "message": "m"})).await, 400, "OG-HTTP-001"),
        (api.post("/graphs/g/queries/add_person", &json!({"params": {"name": "z"}, "at": "yesterday"})).await, 400, "OG-ARG-001"),
        (api.post("/graphs/g/queries", &json!({"source": 5})).await, 400, "OG-HTTP-001"),
        (
            api.post("/graphs/g/queries", &json!({"source": format!("query q() {{ match {{ $p: Person {} }} return {{ $p }} }}", "(".repeat(500))})).await,
            400,
            "OG-QUERY-017",
        ),
        (api.delete("/graphs/g/queries/nope").await, 404, "OG-QUERY-021"),
    ];
    for (i, (r, status, code)) in cases.into_iter().enumerate() {
        assert_eq!((r.status, r.code().as_str()), (status, code), "case {i}: {}", r.text);
    }
    assert_eq!(api.get("/graphs/g/snapshot").await.json()["commit"]["id"], head, "nothing was written");
    assert_eq!(names(&api.get("/graphs/g/queries").await.json()).len(), 3);
    assert_eq!(api.get("/healthz").await.status, 200);
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}
