//! An acknowledged write is durable on local disk: every file a command
//! wrote under the graph (data, deletion and index files, Lance's version
//! manifests and transactions, the `__manifest` commit) was fsynced before
//! the command exited, under its final name or under a staging name that
//! was then renamed or linked to it, and the directory that holds it was
//! fsynced after that name appeared. Checked from the system calls the
//! process made (strace), not from a setting.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::common::*;

/// Every file and directory under `root` with its length and mtime.
fn tree(root: &Path) -> BTreeMap<PathBuf, (bool, u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let m = e.metadata().unwrap();
            out.insert(e.path(), (m.is_dir(), m.len(), m.modified().unwrap()));
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

/// The quoted path arguments of one strace line, in order.
fn quoted(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        out.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    out
}

/// The path strace `-y` printed for the first fd argument: `fsync(7</a/b>)`.
fn fd_path(line: &str) -> Option<String> {
    let start = line.find("</")? + 1;
    let end = line[start..].find('>')? + start;
    Some(line[start..end].to_string())
}

#[derive(Default)]
struct Syncs {
    /// Final path -> index of the event at which it was durable under that name.
    files: HashMap<String, usize>,
    /// Path -> indexes at which it (a directory) was fsynced.
    dirs: HashMap<String, Vec<usize>>,
    /// Directory -> index at which it was created.
    made_dirs: HashMap<String, usize>,
}

fn parse(trace: &str) -> Syncs {
    let mut s = Syncs::default();
    for (i, line) in trace.lines().enumerate() {
        let call = line.split_whitespace().nth(1).unwrap_or("");
        let failed = line.contains(" = -1 ");
        if failed {
            continue;
        }
        if call.starts_with("fsync(") || call.starts_with("fdatasync(") {
            if let Some(p) = fd_path(line) {
                if Path::new(&p).is_dir() {
                    s.dirs.entry(p).or_default().push(i);
                } else {
                    s.files.insert(p, i);
                }
            }
        } else if call.starts_with("rename") || call.starts_with("link") {
            let q = quoted(line);
            if q.len() >= 2 && s.files.contains_key(&q[0]) {
                s.files.insert(q[1].clone(), i);
            }
        } else if call.starts_with("mkdir")
            && let Some(p) = quoted(line).into_iter().next()
        {
            s.made_dirs.insert(p, i);
        }
    }
    s
}

/// Runs the CLI under strace and checks every file it wrote under `graph`.
fn assert_durable(w: &Work, graph: &str, args: &[&str]) {
    let existed = Path::new(graph).exists();
    let before = tree(Path::new(graph));
    let trace_path = w.path("trace.txt");
    let out = Command::new("strace")
        .args(["-f", "-y", "-qq", "-e", "trace=fsync,fdatasync,rename,renameat,renameat2,link,linkat,mkdir,mkdirat", "-o"])
        .arg(&trace_path)
        .arg(env!("CARGO_BIN_EXE_omnigraph"))
        .args(args)
        .current_dir(w.dir.path())
        .env_remove("OMNIGRAPH_FAILPOINT")
        .output()
        .expect("strace runs (scripts/setup.sh installs it)");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let after = tree(Path::new(graph));
    let syncs = parse(&std::fs::read_to_string(&trace_path).unwrap());
    let mut checked = 0;
    let mut missing = Vec::new();
    let mut new_dirs = HashSet::new();
    for (path, (is_dir, len, mtime)) in &after {
        if before.get(path) == Some(&(*is_dir, *len, *mtime)) {
            continue;
        }
        let p = path.display().to_string();
        if *is_dir {
            if !before.contains_key(path) {
                new_dirs.insert(p);
            }
            continue;
        }
        checked += 1;
        let Some(&named_at) = syncs.files.get(&p) else {
            missing.push(format!("{p}: never fsynced"));
            continue;
        };
        let parent = path.parent().unwrap().display().to_string();
        if !syncs.dirs.get(&parent).is_some_and(|at| at.iter().any(|&d| d > named_at)) {
            missing.push(format!("{p}: its directory was not fsynced after it got its name"));
        }
    }
    if !existed {
        new_dirs.insert(graph.to_string());
    }
    for d in &new_dirs {
        let made_at = syncs.made_dirs.get(d).copied().unwrap_or(0);
        let parent = Path::new(d).parent().unwrap().display().to_string();
        if !syncs.dirs.get(&parent).is_some_and(|at| at.iter().any(|&x| x > made_at)) {
            missing.push(format!("{d}/: new directory, but its parent was not fsynced after it was made"));
        }
    }
    assert!(checked > 0, "{args:?} wrote nothing under {graph}?");
    assert!(missing.is_empty(), "{args:?} acknowledged before these were durable:\n{}", missing.join("\n"));
}

#[test]
fn every_file_a_write_makes_is_synced_before_the_command_returns() {
    let w = Work::new();
    let g = w.graph();
    assert_durable(&w, &g, &["init", "--schema", "schema.pg", &g]);
    assert_durable(&w, &g, &["load", "--data", "data.jsonl", "--mode", "append", "--store", &g]);
    assert_durable(&w, &g, &["mutate", "--store", &g, "-e", "query q() { insert Person { name: \"cy\", age: 3 } }"]);
    assert_durable(&w, &g, &["mutate", "--store", &g, "-e", "query q() { update Person set { age: 4 } where name = \"cy\" }"]);
    assert_durable(&w, &g, &["mutate", "--store", &g, "-e", "query q() { delete Person where name = \"bob\" }"]);
    assert_durable(&w, &g, &["load", "--data", "data.jsonl", "--mode", "overwrite", "--store", &g]);
    assert_eq!(w.rows("Person"), 2);
}
