//! Tokens, the Cedar policy allow/deny matrix, per-graph policies, the
//! loopback rule and the per-actor in-flight limit.

use serde_json::json;

use crate::common::*;

const TOKENS: &str =
    r#"{"admin": "admin-token-0123456789", "reader": "reader-token-0123456789", "writer": "writer-token-0123456789", "nobody": "nobody-token-0123456789"}"#;

const POLICY: &str = r#"
groups:
  admins: [admin]
  readers: [reader]
  writers: [writer]
rules:
  - allow: [graph_list, graph_create, graph_delete, read, change, export, schema_apply, admin]
    groups: [admins]
  - allow: [graph_list, read]
    groups: [readers]
  - allow: [read, change, export]
    groups: [writers]
"#;

pub fn token(actor: &str) -> String {
    format!("{actor}-token-0123456789")
}

pub fn secured(dir: &std::path::Path, policy: Option<&str>, extra: &[&str]) -> (Server, tempfile::TempDir) {
    secured_with(dir, TOKENS, policy, extra)
}

/// A server on `dir` with the tokens file `tokens` (JSON) and, when given,
/// the policy file `policy`; the files live in the returned directory.
pub fn secured_with(dir: &std::path::Path, tokens: &str, policy: Option<&str>, extra: &[&str]) -> (Server, tempfile::TempDir) {
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("tokens.json"), tokens).unwrap();
    let mut args = vec!["--tokens-file".to_string(), files.path().join("tokens.json").display().to_string()];
    if let Some(p) = policy {
        std::fs::write(files.path().join("policy.yaml"), p).unwrap();
        args.extend(["--policy-file".to_string(), files.path().join("policy.yaml").display().to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    (Server::start_with(dir, Opts { args, env: vec![] }), files)
}

#[tokio::test]
async fn every_action_is_allowed_or_denied_as_the_policy_says() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let admin = Api::with_token(&s, &token("admin"));
    admin.create_loaded("g").await;

    let expected: &[(&str, &[&str])] = &[
        ("admin", &["graph_list", "graph_create", "graph_delete", "read", "change", "export", "admin"]),
        ("reader", &["graph_list", "read"]),
        ("writer", &["read", "change", "export"]),
        ("nobody", &[]),
    ];
    let add = "query add($n: String) { insert Person { name: $n } }";
    for (n, (actor, allowed)) in expected.iter().enumerate() {
        let api = Api::with_token(&s, &token(actor));
        // A graph for this actor to try deleting.
        let victim = format!("victim{n}");
        assert_eq!(admin.create(&victim).await.status, 201);
        let results = [
            ("graph_list", api.get("/graphs").await),
            ("graph_create", api.create(&format!("made-by-{actor}")).await),
            ("graph_delete", api.delete(&format!("/graphs/{victim}")).await),
            ("read", api.query("g", FRIENDS, json!({"name": "alice"})).await),
            ("change", api.mutate("g", add, json!({"n": format!("by-{actor}")})).await),
            ("export", api.get("/graphs/g/export").await),
            ("admin", api.post("/graphs/g/cleanup", &json!({"dry_run": true})).await),
        ];
        for (action, r) in results {
            if allowed.contains(&action) {
                assert!((200..300).contains(&r.status), "{actor} {action}: expected allowed, got {} {}", r.status, r.text);
            } else {
                assert_eq!(r.status, 403, "{actor} {action}: expected 403, got {} {}", r.status, r.text);
                assert_eq!(r.code(), "OG-AUTH-003");
                assert!(r.text.contains(actor) && r.text.contains(action), "{}", r.text);
            }
        }
    }
    // Denied writes changed nothing: only admin's and writer's rows were added.
    let people = admin.query("g", "query q() { match { $p: Person } return { $p.name } order { $p.name } }", json!({})).await;
    assert_eq!(column(&people.json(), "p.name"), ["alice", "bob", "by-admin", "by-writer", "carol"]);
}

#[tokio::test]
async fn the_actor_comes_from_the_token_only() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let http = client();
    let url = format!("{}/graphs", s.url);

    let r = send(http.get(&url)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "OG-AUTH-001");
    let r = send(http.get(&url).header("authorization", "Bearer not-a-token-at-all")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "OG-AUTH-002");
    // Naming another actor in a header or the body changes nothing.
    let r = send(http.get(&url).header("authorization", format!("Bearer {}", token("nobody"))).header("x-actor", "admin").header("x-omnigraph-actor", "admin"))
        .await;
    assert_eq!(r.status, 403);
    let r = send(
        http.post(&url)
            .header("authorization", format!("Bearer {}", token("nobody")))
            .header("content-type", "application/json")
            .body(json!({"id": "x", "schema": SCHEMA, "actor": "admin"}).to_string()),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Health needs no token.
    assert_eq!(send(http.get(format!("{}/healthz", s.url))).await.status, 200);
}

#[tokio::test]
async fn tokens_without_a_policy_allow_read_only() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Server::start(dir.path());
        let api = Api::new(&s);
        api.create_loaded("g").await;
    }
    let (s, _files) = secured(dir.path(), None, &[]);
    let api = Api::with_token(&s, &token("admin"));
    assert_eq!(api.query("g", FRIENDS, json!({"name": "alice"})).await.status, 200);
    assert_eq!(api.get("/graphs/g/snapshot").await.status, 200);
    assert_eq!(api.get("/graphs").await.status, 403);
    assert_eq!(api.create("h").await.status, 403);
    assert_eq!(api.get("/graphs/g/export").await.status, 403);
    assert_eq!(api.mutate("g", "query add($n: String) { insert Person { name: $n } }", json!({"n": "x"})).await.status, 403);
    assert_eq!(api.delete("/graphs/g").await.status, 403);
}

