//! Crashes as real process deaths: a failpoint aborts `omnigraph` mid-write
//! or mid-init, then recovery runs and the invariants are checked.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::*;
use crate::tree_hash::tree_hash;

/// A second graph beside the one under test: it must never change.
fn neighbour(w: &Work) -> (String, BTreeMap<String, u64>) {
    let n = w.path("neighbour").display().to_string();
    w.ok(&["init", "--schema", "schema.pg", &n]);
    w.ok(&["load", "--data", "data.jsonl", "--store", &n]);
    let h = tree_hash(Path::new(&n));
    (n, h)
}

fn crash_load(w: &Work, fp: &str) {
    let out = w.run_with_failpoint(fp, &["load", "--data", "data.jsonl", "--store", &w.graph()]);
    assert!(killed_by_abort(&out), "{fp}: process was not aborted: {}", stderr(&out));
}

fn recover_apply(w: &Work) -> serde_json::Value {
    let dry = w.run(&["recover", "--store", &w.graph()]);
    assert_eq!(dry.status.code(), Some(1), "dry run should report work: {}", String::from_utf8_lossy(&dry.stdout));
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["recover", "--store", &w.graph(), "--apply", "--json"])).unwrap();
    // The dry run said which it would do, and the run says which it did.
    let planned = String::from_utf8_lossy(&dry.stdout).to_string();
    let (will, did) = match (v["items"][0]["kind"].as_str(), v["items"][0]["decision"].as_str()) {
        (Some("init_claim"), _) => ("roll back abandoned init", "rolled back abandoned init"),
        (_, Some("rolled_forward")) => ("roll forward abandoned", "rolled forward abandoned"),
        (_, Some("rolled_back")) => ("roll back abandoned", "rolled back abandoned"),
        _ => ("remove the record of", "removed the record of"),
    };
    assert!(planned.contains(will), "{planned}");
    assert!(v["items"][0]["action"].as_str().unwrap().starts_with(did), "{v}");
    // Idempotent: a second run finds nothing.
    assert_eq!(w.ok(&["recover", "--store", &w.graph()]).trim(), "nothing to recover");
    v
}

#[test]
fn crash_before_publish_rolls_forward() {
    // Before the publish starts, and inside it just before the `__manifest` commit.
    for fp in ["write.before_publish", "publish.before_manifest_commit"] {
        let w = Work::new();
        w.init();
        let (n, nh) = neighbour(&w);
        crash_load(&w, fp);
        let ro = w.run(&["snapshot", "--store", &w.graph()]);
        assert!(stderr(&ro).starts_with("error[OG-OPEN-004]"), "{fp}: {}", stderr(&ro));
        let v = recover_apply(&w);
        assert_eq!(v["items"][0]["decision"], "rolled_forward", "{fp}: {v}");
        assert_eq!(w.rows("Person"), 2);
        assert_eq!(w.rows("WorksAt"), 1);
        assert_eq!(tree_hash(Path::new(&n)), nh);
    }
}

#[test]
fn every_failpoint_is_in_the_code_and_armed_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let read_all = |dirs: &[&str]| {
        let mut text = String::new();
        let mut stack: Vec<std::path::PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else if p.extension().is_some_and(|x| x == "rs") {
                text.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
        text
    };
    let code = read_all(&["engine/src", "catalog/src", "recovery/src", "server/src", "cli/src"]);
    let tests = read_all(&["tests", "engine/tests", "catalog/tests", "recovery/tests"]);
    for name in omnigraph::failpoint::NAMES {
        let quoted = format!("\"{name}\"");
        assert!(code.matches(&quoted).count() >= 2, "failpoint `{name}` is listed but never hit");
        assert!(tests.contains(name), "failpoint `{name}` is never armed by a test");
    }
}

