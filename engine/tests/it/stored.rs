//! Stored queries: kept per commit, typechecked when added, described as
//! typed tools, carried through schema changes and merges.

use omnigraph::Graph;
use omnigraph::evolve::{self, EvolveOptions};
use omnigraph::graph::WriteOptions;
use omnigraph::load::LoadMode;
use omnigraph::{query, stored};
use serde_json::json;

use crate::common::*;

const DATA: &str = r#"{"type":"Person","data":{"name":"ada","age":36}}
{"type":"Person","data":{"name":"alan","age":41}}
{"edge":"Knows","from":"ada","to":"alan","data":{"since":"2021-04-01"}}
"#;

const QUERIES: &str = r#"// People and friends.
@description("Who a person knows")
@instruction("Use for questions about contacts")
query friends($name: String, $since: Date?) {
    match { $p: Person { name: $name } $p $k:knows $f }
    return { $f.name, $f.age, $k.since, $f }
    order { $f.name }
}

query add_person($name: String, $age: I32?) {
    upsert Person { name: $name, age: $age }
}
"#;

async fn graph() -> (TempGraph, Graph) {
    let t = new_graph(SOCIAL).await;
    load(&t.uri(), LoadMode::Append, DATA).await.unwrap();
    let g = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
    (t, g)
}

#[test]
fn stored_queries_are_added_described_run_and_kept_per_commit() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let w = WriteOptions::default();
        let report = stored::add(&g, QUERIES, &w).await.unwrap();
        assert_eq!(report.added, ["friends", "add_person"]);
        let first = report.commit.clone().unwrap();
        let snap = g.snapshot().await.unwrap();
        assert_eq!(snap.commit.kind, "queries");
        let c = stored::catalog(&g, &snap).await.unwrap();
        assert_eq!(c.names(), ["add_person", "friends"]);
        // Each query keeps its own text, annotations included.
        assert!(c.get("friends").unwrap().source.starts_with("@description(\"Who a person knows\")"));
        assert!(c.get("friends").unwrap().source.ends_with('}'));
        assert!(!c.get("friends").unwrap().source.contains("upsert"));

        // As a typed tool.
        let d = stored::tool::describe(g.schema(), c.get("friends").unwrap()).unwrap();
        assert_eq!(d["kind"], "read");
        assert_eq!(d["instruction"], "Use for questions about contacts");
        assert_eq!(d["params"]["required"], json!(["name"]));
        assert_eq!(d["params"]["properties"]["since"]["type"], json!(["string", "null"]));
        assert_eq!(d["params"]["properties"]["since"]["format"], "date");
        assert_eq!(d["columns"], json!(["f.name", "f.age", "k.since", "f"]));
        assert_eq!(d["result"]["properties"]["f.age"]["type"], json!(["integer", "null"]));
        assert_eq!(d["result"]["properties"]["f"]["type"], json!(["object", "null"]));
        assert_eq!(d["result"]["properties"]["f"]["properties"]["email"]["type"], json!(["string", "null"]));
        let m = stored::tool::describe(g.schema(), c.get("add_person").unwrap()).unwrap();
        assert_eq!(m["kind"], "mutation");

        // Run by name.
        let plan = stored::find(&g, &snap, "friends").await.unwrap();
        let r = query::run_read(&g, &plan, &json!({"name": "ada"})).await.unwrap();
        assert_eq!(r.rows.len(), 1);
        let plan = stored::find(&g, &snap, "add_person").await.unwrap();
        query::run_mutation(&g, &plan, &json!({"name": "grace", "age": 85})).await.unwrap();
        let e = stored::find(&g, &snap, "nope").await.unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-021");

        // Replace one, remove the other: each a commit; older commits keep
        // their catalog.
        let r = stored::add(&g, "query friends($name: String) { match { $p: Person { name: $name } $p knows $f } return { $f.name } }", &w).await.unwrap();
        assert_eq!(r.replaced, ["friends"]);
        let r = stored::add(&g, "query friends($name: String) { match { $p: Person { name: $name } $p knows $f } return { $f.name } }", &w).await.unwrap();
        assert_eq!((r.unchanged.clone(), r.commit.clone()), (vec!["friends".to_string()], None));
        stored::remove(&g, &["add_person".to_string()], &w).await.unwrap();
        let now = g.snapshot().await.unwrap();
        assert_eq!(stored::catalog(&g, &now).await.unwrap().names(), ["friends"]);
        let at = omnigraph::graph::history::At::Commit(first.clone());
        let old = g.snapshot_at(Some(&at)).await.unwrap();
        assert_eq!(stored::catalog(&g, &old).await.unwrap().names(), ["add_person", "friends"]);
        assert_eq!(stored::remove(&g, &["nope".to_string()], &w).await.unwrap_err().code(), "OG-QUERY-021");
        // A fresh handle reads the same.
        let g2 = Graph::open(g.root().uri(), &crate::common::session()).await.unwrap();
        let s2 = g2.snapshot().await.unwrap();
        assert_eq!(stored::catalog(&g2, &s2).await.unwrap().names(), ["friends"]);
    });
}

