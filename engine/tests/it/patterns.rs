//! Edge variables, undirected traversal, optional matches, shortest paths,
//! the scalar functions, `in`, arithmetic, the newer aggregates and
//! `upsert`, on a small graph with parallel edges and a self-loop; and the
//! errors each construct reports.

use omnigraph::Graph;
use omnigraph::load::LoadMode;
use omnigraph::query::{self, QueryResult};
use serde_json::{Value as Json, json};

use crate::common::*;

const DATA: &str = r#"{"type":"Person","data":{"name":"ada","age":36,"email":"ada@x.org"}}
{"type":"Person","data":{"name":"alan","age":41}}
{"type":"Person","data":{"name":"grace","age":85,"email":"grace@x.org"}}
{"type":"Person","data":{"name":"edsger"}}
{"type":"Company","data":{"name":"engines"}}
{"edge":"Knows","from":"ada","to":"alan","data":{"since":"2019-04-01"}}
{"edge":"Knows","from":"ada","to":"alan","data":{"since":"2022-01-01"}}
{"edge":"Knows","from":"alan","to":"grace","data":{"since":"2015-06-30"}}
{"edge":"Knows","from":"grace","to":"edsger"}
{"edge":"Knows","from":"grace","to":"grace","data":{"since":"2000-01-01"}}
{"edge":"WorksAt","from":"ada","to":"engines"}
"#;

async fn graph() -> (TempGraph, Graph) {
    let t = new_graph(SOCIAL).await;
    load(&t.uri(), LoadMode::Append, DATA).await.unwrap();
    let g = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
    (t, g)
}

async fn run(g: &Graph, src: &str, params: Json) -> QueryResult {
    let plans = query::compile(g.schema(), src).unwrap_or_else(|e| panic!("{src}: {e}"));
    query::run_read(g, &plans[0], &params).await.unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn rows(r: &QueryResult) -> Vec<Json> {
    r.json_rows().collect()
}

fn error(g: &Graph, src: &str) -> (String, u32, u32) {
    match query::compile(g.schema(), src) {
        Err(omnigraph::Error::Query(d)) => (d[0].code.to_string(), d[0].line, d[0].col),
        other => panic!("expected an error for {src}, got {other:?}"),
    }
}

#[test]
fn edge_variables_filter_return_order_and_count_each_edge() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        // "Who has known whom since before 2020": parallel edges apart.
        let r = run(
            &g,
            "query q() { match { $a $k:knows $b  $k.since < date(\"2020-01-01\") } return { $a.name, $b.name, $k.since } order { $k.since } }",
            json!({}),
        )
        .await;
        assert_eq!(
            rows(&r),
            vec![
                json!({"a.name": "grace", "b.name": "grace", "k.since": "2000-01-01"}),
                json!({"a.name": "alan", "b.name": "grace", "k.since": "2015-06-30"}),
                json!({"a.name": "ada", "b.name": "alan", "k.since": "2019-04-01"}),
            ]
        );
        // Without a binding: one row per pair; with one: one per edge.
        let r = run(&g, "query q() { match { $a: Person { name: \"ada\" } $a knows $b } return { count(*) } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"count(*)": 1})]);
        let r =
            run(&g, "query q() { match { $a: Person { name: \"ada\" } $a $k:knows $b } return { count(*), min($k.since), max($k.since) } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"count(*)": 2, "min(k.since)": "2019-04-01", "max(k.since)": "2022-01-01"})]);
        // The whole edge, and its id, from either end.
        let r = run(&g, "query q() { match { $b: Person { name: \"edsger\" } $a $k:knows $b } return { $k, $k.id } }", json!({})).await;
        let row = &rows(&r)[0];
        assert_eq!(row["k"]["from"], "grace");
        assert_eq!(row["k"]["to"], "edsger");
        assert_eq!(row["k"]["since"], Json::Null);
        assert_eq!(row["k"]["id"], row["k.id"]);
        // Both ends bound: the edges between them.
        let r = run(
            &g,
            "query q() { match { $a: Person { name: \"ada\" } $b: Person { name: \"alan\" } $a $k:knows $b } return { $k.since } order { $k.since desc } }",
            json!({}),
        )
        .await;
        assert_eq!(rows(&r), vec![json!({"k.since": "2022-01-01"}), json!({"k.since": "2019-04-01"})]);
        // A self-loop binds both ends to one node.
        let r = run(&g, "query q() { match { $a $k:knows $a } return { $a.name } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"a.name": "grace"})]);
    });
}

#[test]
fn undirected_traversal_matches_either_direction_once_per_pair() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let r = run(&g, "query q() { match { $a: Person { name: \"alan\" } $a <knows> $b } return { $b.name } order { $b.name } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"b.name": "ada"}), json!({"b.name": "grace"})]);
        let r = run(&g, "query q() { match { $a: Person { name: \"edsger\" } $a <knows>{1,2} $b } return { $b.name } order { $b.name } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"b.name": "alan"}), json!({"b.name": "edsger"}), json!({"b.name": "grace"})]);
        // With an edge variable, each edge once per direction (the self-loop once).
        let r = run(
            &g,
            "query q() { match { $a: Person { name: \"grace\" } $a $k:<knows> $b } return { $b.name, $k.since } order { $b.name, $k.since } }",
            json!({}),
        )
        .await;
        assert_eq!(
            rows(&r),
            vec![
                json!({"b.name": "alan", "k.since": "2015-06-30"}),
                json!({"b.name": "edsger", "k.since": null}),
                json!({"b.name": "grace", "k.since": "2000-01-01"}),
            ]
        );
        // Nobody without any acquaintance, in either direction.
        let r = run(&g, "query q() { match { $p: Person not { $p <knows> $_ } } return { $p.name } }", json!({})).await;
        assert!(r.rows.is_empty());
    });
}

