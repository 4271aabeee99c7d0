//! The `__manifest` publish: a writer that lost the race gets
//! `ExpectedVersionMismatch` and readers never see part of a write; writers
//! of different tables both land.

use std::sync::Arc;

use omnigraph::error::Error;
use omnigraph::graph::Graph;
use omnigraph::graph::write::{StagedWrite, commit_and_publish};
use omnigraph::load::LoadMode;

use crate::common::*;

/// Stages an append of one Person against the snapshot `snap` without committing.
async fn stage_person(g: &Graph, snap: &omnigraph::Snapshot, name: &str) -> StagedWrite {
    let t = g.schema().node("Person").unwrap().clone();
    let base = Arc::new(g.open_table(snap, &t).await.unwrap());
    let schema = omnigraph::storage::columns::table_schema(&t);
    let batch = arrow_array::RecordBatch::try_new(
        schema,
        vec![
            Arc::new(arrow_array::StringArray::from(vec![name])),
            Arc::new(arrow_array::StringArray::from(vec![name])),
            Arc::new(arrow_array::Int32Array::from(vec![Some(1)])),
            Arc::new(arrow_array::StringArray::from(vec![None::<&str>])),
        ],
    )
    .unwrap();
    let txn = lance::dataset::InsertBuilder::new(base.clone())
        .with_params(&lance::dataset::WriteParams { mode: lance::dataset::WriteMode::Append, ..Default::default() })
        .execute_uncommitted(vec![batch])
        .await
        .unwrap();
    StagedWrite::new(t.table_key(), t.location(), base, txn)
}

#[test]
fn a_writer_that_lost_the_race_gets_expected_version_mismatch() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let graph = Graph::open_for_write(&g.uri(), &crate::common::session()).await.unwrap();
        let old = graph.snapshot().await.unwrap();
        let staged = stage_person(&graph, &old, "late").await;
        // Another writer publishes a change to Person first.
        load(&g.uri(), LoadMode::Append, r#"{"type":"Person","data":{"name":"first"}}"#).await.unwrap();
        let after_winner = graph.snapshot().await.unwrap();

        let err = commit_and_publish(
            &graph,
            old.manifest_ds(),
            old.manifest_state(),
            omnigraph::graph::sidecar::WriteKind::Other("test".into()),
            vec![staged],
            &[],
            Default::default(),
        )
        .await
        .unwrap_err();
        match &err {
            Error::ExpectedVersionMismatch { table, expected, actual } => {
                assert_eq!(table, "node:Person");
                assert!(actual > expected, "{err}");
            }
            other => panic!("expected a version mismatch, got {other}"),
        }
        assert_eq!(err.code(), "OG-PUBLISH-001");
        // Nothing of the loser is visible, and the table head is the published version.
        let now = graph.snapshot().await.unwrap();
        assert_eq!(now.manifest_version, after_winner.manifest_version);
        let lines = export_lines(&g.uri(), true).await;
        assert!(lines.iter().any(|l| l.contains("first")) && !lines.iter().any(|l| l.contains("late")), "{lines:?}");
        let person = now.table("node:Person").unwrap();
        let head = omnigraph::storage::head_version(graph.session(), &graph.root().child_uri(&person.location)).await.unwrap();
        assert_eq!(head, person.version, "the loser left an unpublished table version");
        // And the graph takes new writes.
        load(&g.uri(), LoadMode::Append, r#"{"type":"Person","data":{"name":"next"}}"#).await.unwrap();
    });
}

#[test]
fn writers_of_different_tables_both_publish() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let graph = Graph::open_for_write(&g.uri(), &crate::common::session()).await.unwrap();
        let old = graph.snapshot().await.unwrap();
        let staged = stage_person(&graph, &old, "p1").await;
        // A Company write lands first and moves the manifest.
        load(&g.uri(), LoadMode::Append, r#"{"type":"Company","data":{"name":"c1"}}"#).await.unwrap();
        commit_and_publish(
            &graph,
            old.manifest_ds(),
            old.manifest_state(),
            omnigraph::graph::sidecar::WriteKind::Other("test".into()),
            vec![staged],
            &[],
            Default::default(),
        )
        .await
        .unwrap();
        let counts = row_counts(&g.uri()).await;
        assert_eq!((counts["Person"], counts["Company"]), (1, 1));
    });
}

#[test]
fn a_write_whose_read_tables_moved_is_refused() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let graph = Graph::open_for_write(&g.uri(), &crate::common::session()).await.unwrap();
        let old = graph.snapshot().await.unwrap();
        let staged = stage_person(&graph, &old, "p1").await;
        load(&g.uri(), LoadMode::Append, r#"{"type":"Company","data":{"name":"c1"}}"#).await.unwrap();
        let company = old.table("node:Company").unwrap();
        let reads = vec![(company.key.clone(), company.version)];
        let err = commit_and_publish(
            &graph,
            old.manifest_ds(),
            old.manifest_state(),
            omnigraph::graph::sidecar::WriteKind::Other("test".into()),
            vec![staged],
            &reads,
            Default::default(),
        )
        .await
        .unwrap_err();
        assert!(matches!(&err, Error::ExpectedVersionMismatch { table, .. } if table == "node:Company"), "{err}");
        assert_eq!(row_counts(&g.uri()).await["Person"], 0);
        // The rolled-back Person table still takes writes.
        load(&g.uri(), LoadMode::Append, r#"{"type":"Person","data":{"name":"p2"}}"#).await.unwrap();
        assert_eq!(row_counts(&g.uri()).await["Person"], 1);
        assert!(std::fs::read_dir(std::path::Path::new(&g.uri()).join("__recovery")).map(|d| d.count()).unwrap_or(0) == 0);
    });
}