#[test]
fn a_query_that_does_not_check_is_refused_and_nothing_changes() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let w = WriteOptions::default();
        let before = g.snapshot().await.unwrap().commit.id;
        let e = stored::add(&g, "query ok() { match { $p: Person } return { $p.name } }\nquery bad() { match { $p: Person } return { $p.nmae } }", &w)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-003", "{e}");
        let e = stored::add(&g, "query q( {", &w).await.unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-001");
        assert_eq!(g.snapshot().await.unwrap().commit.id, before);
    });
}

#[test]
fn a_schema_change_that_breaks_a_stored_query_is_refused_unless_it_replaces_it() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let w = WriteOptions::default();
        stored::add(&g, "query ages() { match { $p: Person } return { $p.name, $p.age } }", &w).await.unwrap();
        let renamed = SOCIAL.replace("age: I32?", "years: I32? @rename_from(\"age\")").replace("@range(age, 0..150)", "@range(years, 0..150)");
        let plan = evolve::plan(&g, &renamed, &EvolveOptions::default()).await.unwrap();
        assert!(!plan.ok);
        assert!(plan.lints.iter().any(|l| l.code == "OG-LINT-004" && l.target == "ages"), "{:?}", plan.lints);
        let e = evolve::apply(&g, &renamed, &EvolveOptions::default()).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-004");
        // Replaced in the same change: one commit carries both.
        let fixed = EvolveOptions { update_queries: vec!["query ages() { match { $p: Person } return { $p.name, $p.years } }".into()], ..Default::default() };
        let report = evolve::apply(&g, &renamed, &fixed).await.unwrap();
        let snap = g.snapshot().await.unwrap();
        assert_eq!(Some(snap.commit.id.clone()), report.commit.map(|c| c.id));
        let plan = stored::find(&g, &snap, "ages").await.unwrap();
        let r = query::run_read(&g, &plan, &json!({})).await.unwrap();
        assert_eq!(r.columns, ["p.name", "p.years"]);
        // Or removed in the same change.
        let back = SOCIAL.to_string();
        let e = evolve::apply(&g, &back.replace("age: I32?", "age: I32? @rename_from(\"years\")"), &EvolveOptions::default()).await.unwrap_err();
        assert_eq!(e.code(), "OG-LINT-004");
        let drop = EvolveOptions { drop_queries: vec!["ages".into()], ..Default::default() };
        evolve::apply(&g, &back.replace("age: I32?", "age: I32? @rename_from(\"years\")"), &drop).await.unwrap();
        let snap = g.snapshot().await.unwrap();
        assert!(stored::catalog(&g, &snap).await.unwrap().queries.is_empty());
    });
}

#[test]
fn branches_keep_their_own_queries_and_merge_them_by_name() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let w = WriteOptions::default();
        stored::add(&g, "query a() { match { $p: Person } return { $p.name } }", &w).await.unwrap();
        omnigraph::graph::branches::create(&g, "dev", None, &w).await.unwrap();
        let dev = g.on_branch("dev").await.unwrap();
        stored::add(&dev, "query b() { match { $p: Person } return { $p.age } }", &w).await.unwrap();
        let main_names = stored::catalog(&g, &g.snapshot().await.unwrap()).await.unwrap().names();
        assert_eq!(main_names, ["a"]);
        let m = omnigraph::merge::merge(&g, "dev", &omnigraph::merge::MergeOptions::default(), &w).await.unwrap();
        assert!(m.commit.is_some());
        assert_eq!(stored::catalog(&g, &g.snapshot().await.unwrap()).await.unwrap().names(), ["a", "b"]);
        // Changed differently on both sides: a conflict, nothing written.
        stored::add(&dev, "query a() { match { $p: Person } return { $p.age } }", &w).await.unwrap();
        stored::add(&g, "query a() { match { $p: Person } return { $p.name, $p.age } }", &w).await.unwrap();
        let e = omnigraph::merge::merge(&g, "dev", &omnigraph::merge::MergeOptions::default(), &w).await.unwrap_err();
        assert_eq!(e.code(), "OG-MERGE-001", "{e}");
    });
}

#[test]
fn the_catalog_is_bounded_in_count_and_size() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let w = WriteOptions::default();
        let many: String = (0..1001).map(|i| format!("query q{i}() {{ match {{ $p: Person }} return {{ $p.name }} }}\n")).collect();
        let e = stored::add(&g, &many, &w).await.unwrap_err();
        assert_eq!(e.code(), "OG-ARG-001", "{e}");
        let long = format!("query big() {{ match {{ $p: Person {} }} return {{ $p.name }} }}", "$p.age > 1 ".repeat(7000));
        let e = stored::add(&g, &long, &w).await.unwrap_err();
        assert!(e.to_string().contains("at most 65536"), "{e}");
        assert!(stored::catalog(&g, &g.snapshot().await.unwrap()).await.unwrap().queries.is_empty());
        // At the bound, it is kept.
        let thousand: String = (0..1000).map(|i| format!("query q{i}() {{ match {{ $p: Person }} return {{ $p.name }} }}\n")).collect();
        assert_eq!(stored::add(&g, &thousand, &w).await.unwrap().added.len(), 1000);
    });
}