#[tokio::test]
async fn a_policy_attached_at_create_applies_to_that_graph_only() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let admin = Api::with_token(&s, &token("admin"));
    assert_eq!(admin.create("g").await.status, 201);
    let r = admin.post("/graphs", &json!({"id": "team", "schema": SCHEMA, "policy": "rules:\n  - allow: [read]\n    actors: [nobody]\n"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.json()["metadata"]["policy"]["rules"].is_array());
    let nobody = Api::with_token(&s, &token("nobody"));
    assert_eq!(nobody.query("team", FRIENDS, json!({"name": "alice"})).await.status, 200);
    assert_eq!(nobody.query("g", FRIENDS, json!({"name": "alice"})).await.status, 403);
    assert_eq!(nobody.get("/graphs/g/export").await.status, 403);
    // A second server process reads the stored policy from the catalog.
    let (b, _files_b) = secured(dir.path(), Some(POLICY), &[]);
    let nobody_b = Api::with_token(&b, &token("nobody"));
    assert_eq!(nobody_b.query("team", FRIENDS, json!({"name": "alice"})).await.status, 200);
    assert_eq!(nobody_b.query("g", FRIENDS, json!({"name": "alice"})).await.status, 403);
}

#[tokio::test]
async fn an_actor_over_its_in_flight_limit_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &["--max-in-flight", "1"]);
    let admin = Api::with_token(&s, &token("admin"));
    assert_eq!(admin.create("g").await.status, 201);

    // Hold one admin request open: a load whose body has not finished.
    let (tx, held) = slow_load(&admin, "g");
    tx.send(DATA.lines().next().unwrap().to_string() + "\n").await.unwrap();
    until_in_flight(&admin, 1).await;
    let r = admin.get("/graphs").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.code(), "OG-HTTP-003");
    assert_eq!(r.retry_after.as_deref(), Some("1"));
    // Another actor is not affected.
    assert_eq!(Api::with_token(&s, &token("reader")).get("/graphs").await.status, 200);
    drop(tx);
    assert_eq!(held.await.unwrap().status, 200);
    assert_eq!(admin.get("/graphs").await.status, 200);
}