#[test]
fn optional_blocks_keep_rows_without_a_match_as_null() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let r = run(&g, "query q() { match { $p: Person optional { $p worksAt $c } } return { $p.name, $c.name } order { $p.name } }", json!({})).await;
        assert_eq!(
            rows(&r),
            vec![
                json!({"p.name": "ada", "c.name": "engines"}),
                json!({"p.name": "alan", "c.name": null}),
                json!({"p.name": "edsger", "c.name": null}),
                json!({"p.name": "grace", "c.name": null}),
            ]
        );
        // A filter inside the block narrows the match, not the rows; one
        // after it (on the optional variable) drops rows.
        let r = run(&g, "query q() { match { $p: Person optional { $p knows $f  $f.age > 40 } } return { $p.name, count($f) } order { $p.name } }", json!({}))
            .await;
        assert_eq!(
            rows(&r),
            vec![
                json!({"p.name": "ada", "count(f)": 1}),
                json!({"p.name": "alan", "count(f)": 1}),
                json!({"p.name": "edsger", "count(f)": 0}),
                json!({"p.name": "grace", "count(f)": 1}),
            ]
        );
        let r = run(&g, "query q() { match { $p: Person optional { $p worksAt $c } $c.name = \"engines\" } return { $p.name } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"p.name": "ada"})]);
        let r = run(
            &g,
            "query q() { match { $p: Person optional { $p worksAt $c } } return { coalesce($c.name, \"-\") as c, count(*) as n } order { c } }",
            json!({}),
        )
        .await;
        assert_eq!(rows(&r), vec![json!({"c": "-", "n": 3}), json!({"c": "engines", "n": 1})]);
    });
}

#[test]
fn shortest_paths_bind_length_and_nodes() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let src = "query q($a: String, $b: String) { match { $x: Person { name: $a } $y: Person { name: $b } $p = shortest($x knows{1,5} $y) } return { length($p), nodes($p), $p } }";
        let r = run(&g, src, json!({"a": "ada", "b": "edsger"})).await;
        assert_eq!(rows(&r), vec![json!({"length(p)": 3, "nodes(p)": ["ada", "alan", "grace", "edsger"], "p": ["ada", "alan", "grace", "edsger"]})]);
        // Not reachable forward; reachable either way.
        let r = run(&g, src, json!({"a": "edsger", "b": "ada"})).await;
        assert!(r.rows.is_empty());
        let src = "query q($a: String) { match { $x: Person { name: $a } $p = shortest($x <knows>{1,5} $y) } return { $y.name, length($p) } order { $y.name } }";
        let r = run(&g, src, json!({"a": "edsger"})).await;
        assert_eq!(
            rows(&r),
            vec![json!({"y.name": "ada", "length(p)": 3}), json!({"y.name": "alan", "length(p)": 2}), json!({"y.name": "grace", "length(p)": 1})]
        );
        // The bound end may be the target; a path never returns to its
        // start (grace's self-loop is not a path to grace).
        let src = "query q() { match { $y: Person { name: \"grace\" } $p = shortest($x knows{1,5} $y) } return { $x.name, nodes($p) } order { $x.name } }";
        let r = run(&g, src, json!({})).await;
        assert_eq!(
            rows(&r),
            vec![json!({"x.name": "ada", "nodes(p)": ["ada", "alan", "grace"]}), json!({"x.name": "alan", "nodes(p)": ["alan", "grace"]})]
        );
    });
}

