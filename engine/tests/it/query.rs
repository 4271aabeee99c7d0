//! Reads: every construct of the language on a real graph, and the errors
//! the typechecker reports with their codes and positions.

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
{"type":"Company","data":{"name":"navy"}}
{"edge":"Knows","from":"ada","to":"alan","data":{"since":"2021-04-01"}}
{"edge":"Knows","from":"ada","to":"alan"}
{"edge":"Knows","from":"alan","to":"grace"}
{"edge":"Knows","from":"grace","to":"edsger"}
{"edge":"Knows","from":"edsger","to":"ada"}
{"edge":"Knows","from":"grace","to":"grace"}
{"edge":"WorksAt","from":"ada","to":"engines"}
{"edge":"WorksAt","from":"grace","to":"navy"}
"#;

async fn social() -> TempGraph {
    let g = new_graph(SOCIAL).await;
    load(&g.uri(), LoadMode::Append, DATA).await.unwrap();
    g
}

async fn run(g: &Graph, src: &str, params: Json) -> omnigraph::Result<QueryResult> {
    let plans = query::compile(g.schema(), src)?;
    query::run_read(g, &plans[0], &params).await
}

fn rows(r: &QueryResult) -> Vec<Json> {
    r.json_rows().collect()
}

fn column(r: &QueryResult, i: usize) -> Vec<Json> {
    r.rows.iter().map(|row| row[i].to_json()).collect()
}

#[test]
fn point_lookup_and_inline_equality_with_params() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let r = run(&g, "query q($n: String) { match { $p: Person { name: $n } } return { $p.name, $p.age } }", json!({"n": "ada"})).await.unwrap();
        assert_eq!(rows(&r), vec![json!({"p.name": "ada", "p.age": 36})]);
        let r = run(&g, "query q() { match { $p: Person { age: 41 } } return { $p.name as who } }", json!({})).await.unwrap();
        assert_eq!(rows(&r), vec![json!({"who": "alan"})]);
        let r = run(&g, "query q() { match { $p: Person { name: \"nobody\" } } return { $p.name } }", json!({})).await.unwrap();
        assert!(r.rows.is_empty());
    });
}

#[test]
fn key_and_id_equalities_find_exactly_their_node() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
        let names = |r: &QueryResult| column(r, 0).into_iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>();
        let q = |body: &str| format!("query q($n: String, $a: I32) {{ match {{ {body} }} return {{ $p.name }} order {{ $p.name }} }}");
        // The key with another filter on the same variable, true and false.
        let r = run(&g, &q("$p: Person { name: $n }  $p.age > $a"), json!({"n": "grace", "a": 80})).await.unwrap();
        assert_eq!(names(&r), ["grace"]);
        let r = run(&g, &q("$p: Person { name: $n }  $p.age > $a"), json!({"n": "grace", "a": 90})).await.unwrap();
        assert!(r.rows.is_empty());
        // By id, the key written the other way round, and two keys that disagree.
        let r = run(&g, &q("$p: Person  $p.id = $n"), json!({"n": "alan", "a": 0})).await.unwrap();
        assert_eq!(names(&r), ["alan"]);
        let r = run(&g, &q("$p: Person  $n = $p.name"), json!({"n": "edsger", "a": 0})).await.unwrap();
        assert_eq!(names(&r), ["edsger"]);
        let r = run(&g, &q("$p: Person { name: $n }  $p.name = \"ada\""), json!({"n": "alan", "a": 0})).await.unwrap();
        assert!(r.rows.is_empty());
        // A key of another type's node, a null, and a missing key: no rows.
        let r = run(&g, &q("$p: Person { name: $n }"), json!({"n": "engines", "a": 0})).await.unwrap();
        assert!(r.rows.is_empty());
        let r = run(&g, "query q($n: String?) { match { $p: Person { name: $n } } return { $p.name } }", json!({"n": null})).await.unwrap();
        assert!(r.rows.is_empty());
        let r = run(&g, "query q($n: String?) { match { $p: Person  $p.id = $n } return { $p.name } }", json!({})).await.unwrap();
        assert!(r.rows.is_empty());
        // A node a mutation just added (an unindexed fragment) is found, a deleted one is not.
        let m = query::compile(g.schema(), "query m() { insert Person { name: \"barbara\", age: 70 } delete Person where name = \"alan\" }").unwrap();
        query::run_mutation(&g, &m[0], &json!({})).await.unwrap();
        let r = run(&g, &q("$p: Person { name: $n }"), json!({"n": "barbara", "a": 0})).await.unwrap();
        assert_eq!(names(&r), ["barbara"]);
        let r = run(&g, &q("$p: Person { name: $n }"), json!({"n": "alan", "a": 0})).await.unwrap();
        assert!(r.rows.is_empty());
        // From the key across an edge, backwards.
        let r = run(&g, "query q() { match { $c: Company { name: \"navy\" } $p worksAt $c } return { $p.name } }", json!({})).await.unwrap();
        assert_eq!(names(&r), ["grace"]);
    });
}

