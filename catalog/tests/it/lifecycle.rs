//! Create, list, show, delete, restore, purge, import: each transition and
//! each refusal, on every backend.

use omnigraph_catalog::{Catalog, CatalogError, State};
use serde_json::json;

use crate::common::{SCHEMA, backends, rt};

#[test]
fn create_publishes_an_active_graph_at_a_fresh_incarnation() {
    for b in backends() {
        rt().block_on(async {
            let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
            let e = c.create("social", SCHEMA, json!({"policy": "open"})).await.unwrap();
            assert_eq!(e.state, State::Active);
            assert!(e.op.is_none());
            assert!(e.location.starts_with(&format!("{}/graphs/social/", c.uri())), "{}", e.location);
            assert_eq!(e.genesis_id.as_deref(), e.last_op.as_deref(), "genesis is stamped with the create's op id");
            assert_eq!(e.metadata["policy"], "open");
            let g = omnigraph::Graph::open(&e.location, &crate::common::session()).await.unwrap();
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
        let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
        for bad in ["", "Social", "-x", "a b", "a/b", &"x".repeat(64)] {
            let err = c.create(bad, SCHEMA, json!(null)).await.unwrap_err();
            assert_eq!(err.code(), "OG-CATALOG-001", "{bad:?}: {err}");
        }
        let err = c.create("ok", "node Person { name: Strin @key }", json!(null)).await.unwrap_err();
        assert!(err.code().starts_with("OG-SCHEMA"), "{err}");
        assert!(c.store().list("").await.unwrap().is_empty(), "nothing written");
        assert!(matches!(Catalog::open_existing(&b.uri, &crate::common::session()).await, Err(CatalogError::NotACatalog { .. })));
    });
}

#[test]
fn an_active_id_cannot_be_created_again() {
    for b in backends() {
        rt().block_on(async {
            let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
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
            let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
            let first = c.create("g", SCHEMA, json!(null)).await.unwrap();
            let gone = c.delete("g", omnigraph_catalog::lifecycle::delete::DeleteOptions::retain(None)).await.unwrap();
            assert_eq!(gone.state, State::Deleted);
            assert!(gone.data_removed && gone.deleted_at.is_some());
            assert!(!omnigraph_catalog::lifecycle::data::exists(&crate::common::session(), &first.location).await.unwrap(), "data removed");
            assert_eq!(c.active_location("g").await.unwrap_err().code(), "OG-CATALOG-004");
            assert_eq!(c.delete("g", omnigraph_catalog::lifecycle::delete::DeleteOptions::retain(None)).await.unwrap_err().code(), "OG-CATALOG-004");
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
            let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
            let e = c.create("kept", SCHEMA, json!(null)).await.unwrap();
            load_one(&e.location).await;
            let d = c.delete("kept", omnigraph_catalog::lifecycle::delete::DeleteOptions::retain(Some(3_600_000))).await.unwrap();
            assert!(d.retained() && d.retained_until.is_some());
            // Fenced: no reads, no writes, while deleted.
            let g = omnigraph::Graph::open(&e.location, &crate::common::session()).await.unwrap();
            assert_eq!(g.snapshot().await.unwrap_err().code(), "OG-OPEN-005");
            assert_eq!(c.create("kept", SCHEMA, json!(null)).await.unwrap_err().code(), "OG-CATALOG-006");
            let r = c.restore("kept").await.unwrap();
            assert_eq!(r.state, State::Active);
            assert_eq!(r.incarnation, e.incarnation);
            let g = omnigraph::Graph::open_for_write(&e.location, &crate::common::session()).await.unwrap();
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
            let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
            let e = c.create("p", SCHEMA, json!(null)).await.unwrap();
            assert_eq!(c.purge("p").await.unwrap_err().code(), "OG-CATALOG-005", "active graphs are not purged");
            c.delete("p", omnigraph_catalog::lifecycle::delete::DeleteOptions::retain(Some(3_600_000))).await.unwrap();
            let t = c.purge("p").await.unwrap();
            assert!(t.data_removed && !t.retained());
            assert!(!omnigraph_catalog::lifecycle::data::exists(&crate::common::session(), &e.location).await.unwrap());
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
        let report = omnigraph::graph::init(&path, &crate::common::session(), SCHEMA).await.unwrap();
        load_one(&path).await;
        let before = tree(&path);
        let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
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
        // Deleting it would remove the user's own directory: refused unless asked for.
        use omnigraph_catalog::lifecycle::delete::DeleteOptions;
        let err = c.delete("legacy", DeleteOptions::retain(None)).await.unwrap_err();
        assert_eq!(err.code(), "OG-CATALOG-016", "{err}");
        assert!(err.to_string().contains("--remove-data"), "{err}");
        assert_eq!(tree(&path), before, "a refused delete changed no file");
        assert_eq!(c.entry("legacy").await.unwrap().unwrap().state, State::Active);
        // Once deleted (data removed), the location claim is released.
        c.delete("legacy", DeleteOptions { retain_ms: None, remove_imported_data: true }).await.unwrap();
        assert!(!std::path::Path::new(&path).join("__manifest").exists());
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
    let g = omnigraph::Graph::open_for_write(location, &crate::common::session()).await.unwrap();
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

#[test]
fn retention_periods_are_bounded_when_parsed_and_when_applied() {
    use omnigraph_catalog::lifecycle::retention::{MAX_RETAIN_MS, parse_duration_ms};
    for bad in ["100000000d", "3651d", "99999999999999999999s", "0s", "-1d", "7w", "", "d"] {
        let e = parse_duration_ms(bad).unwrap_err();
        assert_eq!(e.code(), "OG-ARG-001", "{bad:?}: {e}");
    }
    assert_eq!(parse_duration_ms("3650d").unwrap(), MAX_RETAIN_MS);
    assert_eq!(parse_duration_ms("500ms").unwrap(), 500);
    // A period past the bound that reaches the catalog anyway (an older
    // version's sidecar, a direct caller) is clamped, not an overflow that
    // wedges the delete half way.
    let b = crate::common::local();
    rt().block_on(async {
        let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
        c.create("huge", SCHEMA, json!(null)).await.unwrap();
        let e = c.delete("huge", omnigraph_catalog::lifecycle::delete::DeleteOptions::retain(Some(i64::MAX))).await.unwrap();
        assert_eq!(e.state, State::Deleted);
        let until = chrono::DateTime::parse_from_rfc3339(e.retained_until.as_deref().unwrap()).unwrap();
        let years = (until.timestamp_millis() - chrono::Utc::now().timestamp_millis()) / (365 * 86_400_000);
        assert!((9..=10).contains(&years), "{until}");
        assert_eq!(c.restore("huge").await.unwrap().state, State::Active);
    });
}

#[test]
fn every_spelling_of_one_directory_is_one_import() {
    let b = crate::common::local();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g").display().to_string();
    let link = dir.path().join("link-to-g");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    rt().block_on(async {
        omnigraph::graph::init(&path, &crate::common::session(), SCHEMA).await.unwrap();
        load_one(&path).await;
        let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
        let first = c.import("b", &path).await.unwrap();
        let spellings = [format!("{path}/"), format!("{path}//"), format!("{path}/../g"), format!("{path}/./"), link.display().to_string()];
        for (i, other) in spellings.iter().enumerate() {
            let id = format!("dup{i}");
            let err = c.import(&id, other).await.unwrap_err();
            assert_eq!(err.code(), "OG-CATALOG-007", "{other}: {err}");
            assert_eq!(c.entry(&id).await.unwrap().unwrap().state, State::Failed);
        }
        // The catalog's own storage, spelled another way, is refused too.
        let own = c.create("own", SCHEMA, json!(null)).await.unwrap();
        let inside = format!("{}/graphs/own/../own/{}/", c.uri(), own.incarnation);
        let err = c.import("inside", &inside).await.unwrap_err();
        assert_eq!(err.code(), "OG-CATALOG-007", "{err}");
        // The one import still owns and reads its data.
        assert!(c.owns_location(&first).await.unwrap());
        let g = omnigraph::Graph::open(&first.location, &crate::common::session()).await.unwrap();
        assert!(g.snapshot().await.unwrap().tables.iter().any(|t| t.row_count > 0));
        c.delete("b", omnigraph_catalog::lifecycle::delete::DeleteOptions { retain_ms: None, remove_imported_data: true }).await.unwrap();
        assert!(!std::path::Path::new(&path).join("__manifest").exists(), "the owner's delete removed the data");
    });
}

#[test]
fn one_unreadable_record_is_reported_and_hides_nothing_else() {
    let b = crate::common::local();
    rt().block_on(async {
        let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
        c.create("good", SCHEMA, json!(null)).await.unwrap();
        let bad = c.create("bad", SCHEMA, json!(null)).await.unwrap();
        // The head of `bad` is garbage (a torn write, a newer version's state).
        let head = format!("{}/entries/bad/{:020}.json", b.uri, bad.version);
        std::fs::write(&head, br#"{"id": "bad", "state": "teleported"}"#).unwrap();
        // A sidecar that does not parse either.
        std::fs::create_dir_all(format!("{}/operations", b.uri)).unwrap();
        std::fs::write(format!("{}/operations/01JUNK.json", b.uri), b"not json").unwrap();
        let ids: Vec<String> = c.list().await.unwrap().into_iter().map(|g| g.entry.id).collect();
        assert_eq!(ids, ["good"]);
        let all = c.list_all().await.unwrap();
        assert_eq!(all.unreadable.len(), 1);
        assert_eq!((all.unreadable[0].id.as_str(), all.unreadable[0].code), ("bad", "OG-CATALOG-011"), "{:?}", all.unreadable);
        assert_eq!(omnigraph_catalog::Operation::list(c.store()).await.unwrap().len(), 0);
        // The sweep reports both, leaves `bad`'s storage alone, and still works.
        let plan = omnigraph_recovery::run(&c, &omnigraph_recovery::Options { apply: true, force: None }).await.unwrap();
        let unreadable: Vec<_> = plan.items.iter().filter(|i| i.kind == omnigraph_recovery::ItemKind::UnreadableRecord).collect();
        assert_eq!(unreadable.len(), 2, "{:?}", plan.items);
        assert!(plan.items.iter().all(|i| i.kind != omnigraph_recovery::ItemKind::OrphanLocation || i.decision == omnigraph_recovery::Remedy::NeedsOperator));
        assert!(std::path::Path::new(&bad.location).join("__manifest").exists(), "the unreadable graph's data is kept");
        assert!(omnigraph::Graph::open(&c.active_location("good").await.unwrap(), &crate::common::session()).await.is_ok());
    });
}
