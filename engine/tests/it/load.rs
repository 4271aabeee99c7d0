//! The JSONL loader: modes, every validation with its code and line, and
//! "a rejected file leaves the graph unchanged".

use omnigraph::error::Error;
use omnigraph::graph::Graph;
use omnigraph::load::LoadMode;

use crate::common::*;

const PEOPLE: &str = r#"{"type":"Person","data":{"name":"ada","age":36,"email":"ada@x.org"}}
{"type":"Person","data":{"name":"bob","age":41}}
{"type":"Company","data":{"name":"acme"}}
{"edge":"Knows","from":"ada","to":"bob","data":{"since":"2020-01-02"}}
{"edge":"WorksAt","from":"ada","to":"acme"}
"#;

fn line_errors(e: Error) -> Vec<(u64, &'static str)> {
    match e {
        Error::InvalidData { errors, .. } => errors.into_iter().map(|l| (l.line, l.code)).collect(),
        other => panic!("expected invalid data, got {other}"),
    }
}

/// Loads `bad`, expects it rejected, and checks the graph did not change.
async fn rejected(uri: &str, mode: LoadMode, bad: &str) -> Vec<(u64, &'static str)> {
    let before_snapshot = Graph::open(uri, &crate::common::session()).await.unwrap().snapshot().await.unwrap();
    let before_files = tree_hash(std::path::Path::new(uri));
    let err = load(uri, mode, bad).await.unwrap_err();
    let after = Graph::open(uri, &crate::common::session()).await.unwrap().snapshot().await.unwrap();
    assert_eq!(before_snapshot.manifest_version, after.manifest_version);
    assert_eq!(before_files, tree_hash(std::path::Path::new(uri)), "a rejected load left files behind or changed some");
    line_errors(err)
}

#[test]
fn append_then_snapshot_counts_rows() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let r = load(&g.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        assert_eq!(r.rows["Person"], 2);
        let counts = row_counts(&g.uri()).await;
        assert_eq!((counts["Person"], counts["Company"], counts["Knows"], counts["WorksAt"]), (2, 1, 1, 1));
        load(&g.uri(), LoadMode::Append, r#"{"type":"Person","data":{"name":"cy"}}"#).await.unwrap();
        assert_eq!(row_counts(&g.uri()).await["Person"], 3);
    });
}

#[test]
fn append_of_an_existing_key_is_rejected() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        load(&g.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        let errs =
            rejected(&g.uri(), LoadMode::Append, "{\"type\":\"Person\",\"data\":{\"name\":\"zed\"}}\n{\"type\":\"Person\",\"data\":{\"name\":\"ada\"}}").await;
        assert_eq!(errs, vec![(2, "OG-LOAD-011")]);
    });
}

#[test]
fn every_value_error_is_reported_with_its_line() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        load(&g.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        let bad = [
            r#"{"type":"Person","data":{"name":"ok1"}}"#,                    // 1 fine
            r#"not json"#,                                                   // 2
            r#"{"type":"Robot","data":{}}"#,                                 // 3 unknown type
            r#"{"type":"Person","data":{"age":3}}"#,                         // 4 missing key property
            r#"{"type":"Person","data":{"name":"x2","height":3}}"#,          // 5 unknown property
            r#"{"type":"Person","data":{"name":"x3","age":"old"}}"#,         // 6 wrong type
            r#"{"type":"Person","data":{"name":"x4","age":200}}"#,           // 7 range
            r#"{"type":"Person","data":{"name":"ok1"}}"#,                    // 8 duplicate key in batch
            r#"{"type":"Person","data":{"name":"x5","email":"ada@x.org"}}"#, // 9 unique vs stored
            r#"{"edge":"Knows","from":"ada","to":"nobody"}"#,                // 10 dangling endpoint
            r#"{"edge":"Knows","from":"ada"}"#,                              // 11 malformed edge
            r#"{"type":"Person","data":{"name":"x6","age":3000000000}}"#,    // 12 out of I32
            r#"{"edge":"WorksAt","from":"bob","to":"acme"}"#,                // 13 fine
            r#"{"edge":"WorksAt","from":"bob","to":"acme"}"#,                // 14 card max 1
        ]
        .join("\n");
        let errs = rejected(&g.uri(), LoadMode::Append, &bad).await;
        assert_eq!(
            errs,
            vec![
                (2, "OG-LOAD-002"),
                (3, "OG-LOAD-003"),
                (4, "OG-LOAD-004"),
                (5, "OG-LOAD-005"),
                (6, "OG-LOAD-006"),
                (7, "OG-LOAD-008"),
                (8, "OG-LOAD-010"),
                (9, "OG-LOAD-011"),
                (10, "OG-LOAD-013"),
                (11, "OG-LOAD-002"),
                (12, "OG-LOAD-006"),
                (14, "OG-LOAD-014"),
            ]
        );
    });
}