#[test]
fn key_properties_have_a_scalar_index_that_answers_point_lookups() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let snap = g.snapshot().await.unwrap();
        let ds = g.open_table(&snap, g.type_named("Person").unwrap()).await.unwrap();
        let mut sc = ds.scan();
        sc.project(&["id"]).unwrap();
        sc.filter("name = 'ada'").unwrap();
        let plan = sc.explain_plan(true).await.unwrap();
        assert!(plan.contains("ScalarIndexQuery"), "point lookup does not use the index:\n{plan}");
        let mut sc = ds.scan();
        sc.filter("email = 'ada@x.org'").unwrap();
        assert!(sc.explain_plan(true).await.unwrap().contains("ScalarIndexQuery"), "@unique property has no index");
    });
}

#[test]
fn traversal_forward_backward_and_parallel_edges_bind_once() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        // ada knows alan through two parallel edges: one binding.
        let r = run(&g, "query q() { match { $p: Person { name: \"ada\" } $p knows $f } return { $f.name } }", json!({})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("alan")]);
        // Backwards: who works at engines.
        let r = run(&g, "query q() { match { $c: Company { name: \"engines\" } $p worksAt $c } return { $p.name } }", json!({})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("ada")]);
        // Self-loop: grace knows grace.
        let r = run(&g, "query q() { match { $p knows $p } return { $p.name } }", json!({})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("grace")]);
        // Two hops.
        let r = run(&g, "query q() { match { $a: Person { name: \"ada\" } $a knows $b $b knows $c } return { $c.name } order { $c.name } }", json!({}))
            .await
            .unwrap();
        assert_eq!(column(&r, 0), vec![json!("grace")]);
    });
}

#[test]
fn variable_length_traversal_terminates_on_cycles_and_respects_bounds() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let q = |h: &str| format!("query q() {{ match {{ $a: Person {{ name: \"ada\" }} $a knows{h} $b }} return {{ $b.name }} order {{ $b.name }} }}");
        let names = |r: &QueryResult| column(r, 0).into_iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>();
        assert_eq!(names(&run(&g, &q("{1,1}"), json!({})).await.unwrap()), ["alan"]);
        assert_eq!(names(&run(&g, &q("{1,2}"), json!({})).await.unwrap()), ["alan", "grace"]);
        assert_eq!(names(&run(&g, &q("{1,3}"), json!({})).await.unwrap()), ["alan", "edsger", "grace"]);
        // The cycle ada -> alan -> grace -> edsger -> ada: unbounded ends.
        assert_eq!(names(&run(&g, &q("{1,}"), json!({})).await.unwrap()), ["ada", "alan", "edsger", "grace"]);
        assert_eq!(names(&run(&g, &q("{0,1}"), json!({})).await.unwrap()), ["ada", "alan"]);
        assert_eq!(names(&run(&g, &q("{3,3}"), json!({})).await.unwrap()), ["edsger", "grace"]);
        let err = run(&g, &q("{1,99}"), json!({})).await.unwrap_err();
        assert_eq!(err.code(), "OG-QUERY-008");
    });
}

