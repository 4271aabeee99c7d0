//! Servers on a catalog in S3-compatible object storage (the S3 test server
//! that `scripts/test.sh` starts): two processes on one bucket prefix, the
//! same-id race between them, the delete fence, and a kill -9 mid-create
//! resolved by a restarted server's background sweep.

use std::time::Duration;

use serde_json::json;

use crate::common::*;
use crate::live::unsafe_kill;

/// `omnigraph recover --catalog <cat>`: its exit code and plan.
fn recover(cat: &str) -> (Option<i32>, String) {
    let out = std::process::Command::new(cli_bin()).args(["recover", "--catalog", cat]).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn person_count(doc: &serde_json::Value) -> i64 {
    doc["rows"][0]["n"].as_i64().unwrap_or(-1)
}

const COUNT: &str = "query n() { match { $p: Person } return { count(*) as n } }";
const ADD: &str = "query add($n: String) { insert Person { name: $n } }";

#[tokio::test]
async fn two_servers_share_one_catalog_on_s3() {
    let Some(cat) = s3_catalog("server") else { return };
    let a = Server::start(&cat);
    let b = Server::start(&cat);
    let (api_a, api_b) = (Api::new(&a), Api::new(&b));

    // Ten creates of one id spread over both processes: one winner.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let base = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
        tasks.push(tokio::spawn(async move { Api { base, token: None, http: client() }.create("shared").await }));
    }
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            201 => {
                created += 1;
                assert!(r.json()["location"].as_str().unwrap().starts_with(&format!("{cat}/graphs/shared/")), "{}", r.text);
            }
            409 => assert!(matches!(r.code().as_str(), "OG-CATALOG-002" | "OG-CATALOG-003"), "{}", r.text),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(created, 1);

    // Written through A, read through B, and the other way round.
    assert_eq!(api_a.load("shared", DATA).await.status, 200);
    let q = api_b.query("shared", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(column(&q.json(), "f.name"), ["bob"]);
    assert_eq!(api_b.mutate("shared", ADD, json!({"n": "dave"})).await.status, 200);
    assert_eq!(person_count(&api_a.query("shared", COUNT, json!({})).await.json()), 4);

    // Deleted through A: B answers 404 and acknowledges no write.
    assert_eq!(api_a.delete("/graphs/shared").await.status, 200);
    let w = api_b.mutate("shared", ADD, json!({"n": "late"})).await;
    assert_eq!(w.status, 404, "{}", w.text);
    assert_eq!(api_b.query("shared", COUNT, json!({})).await.status, 404);

    // A new process on the same prefix sees the catalog as A left it.
    let c = Server::start(&cat);
    let api_c = Api::new(&c);
    assert_eq!(api_c.get("/graphs/shared").await.status, 404);
    assert_eq!(api_c.create("shared").await.status, 201, "the id is free again after the delete");
    assert_eq!(person_count(&api_c.query("shared", COUNT, json!({})).await.json()), 0);
    let (code, plan) = recover(&cat);
    assert_eq!(code, Some(0), "{plan}");
}

#[tokio::test]
async fn kill_9_mid_create_on_s3_is_resolved_after_restart() {
    let Some(cat) = s3_catalog("server") else { return };
    let short_lease = ("OMNIGRAPH_LEASE_MS", "1000".to_string());
    {
        let s = Server::start(&cat);
        let api = Api::new(&s);
        api.create_loaded("bystander").await;
    }

    let mut s = Server::start_with(&cat, Opts { args: vec![], env: vec![("OMNIGRAPH_FAILPOINT", "create.after_init=pause".to_string()), short_lease.clone()] });
    let url = s.url.clone();
    let create = spawn_create(&url, "victim");
    let paused = eventually(Duration::from_secs(30), || async { s.stderr().contains("paused") }).await;
    assert!(paused.is_some(), "never reached the failpoint: {}", s.stderr());
    // The operation is in flight: the operator tool reports it and waits.
    let (code, plan) = recover(&cat);
    assert_eq!(code, Some(1), "{plan}");
    assert!(plan.contains("victim"), "{plan}");
    unsafe_kill(s.pid(), 9);
    s.exited().await;
    assert!(create.await.unwrap().is_err(), "the create was answered although its server died");
    drop(s);

    let s = Server::start_with(&cat, Opts { args: vec![], env: vec![short_lease] });
    let api = Api::new(&s);
    until_settled(&api, &s).await;
    // After init, before publish: rolled forward or back, never half there.
    let victim = api.get("/graphs/victim").await;
    match victim.status {
        200 => {
            assert_eq!(api.load("victim", DATA).await.status, 200);
            assert_eq!(column(&api.query("victim", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);
        }
        404 => assert_eq!(api.create("victim").await.status, 201),
        other => panic!("unexpected {other}: {}", victim.text),
    }
    assert_eq!(column(&api.query("bystander", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);
    let (code, plan) = recover(&cat);
    assert_eq!(code, Some(0), "{plan}");
}

#[tokio::test]
async fn a_store_without_conditional_writes_is_refused_at_start() {
    let Some(cat) = s3_catalog("server") else { return };
    // The same bucket, but the client told the store offers no conditional
    // puts: every guarantee of the catalog would be void.
    let out = std::process::Command::new(server_bin())
        .args(["--catalog", &cat, "--bind", "127.0.0.1:0"])
        .env("AWS_CONDITIONAL_PUT", "disabled")
        .env_remove("OMNIGRAPH_TOKENS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("OG-CATALOG-014") && err.contains("conditional"), "{err}");
    // With conditional puts (the default), the same catalog serves.
    let s = Server::start(&cat);
    assert_eq!(Api::new(&s).get("/healthz").await.status, 200);
}
