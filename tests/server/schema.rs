//! Schema changes over HTTP: `GET /schema` at the head and at older
//! commits, `POST /schema/plan` and `/schema/apply` with their steps and
//! lints, branches with schemas of their own (a merge across them refused),
//! two servers seeing a change at once, and the `schema_apply` action.

use serde_json::{Value as Json, json};

use crate::common::*;

/// `SCHEMA` with `Person.age` renamed `years` and widened, a nullable
/// `email`, and a new type `Tag`.
fn evolved() -> String {
    SCHEMA.replace("age: I32?", "years: I64? @rename_from(\"age\")\n    email: String?").replace("node City", "node Tag { label: String @key }\nnode City")
}

const YEARS: &str = "query q() { match { $p: Person } return { $p.name, $p.years } order { $p.name } }";
const AGES: &str = "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }";

/// The values of one column, as JSON text.
fn values(doc: &Json, col: &str) -> Vec<String> {
    doc["rows"].as_array().unwrap().iter().map(|r| r[col].to_string()).collect()
}

fn codes(doc: &Json, key: &str) -> Vec<String> {
    doc[key].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap().to_string()).collect()
}

async fn schema_flow(catalog: &str) {
    let s = Server::start(catalog);
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let before = api.get("/graphs/g/schema").await;
    assert_eq!(before.status, 200, "{}", before.text);
    let old_hash = before.json()["schema_hash"].as_str().unwrap().to_string();
    let loaded = api.get("/graphs/g/snapshot").await.json()["commit"]["id"].as_str().unwrap().to_string();

    // A plan: steps with codes, nothing written.
    let plan = api.post("/graphs/g/schema/plan", &json!({"schema": evolved(), "queries": [{"name": "ages.gq", "source": AGES}]})).await;
    assert_eq!(plan.status, 200, "{}", plan.text);
    let p = plan.json();
    assert_eq!(p["ok"], false, "the stored query breaks: {p}");
    assert_eq!(codes(&p, "lints"), ["OG-LINT-004"]);
    for c in ["OG-EVOLVE-001", "OG-EVOLVE-004", "OG-EVOLVE-007", "OG-EVOLVE-008"] {
        assert!(codes(&p, "steps").contains(&c.to_string()), "{c}: {p}");
    }
    assert_eq!(p["rewrites"], true);
    assert_eq!(api.get("/graphs/g/snapshot").await.json()["commit"]["id"], loaded.as_str());

    // Refusals: a lint (409, details), a schema that does not compile
    // (400), a body with an unknown field (400). Nothing written.
    let drop_city = SCHEMA.replace("node City {\n    name: String @key\n}\n", "").replace("edge LivesIn: Person -> City\n", "");
    let r = api.post("/graphs/g/schema/apply", &json!({"schema": drop_city})).await;
    assert_eq!((r.status, r.code()), (409, "OG-LINT-001".to_string()), "{}", r.text);
    assert!(r.json()["details"].as_array().unwrap().iter().any(|l| l["target"] == "City"), "{}", r.text);
    let r = api.post("/graphs/g/schema/apply", &json!({"schema": "node {"})).await;
    assert_eq!((r.status, r.code()), (400, "OG-SCHEMA-001".to_string()), "{}", r.text);
    let r = api.post("/graphs/g/schema/apply", &json!({"schema": SCHEMA, "nope": 1})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(api.get("/graphs/g/snapshot").await.json()["commit"]["id"], loaded.as_str());

    // Applied: one commit of kind `schema`; queries use the new names.
    let r = api.post("/graphs/g/schema/apply", &json!({"schema": evolved(), "message": "years"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = r.json();
    assert_eq!(
        (a["commit"]["kind"].as_str(), a["commit"]["message"].as_str(), a["commit"]["actor"].as_str()),
        (Some("schema"), Some("years"), Some("anonymous"))
    );
    let rows = api.post("/graphs/g/query", &json!({"query": YEARS})).await;
    assert_eq!(rows.status, 200, "{}", rows.text);
    assert_eq!(values(&rows.json(), "p.years"), ["31", "42", "null"]);
    let old = api.post("/graphs/g/query", &json!({"query": AGES})).await;
    assert_eq!((old.status, old.code()), (400, "OG-QUERY-003".to_string()), "{}", old.text);
    // Reads at the commit before use its schema.
    let at = api.post("/graphs/g/query", &json!({"query": AGES, "at": loaded})).await;
    assert_eq!(at.status, 200, "{}", at.text);
    assert_eq!(values(&at.json(), "p.age"), ["31", "42", "null"]);
    let then = api.get(&format!("/graphs/g/schema?at={loaded}")).await;
    assert_eq!(then.json()["schema_hash"], old_hash.as_str(), "{}", then.text);
    assert_ne!(api.get("/graphs/g/schema").await.json()["schema_hash"], old_hash.as_str());
    let r = api.post("/graphs/g/mutate", &json!({"query": "query t($l: String) { insert Tag { label: $l } }", "params": {"l": "x"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.post_raw("/graphs/g/load", "application/x-ndjson", "{\"type\":\"Person\",\"data\":{\"name\":\"dan\",\"years\":5000000000}}\n").await;
    assert_eq!(r.status, 200, "an I64 value: {}", r.text);

    // A branch changes its own schema; main keeps its own. A merge across
    // them is refused until the target has the source's schema.
    assert_eq!(api.post("/graphs/g/branches", &json!({"name": "f"})).await.status, 201);
    let on_f = evolved().replace("email: String?", "email: String?\n    nick: String?");
    let r = api.post("/graphs/g/schema/apply?branch=f", &json!({"schema": on_f})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.post("/graphs/g/mutate", &json!({"query": "query n() { update Person set { nick: \"a\" } where name = \"alice\" }", "branch": "f"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.post("/graphs/g/query", &json!({"query": "query n() { match { $p: Person } return { $p.nick } }"})).await;
    assert_eq!((r.status, r.code()), (400, "OG-QUERY-003".to_string()), "main has no nick: {}", r.text);
    let r = api.post("/graphs/g/branches/f/merge", &json!({})).await;
    assert_eq!((r.status, r.code()), (409, "OG-MERGE-003".to_string()), "{}", r.text);
    assert_eq!(api.get("/graphs/g/schema?branch=f").await.json()["source"], on_f.as_str());
}

#[tokio::test]
async fn schema_changes_over_http_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    schema_flow(dir.path().to_str().unwrap()).await;
}

#[tokio::test]
async fn schema_changes_over_http_on_s3() {
    let Some(catalog) = s3_catalog("schema") else { return };
    schema_flow(&catalog).await;
}

#[tokio::test]
async fn a_second_server_reads_and_writes_with_the_new_schema_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (s1, s2) = (Server::start(dir.path()), Server::start(dir.path()));
    let (a1, a2) = (Api::new(&s1), Api::new(&s2));
    a1.create_loaded("g").await;
    // The second server has the graph open, with the old schema.
    assert_eq!(a2.post("/graphs/g/query", &json!({"query": AGES})).await.status, 200);
    let r = a1.post("/graphs/g/schema/apply", &json!({"schema": evolved()})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A write first: the second server's handle knows the old head.
    let r = a2.post("/graphs/g/mutate", &json!({"query": "query a() { insert Person { name: \"eve\", years: 7, email: \"e@x\" } }"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rows = a2.post("/graphs/g/query", &json!({"query": YEARS})).await;
    assert_eq!(rows.status, 200, "{}", rows.text);
    assert_eq!(values(&rows.json(), "p.years"), ["31", "42", "null", "7"]);
    // A change that keeps the mutation valid: it compiles against the
    // schema the handle knows, the batch finds another, and it runs again
    // against the head's.
    let more = evolved().replace("email: String?", "email: String?\n    nick: String?");
    assert_eq!(a1.post("/graphs/g/schema/apply", &json!({"schema": more})).await.status, 200);
    let r = a2.post("/graphs/g/mutate", &json!({"query": "query a() { insert Person { name: \"fay\", years: 1 } }"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = a2.post("/graphs/g/mutate", &json!({"query": "query a() { insert Person { name: \"old\", age: 7 } }"})).await;
    assert_eq!((r.status, r.code()), (400, "OG-QUERY-003".to_string()), "{}", r.text);
    assert_eq!(a2.get("/graphs/g/schema").await.json()["schema_hash"], a1.get("/graphs/g/schema").await.json()["schema_hash"]);
}

const TOKENS: &str = r#"{"ann": "ann-token-0123456789", "root": "root-token-0123456789"}"#;

const POLICY: &str = r#"
groups:
  writers: [ann]
  admins: [root]
rules:
  - allow: [graph_create, read, change, schema_apply]
    groups: [admins]
  - allow: [read, change]
    groups: [writers]
"#;

#[tokio::test]
async fn applying_a_schema_needs_the_schema_apply_action_and_planning_needs_read() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = crate::auth::secured_with(dir.path(), TOKENS, Some(POLICY), &[]);
    let root = Api::with_token(&s, "root-token-0123456789");
    let ann = Api::with_token(&s, "ann-token-0123456789");
    root.create_loaded("g").await;
    assert_eq!(ann.post("/graphs/g/schema/plan", &json!({"schema": evolved()})).await.status, 200);
    let r = ann.post("/graphs/g/schema/apply", &json!({"schema": evolved()})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("schema_apply"), "{}", r.text);
    let r = root.post("/graphs/g/schema/apply", &json!({"schema": evolved()})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["commit"]["actor"], "root");
}

#[tokio::test]
async fn hostile_schema_change_bodies_get_coded_answers_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let head = api.get("/graphs/g/snapshot").await.json()["commit"]["id"].clone();
    let deep = format!("node A {{ x: {}String{} }}", "[".repeat(200), "]".repeat(200));
    let many: Vec<Json> = (0..300).map(|i| json!({"name": format!("q{i}"), "source": "query q() { match { $p: Person } return { $p.name } }"})).collect();
    let cases: Vec<(Json, u16, &str)> = vec![
        (json!({"schema": deep}), 400, "OG-SCHEMA-016"),
        (json!({"schema": 5}), 400, "OG-HTTP-001"),
        (json!({"schema": SCHEMA, "queries": many}), 400, "OG-HTTP-001"),
        (json!({"schema": SCHEMA, "queries": [{"name": "x", "source": "query ("}]}), 409, "OG-LINT-004"),
        (json!({"schema": SCHEMA.replace("age: I32?", "age: Vector(0)?")}), 400, "OG-SCHEMA-010"),
        (json!({"schema": SCHEMA.replace("age: I32?", "age: String?")}), 409, "OG-LINT-003"),
        (json!({"schema": format!("{SCHEMA}node Extra @rename_from(\"Nobody\") {{ k: String @key }}\n")}), 409, "OG-LINT-005"),
        (json!({"schema": SCHEMA, "if_commit": "nope"}), 400, "OG-ARG-001"),
        (json!({"schema": SCHEMA.replace("age: I32?", "age: I32?\n  n: I32 @default(\"x\")")}), 409, "OG-LINT-003"),
    ];
    for (body, status, code) in cases {
        let r = api.post("/graphs/g/schema/apply", &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        if !code.is_empty() {
            assert_eq!(r.code(), code, "{}", r.text);
        }
    }
    let big = format!("{}\n{}", SCHEMA, "// x\n".repeat(300_000));
    // Refused before the body is read in full: the answer may reach the
    // client, or the server may close the connection while it still sends.
    let rb = api.http.post(format!("{}/graphs/g/schema/apply", api.base)).header("content-type", "application/json");
    let sent = api.auth(rb).body(json!({"schema": big}).to_string()).send().await;
    if let Ok(resp) = sent {
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        assert!(status == 413 || text.contains("OG-SCHEMA-017"), "{status} {text}");
    }
    assert_eq!(api.get("/graphs/g/snapshot").await.json()["commit"]["id"], head, "nothing was written");
    assert_eq!(api.get("/healthz").await.status, 200);
}
