//! Writes to one graph through several servers (one catalog, local or on
//! the S3 test server): a write that loses the publish race to the other
//! server runs again on the new head, so independent writes all land,
//! exactly once; only a real conflict is refused, alone, with a 409 that
//! names the entity; a crash between a lost race and its retry loses
//! nothing acknowledged and publishes nothing twice.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::common::*;

const SCHEMA: &str = "node Item { key: String @key\n n: I32? }";
const INSERT: &str = "query add($k: String) { insert Item { key: $k } }";
const SET: &str = "query set($k: String, $n: I32) { update Item set { n: $n } where key = $k }";
const ALL: &str = "query all() { match { $i: Item } return { $i.key, $i.n } }";

async fn create_items(api: &Api) {
    let r = api.post("/graphs", &json!({"id": "g", "schema": SCHEMA})).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Every stored item: key -> how many rows carry it, and its `n`.
async fn items(api: &Api) -> BTreeMap<String, (usize, Json)> {
    let r = api.query("g", ALL, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut out: BTreeMap<String, (usize, Json)> = BTreeMap::new();
    for row in r.json()["rows"].as_array().unwrap() {
        let e = out.entry(row["i.key"].as_str().unwrap().to_string()).or_insert((0, Json::Null));
        e.0 += 1;
        e.1 = row["i.n"].clone();
    }
    out
}

async fn write_retries(api: &Api) -> u64 {
    api.get("/healthz").await.json()["write_retries"].as_u64().unwrap()
}

/// 8 clients, 15 distinct keys each, spread over two servers on `catalog`.
async fn independent_inserts_all_land(catalog: &str) {
    let (a, b) = (Server::start(catalog), Server::start(catalog));
    let apis = [Api::new(&a), Api::new(&b)];
    create_items(&apis[0]).await;
    let mut clients = Vec::new();
    for c in 0..8 {
        let urls = [a.url.clone(), b.url.clone()];
        clients.push(tokio::spawn(async move {
            let mut retries = 0;
            for i in 0..15 {
                let api = Api { base: urls[(c + i) % 2].clone(), token: None, http: client() };
                let r = api.mutate("g", INSERT, json!({"k": format!("c{c}-{i}")})).await;
                assert_eq!(r.status, 200, "client {c}, insert {i}: {}", r.text);
                assert_eq!(r.json()["inserted"], 1, "{}", r.text);
                retries += r.json()["retries"].as_u64().unwrap();
            }
            retries
        }));
    }
    let mut retries = 0;
    for c in clients {
        retries += c.await.unwrap();
    }
    for api in &apis {
        let stored = items(api).await;
        assert_eq!(stored.len(), 120, "every acknowledged insert is visible through {}", api.base);
        assert!(stored.values().all(|(n, _)| *n == 1), "each exactly once: {stored:?}");
    }
    // Each reply's retries are the servers' count (a retried batch counts
    // once per request it carried, and once in the server).
    let counted = write_retries(&apis[0]).await + write_retries(&apis[1]).await;
    assert!(counted <= retries, "servers counted {counted} retries, replies {retries}");
    assert_eq!(counted == 0, retries == 0, "servers counted {counted} retries, replies {retries}");
}

#[tokio::test]
async fn independent_inserts_through_two_servers_all_land_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    independent_inserts_all_land(&dir.path().to_string_lossy()).await;
}

#[tokio::test]
async fn independent_inserts_through_two_servers_on_s3_all_land_exactly_once() {
    let Some(cat) = s3_catalog("races") else { return };
    independent_inserts_all_land(&cat).await;
}

#[tokio::test]
async fn json_loads_through_two_servers_all_land_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Server::start(dir.path()), Server::start(dir.path()));
    create_items(&Api::new(&a)).await;
    let mut clients = Vec::new();
    for c in 0..6 {
        let url = if c % 2 == 0 { a.url.clone() } else { b.url.clone() };
        clients.push(tokio::spawn(async move {
            let api = Api { base: url, token: None, http: client() };
            let mut retries = 0;
            for l in 0..6 {
                let data: Vec<Json> = (0..5).map(|i| json!({"type": "Item", "data": {"key": format!("c{c}-l{l}-{i}")}})).collect();
                let r = api.post("/graphs/g/load", &json!({"mode": "append", "data": data})).await;
                assert_eq!(r.status, 200, "client {c}, load {l}: {}", r.text);
                retries += r.json()["retries"].as_u64().unwrap();
            }
            retries
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let stored = items(&Api::new(&b)).await;
    assert_eq!(stored.len(), 6 * 6 * 5, "every acknowledged load is visible");
    assert!(stored.values().all(|(n, _)| *n == 1), "each row exactly once");
}

#[tokio::test]
async fn the_same_key_inserted_through_two_servers_lands_once_and_the_other_is_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Server::start(dir.path()), Server::start(dir.path()));
    let apis = [Api::new(&a), Api::new(&b)];
    create_items(&apis[0]).await;
    for round in 0..10 {
        let key = format!("k{round}");
        let (x, y) = tokio::join!(apis[0].mutate("g", INSERT, json!({"k": key})), apis[1].mutate("g", INSERT, json!({"k": key})));
        let mut statuses = [x.status, y.status];
        statuses.sort();
        assert_eq!(statuses[0], 200, "round {round}: one insert lands: {} / {}", x.text, y.text);
        let loser = if x.status == 200 { &y } else { &x };
        // Refused on its first run (the other had published) or on its
        // retry (the other published first): either way the key is named.
        match (loser.status, loser.code().as_str()) {
            (400, "OG-MUTATE-001") => {}
            (409, "OG-PUBLISH-003") => assert_eq!(loser.json()["details"]["cause"], "OG-MUTATE-001", "{}", loser.text),
            other => panic!("round {round}: unexpected {other:?}: {}", loser.text),
        }
        assert!(loser.text.contains(&key), "round {round}: the refusal names the key: {}", loser.text);
    }
    assert_eq!(items(&apis[1]).await.len(), 10);
}

#[tokio::test]
async fn two_updates_of_one_node_through_two_servers_both_apply_in_publish_order() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Server::start(dir.path()), Server::start(dir.path()));
    let apis = [Api::new(&a), Api::new(&b)];
    create_items(&apis[0]).await;
    assert_eq!(apis[0].mutate("g", INSERT, json!({"k": "x"})).await.status, 200);
    for round in 0..10 {
        let (x, y) = tokio::join!(apis[0].mutate("g", SET, json!({"k": "x", "n": 2 * round})), apis[1].mutate("g", SET, json!({"k": "x", "n": 2 * round + 1})));
        assert_eq!((x.status, y.status), (200, 200), "round {round}: {} / {}", x.text, y.text);
        assert_eq!((x.json()["updated"].as_u64(), y.json()["updated"].as_u64()), (Some(1), Some(1)));
        let (vx, vy) = (x.json()["manifest_version"].as_u64().unwrap(), y.json()["manifest_version"].as_u64().unwrap());
        assert_ne!(vx, vy, "round {round}: two publishes");
        // The one published last wins.
        let last = if vx > vy { 2 * round } else { 2 * round + 1 };
        let stored = items(&apis[0]).await;
        assert_eq!(stored["x"], (1, json!(last)), "round {round}: one row, the last publish's value");
    }
}

