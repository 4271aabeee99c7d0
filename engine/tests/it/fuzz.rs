//! Property tests over hostile text: random and mutated schema source,
//! query source and JSONL records. Every input gets a valid result or an
//! error with a stable code of its language; nothing panics or overflows
//! (a stack overflow would abort this whole binary); and a load that fails
//! leaves the stored graph exactly as it was.
//!
//! Case counts are small here so the test command stays fast (see
//! docs/dev/hardening.md); `scripts/fuzz.sh` runs the same properties with
//! `PROPTEST_CASES` raised.

use omnigraph::Graph;
use omnigraph::load::LoadMode;
use proptest::prelude::*;

use crate::common::*;

const SCHEMA_SRC: &str = include_str!("../../../examples/social/schema.pg");
const QUERY_SRC: &str = include_str!("../../../examples/social/queries.gq");
const DATA_SRC: &str = include_str!("../../../examples/social/data.jsonl");
/// The newer constructs, for the mutated-source inputs.
const PATTERNS_SRC: &str = r#"query p($h: String, $hs: [String]) {
    match {
        $a: Person { handle: $h }
        $a $k:knows $b
        $b <knows>{1,2} $c
        optional { $c worksAt $w }
        $p = shortest($a knows{1,5} $c)
        $c.handle in $hs or starts_with(lower($c.name), "a") and $c.age * 2 - 1 > 30
    }
    return { $b.handle, $k.since, coalesce($w.name, "-") as w, length($p), nodes($p), count(distinct $c), collect($c.handle) }
    limit 10
}
query u($h: String) { upsert Person { handle: $h, name: "n", status: "active" } }
"#;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Tokens of both languages, and some that are wrong in each.
const WORDS: &[&str] = &[
    "node",
    "edge",
    "interface",
    "implements",
    "query",
    "match",
    "return",
    "order",
    "limit",
    "offset",
    "insert",
    "update",
    "delete",
    "set",
    "where",
    "not",
    "and",
    "or",
    "contains",
    "desc",
    "asc",
    "as",
    "true",
    "false",
    "null",
    "Person",
    "Company",
    "Knows",
    "knows",
    "WorksAt",
    "worksAt",
    "name",
    "handle",
    "age",
    "tags",
    "String",
    "I32",
    "I64",
    "U64",
    "F64",
    "Bool",
    "Date",
    "DateTime",
    "Vector",
    "enum",
    "@key",
    "@unique",
    "@index",
    "@card",
    "@range",
    "@check",
    "@default",
    "@description",
    "@rename_from",
    "@",
    "$p",
    "$f",
    "$n",
    "$",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    ",",
    "->",
    "..",
    "?",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "*",
    ".",
    "0",
    "1",
    "-1",
    "3.5",
    "1e400",
    "99999999999999999999999999999999999999999",
    "\"x\"",
    "\"",
    "\"\\q\"",
    "//",
    "/*",
    "*/",
    "\n",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "date",
    "datetime",
    "now",
    "date(\"2024-02-30\")",
    "optional",
    "upsert",
    "in",
    "+",
    "-",
    "/",
    "%",
    "distinct",
    "collect",
    "coalesce",
    "lower",
    "length",
    "nodes",
    "starts_with",
    "year",
    "shortest",
    "all_shortest",
    "$k:knows",
    "<knows>",
    "$p = shortest($a knows{1,3} $b)",
    "{1,3}",
    "{3,1}",
    "{0,}",
    "é",
    "\u{0}",
    "\u{202e}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..120).prop_map(|w| w.join(" "))
}

/// `base` with a few characters inserted, deleted or replaced.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..8);
    edits.prop_map(move |edits| {
        let mut chars: Vec<char> = base.chars().collect();
        for (at, kind, c) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let i = at.index(chars.len());
            match kind {
                0 => chars.insert(i, c),
                1 => {
                    chars.remove(i);
                }
                _ => chars[i] = c,
            }
        }
        chars.into_iter().collect()
    })
}

fn text(base: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![soup(), mutated(base), ".{0,300}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1500), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_schema_text_compiles_or_gets_a_schema_code(src in text(SCHEMA_SRC)) {
        match omnigraph::schema::compile_schema(&src) {
            // What compiles is stored as JSON and read back at every open.
            Ok(ir) => {
                let back: omnigraph::schema::SchemaIr = serde_json::from_str(&serde_json::to_string(&ir).unwrap()).unwrap();
                prop_assert_eq!(back.content_hash(), ir.content_hash());
            }
            Err(errs) => {
                prop_assert!(!errs.is_empty());
                for e in &errs {
                    prop_assert!(e.code.starts_with("OG-SCHEMA-"), "{e}");
                }
            }
        }
    }

    #[test]
    fn any_query_text_checks_or_gets_a_query_code(src in prop_oneof![text(QUERY_SRC), text(PATTERNS_SRC)]) {
        let schema = omnigraph::schema::compile_schema(SCHEMA_SRC).unwrap();
        match omnigraph::query::compile(&schema, &src) {
            Ok(plans) => {
                let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
                prop_assert!(!names.is_empty() && names.iter().all(|n| src.contains(n)), "{names:?}");
            }
            Err(e) => prop_assert!(e.code().starts_with("OG-QUERY-"), "{e}"),
        }
    }
}

/// Records of the example graph with one field broken in a random way.
fn record() -> impl Strategy<Value = String> {
    let valid: Vec<&'static str> = DATA_SRC.lines().collect();
    let junk = prop_oneof![
        Just(serde_json::json!(null)),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(1e300)),
        Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!("x".repeat(300))),
        Just(serde_json::json!([[[[1]]]])),
        Just(serde_json::json!({"a": {"b": {}}})),
        Just(serde_json::json!("2024-02-30")),
        Just(serde_json::json!("NOT_A_HANDLE")),
        Just(serde_json::json!(["a", 1])),
        ".{0,20}".prop_map(serde_json::Value::String),
    ];
    let field = prop::sample::select(vec!["type", "edge", "from", "to", "data", "handle", "age", "status", "joined", "tags", "email", "name", "since", "nope"]);
    (prop::sample::select(valid), field, junk, 0u8..4).prop_map(|(line, field, junk, how)| {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        match how {
            0 => v[field] = junk,
            1 => v["data"][field] = junk,
            2 => {
                if let Some(o) = v["data"].as_object_mut() {
                    o.remove(field);
                }
            }
            _ => return format!("{}{}", &line[..line.len() / 2], junk),
        }
        v.to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_rejected_load_changes_nothing_and_a_clean_one_lands(lines in prop::collection::vec(record(), 1..6)) {
        rt().block_on(async {
            let t = new_graph(SCHEMA_SRC).await;
            load(&t.uri(), LoadMode::Append, DATA_SRC).await.unwrap();
            let before = tree_hash(t.dir.path());
            let counts = row_counts(&t.uri()).await;
            let input = lines.join("\n");
            let g = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
            for mode in [LoadMode::Append, LoadMode::Merge] {
                match load_into(&g, mode, &input).await {
                    Ok(_) => return Ok(()),
                    Err(e) => {
                        prop_assert!(e.code().starts_with("OG-LOAD-"), "{e}");
                        prop_assert_eq!(&tree_hash(t.dir.path()), &before, "a rejected load wrote something");
                        prop_assert_eq!(&row_counts(&t.uri()).await, &counts);
                    }
                }
            }
            Ok(())
        })?;
    }
}