#[test]
fn enum_check_and_unique_within_the_batch() {
    rt().block_on(async {
        let g = new_graph("node T { k: String @key  s: enum(on, off)  code: String?  mail: String? @unique\n @check(code, \"^[A-Z]{3}$\") }").await;
        let bad = [
            r#"{"type":"T","data":{"k":"a","s":"maybe"}}"#,
            r#"{"type":"T","data":{"k":"b","s":"on","code":"abc"}}"#,
            r#"{"type":"T","data":{"k":"c","s":"on","mail":"m"}}"#,
            r#"{"type":"T","data":{"k":"d","s":"on","mail":"m"}}"#,
            r#"{"type":"T","data":{"k":"e","s":"off","code":"ABC"}}"#,
        ]
        .join("\n");
        let errs = rejected(&g.uri(), LoadMode::Append, &bad).await;
        assert_eq!(errs, vec![(1, "OG-LOAD-007"), (2, "OG-LOAD-009"), (4, "OG-LOAD-012")]);
    });
}

#[test]
fn edges_may_come_before_their_nodes() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let data = "{\"edge\":\"Knows\",\"from\":\"x\",\"to\":\"y\"}\n{\"type\":\"Person\",\"data\":{\"name\":\"x\"}}\n{\"type\":\"Person\",\"data\":{\"name\":\"y\"}}";
        load(&g.uri(), LoadMode::Append, data).await.unwrap();
        assert_eq!(row_counts(&g.uri()).await["Knows"], 1);
    });
}

#[test]
fn card_minimum_counts_stored_and_new_edges() {
    rt().block_on(async {
        let g = new_graph("node P { n: String @key }\nnode C { n: String @key }\nedge At: P -> C @card(1..2)").await;
        let ok = "{\"type\":\"C\",\"data\":{\"n\":\"c\"}}\n{\"type\":\"P\",\"data\":{\"n\":\"p\"}}\n{\"edge\":\"At\",\"from\":\"p\",\"to\":\"c\"}";
        load(&g.uri(), LoadMode::Append, ok).await.unwrap();
        // A new P without an edge violates the minimum.
        let errs = rejected(&g.uri(), LoadMode::Append, "{\"type\":\"P\",\"data\":{\"n\":\"q\"}}").await;
        assert_eq!(errs, vec![(1, "OG-LOAD-014")]);
        // Two more edges for p: 3 > 2.
        let errs = rejected(&g.uri(), LoadMode::Append, "{\"edge\":\"At\",\"from\":\"p\",\"to\":\"c\"}\n{\"edge\":\"At\",\"from\":\"p\",\"to\":\"c\"}").await;
        assert_eq!(errs, vec![(2, "OG-LOAD-014")]);
        // One more is fine.
        load(&g.uri(), LoadMode::Append, "{\"edge\":\"At\",\"from\":\"p\",\"to\":\"c\"}").await.unwrap();
    });
}

#[test]
fn merge_upserts_and_the_last_line_wins() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        load(&g.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        let data = [
            r#"{"type":"Person","data":{"name":"ada","age":37}}"#,
            r#"{"type":"Person","data":{"name":"new","age":1}}"#,
            r#"{"type":"Person","data":{"name":"ada","age":38,"email":"ada@y.org"}}"#,
        ]
        .join("\n");
        load(&g.uri(), LoadMode::Merge, &data).await.unwrap();
        let lines = export_lines(&g.uri(), true).await;
        let people: Vec<&String> = lines.iter().filter(|l| l.contains("\"Person\"")).collect();
        assert_eq!(people.len(), 3, "{people:?}");
        assert!(lines.iter().any(|l| l.contains("\"name\":\"ada\"") && l.contains("\"age\":38") && l.contains("ada@y.org")), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("\"age\":37")));
        assert_eq!(row_counts(&g.uri()).await["Person"], 3);
    });
}

