//! `omnigraph queries` as processes: a crash in any step of adding stored
//! queries leaves the old catalog or the new one, whole, and the graph
//! takes changes again.

use serde_json::Value as Json;

use crate::common::*;

fn names(w: &Work) -> Vec<String> {
    let doc: Json = serde_json::from_str(&w.ok(&["--json", "queries", "list", "--store", &w.graph()])).unwrap();
    doc["queries"].as_array().unwrap().iter().map(|q| q["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_crash_in_any_step_of_a_queries_change_leaves_the_old_catalog_or_the_new_one() {
    for fp in ["write.after_sidecar", "write.before_publish", "write.after_publish"] {
        let w = Work::new();
        let g = w.graph();
        w.init();
        w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
        std::fs::write(w.path("a.gq"), "query a() { match { $p: Person } return { $p.name } }\n").unwrap();
        std::fs::write(w.path("b.gq"), "query b() { match { $p: Person } return { $p.age } }\nquery a() { match { $p: Person } return { count($p) } }\n")
            .unwrap();
        w.ok(&["queries", "add", "--store", &g, "--file", "a.gq"]);
        let o = w.run_with_failpoint(fp, &["queries", "add", "--store", &g, "--file", "b.gq"]);
        assert!(killed_by_abort(&o), "{fp}: the failpoint must abort: {}", stderr(&o));
        w.ok(&["recover", "--store", &g, "--apply"]);
        let landed = names(&w) == ["a", "b"];
        // The old catalog or the new one (once published, the new one).
        assert!(landed || names(&w) == ["a"], "{fp}: {:?}", names(&w));
        assert!(landed || fp != "write.after_publish", "{fp}");
        let a = w.ok(&["queries", "run", "a", "--store", &g, "--format", "csv"]);
        assert_eq!(a.starts_with("count(p)"), landed, "{fp}: {a} {:?}", names(&w));
        // Either way the change applies (or is already there), and writes go on.
        w.ok(&["queries", "add", "--store", &g, "--file", "b.gq"]);
        assert_eq!(names(&w), ["a", "b"], "{fp}");
        w.ok(&["queries", "remove", "a", "--store", &g]);
        w.ok(&["mutate", "--store", &g, "-e", "query q() { insert Person { name: \"cy\" } }"]);
        assert_eq!(names(&w), ["b"], "{fp}");
    }
}
