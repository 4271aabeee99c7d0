//! Mutations: read-your-writes across statements, one atomic publish, and
//! validation before anything is written.

use omnigraph::Graph;
use omnigraph::load::LoadMode;
use omnigraph::query;
use serde_json::{Value as Json, json};

use crate::common::*;

const DATA: &str = r#"{"type":"Person","data":{"name":"ada","age":36,"email":"ada@x.org"}}
{"type":"Person","data":{"name":"alan","age":41}}
{"type":"Company","data":{"name":"engines"}}
{"edge":"Knows","from":"ada","to":"alan"}
{"edge":"Knows","from":"alan","to":"ada"}
{"edge":"WorksAt","from":"ada","to":"engines"}
"#;

async fn mutate(uri: &str, src: &str, params: Json) -> omnigraph::Result<query::MutationReport> {
    let g = Graph::open_for_write(uri, &crate::common::session()).await?;
    let plans = query::compile(g.schema(), src)?;
    query::run_mutation(&g, &plans[0], &params).await
}

async fn read(uri: &str, src: &str) -> Vec<Json> {
    let g = Graph::open(uri, &crate::common::session()).await.unwrap();
    let plans = query::compile(g.schema(), src).unwrap();
    query::run_read(&g, &plans[0], &json!({})).await.unwrap().json_rows().collect()
}

async fn seeded() -> TempGraph {
    let t = new_graph(SOCIAL).await;
    load(&t.uri(), LoadMode::Append, DATA).await.unwrap();
    t
}

