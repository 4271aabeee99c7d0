//! Each command as a user runs it: output, errors with codes, --json.

use crate::common::*;

#[test]
fn init_load_snapshot_export_and_schema_show() {
    let w = Work::new();
    w.init();
    let out = w.ok(&["load", "--data", "data.jsonl", "--mode", "append", "--store", &w.graph()]);
    assert!(out.contains("loaded 5 rows"), "{out}");
    assert_eq!(w.rows("Person"), 2);
    assert_eq!(w.rows("Knows"), 1);
    let table = w.ok(&["snapshot", "--store", &w.graph()]);
    assert!(table.contains("Person") && table.contains("manifest"), "{table}");

    let export = w.ok(&["export", "--store", &w.graph()]);
    assert_eq!(export.lines().count(), 5);
    let people = w.ok(&["export", "--store", &w.graph(), "--type", "Person"]);
    assert_eq!(people.lines().count(), 2);

    // The export loads back into an identical graph.
    std::fs::write(w.path("export.jsonl"), &export).unwrap();
    let copy = w.path("copy").display().to_string();
    w.ok(&["init", "--schema", "schema.pg", &copy]);
    w.ok(&["load", "--data", "export.jsonl", "--mode", "overwrite", "--store", &copy]);
    let again = w.ok(&["export", "--store", &copy]);
    let sorted = |s: &str| {
        let mut v: Vec<String> = s.lines().map(String::from).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&again), sorted(&export));

    let src = w.ok(&["schema", "show", "--store", &w.graph()]);
    assert_eq!(src, SCHEMA);
    let ir: serde_json::Value = serde_json::from_str(&w.ok(&["schema", "show", "--store", &w.graph(), "--json"])).unwrap();
    assert_eq!(ir["ir"]["nodes"].as_array().unwrap().len(), 2);
}

#[test]
fn errors_are_one_line_with_a_code_and_json_on_request() {
    let w = Work::new();
    w.init();
    let again = w.run(&["init", "--schema", "schema.pg", &w.graph()]);
    assert_eq!(again.status.code(), Some(1));
    let first_line = stderr(&again).lines().next().unwrap().to_string();
    assert!(first_line.starts_with("error[OG-INIT-001]:"), "{first_line}");

    let json = w.run(&["init", "--schema", "schema.pg", &w.graph(), "--json"]);
    assert_eq!(json.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["code"], "OG-INIT-001");
    assert_eq!(v["kind"], "already_initialized");

    std::fs::write(w.path("bad.jsonl"), "{\"type\":\"Person\",\"data\":{\"name\":\"x\",\"age\":\"no\"}}\n{\"type\":\"Ghost\"}\n").unwrap();
    let bad = w.run(&["load", "--data", "bad.jsonl", "--store", &w.graph()]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(err.starts_with("error[OG-LOAD-001]: bad.jsonl: 2 problem(s) in its lines"), "{err}");
    assert!(err.contains("line 1: OG-LOAD-006") && err.contains("line 2: OG-LOAD-003"), "{err}");
    let bad_json = w.run(&["load", "--data", "bad.jsonl", "--store", &w.graph(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&bad_json.stdout).unwrap();
    assert_eq!(v["details"][1]["line"], 2);
    assert_eq!(w.rows("Person"), 0);

    std::fs::write(w.path("bad.pg"), "node A {\n  x: Strin\n}\n").unwrap();
    let schema_err = w.run(&["schema", "check", "bad.pg"]);
    assert!(stderr(&schema_err).contains("2:6: OG-SCHEMA-010"), "{}", stderr(&schema_err));
    let missing = w.run(&["snapshot", "--store", &w.path("nowhere").display().to_string()]);
    assert!(stderr(&missing).starts_with("error[OG-OPEN-001]"), "{}", stderr(&missing));
}

#[test]
fn load_reads_stdin_and_stays_quiet_when_piped() {
    let w = Work::new();
    w.init();
    let mut child = bin()
        .current_dir(w.dir.path())
        .args(["load", "--data", "-", "--store", &w.graph()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(DATA.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "progress output leaked into a pipe: {}", stderr(&out));
    assert_eq!(w.rows("Person"), 2);
}

#[test]
fn every_argument_has_help_and_mutate_takes_no_format() {
    let w = Work::new();
    let help = |args: &[&str]| String::from_utf8(w.run(args).stdout).unwrap();
    assert!(help(&["graphs", "list", "--help"]).contains("tombstones whose data is gone"));
    assert!(help(&["graphs", "show", "--help"]).contains("The graph id"));
    assert!(help(&["graphs", "import", "--help"]).contains("The id to register it under"));
    assert!(help(&["recover", "--help"]).contains("One graph's directory"));
    assert!(help(&["graphs", "delete", "--help"]).contains("--remove-data"));
    let mutate = help(&["mutate", "--help"]);
    assert!(!mutate.contains("--format"), "{mutate}");
    let out = w.run(&["mutate", "--store", "x", "-e", "q", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "an unknown flag is a usage error");
}

/// CLI processes writing to one graph at once race each other's publishes;
/// a mutation, and a load from a file, that lose run again on the new head,
/// so independent writes all land, each once.
#[test]
fn concurrent_cli_writers_on_one_graph_all_land_once() {
    let w = Work::new();
    w.init();
    for l in 0..2 {
        let lines: String = (0..3).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"load{l}-{i}\"}}}}\n")).collect();
        std::fs::write(w.path(&format!("load{l}.jsonl")), lines).unwrap();
    }
    let graph = w.graph();
    let dir = w.dir.path().to_path_buf();
    let mut writers = Vec::new();
    for c in 0..4 {
        let (graph, dir) = (graph.clone(), dir.clone());
        writers.push(std::thread::spawn(move || {
            for i in 0..6 {
                let params = format!("{{\"n\":\"m{c}-{i}\"}}");
                let out = bin()
                    .current_dir(&dir)
                    .args(["mutate", "--store", &graph, "-e", "query add($n: String) { insert Person { name: $n } }", "--params", &params])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "writer {c}, insert {i}: {}", stderr(&out));
            }
        }));
    }
    for l in 0..2 {
        let (graph, dir) = (graph.clone(), dir.clone());
        writers.push(std::thread::spawn(move || {
            for _ in 0..2 {
                let data = format!("load{l}.jsonl");
                let out = bin().current_dir(&dir).args(["load", "--store", &graph, "--data", &data, "--mode", "merge"]).output().unwrap();
                assert!(out.status.success(), "load {l}: {}", stderr(&out));
            }
        }));
    }
    for t in writers {
        t.join().unwrap();
    }
    // 24 inserts and 6 loaded people (merged twice: still once each).
    assert_eq!(w.rows("Person"), 24 + 6);
}