#[test]
fn crash_after_first_table_commit_rolls_back_on_next_write() {
    let w = Work::new();
    w.init();
    let (n, nh) = neighbour(&w);
    crash_load(&w, "write.after_first_table_commit");
    // The next writer repairs it and proceeds.
    std::fs::write(w.path("more.jsonl"), "{\"type\":\"Person\",\"data\":{\"name\":\"cy\"}}\n").unwrap();
    let out = w.run(&["load", "--data", "more.jsonl", "--store", &w.graph()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("rolled back abandoned load"), "{}", stderr(&out));
    assert_eq!(w.rows("Person"), 1);
    assert_eq!(w.rows("Company"), 0);
    assert_eq!(w.rows("Knows"), 0);
    // And the crashed data can be loaded again in full.
    w.ok(&["load", "--data", "data.jsonl", "--store", &w.graph()]);
    assert_eq!(w.rows("Person"), 3);
    assert_eq!(tree_hash(Path::new(&n)), nh);
}

#[test]
fn crash_after_sidecar_or_after_publish_is_consistent() {
    for (fp, persons) in [("write.after_sidecar", 0), ("write.after_publish", 2)] {
        let w = Work::new();
        w.init();
        crash_load(&w, fp);
        let v = recover_apply(&w);
        assert_eq!(v["items"][0]["decision"], "already_consistent", "{fp}: {v}");
        assert_eq!(w.rows("Person"), persons, "{fp}");
    }
}

#[test]
fn crash_during_init_leaves_a_claim_that_recovery_clears() {
    for fp in ["init.after_first_table", "init.before_genesis"] {
        let w = Work::new();
        std::fs::create_dir_all(w.path("graph")).unwrap();
        std::fs::write(w.path("graph/NOTES.txt"), "not ours").unwrap();
        let out = w.run_with_failpoint(fp, &["init", "--schema", "schema.pg", &w.graph()]);
        assert!(killed_by_abort(&out), "{fp}");
        assert!(w.path("graph/__init_claim.json").exists());
        let open = w.run(&["snapshot", "--store", &w.graph()]);
        assert!(stderr(&open).starts_with("error[OG-OPEN-002]"), "{fp}: {}", stderr(&open));
        let again = w.run(&["init", "--schema", "schema.pg", &w.graph()]);
        assert!(stderr(&again).starts_with("error[OG-INIT-002]"), "{fp}: {}", stderr(&again));
        let v = recover_apply(&w);
        assert_eq!(v["items"][0]["kind"], "init_claim");
        let left: Vec<_> = std::fs::read_dir(w.path("graph")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(left, vec!["NOTES.txt"], "{fp}: recovery must remove only the init's artifacts");
        w.init();
        w.ok(&["load", "--data", "data.jsonl", "--store", &w.graph()]);
        assert_eq!(w.rows("Person"), 2);
    }
}

#[test]
fn crash_after_genesis_leaves_a_working_graph() {
    let w = Work::new();
    let out = w.run_with_failpoint("init.after_genesis", &["init", "--schema", "schema.pg", &w.graph()]);
    assert!(killed_by_abort(&out));
    assert_eq!(w.rows("Person"), 0);
    w.ok(&["load", "--data", "data.jsonl", "--store", &w.graph()]);
    assert!(!w.path("graph/__init_claim.json").exists(), "the landed init's claim should be cleared by the next writer");
}

#[test]
fn init_failure_removes_only_what_it_created() {
    let w = Work::new();
    std::fs::create_dir_all(w.path("graph")).unwrap();
    std::fs::write(w.path("graph/NOTES.txt"), "not ours").unwrap();
    let out = w.run_with_failpoint("init.create_table=error", &["init", "--schema", "schema.pg", &w.graph()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let left: Vec<_> = std::fs::read_dir(w.path("graph")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(left, vec!["NOTES.txt"]);
    w.init();
}

#[test]
fn init_with_an_unknown_outcome_keeps_everything() {
    let w = Work::new();
    let out = w.run_with_failpoint("init.genesis_unknown=error", &["init", "--schema", "schema.pg", &w.graph()]);
    assert!(stderr(&out).starts_with("error[OG-INIT-003]"), "{}", stderr(&out));
    for kept in ["__init_claim.json", "_schema.pg", "nodes/Person"] {
        assert!(exists(&w.path("graph").join(kept)), "{kept} was removed");
    }
}

#[test]
fn a_write_rolled_forward_by_another_process_is_reported_as_done_not_as_a_conflict() {
    let w = Work::new();
    w.init();
    w.ok(&["load", "--data", "data.jsonl", "--store", &w.graph()]);
    // The writer runs on "another host" (its own UTS namespace, so its own
    // hostname) sharing this disk: only its lease tells whether it is alive.
    // It commits its tables, then stalls before its publish, past its lease.
    let resume = w.path("resume");
    let mutate = format!(
        "hostname omnigraph-other-host && exec {} mutate --store {} --json -e 'query q() {{ insert Person {{ name: \"cy\", age: 3 }} }}'",
        env!("CARGO_BIN_EXE_omnigraph"),
        w.graph()
    );
    let mut writer = std::process::Command::new("unshare")
        .args(["--uts", "sh", "-c", &mutate])
        .current_dir(w.dir.path())
        .env("OMNIGRAPH_FAILPOINT", "write.before_publish=pause")
        .env("OMNIGRAPH_FAILPOINT_RESUME", &resume)
        .env("OMNIGRAPH_WRITE_LEASE_MS", "300")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let err = writer.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if line.contains("failpoint write.before_publish: paused") {
                let _ = tx.send(());
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the writer never reached its publish");
    // Wait (on the repair's own verdict) until the writer's lease ran out.
    let start = std::time::Instant::now();
    while String::from_utf8_lossy(&w.run(&["recover", "--store", &w.graph(), "--json"]).stdout).contains("wait: ") {
        assert!(start.elapsed().as_secs() < 30, "the writer's lease never ran out");
    }
    // Meanwhile another process repairs the graph: every table landed, so
    // it publishes the stalled write (under the write's op id).
    let v: serde_json::Value = serde_json::from_str(&w.ok(&["recover", "--store", &w.graph(), "--apply", "--json"])).unwrap();
    assert_eq!(v["items"][0]["decision"], "rolled_forward", "{v}");
    assert_eq!(w.rows("Person"), 3);
    // The writer goes on: its write is visible, so it must say it succeeded
    // (a client told "conflict" would retry and insert `cy` twice).
    std::fs::write(&resume, "").unwrap();
    let out = writer.wait_with_output().unwrap();
    let err = reader.join().unwrap();
    assert!(out.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inserted"], 1, "{report}");
    assert_eq!(w.rows("Person"), 3);
    assert_eq!(w.ok(&["recover", "--store", &w.graph()]).trim(), "nothing to recover");
}

#[test]
fn a_publish_whose_outcome_is_unknown_says_so_and_recovery_settles_it() {
    let w = Work::new();
    w.init();
    let out = w.run_with_failpoint("publish.manifest_commit=error", &["load", "--data", "data.jsonl", "--store", &w.graph()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error[OG-PUBLISH-002]") && err.contains("recover --store"), "{err}");
    // Not visible, and its record kept: reads say recovery is needed.
    let ro = w.run(&["snapshot", "--store", &w.graph()]);
    assert!(stderr(&ro).starts_with("error[OG-OPEN-004]"), "{}", stderr(&ro));
    // Every table landed, so recovery publishes the write whole.
    let v = recover_apply(&w);
    assert_eq!(v["items"][0]["decision"], "rolled_forward", "{v}");
    assert_eq!(w.rows("Person"), 2);
    assert_eq!(w.rows("WorksAt"), 1);
}

#[test]
fn a_crash_inside_a_fold_is_recovered_with_every_row_once() {
    let w = Work::new();
    w.init();
    let g = w.graph();
    w.ok(&["load", "--data", "data.jsonl", "--store", &g]);
    let persons = w.rows("Person");
    let add = |i: usize| format!("query q() {{ insert Person {{ name: \"n{i}\", age: {i} }} }}");
    // Each single-row write leaves one small fragment; the write that makes
    // the tier full folds them, and dies after the fold's table commit.
    let mut i = 0;
    let crashed = loop {
        assert!(i < 3 * omnigraph::graph::fold::FOLD_AT, "no fold after {i} writes");
        let out = w.run_with_failpoint("fold.after_table_commit", &["mutate", "--store", &g, "-e", &add(i)]);
        i += 1;
        if killed_by_abort(&out) {
            break i;
        }
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let v = recover_apply(&w);
    assert_eq!(v["items"][0]["decision"], "rolled_forward", "{v}");
    // Every acknowledged write and the one that crashed after its publish:
    // each row exactly once, none lost to the fold.
    assert_eq!(w.rows("Person"), persons + crashed as u64);
    let out = w.ok(&["export", "--store", &g, "--type", "Person"]);
    let names: Vec<String> = out.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["data"]["name"].as_str().unwrap().to_string()).collect();
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), names.len(), "a row appears twice: {names:?}");
    for k in 0..crashed {
        assert!(names.contains(&format!("n{k}")), "n{k} lost");
    }
    // And writes go on, folding again later.
    w.ok(&["mutate", "--store", &g, "-e", &add(1000)]);
}