#[test]
fn functions_in_lists_arithmetic_and_aggregates() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let r = run(
            &g,
            "query q() { match { $p: Person  starts_with($p.name, \"a\") } return { upper($p.name) as u, length($p.name) as n, $p.age * 2 + 1 as x, $p.age / 5 as d, $p.age % 5 as m } order { u } }",
            json!({}),
        )
        .await;
        assert_eq!(rows(&r), vec![json!({"u": "ADA", "n": 3, "x": 73, "d": 7, "m": 1}), json!({"u": "ALAN", "n": 4, "x": 83, "d": 8, "m": 1})]);
        let r = run(&g, "query q($names: [String]) { match { $p: Person  $p.name in $names } return { $p.name } order { $p.name } }", json!({"names": ["grace", "ada", "zed"]})).await;
        assert_eq!(rows(&r), vec![json!({"p.name": "ada"}), json!({"p.name": "grace"})]);
        let r = run(&g, "query q() { match { $p: Person  $p.age in [36, 85]  ends_with(lower($p.name), \"ce\") } return { $p.name } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"p.name": "grace"})]);
        let r = run(&g, "query q() { match { $p: Person  $p.age - 1 > 40 } return { $p.name, $p.age / 0 as z, $p.age + 0.5 as f } order { $p.name } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"p.name": "grace", "z": null, "f": 85.5})]);
        let r = run(&g, "query q() { match { $a knows $b } return { count(distinct $a) as who, count(*) as pairs, collect(distinct $b.name) as names } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"who": 3, "pairs": 4, "names": ["alan", "edsger", "grace"]})]);
        let r = run(&g, "query q() { match { $a $k:knows $b } return { year($k.since) as y, count(*) as n } order { y } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"y": null, "n": 1}), json!({"y": 2000, "n": 1}), json!({"y": 2015, "n": 1}), json!({"y": 2019, "n": 1}), json!({"y": 2022, "n": 1})]);
        let r = run(&g, "query q() { match { $p: Person { name: \"ada\" } } return { coalesce($p.email, \"none\") as e, $p.name + \"!\" as s, month(date(\"2024-03-09\")) as mo, day(date(\"2024-03-09\")) as dd } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"e": "ada@x.org", "s": "ada!", "mo": 3, "dd": 9})]);
    });
}

#[test]
fn upsert_inserts_or_updates_by_key() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let src = "query up($n: String, $age: I32?) { upsert Person { name: $n, age: $age } }";
        let plans = query::compile(g.schema(), src).unwrap();
        let r = query::run_mutation(&g, &plans[0], &json!({"n": "ada", "age": 37})).await.unwrap();
        assert_eq!((r.inserted, r.updated), (0, 1));
        let r = query::run_mutation(&g, &plans[0], &json!({"n": "barbara", "age": 86})).await.unwrap();
        assert_eq!((r.inserted, r.updated), (1, 0));
        let r =
            run(&g, "query q() { match { $p: Person  $p.name in [\"ada\", \"barbara\"] } return { $p.name, $p.age, $p.email } order { $p.name } }", json!({}))
                .await;
        // Properties the upsert does not name keep their values.
        assert_eq!(rows(&r), vec![json!({"p.name": "ada", "p.age": 37, "p.email": "ada@x.org"}), json!({"p.name": "barbara", "p.age": 86, "p.email": null})]);
        // Twice in one query: the second sees the first.
        let two = query::compile(g.schema(), "query two() { upsert Person { name: \"cy\", age: 1 } upsert Person { name: \"cy\", age: 2 } }").unwrap();
        let r = query::run_mutation(&g, &two[0], &json!({})).await.unwrap();
        assert_eq!((r.inserted, r.updated), (1, 1));
        let r = run(&g, "query q() { match { $p: Person { name: \"cy\" } } return { $p.age } }", json!({})).await;
        assert_eq!(rows(&r), vec![json!({"p.age": 2})]);
        // Checks still hold: @range.
        let bad = query::run_mutation(&g, &plans[0], &json!({"n": "ada", "age": 900})).await.unwrap_err();
        assert_eq!(bad.code(), "OG-MUTATE-004", "{bad}");
    });
}

