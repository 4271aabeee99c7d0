//! Two server processes on one catalog: the live registry, the fence, and
//! same-id races; graceful shutdown.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_graph_created_through_a_is_served_by_b() {
    let dir = tempfile::tempdir().unwrap();
    let a = Server::start(dir.path());
    // B refreshes at the default interval.
    let b = Server::start_with(dir.path(), Opts { args: vec!["--refresh-ms".into(), "500".into()], ..Default::default() });
    let (api_a, api_b) = (Api::new(&a), Api::new(&b));

    // At once on a request for an id B has not seen.
    api_a.create_loaded("first").await;
    let q = api_b.query("first", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(column(&q.json(), "f.name"), ["bob"]);

    // And within a second without any request for it.
    assert_eq!(api_a.create("second").await.status, 201);
    let took = eventually(Duration::from_secs(1), || async {
        api_b.get("/graphs").await.json()["graphs"].as_array().unwrap().iter().any(|g| g["id"] == "second" && g["serving"]["status"] == "serving")
    })
    .await;
    assert!(took.is_some(), "B did not serve `second` within 1 s");
}

#[tokio::test]
async fn after_a_deletes_b_answers_404_and_acknowledges_no_write() {
    let dir = tempfile::tempdir().unwrap();
    let a = Server::start(dir.path());
    let b = Server::start(dir.path());
    let (api_a, api_b) = (Api::new(&a), Api::new(&b));
    api_a.create_loaded("g").await;
    // B serves g before the delete.
    assert_eq!(api_b.query("g", FRIENDS, json!({"name": "alice"})).await.status, 200);

    // B writes in a loop while A deletes.
    let add = "query add($n: String) { insert Person { name: $n } }";
    let writer = tokio::spawn(async move {
        let mut log = Vec::new();
        for i in 0..400 {
            let r = api_b.mutate("g", add, json!({"n": format!("w{i}")})).await;
            log.push((std::time::Instant::now(), r.status, r.code()));
            if r.status == 404 && log.iter().filter(|(_, s, _)| *s == 404).count() > 3 {
                break;
            }
        }
        (log, api_b)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let del = api_a.delete("/graphs/g").await;
    let deleted_at = std::time::Instant::now();
    assert_eq!(del.status, 200, "{}", del.text);
    let (log, api_b) = writer.await.unwrap();
    assert!(log.iter().any(|(_, s, _)| *s == 200), "B never wrote before the delete: {log:?}");
    for (t, status, code) in &log {
        if *t > deleted_at {
            assert_ne!(*status, 200, "B acknowledged a write after A's DELETE returned");
            assert!(matches!(*status, 404 | 409), "unexpected {status} {code}");
        }
    }
    // Reads through B: 404 at once (the fence), and the registry drops it.
    let q = api_b.query("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(q.status, 404, "{}", q.text);
    let gone = eventually(Duration::from_secs(1), || async { api_b.get("/graphs/g").await.status == 404 }).await;
    assert!(gone.is_some());
}

#[tokio::test]
async fn twenty_concurrent_creates_of_one_id_over_two_servers_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let a = Server::start(dir.path());
    let b = Server::start(dir.path());
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
        tasks.push(tokio::spawn(async move {
            let api = Api { base, token: None, http: client() };
            api.create("contested").await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            201 => created += 1,
            409 => assert!(matches!(r.code().as_str(), "OG-CATALOG-002" | "OG-CATALOG-003"), "{}", r.text),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(created, 1);
    let api = Api::new(&a);
    assert_eq!(api.get("/graphs/contested").await.json()["state"], "active");
    assert_eq!(api.load("contested", DATA).await.status, 200);
    // Exactly one incarnation directory exists.
    let incarnations = std::fs::read_dir(dir.path().join("graphs/contested")).unwrap().count();
    assert_eq!(incarnations, 1);
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    assert_eq!(api.create("g").await.status, 201);

    // A load whose body arrives slowly: in flight when SIGTERM lands.
    let (tx, pending) = slow_load(&api, "g");
    tx.send(DATA.lines().take(3).map(|l| format!("{l}\n")).collect()).await.unwrap();
    until_in_flight(&api, 1).await;
    unsafe_kill(s.pid(), 15);
    // New connections are refused while the old request finishes.
    let refused = eventually(Duration::from_secs(5), || async {
        reqwest::Client::new().get(format!("{}/healthz", s.url)).timeout(Duration::from_secs(2)).send().await.is_err()
    })
    .await;
    assert!(refused.is_some(), "new connections were still served after SIGTERM");
    assert!(!pending.is_finished(), "the load in flight ended before its body did");
    tx.send(DATA.lines().skip(3).map(|l| format!("{l}\n")).collect()).await.unwrap();
    drop(tx);
    let r = pending.await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["rows"]["Person"], 3);
    let mut s = s;
    let status = s.exited().await;
    assert!(status.success(), "exit {status:?}; stderr: {}", s.stderr());
    assert!(s.stderr().contains("shutting down"));
    // The load was published.
    let again = Server::start(dir.path());
    let q = Api::new(&again).query("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(column(&q.json(), "f.name"), ["bob"]);
}

pub fn unsafe_kill(pid: i32, signal: i32) {
    let status = std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success());
}