/// A server that crashes right after losing a publish race (before its
/// retry) acknowledged none of that batch and published none of it; the
/// other server's writes and the crashed one's earlier acknowledged writes
/// are all there, once.
#[tokio::test]
async fn a_crash_between_a_lost_race_and_its_retry_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Server::start(dir.path());
        create_items(&Api::new(&s)).await;
    }
    let short_lease = ("OMNIGRAPH_LEASE_MS", "1000".to_string());
    let mut doomed =
        Server::start_with(dir.path(), Opts { args: vec![], env: vec![("OMNIGRAPH_FAILPOINT", "write.before_retry".to_string()), short_lease.clone()] });
    let steady = Server::start_with(dir.path(), Opts { args: vec![], env: vec![short_lease.clone()] });
    // In rounds: each round starts when the last one is answered, so no
    // server waits for the other's turn (`graph::intents`) and the two race
    // afresh; the doomed one loses a round sooner or later and crashes.
    let http = client();
    let mut acked = Vec::new();
    let mut doomed_up = true;
    for round in 0..60 {
        let mut sent = Vec::new();
        for c in 0..8 {
            if c % 2 == 0 && !doomed_up {
                continue;
            }
            let base = if c % 2 == 0 { doomed.url.clone() } else { steady.url.clone() };
            let key = format!("c{c}-{round}");
            let body = json!({"query": INSERT, "params": {"k": key}}).to_string();
            let req = http.post(format!("{base}/graphs/g/mutate")).header("content-type", "application/json").body(body);
            sent.push((c, key, tokio::spawn(req.send())));
        }
        for (c, key, r) in sent {
            match r.await.unwrap() {
                Ok(r) if r.status() == 200 => acked.push(key),
                Ok(r) => panic!("client {c}: {} {}", r.status(), r.text().await.unwrap_or_default()),
                // The doomed server died: its clients stop.
                Err(_) => doomed_up = false,
            }
        }
        if !doomed_up && round > 5 {
            break;
        }
    }
    let status = tokio::time::timeout(std::time::Duration::from_secs(60), doomed.exited()).await;
    assert!(matches!(status, Ok(s) if !s.success()), "the doomed server never lost a race (or did not stop at the failpoint): {}", doomed.stderr());
    drop(doomed);
    let api = Api::new(&steady);
    let stored = items(&api).await;
    assert!(stored.values().all(|(n, _)| *n == 1), "each row once: {stored:?}");
    let stored: Vec<&String> = stored.keys().collect();
    let mut acked_sorted: Vec<&String> = acked.iter().collect();
    acked_sorted.sort();
    assert_eq!(stored, acked_sorted, "exactly the acknowledged inserts are visible");
    // And the graph takes writes through a fresh server after recovery.
    let again = Server::start_with(dir.path(), Opts { args: vec![], env: vec![short_lease] });
    let r = Api::new(&again).mutate("g", INSERT, json!({"k": "after"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// A graph this server has not served yet, asked for by many requests at
/// once, is opened into one handle: every write goes through one write
/// turn, and the retries it counts are the replies'.
#[tokio::test]
async fn a_graph_first_asked_for_by_many_requests_at_once_is_served_by_one_handle() {
    let dir = tempfile::tempdir().unwrap();
    // `b` starts first and refreshes its catalog view rarely: the graph `a`
    // creates next is unknown to it when the requests come.
    let b = Server::start_with(dir.path(), Opts { args: vec!["--refresh-ms".into(), "600000".into()], env: vec![] });
    let a = Server::start(dir.path());
    create_items(&Api::new(&a)).await;
    let mut clients = Vec::new();
    for c in 0..8 {
        let url = b.url.clone();
        clients.push(tokio::spawn(async move {
            let api = Api { base: url, token: None, http: client() };
            let r = api.mutate("g", INSERT, json!({"k": format!("k{c}")})).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json()["retries"].as_u64().unwrap()
        }));
    }
    let mut retries = 0;
    for c in clients {
        retries += c.await.unwrap();
    }
    let api = Api::new(&b);
    assert_eq!(items(&api).await.len(), 8);
    let opened = b.stderr().matches("serving graph `g`").count();
    assert_eq!(opened, 1, "one handle: {}", b.stderr());
    assert_eq!(retries, 0, "writes through one handle never race each other");
    assert_eq!(write_retries(&api).await, 0);
}
