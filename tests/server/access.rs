//! What a refused caller learns (nothing: the same 403 for a graph that
//! exists, was deleted, never existed, or is not served), errors that come
//! after the policy check, 403s that say why, and random policies decided
//! over HTTP as the documented rules say.

use serde_json::json;

use crate::auth::{secured, token};
use crate::common::*;

const POLICY: &str = r#"
groups:
  admins: [admin]
  readers: [reader]
  writers: [writer]
protected_branches: [main]
rules:
  - allow: [graph_list, graph_create, graph_delete, read, change, export]
    groups: [admins]
    branches: [main]
  - allow: [graph_list, read]
    groups: [readers]
  - allow: [read, change]
    groups: [writers]
"#;

/// A refusal's message with the graph id taken out, to compare refusals.
fn shape(r: &Resp, id: &str) -> (u16, String) {
    (r.status, r.text.replace(&format!("`{id}`"), "`ID`"))
}

/// One request to each graph route.
async fn every_route(api: &Api, id: &str) -> Vec<Resp> {
    let q = json!({"query": FRIENDS, "params": {"name": "alice"}});
    vec![
        api.get(&format!("/graphs/{id}")).await,
        api.post(&format!("/graphs/{id}/query"), &q).await,
        api.post(&format!("/graphs/{id}/mutate"), &q).await,
        api.post_raw(&format!("/graphs/{id}/load?max_errors=abc"), "application/x-ndjson", "{}\n").await,
        api.get(&format!("/graphs/{id}/export?type=Nope")).await,
        api.get(&format!("/graphs/{id}/schema")).await,
        api.get(&format!("/graphs/{id}/snapshot")).await,
        api.get(&format!("/graphs/{id}/queries")).await,
        api.post(&format!("/graphs/{id}/queries"), &json!({"source": FRIENDS})).await,
        api.post(&format!("/graphs/{id}/queries/friends"), &json!({"params": {"name": "alice"}})).await,
        api.get(&format!("/graphs/{id}/queries/friends")).await,
        api.delete(&format!("/graphs/{id}/queries/friends")).await,
    ]
}

