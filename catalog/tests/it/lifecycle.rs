//! Create, list, show, delete, restore, purge, import: each transition and
//! each refusal, on every backend.

use omnigraph_catalog::{Catalog, CatalogError, State};
use serde_json::json;

use crate::common::{SCHEMA, backends, rt};

#[test]
fn create_publishes_an_active_graph_at_a_fresh_incarnation() {
    for b in backends() {
        rt().block_on(async {
            let c = Catalog::open(&b.uri).await.unwrap();
            let e = c.create("social", SCHEMA, json!({"policy": "open"})).await.unwrap();
            assert_eq!(e.state, State::Active);
            assert!(e.op.is_none());
            assert!(e.location.starts_with(&format!("{}/graphs/social/", c.uri())), "{}", e.location);
            assert_eq!(e.genesis_id.as_deref(), e.last_op.as_deref(), "genesis is stamped with the create's op id");
            assert_eq!(e.metadata["policy"], "open");
            let g = omnigraph::Graph::open(&e.location).await.unwrap();
            assert_eq!(Some(g.schema_hash()), e.schema_hash.as_deref());
            let listed = c.list().await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].entry.id, "social");
            assert!(omnigraph_catalog::Operation::list(c.store()).await.unwrap().is_empty(), "sidecar retired");
            assert_eq!(c.active_location("social").await.unwrap(), e.location);
        });
    }
}

#[test]
fn bad_ids_and_bad_schemas_write_nothing() {
    let b = crate::common::local();
    rt().block_on(async {
        let c = Catalog::open(&b.uri).await.unwrap();
        for bad in ["", "Social", "-x", "a b", "a/b", &"x".repeat(64)] {
            let err = c.create(bad, SCHEMA, json!(null)).await.unwrap_err();
            assert_eq!(err.code(), "OG-CATALOG-001", "{bad:?}: {err}");
        }
        let err = c.create("ok", "node Person { name: Strin @key }", json!(null)).await.unwrap_err();
        assert!(err.code().starts_with("OG-SCHEMA"), "{err}");
        assert!(c.store().list("").await.unwrap().is_empty(), "nothing written");
        assert!(matches!(Catalog::open_existing(&b.uri).await, Err(CatalogError::NotACatalog { .. })));
    });
}

#[test]
fn an_active_id_cannot_be_created_again() {
    for b in backends() {
        rt().block_on(async {
            let c = Catalog::open(&b.uri).await.unwrap();
            let first = c.create("g1", SCHEMA, json!(null)).await.unwrap();
            let err = c.create("g1", SCHEMA, json!(null)).await.unwrap_err();
            assert_eq!(err.code(), "OG-CATALOG-002", "{err}");
            assert_eq!(c.entry("g1").await.unwrap().unwrap(), first, "the entry is unchanged");
        });
    }
}

#[test]
fn delete_fences_removes_data_and_leaves_a_tombstone_then_the_id_is_free() {
    for b in backends() {
        rt().block_on(async {
            let c = Catalog::open(&b.uri).await.unwrap();
            let first = c.create("g", SCHEMA, json!(null)).await.unwrap();
            let gone = c.delete("g", None).await.unwrap();
            assert_eq!(gone.state, State::Deleted);
            assert!(gone.data_removed && gone.deleted_at.is_some());
            assert!(!omnigraph_catalog::lifecycle::data::exists(&first.location).await.unwrap(), "data removed");
            assert_eq!(c.active_location("g").await.unwrap_err().code(), "OG-CATALOG-004");
            assert_eq!(c.delete("g", None).await.unwrap_err().code(), "OG-CATALOG-004");
            let second = c.create("g", SCHEMA, json!(null)).await.unwrap();
            assert_ne!(second.incarnation, first.incarnation);
            assert_ne!(second.location, first.location);
            assert!(second.version > gone.version);
        });
    }
}

