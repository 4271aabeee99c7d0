//! The engine's layers, checked from its sources: the session and storage
//! know nothing above them, and the graph layer (open, snapshot, write,
//! recovery) never reaches into the query engine, which reads through it.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// Every line of a module under `engine/src/<module>` that names one of `forbidden`.
fn uses(module: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(module);
    assert!(root.is_dir(), "{} is missing", root.display());
    let mut found = Vec::new();
    for file in sources(&root) {
        for (i, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for f in forbidden {
                if code.contains(f) {
                    found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn lower_layers_do_not_import_higher_ones() {
    let above_graph = ["crate::query", "crate::load", "crate::export"];
    for module in ["graph", "storage", "session"] {
        let found = uses(module, &above_graph);
        assert!(found.is_empty(), "`{module}` reaches into a higher layer:\n{}", found.join("\n"));
    }
    for module in ["storage", "session"] {
        let found = uses(module, &["crate::graph"]);
        assert!(found.is_empty(), "`{module}` reaches into the graph layer:\n{}", found.join("\n"));
    }
    let found = uses("session", &["crate::storage"]);
    assert!(found.is_empty(), "the session reaches into storage:\n{}", found.join("\n"));
}