#[tokio::test]
async fn a_refused_caller_gets_the_same_answer_whatever_the_graph_state() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &["--sweep-ms", "600000"]);
    let admin = Api::with_token(&s, &token("admin"));
    admin.create_loaded("live").await;
    let r = admin.post("/graphs", &json!({"id": "secret", "schema": SCHEMA, "policy": "rules:\n  - deny: [read]\n    groups: [readers]\n"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(admin.create("gone").await.status, 201);
    assert_eq!(admin.delete("/graphs/gone").await.status, 200);
    assert_eq!(admin.create("kept").await.status, 201);
    assert_eq!(admin.delete("/graphs/kept?retain=1h").await.status, 200);
    assert_eq!(admin.create("broken").await.status, 201);
    let broken_at = admin.get("/graphs/broken").await.json()["location"].as_str().unwrap().to_string();
    drop(s);
    std::fs::remove_dir_all(&broken_at).unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &["--sweep-ms", "600000"]);
    let admin = Api::with_token(&s, &token("admin"));
    assert_eq!(admin.get("/graphs/broken").await.json()["serving"]["status"], "quarantined");

    let nobody = Api::with_token(&s, &token("nobody"));
    let baseline: Vec<(u16, String)> = every_route(&nobody, "never").await.iter().map(|r| shape(r, "never")).collect();
    for (status, text) in &baseline {
        // A stored query the caller may not run is unknown to it (404).
        let refused = *status == 403 && text.contains("OG-AUTH-003");
        let unknown_query = *status == 404 && text.contains("OG-QUERY-021");
        assert!((refused || unknown_query) && !text.contains("details"), "{status} {text}");
    }
    for id in ["live", "secret", "gone", "kept", "broken"] {
        let got: Vec<(u16, String)> = every_route(&nobody, id).await.iter().map(|r| shape(r, id)).collect();
        assert_eq!(got, baseline, "graph `{id}` answers a refused caller differently from an id that never existed");
    }
    // A malformed id is refused the same way, as JSON, before it is checked.
    for raw in ["%FF", "UPPER", &"x".repeat(500)] {
        let r = nobody.get(&format!("/graphs/{raw}/snapshot")).await;
        assert_eq!((r.status, r.code().as_str()), (403, "OG-AUTH-003"), "{raw}: {}", r.text);
    }

    // The reader may read everything but `secret`: it lists only what it may
    // read, and `secret` answers it as an unknown id would.
    let reader = Api::with_token(&s, &token("reader"));
    let list = reader.get("/graphs?all=true").await.json();
    let mut ids: Vec<&str> = list["graphs"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["broken", "gone", "kept", "live"], "{list}");
    assert!(list.get("unreadable").is_none());
    assert_eq!(reader.get("/graphs/secret").await.status, 403);
    // What it may read, it learns the state of.
    assert_eq!(reader.get("/graphs/never/snapshot").await.status, 404);
    assert_eq!(reader.get("/graphs/gone/snapshot").await.status, 404);
    assert_eq!(reader.get("/graphs/broken/snapshot").await.status, 503);
    // The admin sees every graph.
    let all = admin.get("/graphs").await.json();
    assert_eq!(all["graphs"].as_array().unwrap().len(), 4, "{all}");
}

#[tokio::test]
async fn bad_parameters_are_json_errors_after_the_policy_check() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let admin = Api::with_token(&s, &token("admin"));
    admin.create_loaded("g").await;
    let nobody = Api::with_token(&s, &token("nobody"));
    // graph_list refused first, then the bad flag.
    let r = nobody.get("/graphs?all=maybe").await;
    assert_eq!((r.status, r.code().as_str()), (403, "OG-AUTH-003"), "{}", r.text);
    let r = admin.get("/graphs?all=maybe").await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-HTTP-014"), "{}", r.text);
    let r = admin.post_raw("/graphs/g/load?max_errors=abc", "application/x-ndjson", "").await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-HTTP-014"), "{}", r.text);
    assert!(r.text.contains("max_errors"), "{}", r.text);
    let r = admin.delete("/graphs/g?retain=forever").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(admin.get("/graphs/g").await.json()["state"], "active", "nothing was deleted");
    // An id that is not UTF-8, or is long, is a JSON 400 that echoes a short part of it.
    let r = admin.get("/graphs/%FF").await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-CATALOG-001"), "{}", r.text);
    let long = "a".repeat(5000);
    let r = admin.get(&format!("/graphs/{long}/snapshot")).await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-CATALOG-001"), "{}", r.text);
    assert!(r.text.len() < 400, "the id is echoed whole: {} bytes", r.text.len());
    // Ids with quotes, backslashes or control characters are plain data to
    // the policy: refused or rejected with a code, and the server stays up.
    for raw in ["%00", "%22", "%5C", "a%0Ab", "%FF%FE", "x%22%7C%7Ctrue"] {
        let r = nobody.get(&format!("/graphs/{raw}/snapshot")).await;
        assert_eq!((r.status, r.code().as_str()), (403, "OG-AUTH-003"), "{raw}: {}", r.text);
        let r = admin.get(&format!("/graphs/{raw}")).await;
        assert_eq!((r.status, r.code().as_str()), (400, "OG-CATALOG-001"), "{raw}: {}", r.text);
    }
    assert_eq!(admin.get("/graphs/g").await.status, 200, "the server is still up");
    let r = admin.delete(&format!("/graphs/{long}")).await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-CATALOG-001"));
    assert!(r.text.len() < 400);
}

#[tokio::test]
async fn a_refusal_says_why_to_a_caller_that_may_read_the_graph() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let admin = Api::with_token(&s, &token("admin"));
    admin.create_loaded("g").await;
    let writer = Api::with_token(&s, &token("writer"));
    let add = "query add($n: String) { insert Person { name: $n } }";
    // The writer's rule allows change, but main is protected and the rule does not name it.
    let r = writer.mutate("g", add, json!({"n": "w"})).await;
    assert_eq!((r.status, r.code().as_str()), (403, "OG-AUTH-003"), "{}", r.text);
    assert!(r.text.contains("branches: [main]"), "{}", r.text);
    assert_eq!(r.json()["details"]["reason"], "protected_branch");
    let r = writer.load("g", "{\"type\":\"Person\",\"data\":{\"name\":\"w\"}}\n").await;
    assert_eq!(r.json()["details"]["reason"], "protected_branch", "{}", r.text);
    // No rule gives the writer export.
    let r = writer.get("/graphs/g/export").await;
    assert_eq!(r.json()["details"]["reason"], "no_rule", "{}", r.text);
    // Server-level refusals say so too.
    let r = writer.get("/graphs").await;
    assert_eq!((r.status, r.json()["details"]["reason"].as_str()), (403, Some("no_rule")), "{}", r.text);
    // The admin's rule names main.
    assert_eq!(admin.mutate("g", add, json!({"n": "a"})).await.status, 200);
}

