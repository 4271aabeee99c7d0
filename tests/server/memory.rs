//! Memory limits: `--cache-bytes`, one budget for the query data of every
//! graph the server holds (reported by `/healthz`), and `--max-query-rows`,
//! which refuses a query whose match would grow past it.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn graphs_share_the_cache_budget_and_answers_stay_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--cache-bytes".into(), "1500".into()], ..Default::default() });
    let api = Api::new(&s);
    for id in ["one", "two", "three"] {
        api.create_loaded(id).await;
    }
    for round in 0..3 {
        for id in ["one", "two", "three"] {
            let q = api.query(id, FRIENDS, json!({"name": "bob"})).await;
            assert_eq!(q.status, 200, "{}", q.text);
            assert_eq!(column(&q.json(), "f.name"), ["carol"], "{id}, round {round}");
            let cache = &api.get("/healthz").await.json()["query_cache"];
            let shares = ["limit_bytes", "lance_index_limit_bytes", "lance_metadata_limit_bytes"].map(|k| cache[k].as_u64().unwrap());
            assert_eq!(shares, [1126, 187, 187], "an eighth each for Lance's caches, the rest for query data: {cache}");
            assert!(cache["used_bytes"].as_u64().unwrap() <= 1126, "{cache}");
        }
    }
    let cache = &api.get("/healthz").await.json()["query_cache"];
    assert!(cache["evictions"].as_u64().unwrap() > 0, "three graphs cannot all fit in 1500 bytes: {cache}");
    // Deleting a graph gives back what its cache held.
    let before = cache["used_bytes"].as_u64().unwrap();
    for id in ["one", "two", "three"] {
        assert_eq!(api.delete(&format!("/graphs/{id}")).await.status, 200);
    }
    let after = api.get("/healthz").await.json()["query_cache"]["used_bytes"].as_u64().unwrap();
    assert!(before > 0 && after == 0, "before {before}, after {after}");
    assert!(!s.stderr().contains("panicked"), "{}", s.stderr());
}

#[tokio::test]
async fn the_default_budget_is_a_quarter_of_memory_and_keeps_what_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    assert_eq!(api.query("g", FRIENDS, json!({"name": "alice"})).await.status, 200);
    let cache = api.get("/healthz").await.json()["query_cache"].clone();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kib: u64 = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:")).unwrap().trim().trim_end_matches("kB").trim().parse().unwrap();
    let shares: u64 = ["limit_bytes", "lance_index_limit_bytes", "lance_metadata_limit_bytes"].iter().map(|k| cache[k].as_u64().unwrap()).sum();
    assert_eq!(shares, total_kib * 1024 / 4, "{cache}");
    let used = cache["used_bytes"].as_u64().unwrap();
    assert!(used > 0, "{cache}");
    // The same query again is answered from the cache: nothing new is charged.
    assert_eq!(api.query("g", FRIENDS, json!({"name": "alice"})).await.status, 200);
    assert_eq!(api.get("/healthz").await.json()["query_cache"]["used_bytes"].as_u64().unwrap(), used);
    assert_eq!(cache["evictions"], 0);
}

#[tokio::test]
async fn a_query_whose_match_grows_past_max_query_rows_gets_422() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--max-query-rows".into(), "8".into()], ..Default::default() });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    // Three people: a cross product has 9 rows.
    let cross = "query q() { match { $a: Person  $b: Person } return { count(*) as n } }";
    let r = api.query("g", cross, json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "OG-QUERY-016");
    assert_eq!(r.json()["kind"], "query_too_large");
    // The server is unharmed and narrower queries answer.
    let q = api.query("g", FRIENDS, json!({"name": "alice"})).await;
    assert_eq!(column(&q.json(), "f.name"), ["bob"]);
    let r = api.query("g", "query q() { match { $a: Person { name: \"bob\" }  $b: Person } return { count(*) as n } }", json!({})).await;
    assert_eq!(r.json()["rows"][0]["n"], 3, "{}", r.text);
}
