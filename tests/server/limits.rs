//! Resource limits a single client cannot get past: the result-size bound,
//! the query deadline, in-flight slots held for the whole life of a streamed
//! answer, and the idle timeout of stalled loads and exports.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

/// `n` people named p00000.. with long names, as NDJSON.
fn people(n: usize) -> String {
    (0..n).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i:05}-{}\",\"age\":{}}}}}\n", "x".repeat(60), i % 90)).collect()
}

#[tokio::test]
async fn a_result_past_max_result_bytes_is_refused_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--max-result-bytes".into(), "2000000".into()], ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    assert_eq!(api.load("g", &people(300)).await.status, 200);
    // 303 x 303 pairs of whole nodes: far past 2 MB.
    let r = api.query("g", "query q() { match { $a: Person $b: Person } return { $a, $b } }", json!({})).await;
    assert_eq!((r.status, r.code().as_str()), (422, "OG-QUERY-018"), "{}", &r.text[..r.text.len().min(300)]);
    // Ordered, the sort keys of every row count too, even for a short page.
    let r = api.query("g", "query q() { match { $a: Person $b: Person } return { $a.name } order { $b.name } limit 3 }", json!({})).await;
    assert_eq!((r.status, r.code().as_str()), (422, "OG-QUERY-018"), "{}", &r.text[..r.text.len().min(300)]);
    // An unordered page of the same match builds only its rows; an ordered
    // page of one variable fits. Both stream as one JSON document.
    let r = api.query("g", "query q() { match { $a: Person $b: Person } return { $a.name, $b.name } limit 5 }", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["rows"].as_array().unwrap().len(), 5);
    let r = api.query("g", "query q() { match { $a: Person } return { $a.name, $a } order { $a.name } }", json!({})).await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    let doc = r.json();
    assert_eq!(doc["rows"].as_array().unwrap().len(), 303);
    assert_eq!(doc["metadata"]["row_count"], 303);
    assert_eq!(doc["rows"][0]["a.name"], "alice");
    assert_eq!(column(&api.query("g", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);
}

#[tokio::test]
async fn a_query_past_its_deadline_is_stopped_with_504() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--query-timeout".into(), "200ms".into()], ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    assert_eq!(api.load("g", &people(300)).await.status, 200);
    // One filter over all three variables: 303^3 = 27.8M rows to build and
    // test in memory, seconds of work.
    let q = "query q() { match { $a: Person $b: Person $c: Person $a.age = $b.age or $b.age = $c.age or $c.name = \"x\" } return { count(*) as n } }";
    let r = api.query("g", q, json!({})).await;
    assert_eq!((r.status, r.code().as_str()), (504, "OG-QUERY-019"), "{}", r.text);
    assert_eq!(column(&api.query("g", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);
    // A bad flag is refused at start with a code.
    let out = std::process::Command::new(server_bin())
        .arg("--catalog")
        .arg(dir.path())
        .args(["--bind", "127.0.0.1:0", "--query-timeout", "forever"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OG-SERVER-005"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn a_client_that_stops_reading_an_export_holds_its_slot_until_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--max-in-flight", "1", "--idle-timeout", "2s"].map(String::from).to_vec();
    let s = Server::start_with(dir.path(), Opts { args, ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    // About 30 MB of NDJSON: far more than the socket and channel buffers hold.
    let pad = "x".repeat(250);
    for _ in 0..5 {
        let batch: String = (0..20_000).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"{}-{i}-{pad}\"}}}}\n", ulid::Ulid::new())).collect();
        assert_eq!(api.load("g", &batch).await.status, 200);
    }
    // Start the export and read only its first bytes.
    let mut stalled = client().get(format!("{}/graphs/g/export", s.url)).send().await.unwrap();
    assert_eq!(stalled.status(), 200);
    let first = stalled.chunk().await.unwrap();
    assert!(first.is_some());
    // The export is still being produced: its slot is taken.
    let r = api.get("/graphs").await;
    assert_eq!((r.status, r.code().as_str()), (429, "OG-HTTP-003"), "{}", r.text);
    // After the idle timeout the server stops producing for the reader:
    // the export's thread is free again. The answer still holds the
    // actor's slot for as long as its connection lives.
    let cut = eventually(Duration::from_secs(30), || async { s.stderr().contains("cut off, its thread is free again") }).await;
    assert!(cut.is_some(), "the stalled export was never cut off: {}", s.stderr());
    assert_eq!(api.get("/graphs").await.status, 429);
    // The client goes away: its slot comes back.
    drop(stalled);
    let freed = eventually(Duration::from_secs(30), || async { api.get("/graphs").await.status == 200 }).await;
    assert!(freed.is_some(), "the slot of a closed export was never given back");
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}

#[tokio::test]
async fn a_stalled_load_gives_up_the_write_lock_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--idle-timeout".into(), "1s".into()], ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let (tx, held) = slow_load(&api, "g");
    tx.send("{\"type\":\"Person\",\"data\":{\"name\":\"half\"}}\n".to_string()).await.unwrap();
    // The load sends nothing more but keeps its connection open.
    let r = tokio::time::timeout(Duration::from_secs(30), held).await.expect("the stalled load was never cut off").unwrap();
    assert_eq!((r.status, r.code().as_str()), (408, "OG-HTTP-013"), "{}", r.text);
    drop(tx);
    // Nothing of it was loaded, and writes go on.
    let m = api.mutate("g", "query add($n: String) { insert Person { name: $n } }", json!({"n": "next"})).await;
    assert_eq!(m.status, 200, "{}", m.text);
    let q = api.query("g", "query q() { match { $p: Person { name: \"half\" } } return { $p.name } }", json!({})).await;
    assert!(q.json()["rows"].as_array().unwrap().is_empty(), "{}", q.text);
}

#[tokio::test]
async fn a_query_whose_client_went_away_stops_computing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--query-timeout".into(), "5m".into()], ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    assert_eq!(api.load("g", &people(300)).await.status, 200);
    let q = "query q() { match { $a: Person $b: Person $c: Person $a.age = $b.age or $b.age = $c.age or $c.name = \"x\" } return { count(*) as n } }";
    // The client gives up after half a second; the query would run much longer.
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let sent =
        impatient.post(format!("{}/graphs/g/query", s.url)).header("content-type", "application/json").body(json!({"query": q}).to_string()).send().await;
    assert!(sent.is_err(), "the query answered within half a second");
    let stopped = eventually(Duration::from_secs(60), || async { s.stderr().contains("stopped: its client went away") }).await;
    assert!(stopped.is_some(), "the query kept computing for nobody: {}", s.stderr());
    assert_eq!(column(&api.query("g", FRIENDS, json!({"name": "alice"})).await.json(), "f.name"), ["bob"]);
}
