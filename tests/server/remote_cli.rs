//! The same scenario through the CLI directly (`--catalog`, `--store`) and
//! through a server (`--server`, `--graph`): identical output.

use std::path::Path;
use std::process::Command;

use crate::common::*;

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn omnigraph(cwd: &Path, args: &[&str]) -> Out {
    let o = Command::new(cli_bin())
        .current_dir(cwd)
        .args(args)
        .env_remove("OMNIGRAPH_CATALOG")
        .env_remove("OMNIGRAPH_SERVER")
        .env_remove("OMNIGRAPH_TOKEN")
        .env_remove("OMNIGRAPH_FAILPOINT")
        .output()
        .unwrap();
    Out { code: o.status.code(), stdout: String::from_utf8_lossy(&o.stdout).into(), stderr: String::from_utf8_lossy(&o.stderr).into() }
}

fn ok(cwd: &Path, args: &[&str]) -> String {
    let o = omnigraph(cwd, args);
    assert_eq!(o.code, Some(0), "omnigraph {args:?}: {}{}", o.stdout, o.stderr);
    o.stdout
}

/// Graph `g` on a server, reachable two ways: directly (`--store`, its
/// location) and through the server (`--server --graph`). The work dir
/// holds `s.pg` and `data.jsonl`.
struct Both {
    _catalog_dir: tempfile::TempDir,
    work: tempfile::TempDir,
    _server: Server,
    catalog: String,
    url: String,
    store: String,
}

impl Both {
    fn start() -> Both {
        let catalog_dir = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("s.pg"), SCHEMA).unwrap();
        std::fs::write(work.path().join("data.jsonl"), DATA).unwrap();
        let catalog = catalog_dir.path().display().to_string();
        let server = Server::start(catalog_dir.path());
        let url = server.url.clone();
        ok(work.path(), &["graphs", "create", "--server", &url, "--id", "g", "--schema", "s.pg"]);
        let shown: serde_json::Value = serde_json::from_str(&ok(work.path(), &["--json", "graphs", "show", "g", "--catalog", &catalog])).unwrap();
        let store = shown["location"].as_str().unwrap().to_string();
        Both { _catalog_dir: catalog_dir, work, _server: server, catalog, url, store }
    }

    fn w(&self) -> &Path {
        self.work.path()
    }

    fn remote(&self) -> [&str; 4] {
        ["--server", self.url.as_str(), "--graph", "g"]
    }

    fn direct(&self) -> [&str; 2] {
        ["--store", self.store.as_str()]
    }

    /// `args` through the server, which must succeed; its stdout.
    fn ok_remote(&self, args: &[&str]) -> String {
        ok(self.w(), &[args, &self.remote()[..]].concat())
    }

    /// `args` directly, which must succeed; its stdout.
    fn ok_direct(&self, args: &[&str]) -> String {
        ok(self.w(), &[args, &self.direct()[..]].concat())
    }

    /// `args` both ways: the same exit code, stdout and stderr.
    fn same(&self, args: &[&str]) -> Out {
        let d = omnigraph(self.w(), &[args, &self.direct()[..]].concat());
        let r = omnigraph(self.w(), &[args, &self.remote()[..]].concat());
        assert_eq!(d.code, r.code, "{args:?}: exit codes differ\n{}\n{}", d.stderr, r.stderr);
        assert_eq!(d.stdout, r.stdout, "{args:?}: stdout differs");
        assert_eq!(d.stderr, r.stderr, "{args:?}: stderr differs");
        d
    }
}

