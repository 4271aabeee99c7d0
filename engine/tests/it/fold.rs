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

#[test]
fn a_fold_takes_small_uncovered_fragments_of_one_tier_and_never_a_loads_chunks() {
    use omnigraph::graph::fold::{Candidate, MAX_ROWS, choose};
    let frag = |id: u64, rows: usize, covered: bool| Candidate { id, rows: Some(rows), covered };
    // A bulk load's chunks (256k rows each, no index on an edge table):
    // however many, a small write next to them folds none of them.
    let mut loaded: Vec<Candidate> = (0..40).map(|i| frag(i, 256 * 1024, false)).collect();
    loaded.push(frag(100, 1, false));
    assert!(choose(&loaded).is_empty());
    // Chunks just under the limit are the largest a fold rewrites.
    let big: Vec<Candidate> = (0..FOLD_AT as u64).map(|i| frag(i, MAX_ROWS - 1, false)).collect();
    assert_eq!(choose(&big).len(), FOLD_AT);
    let at_limit: Vec<Candidate> = (0..FOLD_AT as u64).map(|i| frag(i, MAX_ROWS, false)).collect();
    assert!(choose(&at_limit).is_empty());
    // Single-row fragments fold once a tier is full; covered ones and other
    // tiers stay.
    let mut mixed: Vec<Candidate> = (0..FOLD_AT as u64).map(|i| frag(i, 1 + (i as usize % 7), false)).collect();
    mixed.push(frag(50, 3, true));
    mixed.push(frag(51, 100, false));
    let chosen = choose(&mixed);
    assert_eq!(chosen, (0..FOLD_AT as u64).collect::<Vec<_>>());
    assert!(choose(&mixed[1..]).is_empty(), "one short of a full tier");
    // Unknown sizes are left alone.
    let unknown: Vec<Candidate> = (0..FOLD_AT as u64).map(|id| Candidate { id, rows: None, covered: false }).collect();
    assert!(choose(&unknown).is_empty());
}
