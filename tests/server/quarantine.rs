//! Graphs the server will not serve: storage missing, or a write left
//! unfinished inside the graph. They are listed with the reason, their
//! requests get `503`, other graphs are served, and the background sweep
//! lifts the quarantine once the graph is repaired.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::common::*;

/// The `serving` object of `id` in `GET /graphs`.
async fn serving_of(api: &Api, id: &str) -> serde_json::Value {
    let list = api.get("/graphs").await.json();
    list["graphs"].as_array().unwrap().iter().find(|g| g["id"] == id).map(|g| g["serving"].clone()).unwrap_or_default()
}

#[tokio::test]
async fn a_graph_whose_storage_is_missing_is_quarantined_and_can_still_be_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let location = {
        let s = Server::start(dir.path());
        let api = Api::new(&s);
        assert_eq!(api.create("lost").await.status, 201);
        api.create_loaded("fine").await;
        api.get("/graphs/lost").await.json()["location"].as_str().unwrap().to_string()
    };
    std::fs::remove_dir_all(&location).unwrap();

    let s = Server::start(dir.path());
    let api = Api::new(&s);
    let serving = serving_of(&api, "lost").await;
    assert_eq!(serving["status"], "quarantined", "{serving}");
    assert!(serving["reason"].as_str().unwrap().contains("missing"), "{serving}");
    assert_eq!(api.get("/healthz").await.json()["graphs_quarantined"], 1);

    let q = api.query("lost", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(q.status, 503, "{}", q.text);
    assert_eq!(q.code(), "OG-HTTP-004");
    assert!(q.json()["error"].as_str().unwrap().contains("omnigraph recover"), "{}", q.text);
    let l = api.load("lost", DATA).await;
    assert_eq!(l.status, 503);
    // The other graph is served as usual.
    assert_eq!(column(&api.query("fine", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);

    // The operator tool names the problem and leaves it to a person.
    let out = Command::new(cli_bin()).args(["recover", "--catalog"]).arg(dir.path()).output().unwrap();
    let plan = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{plan}");
    assert!(plan.contains("lost") && plan.contains("missing"), "{plan}");

    // Deleting it is how the operator gives it up.
    let del = api.delete("/graphs/lost").await;
    assert_eq!(del.status, 200, "{}", del.text);
    assert_eq!(api.get("/graphs/lost").await.status, 404);
    assert_eq!(api.create("lost").await.status, 201);
    assert_eq!(serving_of(&api, "lost").await["status"], "serving");
}

#[tokio::test]
async fn a_graph_with_an_unfinished_write_is_quarantined_until_the_sweep_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let location = api.get("/graphs/g").await.json()["location"].as_str().unwrap().to_string();
    drop(api);
    drop(s);

    // A direct load that crashes between its table commits and the publish.
    let work = tempfile::tempdir().unwrap();
    let more = work.path().join("more.jsonl");
    std::fs::write(&more, "{\"type\":\"Person\",\"data\":{\"name\":\"dora\"}}\n{\"edge\":\"Knows\",\"from\":\"alice\",\"to\":\"dora\"}\n").unwrap();
    let out = Command::new(cli_bin())
        .args(["load", "--mode", "append", "--data"])
        .arg(&more)
        .args(["--store", &location])
        .env("OMNIGRAPH_FAILPOINT", "write.after_first_table_commit")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the load was meant to crash: {}", String::from_utf8_lossy(&out.stderr));

    // Sweeps are slow here, so the quarantine is seen before the repair.
    let s = Server::start_with(dir.path(), Opts { args: vec!["--sweep-ms".into(), "1500".into()], ..Default::default() });
    let api = Api::new(&s);
    let serving = serving_of(&api, "g").await;
    assert_eq!(serving["status"], "quarantined", "{serving}");
    assert!(serving["reason"].as_str().unwrap().contains("pending recovery"), "{serving}");
    assert_eq!(api.query("g", FRIENDS, json!({"name": "alice"})).await.status, 503);

    // The crashed process is gone, so the sweep repairs the graph and the
    // next refresh serves it; the unpublished load stays invisible.
    let served = eventually(Duration::from_secs(20), || async { serving_of(&api, "g").await["status"] == "serving" }).await;
    assert!(served.is_some(), "still quarantined: {}\n{}", serving_of(&api, "g").await, s.stderr());
    assert!(s.stderr().contains("recovery sweep"), "{}", s.stderr());
    assert_eq!(column(&api.query("g", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);
    assert_eq!(api.load("g", "{\"type\":\"Person\",\"data\":{\"name\":\"dora\"}}\n").await.status, 200);
}
