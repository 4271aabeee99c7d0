//! Running the binary and reading its output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SCHEMA: &str = "node Person { name: String @key  age: I32? }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company @card(0..1)\n";

pub const DATA: &str = "{\"type\":\"Person\",\"data\":{\"name\":\"ada\",\"age\":36}}\n{\"type\":\"Person\",\"data\":{\"name\":\"bob\"}}\n{\"type\":\"Company\",\"data\":{\"name\":\"acme\"}}\n{\"edge\":\"Knows\",\"from\":\"ada\",\"to\":\"bob\"}\n{\"edge\":\"WorksAt\",\"from\":\"bob\",\"to\":\"acme\"}\n";

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_omnigraph"));
    c.env_remove("OMNIGRAPH_FAILPOINT");
    c
}

pub struct Work {
    pub dir: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Work {
        let w = Work { dir: tempfile::tempdir().unwrap() };
        std::fs::write(w.path("schema.pg"), SCHEMA).unwrap();
        std::fs::write(w.path("data.jsonl"), DATA).unwrap();
        w
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn graph(&self) -> String {
        self.path("graph").display().to_string()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        bin().current_dir(self.dir.path()).args(args).output().unwrap()
    }

    pub fn run_with_failpoint(&self, fp: &str, args: &[&str]) -> Output {
        bin().current_dir(self.dir.path()).env("OMNIGRAPH_FAILPOINT", fp).args(args).output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn init(&self) {
        self.ok(&["init", "--schema", "schema.pg", &self.graph()]);
    }

    pub fn rows(&self, table: &str) -> u64 {
        self.rows_at(&self.graph(), table)
    }

    /// Rows of `table` in the graph at `store`.
    pub fn rows_at(&self, store: &str, table: &str) -> u64 {
        let snap: serde_json::Value = serde_json::from_str(&self.ok(&["snapshot", "--store", store, "--json"])).unwrap();
        snap["tables"].as_array().unwrap().iter().find(|t| t["name"] == table).unwrap()["row_count"].as_u64().unwrap()
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

pub fn killed_by_abort(o: &Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    o.status.signal() == Some(6)
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// An engine session, as a process makes one. Each call makes a new one:
/// tests run on runtimes of their own, and a session's S3 clients belong to
/// the runtime that first used them.
pub fn session() -> omnigraph::Session {
    omnigraph::Session::default()
}

/// The graph `w` holds, exported (with `extra` arguments, e.g. `--branch
/// f`) as sorted lines, edge ids removed.
pub fn export_sorted(w: &Work, extra: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = w
        .ok(&[&["export", "--store", &w.graph()][..], extra].concat())
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            if v.get("edge").is_some() {
                v.as_object_mut().unwrap().remove("id");
            }
            v.to_string()
        })
        .collect();
    lines.sort();
    lines
}