#[test]
fn new_constructs_report_coded_errors_with_positions() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let cases: &[(&str, &str, u32, u32)] = &[
            // An edge variable on a variable-length hop, or a name in use.
            ("query q() { match { $a $k:knows{1,2} $b } return { $a } }", "OG-QUERY-008", 1, 24),
            ("query q() { match { $a: Person $a $a:knows $b } return { $a } }", "OG-QUERY-014", 1, 35),
            ("query q() { match { $a $k:knows $b $b $k:knows $c } return { $a } }", "OG-QUERY-014", 1, 39),
            // Either direction needs one node type at both ends.
            ("query q() { match { $a <worksAt> $c } return { $a } }", "OG-QUERY-008", 1, 25),
            ("query q() { match { $p = shortest($a worksAt $c) } return { $p } }", "OG-QUERY-008", 1, 38),
            ("query q() { match { $p = shortest($a knows{1,99} $c) } return { $p } }", "OG-QUERY-008", 1, 38),
            ("query q() { match { $p = shortest($a knows $c) } return { $p.name } }", "OG-QUERY-010", 1, 59),
            ("query q() { match { $p: Person } return { lower($p.age) } }", "OG-QUERY-006", 1, 49),
            ("query q() { match { $p: Person } return { nodes($p) } }", "OG-QUERY-010", 1, 43),
            ("query q() { match { $p: Person  $p.age in [\"a\"] } return { $p } }", "OG-QUERY-006", 1, 40),
            ("query q() { match { $p: Person } return { $p.name - 1 } }", "OG-QUERY-006", 1, 43),
            ("query q() { match { $p: Person } return { count($p) + 1 } }", "OG-QUERY-010", 1, 43),
            ("query q() { match { $p: Person } return { max(distinct $p.age) } }", "OG-QUERY-010", 1, 43),
            ("query q() { match { $p: Person } return { frob($p) } }", "OG-QUERY-010", 1, 43),
            ("query q() { upsert Knows { from: \"a\", to: \"b\" } }", "OG-QUERY-015", 1, 13),
            ("query q() { match { optional { } } return { 1 } }", "OG-QUERY-001", 1, 21),
        ];
        let mut wrong = Vec::new();
        for (src, code, line, col) in cases {
            let got = error(&g, src);
            if (got.0.as_str(), got.1, got.2) != (*code, *line, *col) {
                wrong.push(format!("{src}: got {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    });
}

#[test]
fn filters_on_unindexed_properties_follow_writes() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        let older = "query q() { match { $p: Person  $p.age > 40  $p.age <= 90 } return { $p.name } order { $p.name } }";
        let names = |r: &QueryResult| r.rows.iter().map(|row| row[0].display()).collect::<Vec<_>>();
        assert_eq!(names(&run(&g, older, json!({})).await), ["alan", "grace"]);
        let m = |src: &str| query::compile(g.schema(), src).unwrap().remove(0);
        // An update (a patched value in the cached column), an insert (a new
        // dense index) and a delete (a dead one), each seen by the next read.
        query::run_mutation(&g, &m("query u() { update Person set { age: 50 } where name = \"ada\" }"), &json!({})).await.unwrap();
        assert_eq!(names(&run(&g, older, json!({})).await), ["ada", "alan", "grace"]);
        query::run_mutation(&g, &m("query i() { insert Person { name: \"zed\", age: 77 } }"), &json!({})).await.unwrap();
        query::run_mutation(&g, &m("query d() { delete Person where name = \"alan\" }"), &json!({})).await.unwrap();
        query::run_mutation(&g, &m("query u() { update Person set { age: 20 } where name = \"grace\" }"), &json!({})).await.unwrap();
        assert_eq!(names(&run(&g, older, json!({})).await), ["ada", "zed"]);
        // Edge properties likewise (alan's edges went with him).
        let edges = "query q() { match { $a $k:knows $b  $k.since >= date(\"2000-01-01\") } return { $b.name } }";
        assert_eq!(names(&run(&g, edges, json!({})).await), ["grace"]);
        query::run_mutation(&g, &m("query u() { update Knows set { since: date(\"1999-01-01\") } where since = date(\"2000-01-01\") }"), &json!({}))
            .await
            .unwrap();
        assert_eq!(names(&run(&g, edges, json!({})).await), Vec::<String>::new());
    });
}