#[tokio::test]
async fn direct_and_remote_commands_print_the_same() {
    let b = Both::start();
    let w = b.w();
    std::fs::write(w.join("bad.jsonl"), "{\"type\":\"Person\",\"data\":{\"name\":7}}\n{\"type\":\"Nope\",\"data\":{}}\n").unwrap();
    let (catalog, url, remote) = (b.catalog.clone(), b.url.clone(), b.remote());

    let loaded: serde_json::Value = serde_json::from_str(&b.ok_remote(&["--json", "load", "--data", "data.jsonl"])).unwrap();
    assert_eq!(loaded["rows"]["Person"], 3);

    let same = |args: &[&str]| b.same(args);
    let q = "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }";
    for format in ["table", "json", "jsonl", "csv"] {
        let out = same(&["query", "-e", q, "--format", format]);
        assert!(out.stdout.contains("alice"), "{format}: {}", out.stdout);
    }
    same(&["query", "-e", FRIENDS, "--params", r#"{"name":"alice"}"#, "--format", "jsonl"]);
    same(&["snapshot"]);
    same(&["--json", "snapshot"]);
    same(&["schema", "show"]);
    same(&["--json", "schema", "show"]);
    let exported = same(&["export"]);
    assert_eq!(exported.stdout.lines().count(), 7);
    same(&["export", "--type", "City"]);

    // Errors print the same, with the same exit code.
    let bad_query = same(&["query", "-e", "query q() { match { $p: Persn } return { $p.name } }"]);
    assert_eq!(bad_query.code, Some(1));
    assert!(bad_query.stderr.starts_with("error[OG-"), "{}", bad_query.stderr);
    same(&["--json", "query", "-e", "query q() { match { $p: Persn } return { $p.name } }"]);
    let bad_load = same(&["load", "--data", "bad.jsonl"]);
    assert!(bad_load.stderr.contains("line 1") && bad_load.stderr.contains("line 2"), "{}", bad_load.stderr);

    // A mutation through the server, then both views agree.
    let m = b.ok_remote(&["mutate", "-e", "query add($n: String) { insert Person { name: $n } }", "--params", r#"{"n":"dan"}"#]);
    assert!(m.starts_with("inserted 1, updated 0, deleted 0"), "{m}");
    let after = same(&["query", "-e", q, "--format", "csv"]);
    assert!(after.stdout.contains("dan"));

    // History reads print the same too.
    let page: serde_json::Value = serde_json::from_str(&same(&["--json", "commit", "list"]).stdout).unwrap();
    let first = page["commits"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    same(&["commit", "list", "--limit", "2"]);
    same(&["commit", "show", &first]);
    same(&["--json", "commit", "show", &first]);
    same(&["--json", "snapshot", "--at", &first]);
    same(&["query", "-e", q, "--at", &first, "--format", "jsonl"]);
    let ch = same(&["--json", "changes", "--from", &first]);
    assert!(ch.stdout.contains("\"dan\""), "{}", ch.stdout);
    same(&["changes", "--from", &first]);
    same(&["commit", "show", "01M96AZQTR00000000FFFFCD7E"]);

    // Lifecycle commands.
    let cat = ["--catalog", catalog.as_str()];
    let srv = ["--server", url.as_str()];
    let pair = |args: &[&str]| {
        let d = omnigraph(w, &[args, &cat[..]].concat());
        let r = omnigraph(w, &[args, &srv[..]].concat());
        assert_eq!((d.code, &d.stdout, &d.stderr), (r.code, &r.stdout, &r.stderr), "{args:?}");
    };
    pair(&["graphs", "list"]);
    pair(&["--json", "graphs", "list"]);
    pair(&["graphs", "show", "g"]);
    pair(&["--json", "graphs", "show", "g"]);
    pair(&["graphs", "show", "nope"]);
    pair(&["graphs", "delete", "nope"]);

    let deleted = ok(w, &["graphs", "delete", "g", "--server", &url]);
    assert_eq!(deleted.trim(), "deleted graph `g`; its data is removed");
    pair(&["--json", "graphs", "list", "--all"]);
    let gone = omnigraph(w, &[&["query", "-e", q][..], &remote[..]].concat());
    assert_eq!(gone.code, Some(1));
    assert!(gone.stderr.contains("OG-CATALOG-004"), "{}", gone.stderr);
}

#[tokio::test]
async fn remote_errors_name_the_problem() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    // Nothing listens on this port.
    let o = omnigraph(w, &["graphs", "list", "--server", "http://127.0.0.1:9"]);
    assert_eq!(o.code, Some(1));
    assert!(o.stderr.contains("OG-REMOTE-001") && o.stderr.contains("127.0.0.1:9"), "{}", o.stderr);
    let o = omnigraph(w, &["query", "-e", "query q() { match { $p: P } return { $p.name } }", "--server", "http://127.0.0.1:9"]);
    assert!(o.stderr.contains("--graph"), "{}", o.stderr);
    let o = omnigraph(w, &["graphs", "list"]);
    assert!(o.stderr.contains("--catalog") && o.stderr.contains("--server"), "{}", o.stderr);

    // A token the server does not know.
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("t.json"), r#"{"ann": "ann-token-0123456789"}"#).unwrap();
    let s = Server::start_with(dir.path(), Opts { args: vec!["--tokens-file".into(), files.path().join("t.json").display().to_string()], env: vec![] });
    let o = omnigraph(w, &["graphs", "list", "--server", &s.url, "--token", "wrong-token-0123456789"]);
    assert!(o.stderr.contains("OG-AUTH-002"), "{}", o.stderr);
    let o = omnigraph(w, &["graphs", "list", "--server", &s.url, "--token", "ann-token-0123456789"]);
    assert!(o.stderr.contains("OG-AUTH-003"), "{}", o.stderr);
}

#[tokio::test]
async fn branch_commands_direct_and_remote_print_the_same() {
    let b = Both::start();
    let (w, remote, direct) = (b.w(), b.remote(), b.direct());
    b.ok_remote(&["load", "--data", "data.jsonl"]);
    let same = |args: &[&str]| b.same(args);
    // Writes alternate between the two ways; every read must agree.
    ok(w, &[&["branch", "create", "feature"][..], &remote[..]].concat());
    ok(w, &[&["branch", "create", "other", "--from", "feature"][..], &direct[..]].concat());
    let add = "query add($n: String) { insert Person { name: $n } }";
    let age = "query age($n: String, $a: I32) { update Person set { age: $a } where name = $n }";
    ok(w, &[&["mutate", "--branch", "feature", "-e", add, "--params", r#"{"n":"dan"}"#][..], &direct[..]].concat());
    ok(w, &[&["mutate", "--branch", "feature", "-e", age, "--params", r#"{"n":"alice","a":50}"#][..], &remote[..]].concat());
    ok(w, &[&["mutate", "-e", age, "--params", r#"{"n":"alice","a":60}"#][..], &direct[..]].concat());
    let q = "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }";
    let on_feature = same(&["query", "--branch", "feature", "-e", q, "--format", "csv"]);
    assert!(on_feature.stdout.contains("dan") && on_feature.stdout.contains("50"), "{}", on_feature.stdout);
    let on_main = same(&["query", "-e", q, "--format", "csv"]);
    assert!(!on_main.stdout.contains("dan"), "{}", on_main.stdout);
    same(&["branch", "list"]);
    same(&["--json", "branch", "list"]);
    same(&["export", "--branch", "feature"]);
    same(&["--json", "snapshot", "--branch", "feature"]);
    same(&["commit", "list", "--branch", "feature", "--limit", "3"]);
    let list: serde_json::Value = serde_json::from_str(&ok(w, &[&["--json", "branch", "list"][..], &direct[..]].concat())).unwrap();
    let from = list["branches"][1]["created_from"].as_str().unwrap().to_string();
    same(&["--json", "changes", "--branch", "feature", "--from", &from]);
    // A conflict: the same table on stderr, exit 1, JSON alike; nothing written.
    let c = same(&["branch", "merge", "feature"]);
    assert_eq!(c.code, Some(1));
    assert!(c.stderr.contains("OG-MERGE-001") && c.stderr.contains("divergent_update") && c.stderr.contains("alice"), "{}", c.stderr);
    same(&["--json", "branch", "merge", "feature"]);
    // Bad names and unknown branches: coded, the same either way.
    for bad in [&["branch", "create", "a/b"][..], &["branch", "delete", "main"], &["branch", "delete", "nope"], &["query", "--branch", "x y", "-e", q]] {
        let o = same(bad);
        assert_eq!(o.code, Some(1), "{bad:?}");
        assert!(o.stderr.contains("OG-BRANCH-00"), "{bad:?}: {}", o.stderr);
    }
    // Resolved on the branch, a dry run, then the merge.
    ok(w, &[&["mutate", "--branch", "feature", "-e", age, "--params", r#"{"n":"alice","a":60}"#][..], &direct[..]].concat());
    let dry = same(&["branch", "merge", "feature", "--dry-run"]);
    assert!(dry.stdout.starts_with("would merge feature into main"), "{}", dry.stdout);
    let merged = ok(w, &[&["branch", "merge", "feature", "-m", "ship"][..], &remote[..]].concat());
    assert!(merged.starts_with("merged feature into main; commit "), "{merged}");
    let after = same(&["query", "-e", q, "--format", "csv"]);
    assert!(after.stdout.contains("dan"), "{}", after.stdout);
    // `other` was made from `feature`: feature cannot go first.
    let o = same(&["branch", "delete", "feature"]);
    assert!(o.stderr.contains("OG-BRANCH-004"), "{}", o.stderr);
    ok(w, &[&["branch", "delete", "other"][..], &remote[..]].concat());
    ok(w, &[&["branch", "delete", "feature"][..], &direct[..]].concat());
    same(&["branch", "list"]);
}

#[tokio::test]
async fn schema_commands_direct_and_remote_print_the_same() {
    let b = Both::start();
    let w = b.w();
    let evolved = SCHEMA.replace("age: I32?", "years: I64? @rename_from(\"age\")\n    email: String?");
    std::fs::write(w.join("new.pg"), &evolved).unwrap();
    std::fs::write(w.join("lossy.pg"), SCHEMA.replace("    age: I32?\n", "")).unwrap();
    std::fs::write(w.join("ages.gq"), "query ages() { match { $p: Person } return { $p.age } }\n").unwrap();
    b.ok_remote(&["load", "--data", "data.jsonl"]);
    let same = |args: &[&str]| b.same(args);
    let plan = same(&["schema", "plan", "--schema", "new.pg", "--query", "ages.gq"]);
    assert_eq!(plan.code, Some(1));
    assert!(plan.stdout.contains("OG-EVOLVE-007") && plan.stdout.contains("OG-LINT-004"), "{}", plan.stdout);
    same(&["--json", "schema", "plan", "--schema", "new.pg"]);
    let lossy = same(&["schema", "apply", "--schema", "lossy.pg"]);
    assert_eq!(lossy.code, Some(1));
    assert!(lossy.stderr.contains("OG-LINT-001"), "{}", lossy.stderr);
    same(&["--json", "schema", "apply", "--schema", "lossy.pg"]);
    let applied = b.ok_remote(&["schema", "apply", "--schema", "new.pg", "-m", "years"]);
    assert!(applied.contains("applied: schema"), "{applied}");
    same(&["schema", "show"]);
    same(&["--json", "schema", "show"]);
    let log: serde_json::Value = serde_json::from_str(&b.ok_direct(&["--json", "commit", "list"])).unwrap();
    let before = log["commits"].as_array().unwrap().iter().find(|c| c["kind"] == "load").unwrap()["id"].as_str().unwrap().to_string();
    let old = same(&["schema", "show", "--at", &before]);
    assert!(old.stdout.contains("age: I32?"), "{}", old.stdout);
    same(&["query", "--at", &before, "-e", "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }", "--format", "csv"]);
    same(&["schema", "apply", "--schema", "new.pg"]);
}

#[tokio::test]
async fn stored_query_commands_direct_and_remote_print_the_same() {
    let b = Both::start();
    let w = b.w();
    std::fs::write(w.join("q.gq"), format!("@description(\"friends of\")\n{FRIENDS}\n\nquery add($n: String) {{ upsert Person {{ name: $n }} }}\n")).unwrap();
    std::fs::write(w.join("bad.gq"), "query bad() { match { $p: Person } return { $p.nope } }\n").unwrap();
    b.ok_remote(&["load", "--data", "data.jsonl"]);
    let added = b.ok_remote(&["queries", "add", "--file", "q.gq"]);
    assert!(added.contains("added: friends, add"), "{added}");
    let same = |args: &[&str]| b.same(args);
    let list = same(&["queries", "list"]);
    assert!(list.stdout.contains("friends") && list.stdout.contains("friends of"), "{}", list.stdout);
    same(&["--json", "queries", "list"]);
    same(&["queries", "show", "friends"]);
    same(&["--json", "queries", "show", "friends"]);
    let rows = same(&["queries", "run", "friends", "--params", "{\"name\": \"alice\"}", "--format", "csv"]);
    assert_eq!(rows.stdout, "f.name\nbob\n");
    same(&["queries", "run", "friends", "--params", "{\"name\": \"alice\"}", "--format", "jsonl"]);
    // Indexes and embeddings (this schema has no @embed: nothing to do).
    let status = same(&["index", "status"]);
    assert!(status.stdout.contains("Person") && status.stdout.contains("scalar"), "{}", status.stdout);
    same(&["--json", "index", "status"]);
    let embed = same(&["embed"]);
    assert_eq!(embed.stdout, "no @embed properties\n0 commit(s)\n");
    let bad = same(&["queries", "add", "--file", "bad.gq"]);
    assert_eq!(bad.code, Some(1));
    assert!(bad.stderr.contains("OG-QUERY-003"), "{}", bad.stderr);
    let unknown = same(&["queries", "run", "nope"]);
    assert!(unknown.stderr.contains("OG-QUERY-021"), "{}", unknown.stderr);
    same(&["queries", "run", "friends", "--params", "{\"nme\": 1}"]);
    // Unchanged: nothing to do, both ways.
    same(&["queries", "add", "--file", "q.gq"]);
    // A write through each: the reports match but for their commits.
    let direct = b.ok_direct(&["--json", "queries", "run", "add", "--params", "{\"n\": \"zed\"}"]);
    let remote = b.ok_remote(&["--json", "queries", "run", "add", "--params", "{\"n\": \"zed\"}"]);
    let (d, r): (serde_json::Value, serde_json::Value) = (serde_json::from_str(&direct).unwrap(), serde_json::from_str(&remote).unwrap());
    assert_eq!((d["inserted"].as_u64(), r["updated"].as_u64()), (Some(1), Some(1)), "{direct} {remote}");
}