#[test]
fn a_public_bind_without_tokens_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(server_bin())
        .arg("--catalog")
        .arg(dir.path())
        .args(["--bind", "0.0.0.0:0"])
        .env_remove("OMNIGRAPH_TOKENS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("OG-SERVER-004") && err.contains("--unauthenticated"), "{err}");
    // Nothing was created.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn listing_and_showing_follow_each_graphs_own_rules_and_health_names_no_paths() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let admin = Api::with_token(&s, &token("admin"));
    let reader = Api::with_token(&s, &token("reader"));
    // `secret` denies the readers what the server policy allows them.
    let rules = "rules:\n  - deny: [read]\n    groups: [readers]\n";
    let r = admin.post("/graphs", &json!({"id": "secret", "schema": SCHEMA, "policy": rules, "metadata": {"owner": "ops"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(admin.create("open").await.status, 201);
    assert_eq!(reader.query("secret", FRIENDS, json!({"name": "alice"})).await.status, 403);
    // The list holds only what the caller may read.
    let list = reader.get("/graphs").await.json();
    let ids: Vec<&str> = list["graphs"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["open"], "{list}");
    assert_eq!(admin.get("/graphs").await.json()["graphs"].as_array().unwrap().iter().find(|g| g["id"] == "secret").unwrap()["metadata"]["owner"], "ops");
    assert_eq!(reader.get("/graphs/secret").await.status, 403);
    assert_eq!(reader.get("/graphs/open").await.status, 200);
    // The same while this server does not serve the graph: its storage is
    // gone, so it is quarantined, and the graph's own rules still decide.
    let location = admin.get("/graphs/secret").await.json()["location"].as_str().unwrap().to_string();
    drop(s);
    std::fs::remove_dir_all(&location).unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let admin = Api::with_token(&s, &token("admin"));
    let reader = Api::with_token(&s, &token("reader"));
    assert_eq!(admin.get("/graphs/secret").await.json()["serving"]["status"], "quarantined");
    let r = reader.get("/graphs/secret").await;
    assert_eq!((r.status, r.code().as_str()), (403, "OG-AUTH-003"), "{}", r.text);
    // A 5xx answer names no server path; health (no token) names no catalog.
    let q = admin.query("secret", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(q.status, 503, "{}", q.text);
    assert!(!q.text.contains(dir.path().to_str().unwrap()), "{}", q.text);
    let health = send(client().get(format!("{}/healthz", s.url))).await;
    assert_eq!(health.status, 200);
    assert!(!health.text.contains(dir.path().to_str().unwrap()) && health.json().get("catalog").is_none(), "{}", health.text);
}

#[tokio::test]
async fn metadata_cannot_smuggle_in_a_graph_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let admin = Api::with_token(&s, &token("admin"));
    let rules = json!({"rules": [{"allow": ["read", "change"], "actors": ["*"]}]});
    let r = admin.post("/graphs", &json!({"id": "open", "schema": SCHEMA, "metadata": {"policy": rules, "owner": "x"}})).await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-HTTP-001"), "{}", r.text);
    assert_eq!(admin.get("/graphs/open").await.status, 404, "nothing was created");
    // Other metadata is kept, and the nobody actor still gets nothing.
    let r = admin.post("/graphs", &json!({"id": "open", "schema": SCHEMA, "metadata": {"owner": "x"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        Api::with_token(&s, &token("nobody")).mutate("open", "query add($n: String) { insert Person { name: $n } }", json!({"n": "m"})).await.status,
        403
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_401s_say_how_to_authenticate() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = secured(dir.path(), Some(POLICY), &[]);
    let http = client();
    let url = format!("{}/graphs", s.url);
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let r = send(http.get(&url).header("authorization", format!("{scheme} {}", token("admin")))).await;
        assert_eq!(r.status, 200, "{scheme}: {}", r.text);
    }
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers().get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Bearer"));
    let r = http.get(&url).header("authorization", "Basic YWRtaW46eA==").send().await.unwrap();
    assert_eq!(r.status(), 401);
}

/// Starts a server whose tokens file holds `tokens`; it must refuse to
/// start (exit 2). Returns what it printed.
fn refused_with_tokens(file_name: &str, tokens: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join(file_name), tokens).unwrap();
    let out = std::process::Command::new(server_bin())
        .arg("--catalog")
        .arg(dir.path())
        .args(["--bind", "127.0.0.1:0", "--tokens-file"])
        .arg(files.path().join(file_name))
        .env_remove("OMNIGRAPH_TOKENS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn a_token_with_surrounding_spaces_is_refused_at_start() {
    let err = refused_with_tokens("tokens.json", r#"{"admin": " admin-token-0123456789 "}"#);
    assert!(err.contains("OG-SERVER-003") && err.contains("spaces"), "{err}");
}

#[test]
fn an_actor_given_twice_in_the_tokens_file_is_refused_at_start() {
    let err = refused_with_tokens("tokens.yaml", "admin: admin-token-0123456789\nadmin: other-token-0123456789\n");
    assert!(err.contains("OG-SERVER-003") && err.contains("given twice"), "{err}");
}