#[test]
fn all_shortest_paths_are_bounded_by_the_row_limit() {
    rt().block_on(async {
        // A ladder of 12 rungs of two people each, every person knowing
        // both of the next rung: 2^10 shortest paths between two ends (a
        // choice on each of the 10 rungs between).
        let t = new_graph(SOCIAL).await;
        let mut data = String::new();
        for r in 0..12 {
            for side in 0..2 {
                data += &format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{r}_{side}\"}}}}\n");
            }
        }
        for r in 0..11 {
            for a in 0..2 {
                for b in 0..2 {
                    data += &format!("{{\"edge\":\"Knows\",\"from\":\"p{r}_{a}\",\"to\":\"p{}_{b}\"}}\n", r + 1);
                }
            }
        }
        load(&t.uri(), LoadMode::Append, &data).await.unwrap();
        let src = "query q() { match { $a: Person { name: \"p0_0\" } $b: Person { name: \"p11_0\" } $p = all_shortest($a knows{1,16} $b) } return { count(*) as n } }";
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let plans = query::compile(g.schema(), src).unwrap();
        let r = query::run_read(&g, &plans[0], &json!({})).await.unwrap();
        assert_eq!(rows(&r), vec![json!({"n": 1024})]);
        // 1024 paths of 12 nodes hold 12,288 nodes: past a limit of 10,000.
        let limits = omnigraph::session::QueryLimits { max_rows: 10_000, ..Default::default() };
        let small = omnigraph::Session::new(omnigraph::SessionOptions { cache_bytes: None, limits, ..Default::default() });
        let g = Graph::open(&t.uri(), &small).await.unwrap();
        let e = query::run_read(&g, &plans[0], &json!({})).await.unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-016", "{e}");
    });
}

#[test]
fn long_in_lists_are_answered_through_a_set() {
    rt().block_on(async {
        let (_t, g) = graph().await;
        // 5,000 names (past what goes to Lance), two of them stored.
        let mut names: Vec<String> = (0..5000).map(|i| format!("nobody{i}")).collect();
        names.extend(["grace".to_string(), "ada".to_string()]);
        let r = run(&g, "query q($n: [String]) { match { $p: Person  $p.name in $n } return { $p.name } order { $p.name } }", json!({"n": names})).await;
        assert_eq!(rows(&r), vec![json!({"p.name": "ada"}), json!({"p.name": "grace"})]);
        let mut ages: Vec<i64> = (1000..3000).collect();
        ages.push(41);
        let r = run(&g, "query q($a: [I64]) { match { $p: Person  $p.age in $a  $p.name != \"x\" } return { $p.name } }", json!({"a": ages})).await;
        assert_eq!(rows(&r), vec![json!({"p.name": "alan"})]);
        // Edge ids too, and the same answer as a short list.
        let all = run(&g, "query q() { match { $a $k:knows $b } return { $k.id } }", json!({})).await;
        let mut ids: Vec<String> = all.rows.iter().map(|row| row[0].display()).take(2).collect();
        ids.extend((0..3000).map(|i| format!("none{i}")));
        let r = run(&g, "query q($i: [String]) { match { $a $k:knows $b  $k.id in $i } return { count(*) as n } }", json!({"i": ids})).await;
        assert_eq!(rows(&r), vec![json!({"n": 2})]);
    });
}
