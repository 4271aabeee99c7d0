//! Folding the small fragments of many small writes: the fragment count of
//! a table that takes only single-row writes stays flat, no row is lost or
//! doubled, and a handle that follows the writes answers as a fresh one.

use omnigraph::graph::fold::FOLD_AT;
use omnigraph::load::LoadMode;
use omnigraph::{Graph, query};
use serde_json::json;

use crate::common::*;

const SCHEMA: &str = "node P { k: String @key  n: I32? }\nedge L: P -> P";

async fn fragments(g: &Graph, type_name: &str) -> usize {
    let snap = g.snapshot().await.unwrap();
    g.open_table(&snap, g.type_named(type_name).unwrap()).await.unwrap().get_fragments().len()
}

async fn answers(g: &Graph) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for src in ["query q() { match { $p: P } return { $p.k, $p.n } }", "query q() { match { $a l $b } return { $a.k, $b.k, $b.n } }"] {
        let plans = query::compile(g.schema(), src).unwrap();
        let mut rows: Vec<String> = query::run_read(g, &plans[0], &json!({})).await.unwrap().json_rows().map(|r| r.to_string()).collect();
        rows.sort();
        out.push(rows);
    }
    out
}

async fn mutate(g: &Graph, src: &str, params: serde_json::Value) {
    let plans = query::compile(g.schema(), src).unwrap();
    query::run_mutation(g, &plans[0], &params).await.unwrap();
}

#[test]
fn single_row_writes_keep_the_fragment_count_flat_and_every_row_once() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let mut seed = String::new();
        for i in 0..40 {
            seed += &format!("{}\n", json!({"type": "P", "data": {"k": format!("s{i}"), "n": i}}));
        }
        load(&t.uri(), LoadMode::Append, &seed).await.unwrap();
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        answers(&g).await;
        let (mut most_p, mut most_l) = (0, 0);
        for i in 0..10 * FOLD_AT {
            mutate(&g, "query m($k: String, $n: I32) { insert P { k: $k, n: $n } }", json!({"k": format!("w{i}"), "n": i})).await;
            mutate(&g, "query m($a: String, $b: String) { insert L { from: $a, to: $b } }", json!({"a": format!("w{i}"), "b": format!("s{}", i % 40)})).await;
            match i % 5 {
                // Rows of folded and of unfolded fragments change.
                0 => {
                    mutate(&g, "query m($k: String, $n: I32) { update P set { n: $n } where k = $k }", json!({"k": format!("w{}", i / 2), "n": 1000 + i})).await
                }
                1 => mutate(&g, "query m($k: String) { delete P where k = $k }", json!({"k": format!("w{}", i / 3)})).await,
                _ => {}
            }
            g.write_queue().settle().await;
            most_p = most_p.max(fragments(&g, "P").await);
            most_l = most_l.max(fragments(&g, "L").await);
            if i % 16 == 15 {
                let fresh = Graph::open(&t.uri(), &session()).await.unwrap();
                assert_eq!(answers(&g).await, answers(&fresh).await, "after write {i}: the writer's views");
            }
        }
        // Without folds each table would hold one fragment per write.
        assert!(most_p < 3 * FOLD_AT, "P reached {most_p} fragments");
        assert!(most_l < 3 * FOLD_AT, "L reached {most_l} fragments");
        let lines = export_lines(&t.uri(), true).await;
        let mut keys: Vec<&str> = lines.iter().filter_map(|l| l.split("\"k\":\"").nth(1)).map(|s| s.split('"').next().unwrap()).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "a row appears twice");
        let fresh = Graph::open(&t.uri(), &session()).await.unwrap();
        assert_eq!(answers(&g).await, answers(&fresh).await);
        // Deleted keys stay deleted through the folds.
        assert!(!keys.contains(&"w0"), "w0 was deleted");
    });
}