#[test]
fn filters_compare_properties_params_literals_and_dates() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let names = |r: QueryResult| column(&r, 0);
        let r = run(&g, "query q($min: I32) { match { $p: Person $p.age >= $min and $p.age < 80 } return { $p.name } order { $p.name } }", json!({"min": 40}))
            .await
            .unwrap();
        assert_eq!(names(r), vec![json!("alan")]);
        let r = run(&g, "query q() { match { $p: Person ($p.age > 80 or $p.name = \"ada\") } return { $p.name } order { $p.name } }", json!({})).await.unwrap();
        assert_eq!(names(r), vec![json!("ada"), json!("grace")]);
        // Null never passes a comparison, either way.
        let r = run(&g, "query q() { match { $p: Person $p.age != 36 } return { $p.name } order { $p.name } }", json!({})).await.unwrap();
        assert_eq!(names(r), vec![json!("alan"), json!("grace")]);
        let r = run(&g, "query q() { match { $p: Person $p.name contains \"ra\" } return { $p.name } }", json!({})).await.unwrap();
        assert_eq!(names(r), vec![json!("grace")]);
        let r = run(
            &g,
            "query q($names: [String]) { match { $p: Person $names contains $p.name } return { $p.name } order { $p.name } }",
            json!({"names": ["alan", "edsger", "zed"]}),
        )
        .await
        .unwrap();
        assert_eq!(names(r), vec![json!("alan"), json!("edsger")]);
        let r = run(&g, "query q() { match { $a knows $b $a.name = \"ada\" $b.name != $a.name } return { $b.name } }", json!({})).await.unwrap();
        assert_eq!(names(r), vec![json!("alan")]);
        let r = run(&g, "query q() { match { $a: Person { name: \"ada\" } $a knows $b } return { $b.name } }", json!({})).await.unwrap();
        assert_eq!(names(r), vec![json!("alan")]);
        // Dates: edge properties are not bound, so compare a literal with now().
        let r = run(&g, "query q() { match { $p: Person { name: \"ada\" } date(\"2024-01-01\") < now() } return { $p.name } }", json!({})).await.unwrap();
        assert_eq!(names(r), vec![json!("ada")]);
        let r = run(&g, "query q() { match { $p: Person datetime(\"2999-01-01T00:00:00Z\") < now() } return { $p.name } }", json!({})).await.unwrap();
        assert!(r.rows.is_empty());
        // Comparing variables compares identity.
        let r = run(&g, "query q() { match { $a knows $b $a = $b } return { $a.name } }", json!({})).await.unwrap();
        assert_eq!(names(r), vec![json!("grace")]);
    });
}

#[test]
fn negation_is_an_anti_join() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let r = run(&g, "query q() { match { $p: Person not { $p worksAt $_ } } return { $p.name } order { $p.name } }", json!({})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("alan"), json!("edsger")]);
        let r = run(&g, "query q() { match { $p: Person not { $p knows $f $f.age > 40 } } return { $p.name } order { $p.name } }", json!({})).await.unwrap();
        // ada knows alan (41); alan knows grace (85); grace knows grace (85).
        assert_eq!(column(&r, 0), vec![json!("edsger")]);
        // An anonymous variable in the main match is existential.
        let r = run(&g, "query q() { match { $p knows $_ } return { $p.name } order { $p.name } }", json!({})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("ada"), json!("alan"), json!("edsger"), json!("grace")]);
    });
}

