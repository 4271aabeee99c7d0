//! A server killed in the middle of a create: restart, the background
//! recovery sweep, and a catalog that agrees with storage.

use std::time::Duration;

use serde_json::json;

use crate::common::*;
use crate::live::unsafe_kill;

/// Starts a create on a server paused (or aborting) at `failpoint`, kills
/// it there, restarts a clean server, and checks the outcome.
async fn killed_mid_create(failpoint: &str, sigkill: bool) {
    let dir = tempfile::tempdir().unwrap();
    let short_lease = ("OMNIGRAPH_LEASE_MS", "1000".to_string());
    // A bystander graph whose bytes must not change.
    {
        let s = Server::start(dir.path());
        let api = Api::new(&s);
        api.create_loaded("bystander").await;
    }
    let bystander = tree_hash(dir.path().join("graphs/bystander"));

    let mut s = Server::start_with(dir.path(), Opts { args: vec![], env: vec![("OMNIGRAPH_FAILPOINT", failpoint.to_string()), short_lease.clone()] });
    let url = s.url.clone();
    let create = spawn_create(&url, "victim");
    if sigkill {
        let paused = eventually(Duration::from_secs(30), || async { s.stderr().contains("paused") }).await;
        assert!(paused.is_some(), "never reached {failpoint}: {}", s.stderr());
        unsafe_kill(s.pid(), 9);
    }
    s.exited().await;
    assert!(create.await.unwrap().is_err(), "the create was answered although its server died");
    drop(s);

    let s = Server::start_with(dir.path(), Opts { args: vec![], env: vec![short_lease] });
    let api = Api::new(&s);
    // The background sweep resolves the operation once its lease expires.
    until_settled(&api, &s).await;

    let victim = api.get("/graphs/victim").await;
    match victim.status {
        200 => {
            // Rolled forward: fully visible and usable. (The registry
            // follows the catalog at its next refresh, or at the first
            // request for the graph, as here.)
            assert_eq!(victim.json()["state"], "active", "{}", victim.text);
            assert_eq!(api.load("victim", DATA).await.status, 200);
            assert_eq!(column(&api.query("victim", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);
            assert_eq!(api.get("/graphs/victim").await.json()["serving"]["status"], "serving");
        }
        404 => {
            // Rolled back: fully absent once the sweep finished the roll
            // back (it publishes `failed` first, then removes the
            // incarnation, then retires the sidecar), and the id can be
            // created again.
            let leftovers = || std::fs::read_dir(dir.path().join("graphs/victim")).map(|d| d.count()).unwrap_or(0);
            let gone = eventually(Duration::from_secs(30), || async { leftovers() == 0 }).await;
            assert!(gone.is_some(), "rolled back but its data remains: {}", s.stderr());
            assert_eq!(api.create("victim").await.status, 201);
        }
        other => panic!("unexpected {other}: {}", victim.text),
    }
    assert_eq!(tree_hash(dir.path().join("graphs/bystander")), bystander, "the bystander graph changed");
    assert_eq!(column(&api.query("bystander", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);

    // The operator tool agrees there is nothing left to do.
    let out = std::process::Command::new(cli_bin()).args(["recover", "--catalog"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn kill_9_after_init_before_publish_then_restart_recovers() {
    killed_mid_create("create.after_init=pause", true).await;
}

#[tokio::test]
async fn kill_9_after_reserve_then_restart_recovers() {
    killed_mid_create("create.after_reserve=pause", true).await;
}

#[tokio::test]
async fn abort_during_engine_init_then_restart_recovers() {
    killed_mid_create("init.after_first_table", false).await;
}
