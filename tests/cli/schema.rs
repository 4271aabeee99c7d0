//! `schema plan` and `schema apply` as processes, and crashes in every step
//! of an apply: afterwards the graph has the old schema and data or the new
//! ones, whole, and takes writes again.

use serde_json::Value as Json;

use crate::common::*;

fn json(s: &str) -> Json {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// The new schema: `Person` renamed `Human`, `age` renamed `years` and
/// widened (a rewrite of Human's rows), a nullable `nick`, a new `Tag` type,
/// and a nullable `site` on `Company` (metadata only): two tables change.
const NEW: &str = "node Human @rename_from(\"Person\") { name: String @key  years: I64? @rename_from(\"age\")  nick: String? }\nnode Company { name: String @key  site: String? }\nnode Tag { label: String @key }\nedge Knows: Human -> Human\nedge WorksAt: Human -> Company @card(0..1)\n";

fn export(w: &Work) -> Vec<String> {
    export_sorted(w, &[])
}

fn schema_hash(w: &Work) -> String {
    json(&w.ok(&["schema", "show", "--store", &w.graph(), "--json"]))["schema_hash"].as_str().unwrap().to_string()
}

#[test]
fn plan_says_what_apply_does_and_apply_keeps_every_row_under_the_new_names() {
    let w = Work::new();
    let g = w.graph();
    w.init();
    w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
    std::fs::write(w.path("new.pg"), NEW).unwrap();
    std::fs::write(w.path("q.gq"), "query ages() { match { $p: Person } return { $p.name, $p.age } }\n").unwrap();
    let before = (export(&w), schema_hash(&w));
    let plan = json(&w.ok(&["schema", "plan", "--store", &g, "--schema", "new.pg", "--json"]));
    assert_eq!(plan["ok"], true, "{plan}");
    let codes: Vec<&str> = plan["steps"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    for c in ["OG-EVOLVE-001", "OG-EVOLVE-003", "OG-EVOLVE-004", "OG-EVOLVE-007", "OG-EVOLVE-008"] {
        assert!(codes.contains(&c), "{c} not in {codes:?}");
    }
    // The stored query breaks: the plan says so and exits 1.
    let o = w.run(&["schema", "plan", "--store", &g, "--schema", "new.pg", "--query", "q.gq"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("OG-LINT-004") && out.contains("q.gq"), "{out}");
    assert_eq!((export(&w), schema_hash(&w)), before, "a plan changes nothing");

    let r = json(&w.ok(&["schema", "apply", "--store", &g, "--schema", "new.pg", "-m", "people are humans", "--json"]));
    assert_eq!(r["commit"]["kind"], "schema", "{r}");
    assert_eq!(r["commit"]["message"], "people are humans");
    let rows =
        w.ok(&["query", "--store", &g, "--format", "jsonl", "-e", "query q() { match { $h: Human } return { $h.name, $h.years, $h.nick } order { $h.name } }"]);
    assert!(rows.contains("\"h.name\":\"ada\",\"h.years\":36,\"h.nick\":null"), "{rows}");
    assert_eq!(w.rows("Human"), 2);
    assert_eq!(w.rows("Tag"), 0);
    // The text report, and the schema at the commit before.
    let commits = json(&w.ok(&["commit", "list", "--store", &g, "--json"]));
    let first = commits["commits"].as_array().unwrap().iter().find(|c| c["kind"] == "load").unwrap()["id"].as_str().unwrap().to_string();
    let old = json(&w.ok(&["schema", "show", "--store", &g, "--at", &first, "--json"]));
    assert_eq!(old["schema_hash"], before.1.as_str());
    let ages =
        w.ok(&["query", "--store", &g, "--at", &first, "--format", "jsonl", "-e", "query q() { match { $p: Person } return { $p.age } order { $p.age } }"]);
    assert!(ages.contains("36"), "{ages}");
    // Applying it again: nothing to change.
    let again = w.ok(&["schema", "apply", "--store", &g, "--schema", "new.pg"]);
    assert!(again.contains("nothing to change"), "{again}");
    // A bad schema file: a coded error with its position.
    std::fs::write(w.path("bad.pg"), "node { }").unwrap();
    let o = w.run(&["schema", "plan", "--store", &g, "--schema", "bad.pg"]);
    assert!(stderr(&o).contains("OG-SCHEMA-001"), "{}", stderr(&o));
}

#[test]
fn a_crash_in_any_step_of_an_apply_leaves_the_old_schema_or_the_new_one_whole() {
    for fp in ["evolve.before_commit", "write.after_sidecar", "write.after_first_table_commit", "write.before_publish", "write.after_publish"] {
        let w = Work::new();
        let g = w.graph();
        w.init();
        w.ok(&["load", "--store", &g, "--data", "data.jsonl"]);
        std::fs::write(w.path("new.pg"), NEW).unwrap();
        let (old_rows, old_hash) = (export(&w), schema_hash(&w));
        let o = w.run_with_failpoint(fp, &["schema", "apply", "--store", &g, "--schema", "new.pg"]);
        assert!(killed_by_abort(&o), "{fp}: the failpoint must abort: {}", stderr(&o));
        w.ok(&["recover", "--store", &g, "--apply"]);
        let hash = schema_hash(&w);
        let landed = hash != old_hash;
        // Once every table committed, recovery rolls the change forward.
        assert_eq!(landed, matches!(fp, "write.before_publish" | "write.after_publish"), "{fp}");
        if landed {
            assert_eq!(w.rows("Human"), 2, "{fp}");
            let rows =
                w.ok(&["query", "--store", &g, "--format", "jsonl", "-e", "query q() { match { $h: Human } return { $h.name, $h.years } order { $h.name } }"]);
            assert!(rows.contains("\"h.years\":36"), "{fp}: {rows}");
        } else {
            assert_eq!(export(&w), old_rows, "{fp}: the old data, whole");
        }
        // Either way the change applies (or is already there), and writes go on.
        w.ok(&["schema", "apply", "--store", &g, "--schema", "new.pg"]);
        w.ok(&["mutate", "--store", &g, "-e", "query q() { insert Human { name: \"cy\", years: 3 } }"]);
        w.ok(&["mutate", "--store", &g, "-e", "query q() { insert Tag { label: \"t\" } }"]);
        assert_eq!(w.rows("Human"), 3, "{fp}");
        assert_eq!(w.rows("Tag"), 1, "{fp}");
    }
}
