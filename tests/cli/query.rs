//! `omnigraph query`, `mutate` and `lint` as a user runs them.

use crate::common::*;

const QUERIES: &str = r#"
@description("People someone knows, by name")
query friends($name: String) {
    match { $p: Person { name: $name } $p knows $f }
    return { $f.name, $f.age as age }
    order { $f.name }
}

query everyone() {
    match { $p: Person }
    return { $p.name, $p.age }
    order { $p.name }
}

query add_friend($a: String, $b: String) {
    insert Person { name: $b }
    insert Knows { from: $a, to: $b }
}
"#;

fn loaded() -> Work {
    let w = Work::new();
    w.init();
    w.ok(&["load", "--data", "data.jsonl", "--store", &w.graph()]);
    std::fs::write(w.path("q.gq"), QUERIES).unwrap();
    w
}

#[test]
fn query_formats_jsonl_json_csv_and_table() {
    let w = loaded();
    let g = w.graph();
    let jsonl = w.ok(&["query", "--store", &g, "--query", "q.gq", "friends", "--params", r#"{"name":"ada"}"#, "--format", "jsonl"]);
    let lines: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["kind"], "metadata");
    assert_eq!(lines[0]["row_count"], 1);
    assert_eq!(lines[1], serde_json::json!({"f.name": "bob", "age": null}));

    let json: serde_json::Value = serde_json::from_str(&w.ok(&["query", "--store", &g, "--query", "q.gq", "everyone", "--format", "json"])).unwrap();
    assert_eq!(json["metadata"]["row_count"], 2);
    assert_eq!(json["rows"][0], serde_json::json!({"p.name": "ada", "p.age": 36}));

    let csv = w.ok(&["query", "--store", &g, "-e", "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.name } }", "--format", "csv"]);
    assert_eq!(csv, "p.name,p.age\nada,36\nbob,\n");

    let table = w.ok(&["query", "--store", &g, "--query", "q.gq", "everyone", "--format", "table"]);
    assert!(table.starts_with("p.name  p.age\n"), "{table}");
    assert!(table.contains("bob     null") && table.ends_with("(2 rows)\n"), "{table}");

    // Not a terminal and no --format: jsonl.
    let default = w.ok(&["query", "--store", &g, "--query", "q.gq", "everyone"]);
    assert!(default.starts_with("{\"kind\":\"metadata\""), "{default}");
}

#[test]
fn mutate_publishes_and_query_sees_it() {
    let w = loaded();
    let g = w.graph();
    let out = w.ok(&["mutate", "--store", &g, "--query", "q.gq", "add_friend", "--params", r#"{"a":"ada","b":"cy"}"#]);
    assert!(out.starts_with("inserted 2, updated 0, deleted 0"), "{out}");
    let rows = w.ok(&["query", "--store", &g, "--query", "q.gq", "friends", "--params", r#"{"name":"ada"}"#, "--format", "csv"]);
    assert_eq!(rows, "f.name,age\nbob,\ncy,\n");
    assert_eq!(w.rows("Person"), 3);
}

#[test]
fn wrong_kind_missing_name_and_bad_params_fail_with_codes() {
    let w = loaded();
    let g = w.graph();
    let cases: &[(&[&str], &str)] = &[
        (&["query", "--store", &g, "--query", "q.gq", "add_friend", "--params", r#"{"a":"x","b":"y"}"#], "OG-QUERY-011"),
        (&["mutate", "--store", &g, "--query", "q.gq", "everyone"], "OG-QUERY-011"),
        (&["query", "--store", &g, "--query", "q.gq"], "OG-QUERY-012"),
        (&["query", "--store", &g, "--query", "q.gq", "friends", "--params", r#"{"name":1}"#], "OG-QUERY-013"),
        (&["query", "--store", &g, "-e", "query q() { match { $p: Nobody } return { $p } }"], "OG-QUERY-002"),
    ];
    for (args, code) in cases {
        let o = w.run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains(&format!("error[{code}]")), "{args:?}: {}", stderr(&o));
    }
    let o = w.run(&["query", "--json", "--store", &g, "-e", "query q() { match { $p: Person } return { $p.nope } }"]);
    let err: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(err["code"], "OG-QUERY-003");
    assert_eq!(err["details"][0]["line"], 1);
}

#[test]
fn omnigraph_max_query_rows_bounds_a_match() {
    let w = loaded();
    let g = w.graph();
    let cross = "query q() { match { $a: Person  $b: Person } return { count(*) as n } }";
    // Two people: the cross product has 4 rows.
    let o = bin().current_dir(w.dir.path()).env("OMNIGRAPH_MAX_QUERY_ROWS", "3").args(["query", "--store", &g, "-e", cross]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[OG-QUERY-016]") && stderr(&o).contains("OMNIGRAPH_MAX_QUERY_ROWS"), "{}", stderr(&o));
    let o = bin().current_dir(w.dir.path()).env("OMNIGRAPH_MAX_QUERY_ROWS", "4").args(["query", "--store", &g, "-e", cross]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"n\":4"), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn lint_typechecks_without_a_graph() {
    let w = Work::new();
    std::fs::write(w.path("q.gq"), QUERIES).unwrap();
    let out = w.ok(&["lint", "--schema", "schema.pg", "--query", "q.gq"]);
    assert!(out.contains("ok: 3 queries") && out.contains("mutation  add_friend"), "{out}");
    std::fs::write(w.path("bad.gq"), "query q() {\n  match { $p: Person }\n  return { $p.agee }\n}\n").unwrap();
    let o = w.run(&["lint", "--schema", "schema.pg", "--query", "bad.gq"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("3:12: OG-QUERY-003"), "{}", stderr(&o));
}