#[test]
fn statements_read_their_own_writes_and_publish_once() {
    rt().block_on(async {
        let t = seeded().await;
        let before = Graph::open(&t.uri(), &crate::common::session()).await.unwrap().snapshot().await.unwrap().manifest_version;
        let r = mutate(
            &t.uri(),
            "query m($n: String) {
                insert Person { name: $n, age: 20 }
                insert Knows { from: $n, to: \"ada\" }
                update Person set { age: 21 } where name = $n
                update Person set { email: \"a@new.org\" } where name = \"ada\"
                insert WorksAt { from: $n, to: \"engines\" }
            }",
            json!({"n": "bob"}),
        )
        .await
        .unwrap();
        assert_eq!((r.inserted, r.updated, r.deleted), (3, 2, 0));
        assert_eq!(r.manifest_version, before + 1, "one publish for the whole query");
        let people = read(&t.uri(), "query q() { match { $p: Person } return { $p.name, $p.age, $p.email } order { $p.name } }").await;
        assert_eq!(
            people,
            vec![
                json!({"p.name": "ada", "p.age": 36, "p.email": "a@new.org"}),
                json!({"p.name": "alan", "p.age": 41, "p.email": null}),
                json!({"p.name": "bob", "p.age": 21, "p.email": null}),
            ]
        );
        let knows = read(&t.uri(), "query q() { match { $a knows $b } return { $a.name, $b.name } order { $a.name } }").await;
        assert_eq!(knows.len(), 3);
        // Stored data is intact after the rewrite of ada (deletion vector + new row).
        assert_eq!(row_counts(&t.uri()).await["Person"], 3);
    });
}

#[test]
fn deleting_a_node_deletes_its_edges() {
    rt().block_on(async {
        let t = seeded().await;
        let r = mutate(&t.uri(), "query m() { delete Person where name = \"ada\" }", json!({})).await.unwrap();
        assert_eq!((r.deleted, r.cascaded), (1, 3));
        let counts = row_counts(&t.uri()).await;
        assert_eq!((counts["Person"], counts["Knows"], counts["WorksAt"]), (1, 0, 0));
        let r = mutate(&t.uri(), "query m() { delete Person where age > 100 }", json!({})).await.unwrap();
        assert_eq!(r.deleted, 0);
        // A delete then an insert of the same key in one query.
        mutate(&t.uri(), "query m() { delete Person where name = \"alan\" insert Person { name: \"alan\", age: 50 } }", json!({})).await.unwrap();
        assert_eq!(read(&t.uri(), "query q() { match { $p: Person } return { $p.age } }").await, vec![json!({"p.age": 50})]);
    });
}

#[test]
fn a_failing_statement_publishes_nothing_and_changes_no_file() {
    rt().block_on(async {
        let t = seeded().await;
        let root = t.dir.path().join("g");
        let before = tree_hash(&root);
        let cases: &[(&str, &str)] = &[
            // Key clash with a stored row, after a valid insert.
            ("query m() { insert Person { name: \"zed\" } insert Person { name: \"ada\" } }", "OG-MUTATE-001"),
            // @unique clash with a stored row.
            ("query m() { insert Person { name: \"zed\", email: \"ada@x.org\" } }", "OG-MUTATE-001"),
            // @unique clash inside the mutation.
            ("query m() { update Person set { email: \"same@x\" } where age > 0 }", "OG-MUTATE-001"),
            // Edge to a node that does not exist.
            ("query m() { insert Knows { from: \"ada\", to: \"nobody\" } }", "OG-MUTATE-002"),
            // Edge to a node deleted by the same query.
            ("query m() { delete Person where name = \"alan\" insert Knows { from: \"ada\", to: \"alan\" } }", "OG-MUTATE-002"),
            // @card(0..1): a second employer.
            ("query m() { insert Company { name: \"navy\" } insert WorksAt { from: \"ada\", to: \"navy\" } }", "OG-MUTATE-003"),
            // @range.
            ("query m() { update Person set { age: 200 } where name = \"ada\" }", "OG-MUTATE-004"),
            // Value does not fit I32.
            ("query m($a: I64) { insert Person { name: \"zed\", age: $a } }", "OG-MUTATE-004"),
        ];
        for (src, code) in cases {
            let params = if src.contains("$a") { json!({"a": 5_000_000_000i64}) } else { json!({}) };
            let e = mutate(&t.uri(), src, params).await.unwrap_err();
            assert_eq!(e.code(), *code, "{src}: {e}");
        }
        assert_eq!(tree_hash(&root), before, "a rejected mutation changed files");
    });
}

#[test]
fn card_minimum_is_checked_for_new_nodes() {
    rt().block_on(async {
        let t = new_graph("node P { k: String @key }\nnode C { k: String @key }\nedge Owns: P -> C @card(1..2)").await;
        let e = mutate(&t.uri(), "query m() { insert P { k: \"p\" } }", json!({})).await.unwrap_err();
        assert_eq!(e.code(), "OG-MUTATE-003");
        mutate(&t.uri(), "query m() { insert C { k: \"c\" } insert P { k: \"p\" } insert Owns { from: \"p\", to: \"c\" } }", json!({})).await.unwrap();
        let e = mutate(&t.uri(), "query m() { delete Owns where from = \"p\" }", json!({})).await.unwrap_err();
        assert_eq!(e.code(), "OG-MUTATE-003");
        // Deleting the owner removes its edges and needs none.
        mutate(&t.uri(), "query m() { delete P where k = \"p\" }", json!({})).await.unwrap();
        assert_eq!(row_counts(&t.uri()).await["Owns"], 0);
    });
}

#[test]
fn mutations_on_read_only_open_are_refused() {
    rt().block_on(async {
        let t = seeded().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let plans = query::compile(g.schema(), "query m() { delete Person where name = \"ada\" }").unwrap();
        assert_eq!(query::run_mutation(&g, &plans[0], &json!({})).await.unwrap_err().code(), "OG-ARG-001");
    });
}

#[test]
fn existence_checks_see_indexed_and_newly_written_rows_alike() {
    rt().block_on(async {
        // The load builds the `name` key's index; rows inserted after it sit
        // in fragments the index does not cover. Checks by id must see both.
        let t = seeded().await;
        mutate(&t.uri(), "query m() { insert Person { name: \"grace\", age: 30 } }", json!({})).await.unwrap();
        for (from, to) in [("ada", "grace"), ("grace", "alan")] {
            let src = "query m($a: String, $b: String) { insert Knows { from: $a, to: $b } }";
            mutate(&t.uri(), src, json!({"a": from, "b": to})).await.unwrap();
        }
        let e = mutate(&t.uri(), "query m() { insert Knows { from: \"ada\", to: \"nobody\" } }", json!({})).await.unwrap_err();
        assert_eq!(e.code(), "OG-MUTATE-002", "{e}");
        // Inserting an existing key is a clash, for an indexed row and a new one.
        for name in ["alan", "grace"] {
            let e = mutate(&t.uri(), &format!("query m() {{ insert Person {{ name: \"{name}\", age: 1 }} }}"), json!({})).await.unwrap_err();
            assert_eq!(e.code(), "OG-MUTATE-001", "{name}: {e}");
        }
        let rows = read(&t.uri(), "query q() { match { $a: Person { name: \"grace\" }  $a knows $b } return { $b.name } }").await;
        assert_eq!(rows, vec![json!({"b.name": "alan"})]);
    });
}
