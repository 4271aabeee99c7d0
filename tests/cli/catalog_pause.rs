//! A holder whose lease ran out while it was still alive: the process is
//! stopped (SIGSTOP) in the middle of a delete or restore, recovery takes the
//! operation over, the graph moves on, and then the process is continued
//! (SIGCONT). It must fail harmlessly: no fence set or lifted, no data
//! removed, no sidecar brought back.

use std::io::BufRead;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::catalog_common::{assert_consistent, graphs_ok, recover, until_leases_expired};
use crate::common::*;

const LEASE_MS: u64 = 600;

/// `graphs <args>` stopped at failpoint `fp` (paused there, then SIGSTOP).
struct Stopped {
    child: Child,
    resume: std::path::PathBuf,
    stderr: std::thread::JoinHandle<String>,
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig} {pid}");
}

fn stop_at(w: &Work, cat: &str, fp: &str, args: &[&str]) -> Stopped {
    let resume = w.path(&format!("resume-{fp}"));
    let mut full = vec!["graphs", args[0], "--catalog", cat];
    full.extend_from_slice(&args[1..]);
    let mut child = bin()
        .current_dir(w.dir.path())
        .env("OMNIGRAPH_FAILPOINT", format!("{fp}=pause"))
        .env("OMNIGRAPH_FAILPOINT_RESUME", &resume)
        .env("OMNIGRAPH_LEASE_MS", LEASE_MS.to_string())
        .args(&full)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let wanted = format!("failpoint {fp}: paused");
    let stderr = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if line.contains(&wanted) {
                let _ = tx.send(());
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("{args:?} never reached {fp}"));
    // The whole process stops: its lease keeper too.
    signal(child.id(), "-STOP");
    Stopped { child, resume, stderr }
}

impl Stopped {
    /// Lets it go on and returns (succeeded, stderr).
    fn resume(mut self) -> (bool, String) {
        std::fs::write(&self.resume, "").unwrap();
        signal(self.child.id(), "-CONT");
        let status = self.child.wait().unwrap();
        (status.success(), self.stderr.join().unwrap())
    }
}

/// A catalog with graph `g`, loaded: (work dir, catalog, g's location).
fn loaded_graph() -> (Work, String, String) {
    let w = Work::new();
    let cat = w.path("catalog").display().to_string();
    let e = graphs_ok(&w, &cat, &["create", "--id", "g", "--schema", "schema.pg"]);
    let loc = e["location"].as_str().unwrap().to_string();
    w.ok(&["load", "--store", &loc, "--data", "data.jsonl"]);
    (w, cat, loc)
}

/// Whether the graph at `loc` reads (its fence is live).
fn reads(w: &Work, loc: &str) -> Result<(), String> {
    let out = w.run(&["snapshot", "--store", loc]);
    if out.status.success() { Ok(()) } else { Err(stderr(&out)) }
}

#[test]
fn a_delete_stopped_past_its_lease_cannot_fence_a_restored_graph() {
    let (w, cat, loc) = loaded_graph();

    let late = stop_at(&w, &cat, "delete.after_mark_deleting", &["delete", "g", "--retain", "1h"]);
    until_leases_expired(&w, &cat);
    // Recovery takes the delete over and finishes it; then the graph is restored.
    let (code, plan) = recover(&w, &cat, &["--apply"]);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(graphs_ok(&w, &cat, &["show", "g"])["state"], "deleted");
    assert_eq!(graphs_ok(&w, &cat, &["restore", "g"])["state"], "active");
    reads(&w, &loc).unwrap();

    // The stopped delete wakes up: it must change nothing.
    let (ok, err) = late.resume();
    assert!(!ok, "the late delete reported success: {err}");
    assert!(err.contains("OG-CATALOG-008") || err.contains("taken over"), "{err}");
    assert_eq!(graphs_ok(&w, &cat, &["show", "g"])["state"], "active");
    reads(&w, &loc).unwrap_or_else(|e| panic!("the late delete fenced the restored graph: {e}"));
    assert_eq!(w.rows_at(&loc, "Person"), 2);
    assert_consistent(&w, &cat);
}

#[test]
fn a_restore_stopped_past_its_lease_cannot_lift_a_later_deletes_fence() {
    let (w, cat, loc) = loaded_graph();
    graphs_ok(&w, &cat, &["delete", "g", "--retain", "1h"]);

    let late = stop_at(&w, &cat, "restore.after_mark", &["restore", "g"]);
    until_leases_expired(&w, &cat);
    // Recovery finishes the restore; then someone deletes the graph again.
    let (code, plan) = recover(&w, &cat, &["--apply"]);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(graphs_ok(&w, &cat, &["show", "g"])["state"], "active");
    graphs_ok(&w, &cat, &["delete", "g", "--retain", "1h"]);
    assert!(reads(&w, &loc).unwrap_err().contains("OG-OPEN-005"));

    // The stopped restore wakes up: the second delete's fence must hold.
    let (ok, err) = late.resume();
    assert!(!ok, "the late restore reported success: {err}");
    assert_eq!(graphs_ok(&w, &cat, &["show", "g"])["state"], "deleted");
    let fenced = reads(&w, &loc).expect_err("the late restore lifted the second delete's fence");
    assert!(fenced.contains("OG-OPEN-005"), "{fenced}");
    assert_consistent(&w, &cat);
    // The graph can still be restored the normal way.
    assert_eq!(graphs_ok(&w, &cat, &["restore", "g"])["state"], "active");
    reads(&w, &loc).unwrap();
}
