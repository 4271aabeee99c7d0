//! `omnigraph optimize` and `cleanup` as processes, and crashes in every
//! step of both: after recovery every kept commit reads the same.

use serde_json::Value as Json;

use crate::common::*;

fn json(s: &str) -> Json {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// A graph with a load and `n` small mutations (inserts, updates,
/// deletes); its commits, newest first.
fn churned(w: &Work, n: usize) -> Vec<String> {
    let g = w.graph();
    w.init();
    w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
    for i in 0..n {
        let q = match i % 3 {
            0 => format!("query q() {{ insert Person {{ name: \"p{i}\", age: {i} }} }}"),
            1 => format!("query q() {{ update Person set {{ age: {i} }} where name = \"ada\" }}"),
            _ => format!("query q() {{ delete Person where name = \"p{}\" }}", i - 2),
        };
        w.ok(&["mutate", "--store", &g, "-e", &q]);
    }
    commits(w)
}

fn commits(w: &Work) -> Vec<String> {
    let page = json(&w.ok(&["commit", "list", "--store", &w.graph(), "--limit", "1000", "--json"]));
    page["commits"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

fn export_at(w: &Work, at: &str) -> Vec<String> {
    let mut lines: Vec<String> = w.ok(&["export", "--store", &w.graph(), "--at", at]).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn optimize_and_cleanup_report_and_keep_what_they_say() {
    let w = Work::new();
    let g = w.graph();
    let before = churned(&w, 9);
    let head_rows = export_at(&w, &before[0]);
    let o = json(&w.ok(&["optimize", "--store", &g, "--as", "ops", "-m", "weekly", "--json"]));
    assert_eq!((o["commit"]["kind"].as_str(), o["commit"]["actor"].as_str(), o["commit"]["message"].as_str()), (Some("optimize"), Some("ops"), Some("weekly")));
    let person = o["tables"].as_array().unwrap().iter().find(|t| t["table"] == "Person").expect("Person optimized");
    assert!(person["fragments_after"].as_u64() < person["fragments_before"].as_u64(), "{o}");
    assert!(w.ok(&["optimize", "--store", &g]).contains("nothing to optimize"));
    let after = commits(&w);
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(export_at(&w, &after[0]), head_rows);

    let dry = json(&w.ok(&["cleanup", "--store", &g, "--keep-days", "0", "--keep-commits", "4", "--dry-run", "--json"]));
    assert_eq!(dry["commits_removed"].as_u64(), Some(after.len() as u64 - 4));
    assert!(dry["bytes_freed"].as_u64().unwrap() > 0, "{dry}");
    assert_eq!(commits(&w), after, "a dry run removes nothing");
    let text = w.ok(&["cleanup", "--store", &g, "--keep-days", "0", "--keep-commits", "4"]);
    assert!(text.starts_with(&format!("removed {} commit(s)", after.len() - 4)) && text.contains(&after[3]), "{text}");
    assert_eq!(commits(&w), after[..4].to_vec());
    assert_eq!(export_at(&w, &after[0]), head_rows);
    // A removed commit: coded, exit 1, and the change feed says to re-baseline.
    let o = w.run(&["changes", "--store", &g, "--from", &after[5]]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("OG-HISTORY-002") && err.contains("export --at"), "{err}");
    // Bad retention: coded, nothing touched.
    for bad in [["--keep-commits", "0"], ["--keep-days", "-1"], ["--keep-days", "nan"]] {
        let o = w.run(&["cleanup", "--store", &g, bad[0], bad[1]]);
        assert_ne!(o.status.code(), Some(0), "{bad:?}");
    }
    assert_eq!(commits(&w).len(), 4);
}

#[test]
fn a_crash_in_any_step_of_optimize_leaves_every_commit_reading_the_same() {
    for fp in ["write.after_sidecar", "write.after_first_table_commit", "write.before_second_step", "write.before_publish", "write.after_publish"] {
        let w = Work::new();
        let g = w.graph();
        let before = churned(&w, 5);
        let rows: Vec<Vec<String>> = before.iter().map(|c| export_at(&w, c)).collect();
        let o = w.run_with_failpoint(fp, &["optimize", "--store", &g]);
        assert!(killed_by_abort(&o), "{fp}: the failpoint must abort: {}", stderr(&o));
        w.ok(&["recover", "--store", &g, "--apply"]);
        let after = commits(&w);
        assert_eq!(after[after.len() - before.len()..], before[..], "{fp}: every commit kept");
        for (c, r) in before.iter().zip(&rows) {
            assert_eq!(&export_at(&w, c), r, "{fp}: commit {c}");
        }
        assert_eq!(export_at(&w, &after[0]), rows[0], "{fp}: the head reads the same");
        // Optimize runs to the end afterwards (or had, when the crash came
        // after its publish).
        w.ok(&["optimize", "--store", &g]);
        assert!(w.ok(&["optimize", "--store", &g]).contains("nothing to optimize"), "{fp}");
        assert_eq!(export_at(&w, &commits(&w)[0]), rows[0], "{fp}");
    }
}

#[test]
fn a_crash_in_any_step_of_cleanup_leaves_every_kept_commit_reading_the_same() {
    for fp in ["cleanup.after_manifest", "cleanup.after_first_table"] {
        let w = Work::new();
        let g = w.graph();
        let before = churned(&w, 6);
        let kept: Vec<(String, Vec<String>)> = before[..3].iter().map(|c| (c.clone(), export_at(&w, c))).collect();
        let o = w.run_with_failpoint(fp, &["cleanup", "--store", &g, "--keep-days", "0", "--keep-commits", "3"]);
        assert!(killed_by_abort(&o), "{fp}: the failpoint must abort: {}", stderr(&o));
        for (c, r) in &kept {
            assert_eq!(&export_at(&w, c), r, "{fp}: commit {c} after the crash");
        }
        let again = json(&w.ok(&["cleanup", "--store", &g, "--keep-days", "0", "--keep-commits", "3", "--json"]));
        assert_eq!(again["oldest_kept"]["id"].as_str(), Some(kept[2].0.as_str()), "{fp}");
        assert_eq!(commits(&w), before[..3].to_vec(), "{fp}");
        for (c, r) in &kept {
            assert_eq!(&export_at(&w, c), r, "{fp}: commit {c} after the second cleanup");
        }
        w.ok(&["mutate", "--store", &g, "-e", "query q() { insert Person { name: \"later\" } }"]);
    }
}
