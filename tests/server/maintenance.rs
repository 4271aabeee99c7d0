//! Maintenance over HTTP: `optimize` and `cleanup` (`admin`), scheduled
//! maintenance reported in `/healthz`, on local disk and S3; and a change
//! feed consumer that sees every change once across a server restart.

use serde_json::{Value as Json, json};

use crate::common::*;

const ADD: &str = "query add($n: String) { insert Person { name: $n } }";
const AGE: &str = "query age($n: String, $a: I32) { update Person set { age: $a } where name = $n }";

async fn commits(api: &Api) -> Vec<String> {
    let r = api.get("/graphs/g/commits?limit=1000").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["commits"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

async fn churn(api: &Api, n: usize) {
    for i in 0..n {
        let r = if i % 2 == 0 { api.mutate("g", ADD, json!({"n": format!("n{i}")})).await } else { api.mutate("g", AGE, json!({"n": "alice", "a": i})).await };
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

async fn optimize_then_cleanup(catalog: &str) {
    let s = Server::start(catalog);
    let api = Api::new(&s);
    api.create_loaded("g").await;
    churn(&api, 8).await;
    let rows = api.get("/graphs/g/export").await.text;

    let o = api.post("/graphs/g/optimize", &json!({"message": "tidy"})).await;
    assert_eq!(o.status, 200, "{}", o.text);
    let c = &o.json()["commit"];
    assert_eq!((c["kind"].as_str(), c["actor"].as_str(), c["message"].as_str()), (Some("optimize"), Some("anonymous"), Some("tidy")), "{}", o.text);
    assert_eq!(api.get("/graphs/g/export").await.text, rows);
    let again = api.post("/graphs/g/optimize", &json!({})).await;
    assert_eq!(again.status, 200);
    assert!(again.json().get("commit").is_none(), "{}", again.text);

    let all = commits(&api).await;
    let dry = api.post("/graphs/g/cleanup", &json!({"keep_days": 0, "keep_commits": 2, "dry_run": true})).await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.json()["commits_removed"].as_u64(), Some(all.len() as u64 - 2), "{}", dry.text);
    assert_eq!(commits(&api).await, all);
    let done = api.post("/graphs/g/cleanup", &json!({"keep_days": 0, "keep_commits": 2})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.json()["bytes_freed"].as_u64().unwrap() > 0, "{}", done.text);
    assert_eq!(done.json()["oldest_kept"]["id"].as_str(), Some(all[1].as_str()));
    assert_eq!(commits(&api).await, all[..2].to_vec());
    assert_eq!(api.get("/graphs/g/export").await.text, rows);
    // Removed commits: 410, to read and as a change cursor.
    for path in [format!("/graphs/g/changes?from={}", all[5]), format!("/graphs/g/export?at={}", all[5]), format!("/graphs/g/commits/{}", all[5])] {
        let r = api.get(&path).await;
        assert_eq!((r.status, r.code()), (410, "OG-HISTORY-002".to_string()), "{path}: {}", r.text);
    }
    // Bad bodies: coded 400, nothing removed.
    for bad in [json!({"keep_commits": 0}), json!({"keep_days": -3}), json!({"keep_days": "soon"}), json!({"keep": 1}), json!([])] {
        let r = api.post("/graphs/g/cleanup", &bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert!(r.code() == "OG-HTTP-001" || r.code() == "OG-ARG-001", "{bad}: {}", r.text);
    }
    let r = api.post("/graphs/g/optimize", &json!({"message": "x\u{0}y"})).await;
    assert_eq!((r.status, r.code()), (400, "OG-ARG-001".to_string()), "{}", r.text);
    assert_eq!(commits(&api).await.len(), 2);
    // The CLI through the server says the same.
    let out = std::process::Command::new(cli_bin())
        .args(["cleanup", "--server", &s.url, "--graph", "g", "--keep-days", "0", "--keep-commits", "1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["commits_removed"].as_u64(), Some(1), "{said}");
    let out = std::process::Command::new(cli_bin()).args(["optimize", "--server", &s.url, "--graph", "g"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to optimize"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn optimize_and_cleanup_over_http_keep_the_kept_commits() {
    let dir = tempfile::tempdir().unwrap();
    optimize_then_cleanup(&dir.path().display().to_string()).await;
}

#[tokio::test]
async fn optimize_and_cleanup_on_s3() {
    let Some(cat) = s3_catalog("maintenance") else { return };
    optimize_then_cleanup(&cat).await;
}

#[tokio::test]
async fn scheduled_maintenance_runs_and_reports_in_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--maintenance-interval", "1s", "--maintenance-keep-days", "0", "--maintenance-keep-commits", "3"];
    let s = Server::start_with(dir.path(), Opts { args: args.iter().map(|a| a.to_string()).collect(), env: vec![] });
    let api = Api::new(&s);
    assert_eq!(api.get("/healthz").await.json()["maintenance"]["interval_ms"], json!(1000));
    api.create_loaded("g").await;
    churn(&api, 6).await;
    let rows = api.get("/graphs/g/export").await.text;
    let done = eventually(std::time::Duration::from_secs(30), || async {
        let h = api.get("/healthz").await.json();
        h["maintenance"]["runs"].as_u64().unwrap_or(0) >= 1 && commits(&api).await.len() == 3
    })
    .await;
    assert!(done.is_some(), "maintenance never ran: {} {}", api.get("/healthz").await.text, s.stderr());
    let h = api.get("/healthz").await.json();
    assert_eq!(h["maintenance"]["last_errors"], json!([]), "{h}");
    assert!(h["maintenance"]["last_finished_at"].is_string(), "{h}");
    assert_eq!(api.get("/graphs/g/export").await.text, rows);
    let kinds: Vec<String> =
        api.get("/graphs/g/commits").await.json()["commits"].as_array().unwrap().iter().map(|c| c["actor"].as_str().unwrap().to_string()).collect();
    assert!(kinds.contains(&"server-maintenance".to_string()), "{kinds:?}");
    // Off by default; a bad interval or retention stops the start with a code.
    let plain = Server::start(tempfile::tempdir().unwrap().path());
    assert!(Api::new(&plain).get("/healthz").await.json()["maintenance"].get("interval_ms").is_none());
    for (flags, code) in
        [(vec!["--maintenance-interval", "soon"], "OG-SERVER-005"), (vec!["--maintenance-interval", "1m", "--maintenance-keep-commits", "0"], "OG-SERVER-006")]
    {
        let out = std::process::Command::new(server_bin())
            .args(["--data", &dir.path().display().to_string(), "--bind", "127.0.0.1:0"])
            .args(&flags)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(code), "{flags:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Reads the change feed from `cursor`, handling at most `take` commits
/// (a consumer that stops part way), and returns the ids it inserted and
/// its cursor after them.
async fn consume(api: &Api, cursor: &str, take: usize) -> (Vec<String>, String) {
    let r = api.get(&format!("/graphs/g/changes?from={cursor}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut seen = Vec::new();
    let mut at = cursor.to_string();
    for line in r.text.lines().take(take) {
        let c: Json = serde_json::from_str(line).unwrap();
        let Some(id) = c["commit"].as_str() else { break };
        for row in c["changes"]["Person"]["inserted"].as_array().into_iter().flatten() {
            seen.push(row["data"]["name"].as_str().or(row["name"].as_str()).unwrap_or_default().to_string());
        }
        at = id.to_string();
    }
    (seen, at)
}

#[tokio::test]
async fn a_change_feed_consumer_sees_every_change_once_across_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    let start = commits(&api).await[0].clone();
    let mut written = Vec::new();
    for i in 0..6 {
        let n = format!("first{i}");
        assert_eq!(api.mutate("g", ADD, json!({"n": n})).await.status, 200);
        written.push(n);
    }
    // The consumer handles three commits, then stops; the server restarts.
    let (mut seen, cursor) = consume(&api, &start, 3).await;
    assert_eq!(seen.len(), 3);
    s.kill();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    for i in 0..4 {
        let n = format!("second{i}");
        assert_eq!(api.mutate("g", ADD, json!({"n": n})).await.status, 200);
        written.push(n);
    }
    // An optimize in between is a commit with no changes.
    assert_eq!(api.post("/graphs/g/optimize", &json!({})).await.status, 200);
    let (more, cursor) = consume(&api, &cursor, usize::MAX).await;
    seen.extend(more);
    assert_eq!(seen, written, "every change once, in commit order");
    let (none, last) = consume(&api, &cursor, usize::MAX).await;
    assert!(none.is_empty());
    assert_eq!(last, cursor);
}