#[test]
fn return_whole_nodes_aliases_and_aggregates() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let r = run(&g, "query q() { match { $p: Person { name: \"alan\" } } return { $p } }", json!({})).await.unwrap();
        assert_eq!(rows(&r), vec![json!({"p": {"id": "alan", "age": 41, "email": null, "name": "alan"}})]);
        let r = run(
            &g,
            "query q() { match { $p: Person $p knows $f } return { $p.name, count($f) as friends } order { friends desc, $p.name } limit 2 }",
            json!({}),
        )
        .await
        .unwrap();
        assert_eq!(rows(&r), vec![json!({"p.name": "grace", "friends": 2}), json!({"p.name": "ada", "friends": 1})]);
        let r = run(&g, "query q() { match { $p: Person } return { count($p), sum($p.age), avg($p.age), min($p.age), max($p.name), count(*) } }", json!({}))
            .await
            .unwrap();
        assert_eq!(rows(&r), vec![json!({"count(p)": 4, "sum(p.age)": 162, "avg(p.age)": 54.0, "min(p.age)": 36, "max(p.name)": "grace", "count(*)": 4})]);
        // A global aggregate over nothing is one row with count 0.
        let r = run(&g, "query q() { match { $p: Person { name: \"nobody\" } $p knows $f } return { count($f) as n, sum($f.age) as s } }", json!({}))
            .await
            .unwrap();
        assert_eq!(rows(&r), vec![json!({"n": 0, "s": null})]);
        // Grouping is by value: alan and edsger share a null email.
        let r =
            run(&g, "query q() { match { $p: Person } return { $p.email, count($p) as n, sum($p.age) as s } order { $p.email } }", json!({})).await.unwrap();
        assert_eq!(
            rows(&r),
            vec![
                json!({"p.email": null, "n": 2, "s": 41}),
                json!({"p.email": "ada@x.org", "n": 1, "s": 36}),
                json!({"p.email": "grace@x.org", "n": 1, "s": 85}),
            ]
        );
        let r = run(&g, "query q() { match { $p: Person } return { $p.age > 40 as old, count(*) as n } order { old } }", json!({})).await.unwrap();
        assert_eq!(rows(&r), vec![json!({"old": null, "n": 1}), json!({"old": false, "n": 1}), json!({"old": true, "n": 2})]);
        let r = run(&g, "query q() { match { $c: Company $p worksAt $c } return { $c.name, count($p) as n } order { $c.name } }", json!({})).await.unwrap();
        assert_eq!(rows(&r), vec![json!({"c.name": "engines", "n": 1}), json!({"c.name": "navy", "n": 1})]);
    });
}

#[test]
fn order_puts_nulls_first_ascending_last_descending_and_breaks_ties_by_id() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let r = run(&g, "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.age } }", json!({})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("edsger"), json!("ada"), json!("alan"), json!("grace")]);
        let r = run(&g, "query q() { match { $p: Person } return { $p.name, $p.age } order { $p.age desc } }", json!({})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("grace"), json!("alan"), json!("ada"), json!("edsger")]);
        // Equal keys (all true): ids decide.
        let r = run(&g, "query q() { match { $p: Person } return { $p.name } order { true desc } limit 3 }", json!({})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("ada"), json!("alan"), json!("edsger")]);
    });
}

#[test]
fn limit_and_offset_page_through_the_ordered_result() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        // Every (person, friend) pair, ordered: the pages must be its slices.
        let base = "match { $p: Person  $p knows $f } return { $p.name, $f.name } order { $f.name desc, $p.name }";
        let all = run(&g, &format!("query q() {{ {base} }}"), json!({})).await.unwrap();
        let all = rows(&all);
        assert_eq!(all.len(), 5);
        let paged = format!("query q($n: I64, $o: I64?) {{ {base} limit $n offset $o }}");
        for size in 1..=6usize {
            let mut pages = Vec::new();
            for start in (0..all.len() + 1).step_by(size) {
                let r = run(&g, &paged, json!({"n": size, "o": start})).await.unwrap();
                assert!(r.rows.len() <= size);
                assert_eq!(rows(&r), all[start.min(all.len())..(start + size).min(all.len())].to_vec(), "size {size} offset {start}");
                pages.extend(rows(&r));
            }
            assert_eq!(pages, all, "pages of {size}");
        }
        // Literals, either order; offset alone; a null offset is none.
        let lit = run(&g, &format!("query q() {{ {base} offset 1 limit 2 }}"), json!({})).await.unwrap();
        assert_eq!(rows(&lit), all[1..3].to_vec());
        let tail = run(&g, &format!("query q() {{ {base} offset 3 }}"), json!({})).await.unwrap();
        assert_eq!(rows(&tail), all[3..].to_vec());
        let none = run(&g, &paged, json!({"n": 2, "o": null})).await.unwrap();
        assert_eq!(rows(&none), all[..2].to_vec());
        // After grouping: pages of the groups.
        let agg =
            run(&g, "query q() { match { $p: Person $p knows $f } return { $p.name, count($f) as c } order { c desc, $p.name } limit 1 offset 1 }", json!({}))
                .await
                .unwrap();
        // grace 2, then ada, alan, edsger with 1 each.
        assert_eq!(rows(&agg), vec![json!({"p.name": "ada", "c": 1})]);

        // Errors: a negative value, a parameter that is not an integer, an
        // unknown parameter, and `limit` twice.
        let e = run(&g, &paged, json!({"n": -1, "o": 0})).await.unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-013");
        assert!(e.to_string().contains("limit must not be negative"), "{e}");
        let code = |src: &str| query::compile(g.schema(), src).unwrap_err().code();
        assert_eq!(code("query q($n: String) { match { $p: Person } return { $p.name } limit $n }"), "OG-QUERY-006");
        assert_eq!(code("query q() { match { $p: Person } return { $p.name } offset $n }"), "OG-QUERY-005");
        assert_eq!(code("query q() { match { $p: Person } return { $p.name } limit 1 limit 2 }"), "OG-QUERY-001");
        assert_eq!(code("query q() { match { $p: Person } return { $p.name } offset -1 }"), "OG-QUERY-001");
    });
}