#[test]
fn retained_delete_can_be_restored_with_its_data() {
    for b in backends() {
        rt().block_on(async {
            let c = Catalog::open(&b.uri).await.unwrap();
            let e = c.create("kept", SCHEMA, json!(null)).await.unwrap();
            load_one(&e.location).await;
            let d = c.delete("kept", Some(3_600_000)).await.unwrap();
            assert!(d.retained() && d.retained_until.is_some());
            // Fenced: no reads, no writes, while deleted.
            let g = omnigraph::Graph::open(&e.location).await.unwrap();
            assert_eq!(g.snapshot().await.unwrap_err().code(), "OG-OPEN-005");
            assert_eq!(c.create("kept", SCHEMA, json!(null)).await.unwrap_err().code(), "OG-CATALOG-006");
            let r = c.restore("kept").await.unwrap();
            assert_eq!(r.state, State::Active);
            assert_eq!(r.incarnation, e.incarnation);
            let g = omnigraph::Graph::open_for_write(&e.location).await.unwrap();
            let snap = g.snapshot().await.unwrap();
            assert_eq!(snap.table("node:Person").unwrap().row_count, 1, "data survived");
            load_one_more(&g).await;
        });
    }
}

#[test]
fn purge_removes_retained_data_and_restore_then_refuses() {
    for b in backends() {
        rt().block_on(async {
            let c = Catalog::open(&b.uri).await.unwrap();
            let e = c.create("p", SCHEMA, json!(null)).await.unwrap();
            assert_eq!(c.purge("p").await.unwrap_err().code(), "OG-CATALOG-005", "active graphs are not purged");
            c.delete("p", Some(3_600_000)).await.unwrap();
            let t = c.purge("p").await.unwrap();
            assert!(t.data_removed && !t.retained());
            assert!(!omnigraph_catalog::lifecycle::data::exists(&e.location).await.unwrap());
            assert_eq!(c.restore("p").await.unwrap_err().code(), "OG-CATALOG-005");
            c.create("p", SCHEMA, json!(null)).await.unwrap();
        });
    }
}

#[test]
fn import_registers_an_existing_graph_without_rewriting_it() {
    let b = crate::common::local();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("existing").display().to_string();
    rt().block_on(async {
        let report = omnigraph::graph::init(&path, SCHEMA).await.unwrap();
        load_one(&path).await;
        let before = tree(&path);
        let c = Catalog::open(&b.uri).await.unwrap();
        let e = c.import("legacy", &path).await.unwrap();
        assert_eq!(e.state, State::Active);
        assert!(e.imported);
        assert_eq!(e.genesis_id.as_deref(), Some(report.genesis_id.as_str()));
        assert_eq!(tree(&path), before, "import changed no file of the graph");
        let err = c.import("legacy2", &path).await.unwrap_err();
        assert_eq!(err.code(), "OG-CATALOG-007", "{err}");
        assert_eq!(c.entry("legacy2").await.unwrap().unwrap().state, State::Failed);
        let err = c.import("bad", dir.path().to_str().unwrap()).await.unwrap_err();
        assert_eq!(err.code(), "OG-OPEN-001", "not a graph: {err}");
        // Once deleted (data removed), the location claim is released.
        c.delete("legacy", None).await.unwrap();
        assert!(c.location_claim(&e.location).await.unwrap().is_none());
    });
}

pub fn tree(path: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(path)];
    while let Some(p) = stack.pop() {
        for ent in std::fs::read_dir(&p).unwrap() {
            let ent = ent.unwrap();
            if ent.file_type().unwrap().is_dir() {
                stack.push(ent.path());
            } else {
                out.push((ent.path().display().to_string(), std::fs::read(ent.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

async fn load_one(location: &str) {
    let g = omnigraph::Graph::open_for_write(location).await.unwrap();
    let data = "{\"type\":\"Person\",\"data\":{\"name\":\"ada\"}}\n";
    load_str(&g, data).await.unwrap();
}

async fn load_one_more(g: &omnigraph::Graph) {
    let data = "{\"type\":\"Person\",\"data\":{\"name\":\"bob\"}}\n";
    load_str(g, data).await.unwrap();
}

pub async fn load_str(g: &omnigraph::Graph, data: &'static str) -> omnigraph::Result<omnigraph::load::LoadReport> {
    let opts = omnigraph::load::LoadOptions::new(omnigraph::load::LoadMode::Append, "test");
    omnigraph::load::load(g, std::io::Cursor::new(data.as_bytes()), &opts, &mut |_| {}).await
}