#[test]
fn concurrent_loads_of_one_table_never_interleave() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let mut tasks = Vec::new();
        for w in 0..4 {
            let uri = g.uri();
            tasks.push(tokio::spawn(async move {
                let data: String = (0..20).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"w{w}-{i}\"}}}}\n")).collect();
                load(&uri, LoadMode::Append, &data).await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(Error::ExpectedVersionMismatch { .. }) => {}
                Err(e) => panic!("unexpected error {e}"),
            }
        }
        assert!(ok >= 1);
        // Every published row belongs to a whole, successful load.
        assert_eq!(row_counts(&g.uri()).await["Person"], 20 * ok);
    });
}

#[test]
fn a_long_history_is_checkpointed_and_the_snapshot_stays_right() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let genesis = Graph::open(&g.uri(), &crate::common::session()).await.unwrap().snapshot().await.unwrap().genesis_id;
        let n = omnigraph::storage::CHECKPOINT_FRAGMENTS + 6;
        for i in 0..n {
            load(&g.uri(), LoadMode::Append, &format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\"}}}}")).await.unwrap();
        }
        let graph = Graph::open(&g.uri(), &crate::common::session()).await.unwrap();
        let snap = graph.snapshot().await.unwrap();
        assert_eq!(snap.table("node:Person").unwrap().row_count, n as u64);
        assert_eq!(snap.table("node:Company").unwrap().row_count, 0);
        assert_eq!(snap.genesis_id, genesis, "a checkpoint must keep the genesis id");
        let fragments = snap.manifest_ds().get_fragments().len();
        assert!(fragments < omnigraph::storage::CHECKPOINT_FRAGMENTS, "{fragments} manifest fragments");
    });
}

#[test]
fn an_open_graph_sees_every_publish_by_another_handle_or_process() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let reader = Graph::open(&g.uri(), &crate::common::session()).await.unwrap();
        let count = |graph: Graph| async move {
            let plans = omnigraph::query::compile(graph.schema(), "query q() { match { $p: Person } return { count($p) } }").unwrap();
            let r = omnigraph::query::run_read(&graph, &plans[0], &serde_json::json!({})).await.unwrap();
            r.json_rows().next().unwrap().as_object().unwrap().values().next().unwrap().as_u64().unwrap()
        };
        assert_eq!(count(reader.clone()).await, 0);
        let v0 = reader.snapshot().await.unwrap().manifest_version;
        // Repeated snapshots with nothing published agree.
        assert_eq!(reader.snapshot().await.unwrap().manifest_version, v0);
        for i in 1..=3u64 {
            // Another handle (as another process would) publishes ...
            load(&g.uri(), LoadMode::Append, &format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\"}}}}")).await.unwrap();
            // ... and the reader's very next snapshot and query see it.
            assert!(reader.snapshot().await.unwrap().manifest_version > v0);
            assert_eq!(count(reader.clone()).await, i);
        }
        // A graph deleted under an open handle is reported, not served from memory.
        drop(g);
        assert!(reader.snapshot().await.is_err(), "the storage is gone");
    });
}

#[test]
fn snapshots_scan_the_manifest_only_when_another_handle_published() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let writer = Graph::open_for_write(&g.uri(), &crate::common::session()).await.unwrap();
        let insert = omnigraph::query::compile(writer.schema(), "query m($n: String) { insert Person { name: $n } }").unwrap();
        writer.snapshot().await.unwrap();
        let scans = writer.manifest_scans();
        // Its own writes: the handle knows the head it published.
        for i in 0..5 {
            omnigraph::query::run_mutation(&writer, &insert[0], &serde_json::json!({"n": format!("w{i}")})).await.unwrap();
            let snap = writer.snapshot().await.unwrap();
            assert_eq!(snap.table("node:Person").unwrap().row_count, i + 1);
        }
        assert_eq!(writer.manifest_scans(), scans, "a handle's own publishes need no scan");
        // Another handle publishes: the next snapshot scans once, the ones
        // after it (many at once) reuse that read.
        load(&g.uri(), LoadMode::Append, "{\"type\":\"Person\",\"data\":{\"name\":\"other\"}}").await.unwrap();
        let reads: Vec<_> =
            (0..16).map(|_| writer.clone()).map(|w| tokio::spawn(async move { w.snapshot().await.unwrap().table("node:Person").unwrap().row_count })).collect();
        for r in reads {
            assert_eq!(r.await.unwrap(), 6);
        }
        assert_eq!(writer.manifest_scans(), scans + 1, "concurrent snapshots of a moved head scan it once");
    });
}
