//! init safety: refuse any existing artifact, one winner under a claim,
//! nothing of another graph ever removed.

use omnigraph::error::Error;
use omnigraph::graph::{self, Graph};
use omnigraph::load::LoadMode;

use crate::common::*;

#[test]
fn init_creates_the_layout_and_an_empty_snapshot() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        let root = std::path::PathBuf::from(g.uri());
        for f in ["_schema.pg", "_schema.ir.json", "__schema_state.json", "__manifest", "nodes/Person", "nodes/Company", "edges/Knows", "edges/WorksAt"] {
            assert!(root.join(f).exists(), "missing {f}");
        }
        assert!(!root.join("__init_claim.json").exists(), "claim must be released");
        let graph = Graph::open(&g.uri(), &crate::common::session()).await.unwrap();
        let snap = graph.snapshot().await.unwrap();
        assert_eq!(snap.tables.len(), 4);
        assert!(snap.tables.iter().all(|t| t.row_count == 0));
        assert!(snap.genesis_id.is_some());
        let state: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("__schema_state.json")).unwrap()).unwrap();
        assert_eq!(state["schema_ir_hash"].as_str().unwrap(), graph.schema_hash());
    });
}

#[test]
fn second_init_on_a_graph_fails_and_keeps_it_whole() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        load(&g.uri(), LoadMode::Append, r#"{"type":"Person","data":{"name":"ada","age":36}}"#).await.unwrap();
        let before = tree_hash(std::path::Path::new(&g.uri()));
        let err = graph::init(&g.uri(), &crate::common::session(), "node Other { x: String @key }").await.unwrap_err();
        assert!(matches!(err, Error::AlreadyInitialized { .. }), "{err}");
        assert_eq!(err.code(), "OG-INIT-001");
        assert_eq!(tree_hash(std::path::Path::new(&g.uri())), before, "init touched an existing graph");
        assert_eq!(row_counts(&g.uri()).await["Person"], 1);
        assert!(Graph::open(&g.uri(), &crate::common::session()).await.unwrap().schema().node("Person").is_some());
    });
}

#[test]
fn init_refuses_a_root_holding_any_single_artifact() {
    rt().block_on(async {
        for artifact in ["_schema.pg", "__schema_state.json", "nodes", "__manifest", "__recovery"] {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join(artifact);
            if artifact.contains('.') {
                std::fs::write(&p, b"x").unwrap();
            } else {
                std::fs::create_dir_all(p.join("keep")).unwrap();
                std::fs::write(p.join("keep/file"), b"x").unwrap();
            }
            let before = tree_hash(dir.path());
            let err = graph::init(dir.path().to_str().unwrap(), &crate::common::session(), SOCIAL).await.unwrap_err();
            assert!(matches!(err, Error::AlreadyInitialized { .. }), "{artifact}: {err}");
            assert_eq!(tree_hash(dir.path()), before, "{artifact}: init changed the root");
        }
    });
}

#[test]
fn init_with_a_bad_schema_writes_nothing() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().join("g");
        let err = graph::init(uri.to_str().unwrap(), &crate::common::session(), "node A { x: Nope }").await.unwrap_err();
        assert_eq!(err.code(), "OG-SCHEMA-010");
        assert!(!uri.exists() || std::fs::read_dir(&uri).unwrap().next().is_none());
    });
}

#[test]
fn a_held_claim_makes_init_report_in_progress() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let claim = serde_json::json!({"attempt": "01OTHER", "owner": {"host": "elsewhere", "pid": 1}, "started_at": "now"});
        std::fs::write(dir.path().join("__init_claim.json"), claim.to_string()).unwrap();
        let err = graph::init(dir.path().to_str().unwrap(), &crate::common::session(), SOCIAL).await.unwrap_err();
        assert!(matches!(&err, Error::InitInProgress { op_id, .. } if op_id == "01OTHER"), "{err}");
        let open = Graph::open(dir.path().to_str().unwrap(), &crate::common::session()).await.unwrap_err();
        assert_eq!(open.code(), "OG-OPEN-002");
    });
}

#[test]
fn open_rejects_a_directory_that_is_not_a_graph() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let err = Graph::open(dir.path().to_str().unwrap(), &crate::common::session()).await.unwrap_err();
        assert_eq!(err.code(), "OG-OPEN-001");
        let err = Graph::open(dir.path().join("missing").to_str().unwrap(), &crate::common::session()).await.unwrap_err();
        assert_eq!(err.code(), "OG-OPEN-001");
    });
}

#[test]
fn open_detects_tampered_schema_files() {
    rt().block_on(async {
        let g = new_graph(SOCIAL).await;
        std::fs::write(std::path::Path::new(&g.uri()).join("_schema.pg"), "node Person { name: String @key }").unwrap();
        let err = Graph::open(&g.uri(), &crate::common::session()).await.unwrap_err();
        assert_eq!(err.code(), "OG-OPEN-003", "{err}");
    });
}

#[test]
fn a_read_only_handle_becomes_writable_without_opening_again() {
    rt().block_on(async {
        let t = new_graph(SOCIAL).await;
        let person = "{\"type\":\"Person\",\"data\":{\"name\":\"ada\",\"age\":36}}\n";
        let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        assert!(!g.is_writable());
        let refused = load_into(&g, LoadMode::Append, person).await.unwrap_err();
        assert_eq!(refused.code(), "OG-ARG-001", "{refused}");
        let g = g.into_writable().await.unwrap();
        assert!(g.is_writable());
        load_into(&g, LoadMode::Append, person).await.unwrap();
        assert_eq!(row_counts(&t.uri()).await["Person"], 1);

        // A graph retired after the read-only open is refused, as an open for write would be.
        let r = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
        omnigraph::graph::fence::retire(r.root(), "01DELETEOP", None).await.unwrap();
        let e = r.into_writable().await.unwrap_err();
        assert_eq!(e.code(), "OG-OPEN-005", "{e}");
        let e = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap_err();
        assert_eq!(e.code(), "OG-OPEN-005", "{e}");
    });
}