#[test]
fn merge_may_move_a_unique_value_between_rows() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        load(&g.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        // ada gives up her email and bob takes it, in one load.
        let data = "{\"type\":\"Person\",\"data\":{\"name\":\"bob\",\"email\":\"ada@x.org\"}}\n{\"type\":\"Person\",\"data\":{\"name\":\"ada\",\"email\":\"new@x.org\"}}";
        load(&g.uri(), LoadMode::Merge, data).await.unwrap();
        // But taking a stored value that stays is rejected.
        let errs = rejected(&g.uri(), LoadMode::Merge, "{\"type\":\"Person\",\"data\":{\"name\":\"cy\",\"email\":\"new@x.org\"}}").await;
        assert_eq!(errs, vec![(1, "OG-LOAD-011")]);
    });
}

#[test]
fn overwrite_replaces_every_table() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        load(&g.uri(), LoadMode::Append, PEOPLE).await.unwrap();
        load(&g.uri(), LoadMode::Overwrite, "{\"type\":\"Company\",\"data\":{\"name\":\"solo\"}}").await.unwrap();
        let counts = row_counts(&g.uri()).await;
        assert_eq!((counts["Person"], counts["Company"], counts["Knows"], counts["WorksAt"]), (0, 1, 0, 0));
        // Edges must point at nodes of the new content only.
        let errs = rejected(&g.uri(), LoadMode::Overwrite, "{\"edge\":\"Knows\",\"from\":\"ada\",\"to\":\"ada\"}").await;
        assert_eq!(errs, vec![(1, "OG-LOAD-013"), (1, "OG-LOAD-013")]);
    });
}

#[test]
fn the_error_list_is_capped_but_all_are_counted() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let bad: String = (0..500).map(|_| "{\"type\":\"Nope\"}\n").collect();
        let err = load(&g.uri(), LoadMode::Append, &bad).await.unwrap_err();
        match err {
            Error::InvalidData { total, errors, .. } => {
                assert_eq!(total, 500);
                assert_eq!(errors.len(), 100);
                assert_eq!(errors[99].line, 100);
            }
            other => panic!("{other}"),
        }
    });
}

#[test]
fn a_read_only_graph_cannot_be_loaded() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let ro = Graph::open(&g.uri(), &crate::common::session()).await.unwrap();
        assert_eq!(load_into(&ro, LoadMode::Append, PEOPLE).await.unwrap_err().code(), "OG-ARG-001");
    });
}

#[test]
fn field_order_does_not_matter_and_unknown_fields_are_errors() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let data = "{\"data\":{\"name\":\"late-type\",\"age\":3},\"type\":\"Person\"}\n{\"to\":\"late-type\",\"data\":{},\"from\":\"late-type\",\"edge\":\"Knows\"}";
        load(&g.uri(), LoadMode::Append, data).await.unwrap();
        let counts = row_counts(&g.uri()).await;
        assert_eq!((counts["Person"], counts["Knows"]), (1, 1));
        let errs = rejected(&g.uri(), LoadMode::Append, "{\"type\":\"Person\",\"data\":{\"name\":\"z\"},\"extra\":1}\n{\"type\":\"Person\",\"type\":\"Person\",\"data\":{\"name\":\"y\"}}\n{\"data\":{\"nme\":\"q\"},\"type\":\"Person\"}").await;
        assert_eq!(errs, vec![(1, "OG-LOAD-002"), (2, "OG-LOAD-002"), (3, "OG-LOAD-005"), (3, "OG-LOAD-004")]);
    });
}

#[test]
fn edge_unique_values_are_enforced_in_the_input_and_against_stored_edges() {
    rt().block_on(async {
        let g = new_graph("node P { n: String @key }\nedge Ticket: P -> P { code: String @unique }").await;
        let base = "{\"type\":\"P\",\"data\":{\"n\":\"a\"}}\n{\"type\":\"P\",\"data\":{\"n\":\"b\"}}\n{\"edge\":\"Ticket\",\"from\":\"a\",\"to\":\"b\",\"data\":{\"code\":\"T1\"}}";
        load(&g.uri(), LoadMode::Append, base).await.unwrap();
        let errs = rejected(&g.uri(), LoadMode::Append, "{\"edge\":\"Ticket\",\"from\":\"b\",\"to\":\"a\",\"data\":{\"code\":\"T2\"}}\n{\"edge\":\"Ticket\",\"from\":\"a\",\"to\":\"a\",\"data\":{\"code\":\"T2\"}}\n{\"edge\":\"Ticket\",\"from\":\"b\",\"to\":\"b\",\"data\":{\"code\":\"T1\"}}").await;
        assert_eq!(errs, vec![(2, "OG-LOAD-012"), (3, "OG-LOAD-011")]);
    });
}
