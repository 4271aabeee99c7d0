//! A graph's history over HTTP: commits with the token's actor, pages of
//! commits, reads `at` a commit or time, `If-Match` writes (412), and coded
//! answers for unknown, malformed and hostile commit ids.

use serde_json::{Value as Json, json};

use crate::auth::{secured, token};
use crate::common::*;

const POLICY: &str = r#"
groups:
  admins: [admin]
  writers: [writer]
  readers: [reader]
rules:
  - allow: [graph_list, graph_create, read, change, export]
    groups: [admins]
  - allow: [read, change]
    groups: [writers]
  - allow: [read]
    groups: [readers]
"#;

const ADD: &str = "query add($n: String) { insert Person { name: $n } }";
const AGE: &str = "query age($n: String, $a: I32) { update Person set { age: $a } where name = $n }";
const NAMES: &str = "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }";

async fn head(api: &Api) -> String {
    let r = api.get("/graphs/g/commits?limit=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["commits"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn commits_name_the_token_actor_and_reads_go_back_to_any_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let (admin, writer, reader) = (Api::with_token(&s, &token("admin")), Api::with_token(&s, &token("writer")), Api::with_token(&s, &token("reader")));
    admin.create_loaded("g").await;
    let m = writer.post("/graphs/g/mutate", &json!({"query": ADD, "params": {"n": "dora"}, "message": "add dora"})).await;
    assert_eq!(m.status, 200, "{}", m.text);
    let added = m.json()["commit"].as_str().unwrap().to_string();
    let m = writer.mutate("g", AGE, json!({"n": "alice", "a": 99})).await;
    assert_eq!(m.status, 200, "{}", m.text);

    // The list, newest first, with the token's actor (a body cannot name one).
    let page = reader.get("/graphs/g/commits").await.json();
    let commits = page["commits"].as_array().unwrap();
    let who: Vec<(&str, &str)> = commits.iter().map(|c| (c["actor"].as_str().unwrap(), c["kind"].as_str().unwrap())).collect();
    assert_eq!(&who[..2], &[("writer", "mutate"), ("writer", "mutate")]);
    assert!(who.contains(&("admin", "load")) && who.last() == Some(&("admin", "init")), "{who:?}");
    let one = reader.get(&format!("/graphs/g/commits/{added}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!((one.json()["message"].clone(), one.json()["changes"]["Person"]["inserted"].clone()), (json!("add dora"), json!(1)));
    let smuggled = writer.post("/graphs/g/mutate", &json!({"query": ADD, "params": {"n": "x"}, "actor": "admin"})).await;
    assert_eq!((smuggled.status, smuggled.code()), (400, "OG-HTTP-001".to_string()), "{}", smuggled.text);

    // Reads at the commit that added dora: alice not yet 99.
    let at = reader.post("/graphs/g/query", &json!({"query": NAMES, "at": added})).await;
    assert_eq!(at.status, 200, "{}", at.text);
    assert_eq!(at.json()["metadata"]["commit"], json!(added));
    let ages: Vec<Json> = at.json()["rows"].as_array().unwrap().iter().map(|r| r["p.age"].clone()).collect();
    assert_eq!(ages[0], json!(31), "{}", at.text);
    let snap = reader.get(&format!("/graphs/g/snapshot?at={added}")).await;
    assert_eq!(snap.json()["commit"]["id"], json!(added));
    let export = admin.get(&format!("/graphs/g/export?at={added}")).await;
    assert!(export.text.contains("\"dora\"") && export.text.contains("\"age\":31"), "{}", export.text);
    let now = reader.query("g", NAMES, json!({})).await;
    assert!(now.text.contains("99"), "{}", now.text);

    // The changes after the commit that added dora: the update, then the cursor.
    let ch = reader.get(&format!("/graphs/g/changes?from={added}")).await;
    assert_eq!(ch.status, 200, "{}", ch.text);
    let lines: Vec<Json> = ch.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{}", ch.text);
    assert_eq!(lines[0]["changes"]["Person"]["updated"][0]["new"], json!({"age": 99}), "{}", ch.text);
    assert_eq!(lines[1]["next"], lines[0]["commit"]);
    let more = reader.get(&format!("/graphs/g/changes?from={}", lines[1]["next"].as_str().unwrap())).await;
    assert_eq!(more.text.lines().count(), 1, "only the cursor: {}", more.text);

    // Unknown, malformed, hostile: coded, and the server stays up.
    let cases = [
        ("/graphs/g/commits/01M96AZQTR00000000FFFFCD7E", 404, "OG-HISTORY-001"),
        ("/graphs/g/commits/not-a-commit", 404, "OG-HISTORY-001"),
        ("/graphs/g/commits/%FF%FE", 404, "OG-HISTORY-001"),
        ("/graphs/g/commits?limit=0", 400, "OG-HTTP-001"),
        ("/graphs/g/commits?limit=99999999999999999999", 400, "OG-HTTP-014"),
        ("/graphs/g/commits?before=zzz", 404, "OG-HISTORY-001"),
        ("/graphs/g/snapshot?at=yesterday", 400, "OG-ARG-001"),
        ("/graphs/g/snapshot?at=1999-01-01T00:00:00Z", 404, "OG-HISTORY-001"),
        ("/graphs/g/export?at=01M96AZQTR00000000FFFFCD7E", 404, "OG-HISTORY-001"),
        ("/graphs/g/changes?from=zzz", 404, "OG-HISTORY-001"),
        ("/graphs/g/changes", 400, "OG-HTTP-014"),
    ];
    for (path, status, code) in cases {
        let r = admin.get(path).await;
        assert_eq!((r.status, r.code()), (status, code.to_string()), "{path}: {}", r.text);
    }
    let long = format!("/graphs/g/commits/{}", "A".repeat(8_000));
    assert!(admin.get(&long).await.status >= 400);
    let r = reader.post("/graphs/g/query", &json!({"query": NAMES, "at": "x".repeat(1_000_000)})).await;
    assert_eq!(r.code(), "OG-ARG-001", "{}", &r.text[..r.text.len().min(300)]);
    assert_eq!(admin.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn of_two_if_match_writes_on_one_head_one_lands_and_the_other_gets_412() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let h = head(&api).await;
    let write = |n: i64| {
        let api = Api::new(&s);
        let h = h.clone();
        async move {
            let rb = api.http.post(format!("{}/graphs/g/mutate", api.base)).header("content-type", "application/json").header("if-match", format!("\"{h}\""));
            send(rb.body(json!({"query": AGE, "params": {"n": "alice", "a": n}}).to_string())).await
        }
    };
    let (a, b) = tokio::join!(write(40), write(50));
    let (won, lost, value) = match (a.status, b.status) {
        (200, 412) => (a, b, 40),
        (412, 200) => (b, a, 50),
        other => panic!("exactly one lands: {other:?}: {} / {}", a.text, b.text),
    };
    assert_eq!(lost.code(), "OG-HISTORY-003");
    assert_eq!(lost.json()["details"]["head"], won.json()["commit"], "the 412 names the new head");
    let ages = api.query("g", "query q() { match { $p: Person { name: \"alice\" } } return { $p.age } }", json!({})).await;
    assert_eq!(ages.json()["rows"][0]["p.age"], json!(value), "only the winner is visible");

    // The same through the body, and on a load; header and body that disagree are refused.
    let stale = api.post("/graphs/g/mutate", &json!({"query": ADD, "params": {"n": "z"}, "if_commit": h})).await;
    assert_eq!((stale.status, stale.code()), (412, "OG-HISTORY-003".to_string()), "{}", stale.text);
    let load = api.post("/graphs/g/load", &json!({"data": [{"type": "Person", "data": {"name": "y"}}], "if_commit": h})).await;
    assert_eq!((load.status, load.code()), (412, "OG-HISTORY-003".to_string()), "{}", load.text);
    let now = head(&api).await;
    let ndjson = api
        .http
        .post(format!("{}/graphs/g/load?message=one%20more", api.base))
        .header("content-type", "application/x-ndjson")
        .header("if-match", now.clone())
        .body("{\"type\":\"Person\",\"data\":{\"name\":\"y\"}}\n");
    let ok = send(ndjson).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let c = api.get(&format!("/graphs/g/commits/{}", ok.json()["commit"].as_str().unwrap())).await.json();
    assert_eq!((c["message"].clone(), c["parents"][0].clone()), (json!("one more"), json!(now)));
    let both = api
        .http
        .post(format!("{}/graphs/g/mutate", api.base))
        .header("content-type", "application/json")
        .header("if-match", "\"01M96AZQTR000000000000CD7E\"")
        .body(json!({"query": ADD, "params": {"n": "w"}, "if_commit": h}).to_string());
    assert_eq!(send(both).await.code(), "OG-HTTP-001");
}

#[tokio::test]
async fn history_on_s3_lists_reads_back_and_refuses_a_moved_head() {
    let Some(cat) = s3_catalog("history") else { return };
    let s = Server::start(&cat);
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let loaded = head(&api).await;
    let m = api.post("/graphs/g/mutate", &json!({"query": AGE, "params": {"n": "alice", "a": 77}, "message": "on s3"})).await;
    assert_eq!(m.status, 200, "{}", m.text);
    let page = api.get("/graphs/g/commits").await.json();
    assert_eq!((page["commits"][0]["message"].clone(), page["commits"][0]["id"].clone()), (json!("on s3"), m.json()["commit"].clone()));
    let then = api.post("/graphs/g/query", &json!({"query": NAMES, "at": loaded})).await;
    assert_eq!(then.json()["rows"][0]["p.age"], json!(31), "{}", then.text);
    let stale = api.post("/graphs/g/mutate", &json!({"query": ADD, "params": {"n": "z"}, "if_commit": loaded})).await;
    assert_eq!((stale.status, stale.code()), (412, "OG-HISTORY-003".to_string()), "{}", stale.text);
    assert_eq!(stale.json()["details"]["head"], m.json()["commit"]);
}