#[test]
fn a_match_that_grows_past_the_row_limit_is_refused() {
    rt().block_on(async {
        let t = social().await;
        // 4 people: a cross product has 16 rows, one hop from everyone 5.
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        assert_eq!(g.query_limits().max_rows, omnigraph::session::DEFAULT_MAX_QUERY_ROWS);
        let limited = |rows| {
            let limits = omnigraph::session::QueryLimits { max_rows: rows, ..Default::default() };
            omnigraph::Session::new(omnigraph::SessionOptions { cache_bytes: None, limits, ..Default::default() })
        };
        let g = Graph::open(&t.uri(), &limited(5)).await.unwrap();
        let cross = "query q() { match { $a: Person  $b: Person } return { count(*) as n } }";
        let e = run(&g, cross, json!({})).await.unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-016");
        assert!(e.to_string().contains("past 5 rows"), "{e}");
        // Exactly at the limit is fine, and so is a narrower match.
        let hop = run(&g, "query q() { match { $a: Person  $a knows $b } return { count(*) as n } }", json!({})).await.unwrap();
        assert_eq!(rows(&hop), vec![json!({"n": 5})]);
        let bound = run(&g, "query q() { match { $a: Person { name: \"ada\" }  $b: Person } return { count(*) as n } }", json!({})).await.unwrap();
        assert_eq!(rows(&bound), vec![json!({"n": 4})]);
        // A graph opened through a roomier session answers the cross product.
        let g = Graph::open(&t.uri(), &limited(16)).await.unwrap();
        assert_eq!(rows(&run(&g, cross, json!({})).await.unwrap()), vec![json!({"n": 16})]);
    });
}

#[test]
fn big_integers_stay_exact() {
    rt().block_on(async {
        let t = new_graph("node N { k: String @key  big: U64  small: I64 }").await;
        load(&t.uri(), LoadMode::Append, "{\"type\":\"N\",\"data\":{\"k\":\"a\",\"big\":18446744073709551615,\"small\":-9007199254740993}}\n").await.unwrap();
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let r = run(&g, "query q($b: U64) { match { $n: N { big: $b } } return { $n.big, $n.small } }", json!({"b": 18446744073709551615u64})).await.unwrap();
        assert_eq!(serde_json::to_string(&rows(&r)[0]).unwrap(), r#"{"n.big":18446744073709551615,"n.small":-9007199254740993}"#);
    });
}

#[test]
fn reads_see_one_snapshot_while_a_load_publishes() {
    rt().block_on(async {
        let t = social().await;
        let uri = t.uri();
        let writer = {
            let uri = uri.clone();
            tokio::spawn(async move {
                for i in 0..6 {
                    let data = format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\"}}}}\n{{\"edge\":\"Knows\",\"from\":\"p{i}\",\"to\":\"ada\"}}\n");
                    load(&uri, LoadMode::Append, &data).await.unwrap();
                }
            })
        };
        let g = Graph::open(&uri, &crate::common::session()).await.unwrap();
        // Every person p<i> is loaded with its edge in one write: a read
        // sees both or neither.
        while !writer.is_finished() {
            let r = run(&g, "query q() { match { $p: Person not { $p knows $_ } } return { $p.name } }", json!({})).await.unwrap();
            assert!(r.rows.is_empty(), "everyone in the fixture knows someone: {:?}", column(&r, 0));
            for n in column(&r, 0) {
                assert!(!n.as_str().unwrap().starts_with('p'), "saw {n} without its edge");
            }
        }
        writer.await.unwrap();
    });
}

