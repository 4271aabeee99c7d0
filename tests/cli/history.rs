//! `commit list|show`, `--as`, `--message`, `--at` and `--if-commit` on
//! the direct CLI, and a crashed write rolled forward with its commit.

use serde_json::Value as Json;

use crate::common::*;

fn json(s: &str) -> Json {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn commits_carry_actor_and_message_and_reads_go_back_to_them() {
    let w = Work::new();
    let g = w.graph();
    w.ok(&["init", "--schema", "schema.pg", &g]);
    let loaded = json(&w.ok(&["load", "--store", &g, "--data", "data.jsonl", "--as", "loader", "-m", "seed", "--json"]));
    let first = loaded["commit"].as_str().unwrap().to_string();
    let out = bin()
        .current_dir(w.dir.path())
        .env("OMNIGRAPH_ACTOR", "from-env")
        .args(["mutate", "--store", &g, "-e", "query a() { update Person set { age: 99 } where name = \"ada\" }"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains("updated 1") && said.contains("; commit 0"), "{said}");

    let page = json(&w.ok(&["commit", "list", "--store", &g, "--json"]));
    let commits = page["commits"].as_array().unwrap();
    let who: Vec<(&str, &str)> = commits.iter().map(|c| (c["actor"].as_str().unwrap(), c["kind"].as_str().unwrap())).collect();
    assert_eq!(who[0], ("from-env", "mutate"));
    assert!(who.contains(&("loader", "load")), "{who:?}");
    let shown = json(&w.ok(&["commit", "show", &first, "--store", &g, "--json"]));
    assert_eq!((shown["message"].as_str(), shown["changes"]["Person"]["inserted"].as_u64()), (Some("seed"), Some(2)));
    let lines = w.ok(&["commit", "list", "--store", &g, "--limit", "2"]);
    assert_eq!(lines.lines().count(), 3, "two commits and the cursor to the rest: {lines}");
    assert!(lines.lines().next().unwrap().contains("from-env") && lines.contains("more: --before"), "{lines}");

    // As of the load: ada still 36, in queries, exports and snapshots.
    let q = "query q() { match { $p: Person { name: \"ada\" } } return { $p.age } }";
    let then = json(&w.ok(&["query", "--store", &g, "-e", q, "--at", &first, "--format", "json"]));
    assert_eq!((then["rows"][0]["p.age"].as_i64(), then["metadata"]["commit"].as_str()), (Some(36), Some(first.as_str())));
    let now = json(&w.ok(&["query", "--store", &g, "-e", q, "--format", "json"]));
    assert_eq!(now["rows"][0]["p.age"].as_i64(), Some(99));
    assert!(w.ok(&["export", "--store", &g, "--at", &first]).contains("\"age\":36"));
    let snap = json(&w.ok(&["snapshot", "--store", &g, "--at", &first, "--json"]));
    assert_eq!(snap["commit"]["id"].as_str(), Some(first.as_str()));

    // Bad `--at`, unknown commit: coded errors, exit 1.
    for (at, code) in [("yesterday", "OG-ARG-001"), ("01M96AZQTR00000000FFFFCD7E", "OG-HISTORY-001"), ("1999-01-01T00:00:00Z", "OG-HISTORY-001")] {
        let o = w.run(&["query", "--store", &g, "-e", q, "--at", at, "--json"]);
        assert_eq!(o.status.code(), Some(1), "{at}");
        assert!(String::from_utf8_lossy(&o.stdout).contains(code) || stderr(&o).contains(code), "{at}: {}", stderr(&o));
    }
}

#[test]
fn a_write_on_a_moved_head_exits_4_and_writes_nothing() {
    let w = Work::new();
    let g = w.graph();
    w.ok(&["init", "--schema", "schema.pg", &g]);
    let head = json(&w.ok(&["snapshot", "--store", &g, "--json"]))["commit"]["id"].as_str().unwrap().to_string();
    w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
    let add = "query add($n: String) { insert Person { name: $n } }";
    let o = w.run(&["mutate", "--store", &g, "-e", add, "--params", "{\"n\":\"late\"}", "--if-commit", &head, "--json"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = String::from_utf8_lossy(&o.stdout).to_string() + &stderr(&o);
    assert!(err.contains("OG-HISTORY-003"), "{err}");
    let o = w.run(&["load", "--store", &g, "--data", "data.jsonl", "--mode", "merge", "--if-commit", &head]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(w.rows("Person"), 2, "nothing of either was written");
    let now = json(&w.ok(&["snapshot", "--store", &g, "--json"]))["commit"]["id"].as_str().unwrap().to_string();
    let r = json(&w.ok(&["mutate", "--store", &g, "-e", add, "--params", "{\"n\":\"on-time\"}", "--if-commit", &now, "--json"]));
    let c = json(&w.ok(&["commit", "show", r["commit"].as_str().unwrap(), "--store", &g, "--json"]));
    assert_eq!(c["parents"][0].as_str(), Some(now.as_str()));
}

#[test]
fn a_crashed_write_rolled_forward_keeps_its_actor_and_message() {
    let w = Work::new();
    let g = w.graph();
    w.ok(&["init", "--schema", "schema.pg", &g]);
    let add = "query add($n: String) { insert Person { name: $n } }";
    let o = w.run_with_failpoint(
        "write.before_publish",
        &["mutate", "--store", &g, "-e", add, "--params", "{\"n\":\"eve\"}", "--as", "crashy", "-m", "before the crash"],
    );
    assert!(killed_by_abort(&o), "the failpoint must abort: {}", stderr(&o));
    w.ok(&["recover", "--store", &g, "--apply"]);
    let page = json(&w.ok(&["commit", "list", "--store", &g, "--json"]));
    let top = &page["commits"][0];
    assert_eq!((top["actor"].as_str(), top["message"].as_str(), top["kind"].as_str()), (Some("crashy"), Some("before the crash"), Some("mutate")), "{page}");
    assert_eq!(w.rows("Person"), 1);
}
