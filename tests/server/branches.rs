//! Branches over HTTP: the `/branches` routes, `branch` on every read and
//! write route, merges with conflicts (409), the policy's branch actions and
//! protected branches, two servers writing to two branches of one graph,
//! and a graph's branches through delete and restore.

use serde_json::{Value as Json, json};

use crate::common::*;

const ADD: &str = "query add($n: String) { insert Person { name: $n } }";
const AGE: &str = "query age($n: String, $a: I32) { update Person set { age: $a } where name = $n }";
const NAMES: &str = "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }";

async fn mutate_on(api: &Api, branch: &str, q: &str, params: Json) -> Resp {
    api.post("/graphs/g/mutate", &json!({"query": q, "params": params, "branch": branch})).await
}

async fn names_on(api: &Api, branch: &str) -> Vec<String> {
    let r = api.post(&format!("/graphs/g/query?branch={branch}"), &json!({"query": NAMES})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["rows"].as_array().unwrap().iter().map(|row| format!("{}:{}", row["p.name"].as_str().unwrap(), row["p.age"])).collect()
}

async fn branch_flow(catalog: &str) {
    let s = Server::start(catalog);
    let api = Api::new(&s);
    api.create_loaded("g").await;

    let r = api.post("/graphs/g/branches", &json!({"name": "feature"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["head"]["kind"], "branch");
    let main_head = api.get("/graphs/g/snapshot").await.json()["commit"]["id"].clone();
    assert_eq!(r.json()["created_from"], main_head);
    // Names are checked before anything is read.
    for bad in ["", "a/b", "../x", "-x", "x y", &"n".repeat(65)] {
        let r = api.post("/graphs/g/branches", &json!({"name": bad})).await;
        assert_eq!((r.status, r.code()), (400, "OG-BRANCH-001".to_string()), "{bad:?}: {}", r.text);
    }
    let r = api.post("/graphs/g/branches", &json!({"name": "feature"})).await;
    assert_eq!((r.status, r.code()), (409, "OG-BRANCH-003".to_string()), "{}", r.text);
    let r = api.post("/graphs/g/branches", &json!({"name": "x", "from": "nope"})).await;
    assert_eq!((r.status, r.code()), (404, "OG-BRANCH-002".to_string()), "{}", r.text);
    let r = api.post("/graphs/g/branches", &json!({"name": "x", "extra": 1})).await;
    assert_eq!(r.status, 400, "{}", r.text);

    // Writes on the branch, by body or by query string; main does not see them.
    assert_eq!(mutate_on(&api, "feature", ADD, json!({"n": "dave"})).await.status, 200);
    let r = api.post("/graphs/g/mutate?branch=feature", &json!({"query": AGE, "params": {"n": "alice", "a": 32}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.post("/graphs/g/mutate?branch=main", &json!({"query": AGE, "params": {"n": "alice", "a": 1}, "branch": "feature"})).await;
    assert_eq!(r.status, 400, "two different branches: {}", r.text);
    let r = mutate_on(&api, "nope", ADD, json!({"n": "x"})).await;
    assert_eq!((r.status, r.code()), (404, "OG-BRANCH-002".to_string()), "{}", r.text);
    let r = mutate_on(&api, "a/../b", ADD, json!({"n": "x"})).await;
    assert_eq!((r.status, r.code()), (400, "OG-BRANCH-001".to_string()), "{}", r.text);
    let r = api.post_raw("/graphs/g/load?branch=feature", "application/x-ndjson", "{\"type\":\"Person\",\"data\":{\"name\":\"erin\"}}\n").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names_on(&api, "main").await, ["alice:31", "bob:42", "carol:null"]);
    assert_eq!(names_on(&api, "feature").await, ["alice:32", "bob:42", "carol:null", "dave:null", "erin:null"]);
    let export = api.get("/graphs/g/export?branch=feature&type=Person").await;
    assert_eq!(export.text.lines().count(), 5, "{}", export.text);
    let snap = api.get("/graphs/g/snapshot?branch=feature").await;
    assert_eq!(snap.json()["commit"]["branch"], "feature", "{}", snap.text);
    let commits = api.get("/graphs/g/commits?branch=feature&limit=5").await.json();
    let kinds: Vec<&str> = commits["commits"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    // The load's index build is a commit of its own.
    assert_eq!(kinds, ["index", "load", "mutate", "mutate", "branch"]);
    let own = commits["commits"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(api.get(&format!("/graphs/g/commits/{own}?branch=feature")).await.status, 200);
    assert_eq!(api.get(&format!("/graphs/g/commits/{own}")).await.status, 404, "not a commit of main");
    let feed = api.get(&format!("/graphs/g/changes?branch=feature&from={}", main_head.as_str().unwrap())).await;
    assert_eq!(feed.status, 200, "{}", feed.text);
    assert_eq!(feed.text.lines().count(), 6, "5 commits and the cursor: {}", feed.text);

    let list = api.get("/graphs/g/branches").await.json();
    let names: Vec<&str> = list["branches"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["main", "feature"]);

    // A conflict: 409 with every conflict, nothing written.
    assert_eq!(mutate_on(&api, "main", AGE, json!({"n": "alice", "a": 40})).await.status, 200);
    let before = names_on(&api, "main").await;
    let r = api.post("/graphs/g/branches/feature/merge", &json!({})).await;
    assert_eq!((r.status, r.code()), (409, "OG-MERGE-001".to_string()), "{}", r.text);
    let conflicts = r.json()["conflicts"].clone();
    assert_eq!(
        conflicts,
        json!([{"kind": "divergent_update", "type": "Person", "id": "alice", "properties": ["age"], "message": "changed differently on both branches (age)"}])
    );
    assert_eq!(names_on(&api, "main").await, before);
    // Resolved on the branch: the same value as main's.
    assert_eq!(mutate_on(&api, "feature", AGE, json!({"n": "alice", "a": 40})).await.status, 200);
    let dry = api.post("/graphs/g/branches/feature/merge", &json!({"dry_run": true})).await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.json()["changes"]["Person"], json!({"inserted": 2, "updated": 0, "deleted": 0}), "{}", dry.text);
    assert_eq!(names_on(&api, "main").await, before);
    let done = api.post("/graphs/g/branches/feature/merge", &json!({"into": "main", "message": "ship it", "delete_source": true})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let d = done.json();
    assert_eq!((d["outcome"].as_str(), d["commit"]["kind"].as_str(), d["commit"]["message"].as_str()), (Some("merged"), Some("merge"), Some("ship it")));
    assert_eq!(d["commit"]["parents"].as_array().unwrap().len(), 2);
    assert_eq!(d["source_deleted"], true);
    assert_eq!(names_on(&api, "main").await, ["alice:40", "bob:42", "carol:null", "dave:null", "erin:null"]);
    let r = api.post("/graphs/g/query?branch=feature", &json!({"query": NAMES})).await;
    assert_eq!((r.status, r.code()), (404, "OG-BRANCH-002".to_string()), "the merged branch was deleted: {}", r.text);
    assert_eq!(api.get("/graphs/g/branches").await.json()["branches"].as_array().unwrap().len(), 1);

    // Deletes: main never; unknown 404; bad names 400.
    let r = api.delete("/graphs/g/branches/main").await;
    assert_eq!((r.status, r.code()), (409, "OG-BRANCH-004".to_string()), "{}", r.text);
    let r = api.delete("/graphs/g/branches/feature").await;
    assert_eq!((r.status, r.code()), (404, "OG-BRANCH-002".to_string()), "{}", r.text);
    let r = api.delete("/graphs/g/branches/a%2F..%2Fb").await;
    assert_eq!((r.status, r.code()), (400, "OG-BRANCH-001".to_string()), "{}", r.text);
    let r = api.post("/graphs/g/branches/main/merge", &json!({"into": "main"})).await;
    assert_eq!((r.status, r.code()), (409, "OG-MERGE-002".to_string()), "{}", r.text);
    let r = api.post("/graphs/g/branches/x/merge", &json!({"into": 5})).await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn branches_over_http_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    branch_flow(dir.path().to_str().unwrap()).await;
}

#[tokio::test]
async fn branches_over_http_on_s3() {
    let Some(catalog) = s3_catalog("branches") else { return };
    branch_flow(&catalog).await;
}

const TOKENS: &str = r#"{"ann": "ann-token-0123456789", "rev": "rev-token-0123456789", "ro": "ro-token-0123456789", "root": "root-token-0123456789"}"#;

const POLICY: &str = r#"
groups:
  writers: [ann]
  reviewers: [rev]
  readers: [ro]
  admins: [root]
protected_branches: [main]
rules:
  - allow: [graph_list, graph_create, graph_delete, read, change, export, branch_create, branch_delete, branch_merge]
    groups: [admins]
    branches: [main]
  - allow: [read, change, branch_create, branch_delete, branch_merge]
    groups: [writers]
  - allow: [read, branch_merge]
    groups: [reviewers]
    branches: [main]
  - allow: [read]
    groups: [readers]
"#;

fn tok(actor: &str) -> String {
    format!("{actor}-token-0123456789")
}

#[tokio::test]
async fn the_policy_decides_per_branch_and_protects_main() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _files) = crate::auth::secured_with(dir.path(), TOKENS, Some(POLICY), &[]);
    let root = Api::with_token(&s, &tok("root"));
    root.create_loaded("g").await;
    let (ann, rev, ro) = (Api::with_token(&s, &tok("ann")), Api::with_token(&s, &tok("rev")), Api::with_token(&s, &tok("ro")));

    // (actor, action, status): the matrix.
    let mut results: Vec<(&str, &str, u16)> = Vec::new();
    for (name, api) in [("ann", &ann), ("rev", &rev), ("ro", &ro)] {
        let branch = format!("b-{name}");
        results.push((name, "branch_create", api.post("/graphs/g/branches", &json!({"name": branch})).await.status));
        // The branch exists for every actor from here on.
        if results.last().unwrap().2 != 201 {
            assert_eq!(root.post("/graphs/g/branches", &json!({"name": branch})).await.status, 201);
        }
        results.push((name, "change on branch", mutate_on(api, &branch, ADD, json!({"n": format!("by-{name}")})).await.status));
        results.push((name, "change on main", mutate_on(api, "main", ADD, json!({"n": format!("main-{name}")})).await.status));
        results.push((name, "read on branch", api.post(&format!("/graphs/g/query?branch={branch}"), &json!({"query": NAMES})).await.status));
        if name != "ann" {
            // Something to merge.
            assert_eq!(mutate_on(&ann, &branch, ADD, json!({"n": format!("for-{name}")})).await.status, 200);
        }
        results.push((name, "branch_merge into main", api.post(&format!("/graphs/g/branches/{branch}/merge"), &json!({})).await.status));
        results.push((name, "branch_delete", api.delete(&format!("/graphs/g/branches/{branch}")).await.status));
    }
    let want: Vec<(&str, &str, u16)> = vec![
        ("ann", "branch_create", 201),
        ("ann", "change on branch", 200),
        ("ann", "change on main", 403),
        ("ann", "read on branch", 200),
        // A writer's rule does not name the protected main.
        ("ann", "branch_merge into main", 403),
        ("ann", "branch_delete", 200),
        ("rev", "branch_create", 403),
        ("rev", "change on branch", 403),
        ("rev", "change on main", 403),
        ("rev", "read on branch", 200),
        ("rev", "branch_merge into main", 200),
        ("rev", "branch_delete", 403),
        ("ro", "branch_create", 403),
        ("ro", "change on branch", 403),
        ("ro", "change on main", 403),
        ("ro", "read on branch", 200),
        ("ro", "branch_merge into main", 403),
        ("ro", "branch_delete", 403),
    ];
    assert_eq!(results, want);
    // The refusal of a protected branch says why.
    let r = mutate_on(&ann, "main", ADD, json!({"n": "x"})).await;
    assert!(r.text.contains("protected"), "{}", r.text);
    // Only the reviewer's merge reached main.
    let names = names_of(&root).await;
    assert!(names.contains(&"for-rev".to_string()) && !names.iter().any(|n| n.starts_with("main-") || n == "for-ro"), "{names:?}");
}

async fn names_of(api: &Api) -> Vec<String> {
    let r = api.post("/graphs/g/query", &json!({"query": NAMES})).await;
    column(&r.json(), "p.name")
}

#[tokio::test]
async fn two_servers_write_to_two_branches_without_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let (s1, s2) = (Server::start(dir.path()), Server::start(dir.path()));
    let (a1, a2) = (Api::new(&s1), Api::new(&s2));
    a1.create_loaded("g").await;
    for b in ["left", "right"] {
        assert_eq!(a1.post("/graphs/g/branches", &json!({"name": b})).await.status, 201);
    }
    let per = 12;
    let left = async {
        let mut statuses = Vec::new();
        for i in 0..per {
            statuses.push(mutate_on(&a1, "left", ADD, json!({"n": format!("l{i}")})).await.status);
        }
        statuses
    };
    let right = async {
        let mut statuses = Vec::new();
        for i in 0..per {
            statuses.push(mutate_on(&a2, "right", ADD, json!({"n": format!("r{i}")})).await.status);
        }
        statuses
    };
    let (l, r) = tokio::join!(left, right);
    assert!(l.iter().chain(&r).all(|s| *s == 200), "{l:?} {r:?}");
    // Each server reads the other's branch as written.
    assert_eq!(names_on(&a2, "left").await.len(), 3 + per);
    assert_eq!(names_on(&a1, "right").await.len(), 3 + per);
    assert_eq!(names_on(&a1, "main").await.len(), 3);
    // Both merge into main, one after the other: no conflict (disjoint rows).
    assert_eq!(a1.post("/graphs/g/branches/left/merge", &json!({})).await.status, 200);
    let r = a2.post("/graphs/g/branches/right/merge", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names_on(&a1, "main").await.len(), 3 + 2 * per);
}

#[tokio::test]
async fn a_deleted_graph_takes_its_branches_and_a_restore_brings_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    api.create_loaded("g").await;
    assert_eq!(api.post("/graphs/g/branches", &json!({"name": "keep"})).await.status, 201);
    assert_eq!(mutate_on(&api, "keep", ADD, json!({"n": "kept"})).await.status, 200);
    let before = names_on(&api, "keep").await;
    assert_eq!(api.delete("/graphs/g?retain=1h").await.status, 200);
    let r = api.get("/graphs/g/branches").await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = api.post("/graphs/g/restore", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names_on(&api, "keep").await, before);
    assert_eq!(api.get("/graphs/g/branches").await.json()["branches"].as_array().unwrap().len(), 2);
    // Deleted for good: nothing of it is left to read.
    assert_eq!(api.delete("/graphs/g").await.status, 200);
    assert_eq!(api.post("/graphs/g/query?branch=keep", &json!({"query": NAMES})).await.status, 404);
}

#[tokio::test]
async fn scheduled_maintenance_keeps_branches_too() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--maintenance-interval", "1s", "--maintenance-keep-days", "0", "--maintenance-keep-commits", "2"];
    let s = Server::start_with(dir.path(), Opts { args: args.iter().map(|a| a.to_string()).collect(), env: vec![] });
    let api = Api::new(&s);
    api.create_loaded("g").await;
    assert_eq!(api.post("/graphs/g/branches", &json!({"name": "b"})).await.status, 201);
    for i in 0..6 {
        assert_eq!(mutate_on(&api, "b", ADD, json!({"n": format!("n{i}")})).await.status, 200);
    }
    let rows = names_on(&api, "b").await;
    let own = |c: &Json| c["branch"] == "b";
    let done = eventually(std::time::Duration::from_secs(30), || async {
        let page = api.get("/graphs/g/commits?branch=b&limit=50").await.json();
        let commits: Vec<Json> = page["commits"].as_array().cloned().unwrap_or_default();
        // Optimized by the server, and cleaned up to the last two of its own.
        commits.first().is_some_and(|c| c["kind"] == "optimize" && c["actor"] == "server-maintenance") && commits.iter().filter(|c| own(c)).count() == 2
    })
    .await;
    assert!(done.is_some(), "the branch was never maintained: {} {}", api.get("/graphs/g/commits?branch=b").await.text, s.stderr());
    assert_eq!(names_on(&api, "b").await, rows);
    assert_eq!(api.get("/healthz").await.json()["maintenance"]["last_errors"], json!([]));
}
