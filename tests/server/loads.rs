//! Loads of any size through the server: NDJSON streams into the loader with
//! no total limit (unless `--max-load-bytes` sets one), a per-line limit, an
//! idle timeout, and nothing published when the client goes away mid-body.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

fn person_lines(n: usize, pad: usize) -> String {
    let pad = "x".repeat(pad);
    (0..n).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"q{i:06}{pad}\",\"age\":{}}}}}\n", i % 90)).collect()
}

async fn people(api: &Api) -> u64 {
    let q = api.query("g", "query n() { match { $p: Person } return { count(*) as n } }", json!({})).await;
    q.json()["rows"][0]["n"].as_u64().unwrap()
}

#[tokio::test]
async fn an_ndjson_load_has_no_total_limit_but_lines_have_one() {
    let dir = tempfile::tempdir().unwrap();
    // The JSON-form limit is tiny; NDJSON loads are not bound by it.
    let args = ["--max-body-bytes", "4096", "--max-line-bytes", "2048"].map(String::from).to_vec();
    let s = Server::start_with(dir.path(), Opts { args, ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let big = person_lines(20_000, 200); // about 4.5 MB, a thousand times the body limit
    let r = api.load("g", &big).await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    assert_eq!(r.json()["rows"]["Person"], 20_000);
    assert!(r.json()["elapsed_ms"].as_u64().is_some(), "{}", r.text);
    assert_eq!(people(&api).await, 20_003);
    // The JSON form keeps its body limit.
    let r = api.post("/graphs/g/load", &json!({"data": person_lines(60, 100)})).await;
    assert_eq!((r.status, r.code().as_str()), (413, "OG-HTTP-002"));
    // A line over the line limit fails the whole load with its line number.
    let mut lines = person_lines(3, 10);
    lines.push_str(&format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"long\",\"note\":\"{}\"}}}}\n", "y".repeat(5000)));
    lines.push_str(&person_lines(2, 11));
    let r = api.load("g", &lines).await;
    assert_eq!((r.status, r.code().as_str()), (400, "OG-LOAD-001"), "{}", &r.text[..r.text.len().min(400)]);
    let d = &r.json()["details"][0];
    assert_eq!((d["line"].as_u64(), d["code"].as_str()), (Some(4), Some("OG-LOAD-015")), "{}", r.text);
    // The same as the last line without a final newline.
    let r = api.load("g", &format!("{}{}", person_lines(1, 12), "z".repeat(3000))).await;
    assert_eq!(r.json()["details"][0]["line"], 2, "{}", r.text);
    assert_eq!(people(&api).await, 20_003, "a rejected load published rows");
}

#[tokio::test]
async fn an_operator_may_still_set_a_total_limit() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--max-load-bytes".into(), "100000".into()], ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let r = api.load("g", &person_lines(2_000, 100)).await;
    assert_eq!((r.status, r.code().as_str()), (413, "OG-HTTP-002"), "{}", r.text);
    assert_eq!(people(&api).await, 3);
}

#[tokio::test]
async fn a_client_that_goes_away_mid_body_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let before = api.get("/graphs/g/snapshot").await.json()["manifest_version"].clone();
    let (tx, held) = slow_load(&api, "g");
    tx.send(person_lines(5_000, 50)).await.unwrap();
    until_in_flight(&api, 1).await;
    // The client is killed: its connection closes mid-body.
    held.abort();
    drop(tx);
    let settled = eventually(Duration::from_secs(30), || async { api.get("/healthz").await.json()["requests_in_flight"] == 0 }).await;
    assert!(settled.is_some(), "the abandoned load never ended");
    assert_eq!(api.get("/graphs/g/snapshot").await.json()["manifest_version"], before, "the abandoned load published");
    assert_eq!(people(&api).await, 3);
    // The graph takes the next load at once.
    let r = api.load("g", &person_lines(10, 5)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(people(&api).await, 13);
}
