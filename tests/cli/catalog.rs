//! The catalog through the CLI: lifecycle commands, exit codes, re-init
//! safety and the fence, with real processes.

use crate::catalog_common::{assert_consistent, catalog_uri, graphs, graphs_ok, recover, rt};
use crate::common::{Work, stderr};

#[test]
fn graphs_commands_create_list_show_delete_restore_purge() {
    let w = Work::new();
    let cat = catalog_uri(&w, false).unwrap();
    let out = graphs(&w, &cat, &["list"]);
    assert!(!out.status.success() && stderr(&out).contains("OG-CATALOG-010"), "{}", stderr(&out));
    assert!(!w.path("catalog").exists(), "a read-only command created nothing");
    let e = graphs_ok(&w, &cat, &["create", "--id", "social", "--schema", "schema.pg", "--metadata", "{\"owner\":\"team-a\"}"]);
    assert_eq!(e["state"], "active");
    let loc = e["location"].as_str().unwrap().to_string();
    w.ok(&["load", "--store", &loc, "--data", "data.jsonl"]);
    let list = graphs_ok(&w, &cat, &["list"]);
    assert_eq!(list["graphs"][0]["id"], "social");
    let human = String::from_utf8(graphs(&w, &cat, &["show", "social"]).stdout).unwrap();
    assert!(human.contains("state        active") && human.contains(&loc), "{human}");
    let d = graphs_ok(&w, &cat, &["delete", "social", "--retain", "1h"]);
    assert_eq!(d["state"], "deleted");
    assert!(d["retained_until"].is_string());
    assert_eq!(graphs_ok(&w, &cat, &["list"])["graphs"][0]["state"], "deleted", "retained tombstones are listed");
    let out = w.run(&["snapshot", "--store", &loc]);
    assert!(stderr(&out).contains("OG-OPEN-005"), "a deleted graph is not readable: {}", stderr(&out));
    graphs_ok(&w, &cat, &["restore", "social"]);
    let snap: serde_json::Value = serde_json::from_str(&w.ok(&["snapshot", "--store", &loc, "--json"])).unwrap();
    assert_eq!(snap["tables"].as_array().unwrap().iter().find(|t| t["name"] == "Person").unwrap()["row_count"], 2);
    graphs_ok(&w, &cat, &["delete", "social", "--retain", "1h"]);
    graphs_ok(&w, &cat, &["purge", "social"]);
    assert!(graphs_ok(&w, &cat, &["list"])["graphs"].as_array().unwrap().is_empty(), "purged tombstones hide without --all");
    assert_eq!(graphs_ok(&w, &cat, &["list", "--all"])["graphs"][0]["data_removed"], true);
    let out = graphs(&w, &cat, &["delete", "social", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["code"], "OG-CATALOG-004");
    let out = graphs(&w, &cat, &["delete", "x", "--retain", "soon"]);
    assert!(stderr(&out).contains("OG-ARG-001"), "{}", stderr(&out));
    assert_consistent(&w, &cat);
}

#[test]
fn init_aimed_at_an_active_graph_fails_and_the_graph_keeps_its_data() {
    let w = Work::new();
    let cat = catalog_uri(&w, false).unwrap();
    let e = graphs_ok(&w, &cat, &["create", "--id", "g", "--schema", "schema.pg"]);
    let loc = e["location"].as_str().unwrap().to_string();
    w.ok(&["load", "--store", &loc, "--data", "data.jsonl"]);
    let before = crate::catalog_common::tree_hash(&loc);
    let out = w.run(&["init", "--schema", "schema.pg", &loc]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("OG-INIT-001"), "{}", stderr(&out));
    assert_eq!(crate::catalog_common::tree_hash(&loc), before, "re-init touched nothing");
    let snap: serde_json::Value = serde_json::from_str(&w.ok(&["snapshot", "--store", &loc, "--json"])).unwrap();
    assert_eq!(snap["genesis_id"], e["genesis_id"]);
    assert_consistent(&w, &cat);
}

/// Process A (this test) holds the graph open for write; process B deletes
/// it; A's next write is refused by the fence, though A never looked at the
/// catalog again.
#[test]
fn a_process_holding_a_deleted_graph_cannot_write_to_it() {
    let w = Work::new();
    let cat = catalog_uri(&w, false).unwrap();
    let e = graphs_ok(&w, &cat, &["create", "--id", "fenced", "--schema", "schema.pg"]);
    let loc = e["location"].as_str().unwrap().to_string();
    w.ok(&["load", "--store", &loc, "--data", "data.jsonl"]);
    rt().block_on(async {
        let a = omnigraph::Graph::open_for_write(&loc, &crate::common::session()).await.unwrap();
        let before = a.snapshot().await.unwrap().table("node:Person").unwrap().row_count;
        graphs_ok(&w, &cat, &["delete", "fenced", "--retain", "1h"]);
        let opts = omnigraph::load::LoadOptions::new(omnigraph::load::LoadMode::Append, "a");
        let data = "{\"type\":\"Person\",\"data\":{\"name\":\"zed\"}}\n";
        let err = omnigraph::load::load(&a, std::io::Cursor::new(data.as_bytes()), &opts, &mut |_| {}).await.unwrap_err();
        assert_eq!(err.code(), "OG-OPEN-005", "{err}");
        // Restored, the graph has exactly what it had before the delete.
        graphs_ok(&w, &cat, &["restore", "fenced"]);
        let b = omnigraph::Graph::open(&loc, &crate::common::session()).await.unwrap();
        assert_eq!(b.snapshot().await.unwrap().table("node:Person").unwrap().row_count, before);
        // And takes writes again.
        omnigraph::load::load(&a, std::io::Cursor::new(data.as_bytes()), &opts, &mut |_| {}).await.unwrap();
    });
    assert_consistent(&w, &cat);
}

#[test]
fn recover_exit_codes_clean_problems_and_errors() {
    let w = Work::new();
    let cat = catalog_uri(&w, false).unwrap();
    let out = w.run(&["recover", "--catalog", &cat]);
    assert_eq!(out.status.code(), Some(2), "not a catalog is an error");
    graphs_ok(&w, &cat, &["create", "--id", "g", "--schema", "schema.pg"]);
    let (code, plan) = recover(&w, &cat, &[]);
    assert_eq!((code, plan["items"].as_array().unwrap().len()), (0, 0));
    // An orphan location is a problem found, then repaired.
    std::fs::create_dir_all(w.path("catalog/graphs/ghost/01ORPHAN")).unwrap();
    std::fs::write(w.path("catalog/graphs/ghost/01ORPHAN/_schema.pg"), "x").unwrap();
    let (code, plan) = recover(&w, &cat, &[]);
    assert_eq!(code, 1);
    assert_eq!(plan["items"][0]["kind"], "orphan_location");
    let human = String::from_utf8(w.run(&["recover", "--catalog", &cat]).stdout).unwrap();
    assert!(human.contains("orphan location") && human.contains("dry run"), "{human}");
    let (code, _) = recover(&w, &cat, &["--apply"]);
    assert_eq!(code, 0);
    assert!(!w.path("catalog/graphs/ghost/01ORPHAN").exists());
    let (code, _) = recover(&w, &cat, &["--force", "01NOSUCHOP"]);
    assert_eq!(code, 2);
    assert_consistent(&w, &cat);
}

#[test]
fn a_storage_fault_during_delete_never_skips_the_fence() {
    use crate::catalog_common::{assert_consistent, graphs_ok, recover};
    let w = crate::common::Work::new();
    let cat = w.path("catalog").display().to_string();
    let e = graphs_ok(&w, &cat, &["create", "--id", "g", "--schema", "schema.pg"]);
    let loc = e["location"].as_str().unwrap().to_string();
    w.ok(&["load", "--store", &loc, "--data", "data.jsonl"]);
    // Both the fence write and the fence read fail as a flaky store would.
    let out = crate::common::bin()
        .current_dir(w.dir.path())
        .env("OMNIGRAPH_FAILPOINT", "fence.storage=error")
        .env("OMNIGRAPH_LEASE_MS", "300")
        .args(["graphs", "delete", "--catalog", &cat, "g"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a delete that could not fence must fail: {}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OG-STORAGE-001"), "{}", String::from_utf8_lossy(&out.stderr));
    // Nothing was removed, and the graph is still not fenced: no write was
    // acknowledged after a delete, and the delete is left for the sweep.
    assert!(std::path::Path::new(&loc).join("__manifest").exists());
    let shown = graphs_ok(&w, &cat, &["show", "g"]);
    assert_eq!(shown["state"], "deleting", "{shown}");
    // Once the store answers again, recovery finishes the delete with its fence.
    crate::catalog_common::until_leases_expired(&w, &cat);
    let (code, plan) = recover(&w, &cat, &["--apply"]);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(graphs_ok(&w, &cat, &["show", "g"])["state"], "deleted");
    assert!(!std::path::Path::new(&loc).exists());
    assert_consistent(&w, &cat);
}

#[test]
fn deleting_an_imported_graph_keeps_the_users_directory_unless_asked() {
    let w = Work::new();
    let cat = catalog_uri(&w, false).unwrap();
    let mine = w.path("mine").display().to_string();
    w.ok(&["init", "--schema", "schema.pg", &mine]);
    w.ok(&["load", "--store", &mine, "--data", "data.jsonl"]);
    let before = crate::tree_hash::tree_hash(std::path::Path::new(&mine));
    graphs_ok(&w, &cat, &["import", "--id", "mine", &mine]);
    let out = graphs(&w, &cat, &["delete", "mine"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error[OG-CATALOG-016]") && stderr(&out).contains("--remove-data"), "{}", stderr(&out));
    assert_eq!(crate::tree_hash::tree_hash(std::path::Path::new(&mine)), before, "the refused delete changed nothing");
    assert_eq!(graphs_ok(&w, &cat, &["show", "mine"])["state"], "active");
    // Asked for, the data goes.
    assert_eq!(graphs_ok(&w, &cat, &["delete", "mine", "--remove-data"])["state"], "deleted");
    assert!(!std::path::Path::new(&mine).join("__manifest").exists());
    assert_consistent(&w, &cat);
}
