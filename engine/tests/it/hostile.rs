//! Hostile query and schema text: deep nesting and long chains get a coded
//! error or a correct answer, never a stack overflow. These run on the test
//! harness's threads (2 MiB stacks, the same as a tokio worker's), so a
//! recursion without a bound would abort this whole test binary.

use omnigraph::Graph;
use omnigraph::load::LoadMode;
use omnigraph::query;
use serde_json::json;

use crate::common::*;

const PEOPLE: &str = r#"{"type":"Person","data":{"name":"ada","age":36}}
{"type":"Person","data":{"name":"alan","age":41}}
{"type":"Person","data":{"name":"grace","age":85}}
"#;

fn code_of(e: &omnigraph::Error) -> &'static str {
    e.code()
}

#[test]
fn deep_parentheses_in_a_query_are_a_coded_error() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let src = format!("query q() {{ match {{ $p: Person $p.age = {deep} }} return {{ $p.name }} }}");
    let schema = omnigraph::schema::compile_schema(SOCIAL).unwrap();
    let e = query::compile(&schema, &src).unwrap_err();
    assert_eq!(code_of(&e), "OG-QUERY-017", "{e}");
    assert!(e.to_string().contains("1:"), "names the position: {e}");
    // Unclosed brackets, lists and `not { }` blocks nest through the same bound.
    for deep in [
        format!("query q() {{ match {{ $p: Person $p.age = {} }} return {{ $p.name }} }}", "[".repeat(100_000)),
        format!("query q() {{ match {{ $p: Person {} }} return {{ $p.name }} }}", "not { ".repeat(100_000)),
        format!("query q($x: {}String{}) {{ match {{ $p: Person }} return {{ $p.name }} }}", "[".repeat(50_000), "]".repeat(50_000)),
        format!("query q() {{ match {{ $p: Person $p.age = f({}1{}) }} return {{ $p.name }} }}", "g(".repeat(50_000), ")".repeat(50_000)),
    ] {
        let e = query::compile(&schema, &deep).unwrap_err();
        assert_eq!(code_of(&e), "OG-QUERY-017", "{e}");
    }
}

