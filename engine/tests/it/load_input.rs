//! How the loader reads its input: blocks of whole lines (cut anywhere in a
//! large file), line numbers across blocks, line endings, lines longer than
//! a block, bytes that are not UTF-8; and the id table behind its checks.

use std::collections::HashSet;

use omnigraph::error::Error;
use omnigraph::graph::Graph;
use omnigraph::load::ids::{IdTable, id_key};
use omnigraph::load::{LoadMode, LoadOptions};

use crate::common::*;

async fn load_bytes(uri: &str, mode: LoadMode, data: Vec<u8>) -> omnigraph::Result<omnigraph::load::LoadReport> {
    let g = Graph::open_for_write(uri, &crate::common::session()).await?;
    let opts = LoadOptions::new(mode, "bytes.jsonl");
    omnigraph::load::load(&g, std::io::Cursor::new(data), &opts, &mut |_| {}).await
}

fn errors_of(e: Error) -> Vec<(u64, &'static str)> {
    match e {
        Error::InvalidData { errors, .. } => errors.into_iter().map(|l| (l.line, l.code)).collect(),
        other => panic!("expected invalid data, got {other}"),
    }
}

/// About 3 MiB of people with names of varying length (so blocks end at
/// every kind of place), CRLF endings on some lines, blank lines, one name
/// longer than a block, and no newline after the last line.
fn big_input(long_name: &str) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut people = 0;
    for i in 0..40_000 {
        let pad = "x".repeat(i % 37);
        let end = if i % 5 == 0 { "\r\n" } else { "\n" };
        out.extend_from_slice(format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}{pad}\",\"age\":{}}}}}{end}", i % 100).as_bytes());
        people += 1;
        if i % 1000 == 0 {
            out.extend_from_slice(b"\n   \n");
        }
        if i == 20_000 {
            out.extend_from_slice(format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"{long_name}\"}}}}\n").as_bytes());
            people += 1;
        }
    }
    out.extend_from_slice(b"{\"edge\":\"Knows\",\"from\":\"p1x\",\"to\":\"p0\"}");
    (out, people)
}

#[test]
fn a_large_input_is_read_whole_whatever_its_blocks_and_line_endings() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let long_name = "L".repeat(1_500_000);
        let (data, people) = big_input(&long_name);
        assert!(data.len() > 3 << 20);
        let r = load_bytes(&g.uri(), LoadMode::Append, data).await.unwrap();
        assert_eq!(r.rows["Person"], people as u64);
        assert_eq!(r.rows["Knows"], 1);
        let counts = row_counts(&g.uri()).await;
        assert_eq!((counts["Person"], counts["Knows"]), (people as u64, 1));
        let graph = Graph::open(&g.uri(), &crate::common::session()).await.unwrap();
        let plans = omnigraph::query::compile(graph.schema(), "query q($n: String) { match { $p: Person { name: $n } } return { $p.name } }").unwrap();
        let hit = omnigraph::query::run_read(&graph, &plans[0], &serde_json::json!({"n": long_name})).await.unwrap();
        assert_eq!(hit.rows.len(), 1, "the line longer than a block loaded whole");
    });
}

#[test]
fn line_numbers_stay_exact_across_blocks() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let (mut data, _) = big_input("long");
        // Count the lines so far (the last one has no newline), then add bad ones.
        let lines_before = data.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        data.extend_from_slice(b"\n{\"type\":\"Person\",\"data\":{\"name\":\"late\",\"age\":\"old\"}}\n\n{\"type\":\"Robot\"}\n");
        let e = load_bytes(&g.uri(), LoadMode::Append, data).await.unwrap_err();
        assert_eq!(errors_of(e), vec![(lines_before + 1, "OG-LOAD-006"), (lines_before + 3, "OG-LOAD-003")]);
        assert_eq!(row_counts(&g.uri()).await["Person"], 0, "nothing was written");
    });
}

#[test]
fn a_line_that_is_not_utf8_is_a_line_error_and_changes_nothing() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let mut data = b"{\"type\":\"Person\",\"data\":{\"name\":\"ok\"}}\n".to_vec();
        data.extend_from_slice(b"{\"type\":\"Person\",\"data\":{\"name\":\"bad\xff\xfe\"}}\n");
        data.extend_from_slice(b"{\"type\":\"Person\",\"data\":{\"name\":\"caf\xc3\xa9\"}}\n");
        let before = tree_hash(std::path::Path::new(&g.uri()));
        let e = load_bytes(&g.uri(), LoadMode::Append, data).await.unwrap_err();
        assert_eq!(errors_of(e), vec![(2, "OG-LOAD-002")]);
        assert_eq!(before, tree_hash(std::path::Path::new(&g.uri())));
    });
}

#[test]
fn generated_edge_ids_never_repeat_within_or_across_loads() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let mut data = String::from("{\"type\":\"Person\",\"data\":{\"name\":\"a\"}}\n{\"type\":\"Person\",\"data\":{\"name\":\"b\"}}\n");
        for _ in 0..30_000 {
            data.push_str("{\"edge\":\"Knows\",\"from\":\"a\",\"to\":\"b\"}\n");
        }
        load(&g.uri(), LoadMode::Append, &data).await.unwrap();
        let edges_only: String = data.lines().skip(2).map(|l| format!("{l}\n")).collect();
        load(&g.uri(), LoadMode::Append, &edges_only).await.unwrap();
        let ids: Vec<String> = export_lines(&g.uri(), false)
            .await
            .into_iter()
            .filter(|l| l.contains("\"edge\""))
            .map(|l| serde_json::from_str::<serde_json::Value>(&l).unwrap()["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 60_000);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 60_000);
    });
}

#[test]
fn the_id_table_finds_every_key_it_holds_and_no_other() {
    let mut t: IdTable<u64> = IdTable::new();
    for i in 0..200_000u64 {
        assert_eq!(t.insert(id_key(&format!("n{i}")), i), None);
    }
    assert_eq!(t.len(), 200_000);
    for i in 0..200_000u64 {
        assert_eq!(t.get(id_key(&format!("n{i}"))), Some(i));
        assert!(!t.contains(id_key(&format!("m{i}"))));
    }
    assert_eq!(t.insert(id_key("n7"), 70), Some(7), "insert replaces and returns the old value");
    assert_eq!(t.get(id_key("n7")), Some(70));
    assert_eq!(t.len(), 200_000);
    let keys: HashSet<u128> = t.iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 200_000);
    assert_ne!(id_key("a"), id_key("b"));
}