/// Starts a server on `catalog` with `policy` and a token for every actor
/// of the reference policies (and `root`).
fn server_with(catalog: &std::path::Path, policy: &str) -> (Server, tempfile::TempDir) {
    let mut tokens = serde_json::Map::new();
    for a in crate::policy_reference::ACTORS.iter().chain(&["stranger", "root"]) {
        tokens.insert(a.to_string(), json!(format!("{a}-token-0123456789")));
    }
    crate::auth::secured_with(catalog, &serde_json::Value::Object(tokens).to_string(), Some(policy), &[])
}

#[test]
fn random_policies_are_decided_over_http_as_the_documented_rules_say() {
    use crate::policy_reference::{ACTORS, GRAPHS, ref_policy};
    use omnigraph_policy::Action;
    use proptest::strategy::{Strategy, ValueTree};

    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = [0usize; 2];
    for round in 0..6 {
        let p = ref_policy().new_tree(&mut runner).unwrap().current();
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            // The graphs, made by `root` under a policy with the same groups.
            let setup = serde_json::json!({"groups": p.groups, "rules": [{"allow": ["graph_create"], "actors": ["root"]}]}).to_string();
            let (s, _files) = server_with(dir.path(), &setup);
            let root = Api::with_token(&s, "root-token-0123456789");
            let own = p.graph_rules_json();
            for g in GRAPHS {
                let mut body = json!({"id": g, "schema": SCHEMA});
                if let Some((id, rules)) = &own
                    && id == g
                {
                    body["policy"] = rules.clone();
                }
                let r = root.post("/graphs", &body).await;
                assert_eq!(r.status, 201, "{}", r.text);
            }
            drop(s);

            let (s, _files) = server_with(dir.path(), &p.file_text());
            let add = "query add($n: String) { insert Person { name: $n } }";
            for actor in ACTORS.iter().chain(&["stranger"]) {
                let api = Api::with_token(&s, &format!("{actor}-token-0123456789"));
                let mut asked: Vec<(Action, Option<&str>, Resp)> = vec![
                    (Action::GraphList, None, api.get("/graphs").await),
                    (Action::GraphCreate, None, api.create(&format!("made-{round}-{actor}")).await),
                    (Action::GraphDelete, None, api.delete("/graphs/zz-absent").await),
                ];
                for g in GRAPHS.iter().chain(&["prod-us"]) {
                    asked.push((Action::Read, Some(g), api.query(g, FRIENDS, json!({"name": "alice"})).await));
                    asked.push((Action::Change, Some(g), api.mutate(g, add, json!({"n": format!("by-{actor}")})).await));
                    asked.push((Action::Export, Some(g), api.get(&format!("/graphs/{g}/export")).await));
                }
                for (action, graph, r) in asked {
                    let want = p.decide(actor, action, graph, "main");
                    seen[want as usize] += 1;
                    let exists = graph.is_none_or(|g| GRAPHS.contains(&g));
                    let ok =
                        if want { r.status != 403 && (!exists || action == Action::GraphDelete || (200..300).contains(&r.status)) } else { r.status == 403 };
                    assert!(
                        ok,
                        "round {round}: {actor} {action} {graph:?}: reference says {want}, server {} {}\npolicy: {}\ngraph rules: {:?}",
                        r.status,
                        r.text,
                        p.file_text(),
                        own
                    );
                }
            }
        });
    }
    // Both answers were asked for, many times.
    assert!(seen[0] > 50 && seen[1] > 50, "denied {}, allowed {}", seen[0], seen[1]);
}
