//! Writes through one server: mutations arriving together publish as one
//! batch (group commit), each answered with its own result; an invalid one
//! is refused alone; every acknowledged write is there afterwards.

use std::collections::BTreeSet;

use serde_json::json;

use crate::common::*;

const ADD: &str = "query add($n: String) { insert Person { name: $n } }";
const LINK: &str = "query link($a: String, $b: String) { insert Knows { from: $a, to: $b } }";

#[tokio::test]
async fn mutations_waiting_behind_a_load_publish_together_and_an_invalid_one_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    // A load whose body is still coming holds the graph's write turn.
    let (body, load) = slow_load(&api, "g");
    body.send("{\"type\":\"Person\",\"data\":{\"name\":\"loaded\"}}\n".into()).await.unwrap();
    until_in_flight(&api, 1).await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let api = Api::new(&s);
        tasks.push(tokio::spawn(async move {
            match i {
                // Names a person nobody wrote.
                9 => api.mutate("g", LINK, json!({"a": "alice", "b": "nobody"})).await,
                // Depends on another request of the same batch, or not:
                // either way it is answered on its own.
                _ => api.mutate("g", ADD, json!({"n": format!("w{i}")})).await,
            }
        }));
    }
    until_in_flight(&api, 25).await;
    // All 24 queued behind the load's turn (not just admitted).
    until_writes_waiting(&api, 24).await;
    drop(body);
    let l = load.await.unwrap();
    assert_eq!(l.status, 200, "{}", l.text);
    let mut versions = BTreeSet::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap();
        if i == 9 {
            assert_eq!((r.status, r.code()), (400, "OG-MUTATE-002".to_string()), "{}", r.text);
            continue;
        }
        assert_eq!(r.status, 200, "request {i}: {}", r.text);
        assert_eq!(r.json()["inserted"], 1, "request {i}: its own report");
        versions.insert(r.json()["manifest_version"].as_u64().unwrap());
    }
    assert!(versions.len() <= 2, "23 waiting mutations took {} publishes: {versions:?}", versions.len());
    // Every acknowledged row, and nothing of the refused one.
    let names = api.query("g", "query q() { match { $p: Person } return { $p.name } }", json!({})).await;
    let names = column(&names.json(), "p.name");
    for i in (0..24).filter(|i| *i != 9) {
        assert!(names.contains(&format!("w{i}")), "w{i} was acknowledged but is missing");
    }
    assert!(names.contains(&"loaded".to_string()));
    let bobs = api.query("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(column(&bobs.json(), "f.name"), ["bob"], "the refused edge is not there");
}

#[tokio::test]
async fn many_concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let mut tasks = Vec::new();
    for c in 0..16 {
        let api = Api::new(&s);
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..12 {
                let name = format!("c{c}-{i}");
                let r = api.mutate("g", ADD, json!({"n": name})).await;
                assert_eq!(r.status, 200, "{}", r.text);
                // And an edge to the node this writer just wrote.
                let e = api.mutate("g", LINK, json!({"a": "alice", "b": name})).await;
                assert_eq!(e.status, 200, "{}", e.text);
                acked.push(name);
            }
            acked
        }));
    }
    let mut acked = BTreeSet::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    let friends = column(&api.query("g", FRIENDS, json!({"name": "alice"})).await.json(), "f.name");
    let friends: BTreeSet<String> = friends.into_iter().collect();
    for name in &acked {
        assert!(friends.contains(name), "{name}: acknowledged, not found");
    }
    assert_eq!(friends.len(), acked.len() + 1, "alice knows bob and every acknowledged name");
}