#[test]
fn typecheck_errors_carry_codes_and_positions() {
    let ir = omnigraph::schema::compile_schema(SOCIAL).unwrap();
    let first = |src: &str| match query::compile(&ir, src) {
        Err(omnigraph::Error::Query(d)) => d[0].clone(),
        other => panic!("expected errors for {src}, got {other:?}"),
    };
    let cases: &[(&str, &str, u32, u32)] = &[
        ("query q() { match { $p: Persn } return { $p } }", "OG-QUERY-002", 1, 25),
        ("query q() { match { $p: Knows } return { $p } }", "OG-QUERY-002", 1, 25),
        ("query q() {\n match { $p: Person }\n return { $p.nmae } }", "OG-QUERY-003", 3, 11),
        ("query q() { match { $p knws $f } return { $p } }", "OG-QUERY-004", 1, 24),
        ("query q() { match { $p: Person { name: $nm } } return { $p } }", "OG-QUERY-009", 1, 40),
        ("query q($n: Strng) { match { $p: Person } return { $p } }", "OG-QUERY-005", 1, 13),
        ("query q() { match { $p: Person $p.age = \"old\" } return { $p } }", "OG-QUERY-006", 1, 39),
        ("query q() { match { $p: Company $p knows $f } return { $p } }", "OG-QUERY-007", 1, 33),
        ("query q() { match { $p worksAt{1,2} $c } return { $p } }", "OG-QUERY-008", 1, 24),
        ("query q() { match { $p: Person } return { $f.name } }", "OG-QUERY-009", 1, 43),
        ("query q() { match { $p: Person } return { $p.name, count($p) } order { $p.age } }", "OG-QUERY-010", 1, 72),
        ("query q() { match { $p: Person } return { $p.name, $p.name } }", "OG-QUERY-014", 1, 52),
        ("query q() { match { $p: Person } return { $p } }\nquery q() { match { $p: Person } return { $p } }", "OG-QUERY-014", 2, 1),
        ("query q() { update Person set { name: \"x\" } where age = 3 }", "OG-QUERY-015", 1, 33),
        ("query q() { insert Person { age: 3 } }", "OG-QUERY-003", 1, 29),
        ("query q() { match { $p: Person } return { $p }", "OG-QUERY-001", 1, 47),
    ];
    let mut wrong = Vec::new();
    for (src, code, line, col) in cases {
        let d = first(src);
        if (d.code, d.line, d.col) != (*code, *line, *col) {
            wrong.push(format!("{src:?}: got {d}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_bad_traversal_is_one_error_not_a_cascade() {
    let ir = omnigraph::schema::compile_schema(SOCIAL).unwrap();
    for src in [
        "query q() { match { $p: Person $p knows{0,99} $f } return { $f.name } }",
        "query q() { match { $p worksAt{1,2} $c } return { $c.name } }",
        "query q() { match { $p: Person $p knws $f } return { $f.name } }",
    ] {
        match query::compile(&ir, src) {
            Err(omnigraph::Error::Query(d)) => assert_eq!(d.len(), 1, "{src}: {d:?}"),
            other => panic!("expected one error for {src}, got {other:?}"),
        }
    }
}

#[test]
fn wrong_command_kind_and_bad_params_are_rejected() {
    rt().block_on(async {
        let t = social().await;
        let g = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
        let plans = query::compile(
            g.schema(),
            "query m() { delete Person where name = \"ada\" }\nquery r($n: String, $a: I32?) { match { $p: Person { name: $n } } return { $p.name } }",
        )
        .unwrap();
        assert_eq!(query::run_read(&g, &plans[0], &json!({})).await.unwrap_err().code(), "OG-QUERY-011");
        assert_eq!(query::run_mutation(&g, &plans[1], &json!({})).await.unwrap_err().code(), "OG-QUERY-011");
        let e = query::run_read(&g, &plans[1], &json!({})).await.unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-013");
        assert!(e.to_string().contains("$n"), "{e}");
        let e = query::run_read(&g, &plans[1], &json!({"n": 3})).await.unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-013");
        assert_eq!(e.to_string(), "parameter `$n`: expects String, got 3");
        assert_eq!(query::run_read(&g, &plans[1], &json!({"n": "ada", "x": 1})).await.unwrap_err().code(), "OG-QUERY-013");
        assert_eq!(query::run_read(&g, &plans[1], &json!({"n": "ada", "a": 5_000_000_000i64})).await.unwrap_err().code(), "OG-QUERY-013");
        assert_eq!(query::select(&plans, None).unwrap_err().code(), "OG-QUERY-012");
        assert_eq!(query::select(&plans, Some("zz")).unwrap_err().code(), "OG-QUERY-012");
        assert_eq!(query::select(&plans, Some("r")).unwrap().name, "r");
    });
}

#[test]
fn declarations_keep_description_instruction_and_typed_params() {
    let ir = omnigraph::schema::compile_schema("node Doc { k: String @key  emb: Vector(3)?  tags: [String]? }").unwrap();
    let src = r#"
        @description("Docs by embedding")
        query similar($v: Vector(3), $tags: [String], $n: I64?) @instruction("pass a 3-d vector") {
            match { $d: Doc { emb: $v } $tags contains $d.k }
            return { $d.k }
        }
        query other() { match { $d: Doc } return { count($d) } }
    "#;
    let plans = query::compile(&ir, src).unwrap();
    assert_eq!(plans.len(), 2);
    assert_eq!(plans[0].description.as_deref(), Some("Docs by embedding"));
    assert_eq!(plans[0].instruction.as_deref(), Some("pass a 3-d vector"));
    assert_eq!(plans[0].params.iter().map(|p| p.ty.to_string()).collect::<Vec<_>>(), ["Vector(3)", "[String]", "I64"]);
    assert!(plans[0].params[2].nullable && !plans[0].params[0].nullable);
    let e = query::bind_params(&plans[0], &json!({"v": [1, 2], "tags": []})).unwrap_err();
    assert_eq!(e.code(), "OG-QUERY-013");
    assert!(query::bind_params(&plans[0], &json!({"v": [1, 2, 3], "tags": ["a"]})).is_ok());
    rt().block_on(async {
        let t = new_graph("node Doc { k: String @key  emb: Vector(3)?  tags: [String]? }").await;
        load(
            &t.uri(),
            LoadMode::Append,
            "{\"type\":\"Doc\",\"data\":{\"k\":\"a\",\"emb\":[1,2,3]}}\n{\"type\":\"Doc\",\"data\":{\"k\":\"b\",\"emb\":[1,2,4]}}\n",
        )
        .await
        .unwrap();
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let r = run(&g, src, json!({"v": [1, 2, 3], "tags": ["a", "b"]})).await.unwrap();
        assert_eq!(column(&r, 0), vec![json!("a")]);
    });
}

#[test]
fn f32_values_read_back_as_written() {
    rt().block_on(async {
        let t = new_graph("node N { k: String @key  x: F32 }").await;
        load(&t.uri(), LoadMode::Append, "{\"type\":\"N\",\"data\":{\"k\":\"a\",\"x\":0.1}}\n").await.unwrap();
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let r = run(&g, "query q() { match { $n: N } return { $n.x } }", json!({})).await.unwrap();
        assert_eq!(serde_json::to_string(&rows(&r)[0]).unwrap(), r#"{"n.x":0.1}"#);
    });
}