#[test]
fn nesting_up_to_the_bound_still_runs() {
    rt().block_on(async {
        let t = new_graph(SOCIAL).await;
        load(&t.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        // `match {` and `query {` take two levels; the rest go to parentheses.
        let n = omnigraph::lang::lexer::MAX_NESTING - 2;
        let src = format!("query q() {{ match {{ $p: Person $p.age = {}41{} }} return {{ $p.name }} }}", "(".repeat(n), ")".repeat(n));
        let plans = query::compile(g.schema(), &src).unwrap();
        let r = query::run_read(&g, &plans[0], &json!({})).await.unwrap();
        assert_eq!(r.json_rows().collect::<Vec<_>>(), vec![json!({"p.name": "alan"})]);
        let over = format!("query q() {{ match {{ $p: Person $p.age = {}41{} }} return {{ $p.name }} }}", "(".repeat(n + 1), ")".repeat(n + 1));
        assert_eq!(code_of(&query::compile(g.schema(), &over).unwrap_err()), "OG-QUERY-017");
    });
}

#[test]
fn long_and_or_chains_are_flat_and_evaluate_correctly() {
    rt().block_on(async {
        let t = new_graph(SOCIAL).await;
        load(&t.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        let g = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
        // 100,000 `or` parts: only one of them matches alan.
        let ors: Vec<String> = (0..100_000).map(|i| format!("$p.age = {}", 1000 + i)).collect();
        let src = format!("query q() {{ match {{ $p: Person {} or $p.age = 41 }} return {{ $p.name }} }}", ors.join(" or "));
        let plans = query::compile(g.schema(), &src).unwrap();
        let r = query::run_read(&g, &plans[0], &json!({})).await.unwrap();
        assert_eq!(r.json_rows().collect::<Vec<_>>(), vec![json!({"p.name": "alan"})]);
        // 100,000 `and` parts, all true for ada and grace.
        let ands: Vec<String> = (0..100_000).map(|i| format!("$p.age != {}", 1000 + i)).collect();
        let src = format!("query q() {{ match {{ $p: Person {} and $p.age != 41 }} return {{ $p.name }} order {{ $p.name }} }}", ands.join(" and "));
        let plans = query::compile(g.schema(), &src).unwrap();
        let r = query::run_read(&g, &plans[0], &json!({})).await.unwrap();
        assert_eq!(r.json_rows().collect::<Vec<_>>(), vec![json!({"p.name": "ada"}), json!({"p.name": "grace"})]);
        // The same chain as a mutation's `where`.
        let ors: Vec<String> = (0..50_000).map(|i| format!("name = \"nobody{i}\"")).collect();
        let src = format!("query d() {{ delete Person where {} or name = \"ada\" }}", ors.join(" or "));
        let plans = query::compile(g.schema(), &src).unwrap();
        let report = query::run_mutation(&g, &plans[0], &json!({})).await.unwrap();
        assert_eq!(serde_json::to_value(&report).unwrap()["deleted"], json!(1));
    });
}

#[test]
fn long_arithmetic_chains_and_sign_runs_are_flat() {
    rt().block_on(async {
        let t = new_graph(SOCIAL).await;
        load(&t.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        // 100,000 terms of one sum, and of one product, and a run of
        // 100,000 minus signs: read in loops, evaluated left to right.
        let sum = format!("$p.age{}", " + 1 - 1".repeat(50_000));
        let product = format!("$p.age{}", " * 1".repeat(100_000));
        let signs = format!("{}$p.age", "-".repeat(100_000));
        let src = format!("query q() {{ match {{ $p: Person {{ name: \"alan\" }} }} return {{ {sum} as s, {product} as m, {signs} as n }} }}");
        let plans = query::compile(g.schema(), &src).unwrap();
        let r = query::run_read(&g, &plans[0], &json!({})).await.unwrap();
        assert_eq!(r.json_rows().collect::<Vec<_>>(), vec![json!({"s": 41, "m": 41, "n": 41})]);
        // Overflow is null, not a panic.
        let src = "query q() { match { $p: Person { name: \"alan\" } } return { 9223372036854775807 * 9223372036854775807 + $p.age as big } }";
        let plans = query::compile(g.schema(), src).unwrap();
        let r = query::run_read(&g, &plans[0], &json!({})).await.unwrap();
        assert_eq!(r.json_rows().collect::<Vec<_>>(), vec![json!({"big": null})]);
    });
}

#[test]
fn three_valued_logic_of_flat_chains() {
    rt().block_on(async {
        let t = new_graph(SOCIAL).await;
        load(&t.uri(), LoadMode::Append, "{\"type\":\"Person\",\"data\":{\"name\":\"ada\",\"age\":36}}\n{\"type\":\"Person\",\"data\":{\"name\":\"nil\"}}\n")
            .await
            .unwrap();
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        let names = |src: &'static str| {
            let g = &g;
            async move {
                let plans = query::compile(g.schema(), src).unwrap();
                let r = query::run_read(g, &plans[0], &json!({})).await.unwrap();
                r.json_rows().map(|v| v["p.name"].clone()).collect::<Vec<_>>()
            }
        };
        // null or true -> true; null and false -> false (not kept either way); null and true -> null.
        assert_eq!(names("query q() { match { $p: Person $p.age = 1 or $p.age = 2 or $p.name = \"nil\" } return { $p.name } }").await, vec![json!("nil")]);
        assert!(names("query q() { match { $p: Person $p.age > 0 and $p.name = \"nil\" and true } return { $p.name } }").await.is_empty());
        assert!(names("query q() { match { $p: Person not { $p.age > 0 and $p.name = \"nil\" } $p.name = \"nil\" } return { $p.name } }").await.len() == 1);
    });
}

#[test]
fn deep_list_types_in_a_schema_are_a_coded_error() {
    let src = format!("node Person {{ name: String @key\n tags: {}String{}? }}", "[".repeat(100_000), "]".repeat(100_000));
    let errs = omnigraph::schema::compile_schema(&src).unwrap_err();
    assert_eq!(errs[0].code, "OG-SCHEMA-016", "{}", errs[0]);
    let src = format!("node Person {{ name: String @key @check(name, {}) }}", "(".repeat(100_000));
    let errs = omnigraph::schema::compile_schema(&src).unwrap_err();
    assert_eq!(errs[0].code, "OG-SCHEMA-016", "{}", errs[0]);
}

#[test]
fn check_patterns_and_schemas_are_bounded() {
    let with_check = |pattern: &str| format!("node Person {{ name: String @key @check(name, {}) }}", serde_json::to_string(pattern).unwrap());
    // A pattern whose program would be huge, one nested past the limit, one too long.
    for (pattern, says) in
        [("(\\w{100}){100}".to_string(), "size limit"), (format!("{}a{}", "(".repeat(200), ")".repeat(200)), "nest"), ("a".repeat(5000), "limit is 4096")]
    {
        let errs = omnigraph::schema::compile_schema(&with_check(&pattern)).unwrap_err();
        assert_eq!(errs[0].code, "OG-SCHEMA-009", "{}", errs[0]);
        assert!(errs[0].message.contains(says), "{}", errs[0]);
    }
    assert!(omnigraph::schema::compile_schema(&with_check("^[a-z]+$")).is_ok());
    // 50,000 enum values compile, and a duplicate among them is found.
    let values: Vec<String> = (0..50_000).map(|i| format!("v{i}")).collect();
    let src = format!("node T {{ name: String @key\n kind: enum({}) }}", values.join(", "));
    omnigraph::schema::compile_schema(&src).unwrap();
    let src = format!("node T {{ name: String @key\n kind: enum({}, v7) }}", values.join(", "));
    assert_eq!(omnigraph::schema::compile_schema(&src).unwrap_err()[0].code, "OG-SCHEMA-010");
    // A schema past 1 MiB is refused before it is read.
    let big = format!("node Person {{ name: String @key }}\n{}", "// padding\n".repeat(120_000));
    assert_eq!(omnigraph::schema::compile_schema(&big).unwrap_err()[0].code, "OG-SCHEMA-017");
}
