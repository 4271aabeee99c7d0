//! Crashes at every step boundary of create, delete, restore, purge and
//! import: the child process aborts at the failpoint, `recover --apply`
//! runs, and then the catalog and storage agree, the operation is fully
//! visible or fully absent, a second recovery finds nothing, and a
//! bystander graph's bytes are unchanged.

use crate::catalog_common::{assert_consistent, catalog_uri, crash, graphs_ok, recover, tree_hash};
use crate::common::Work;

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Create,
    Delete,
    DeleteRetained,
    Restore,
    Purge,
    Import,
}

fn run_case(fp: &str, op: Op, s3: bool) {
    let w = Work::new();
    let Some(cat) = catalog_uri(&w, s3) else { return };
    let other = graphs_ok(&w, &cat, &["create", "--id", "bystander", "--schema", "schema.pg"]);
    let other_loc = other["location"].as_str().unwrap().to_string();
    w.ok(&["load", "--store", &other_loc, "--data", "data.jsonl"]);
    let other_before = (!s3).then(|| tree_hash(&other_loc));
    let other_entry = graphs_ok(&w, &cat, &["show", "bystander"]);

    match op {
        Op::Create | Op::Import => {}
        _ => {
            let e = graphs_ok(&w, &cat, &["create", "--id", "g", "--schema", "schema.pg"]);
            w.ok(&["load", "--store", e["location"].as_str().unwrap(), "--data", "data.jsonl"]);
        }
    }
    if matches!(op, Op::Restore | Op::Purge) {
        graphs_ok(&w, &cat, &["delete", "g", "--retain", "1h"]);
    }
    let import_path = w.path("legacy").display().to_string();
    if op == Op::Import {
        w.ok(&["init", "--schema", "schema.pg", &import_path]);
    }
    let import_before = (op == Op::Import).then(|| tree_hash(&import_path));

    let lease_ms = 300;
    match op {
        Op::Create => crash(&w, &cat, fp, lease_ms, &["create", "--id", "g", "--schema", "schema.pg"]),
        Op::Delete => crash(&w, &cat, fp, lease_ms, &["delete", "g"]),
        Op::DeleteRetained => crash(&w, &cat, fp, lease_ms, &["delete", "g", "--retain", "1h"]),
        Op::Restore => crash(&w, &cat, fp, lease_ms, &["restore", "g"]),
        Op::Purge => crash(&w, &cat, fp, lease_ms, &["purge", "g"]),
        Op::Import => crash(&w, &cat, fp, lease_ms, &["import", "--id", "g", &import_path]),
    }
    std::thread::sleep(std::time::Duration::from_millis(lease_ms + 100));

    let (code, plan) = recover(&w, &cat, &[]);
    assert_eq!(code, 1, "{fp}: the dry run must find the unfinished operation: {plan:#}");
    let (code, plan) = recover(&w, &cat, &["--apply"]);
    assert_eq!(code, 0, "{fp}: recovery did not finish: {plan:#}");
    let (code, plan) = recover(&w, &cat, &["--apply"]);
    assert_eq!((code, plan["items"].as_array().unwrap().len()), (0, 0), "{fp}: a second run found work: {plan:#}");
    assert_consistent(&w, &cat);

    let g = graphs_ok(&w, &cat, &["list", "--all"])["graphs"].as_array().unwrap().iter().find(|g| g["id"] == "g").cloned();
    let state = g.as_ref().map(|g| g["state"].as_str().unwrap().to_string());
    match op {
        // Fully visible (active, opens) or fully absent (failed or never reserved).
        Op::Create | Op::Import => assert!(matches!(state.as_deref(), None | Some("active") | Some("failed")), "{fp}: {state:?}"),
        Op::Delete => {
            assert_eq!(state.as_deref(), Some("deleted"), "{fp}: a delete past its mark only goes forward");
            assert_eq!(g.as_ref().unwrap()["data_removed"], true);
        }
        Op::DeleteRetained => assert!(g.as_ref().unwrap()["retained_until"].is_string(), "{fp}"),
        Op::Restore => assert_eq!(state.as_deref(), Some("active"), "{fp}"),
        Op::Purge => assert_eq!(g.as_ref().unwrap()["data_removed"], true, "{fp}"),
    }
    if op == Op::Create && state.as_deref() == Some("active") {
        let loc = g.as_ref().unwrap()["location"].as_str().unwrap().to_string();
        w.ok(&["load", "--store", &loc, "--data", "data.jsonl"]);
    }
    if let Some(before) = import_before {
        assert_eq!(tree_hash(&import_path), before, "{fp}: import must not rewrite the graph's directory");
    }
    if let Some(before) = other_before {
        assert_eq!(tree_hash(&other_loc), before, "{fp}: the bystander's bytes changed");
    }
    assert_eq!(graphs_ok(&w, &cat, &["show", "bystander"]), other_entry, "{fp}: the bystander's entry changed");
}

macro_rules! crash_cases {
    ($($name:ident: $fp:literal, $op:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run_case($fp, $op, false);
            }
        )*
    };
}

crash_cases! {
    create_crash_after_sidecar: "create.after_sidecar", Op::Create;
    create_crash_after_reserve: "create.after_reserve", Op::Create;
    create_crash_after_initializing: "create.after_initializing", Op::Create;
    create_crash_during_init_after_first_table: "init.after_first_table", Op::Create;
    create_crash_during_init_before_genesis: "init.before_genesis", Op::Create;
    create_crash_during_init_after_genesis: "init.after_genesis", Op::Create;
    create_crash_after_init_before_publish: "create.after_init", Op::Create;
    create_crash_after_publish_before_retire: "create.after_publish", Op::Create;
    delete_crash_after_mark_deleting: "delete.after_mark_deleting", Op::Delete;
    delete_crash_after_fence: "delete.after_fence", Op::Delete;
    delete_crash_mid_data_removal: "delete.mid_data_removal", Op::Delete;
    delete_crash_before_tombstone: "delete.before_tombstone", Op::Delete;
    delete_crash_after_tombstone: "delete.after_tombstone", Op::Delete;
    retained_delete_crash_after_fence: "delete.after_fence", Op::DeleteRetained;
    restore_crash_after_mark: "restore.after_mark", Op::Restore;
    purge_crash_after_mark: "purge.after_mark", Op::Purge;
    purge_crash_mid_data_removal: "delete.mid_data_removal", Op::Purge;
    import_crash_after_sidecar: "import.after_sidecar", Op::Import;
    import_crash_after_reserve: "import.after_reserve", Op::Import;
}

/// The same crashes on the S3-compatible server, at the boundaries where
/// storage is written.
#[test]
fn crashes_on_s3_recover_the_same_way() {
    for (fp, op) in [("create.after_init", Op::Create), ("init.after_first_table", Op::Create), ("delete.mid_data_removal", Op::Delete)] {
        run_case(fp, op, true);
    }
}

/// A stuck operation whose lease is live is left alone; `--force` with its
/// exact id resolves it early; after expiry a plain run resolves it.
#[test]
fn a_live_lease_is_left_alone_until_forced_or_expired() {
    let w = Work::new();
    let cat = catalog_uri(&w, false).unwrap();
    graphs_ok(&w, &cat, &["create", "--id", "other", "--schema", "schema.pg"]);
    crash(&w, &cat, "create.after_reserve", 600_000, &["create", "--id", "stuck", "--schema", "schema.pg"]);
    let (code, plan) = recover(&w, &cat, &["--apply"]);
    assert_eq!(code, 1);
    assert_eq!(plan["items"][0]["decision"], "wait", "{plan:#}");
    assert!(plan["items"][0]["reason"].as_str().unwrap().contains("is gone"), "the plan says the owner died: {plan:#}");
    let op = plan["items"][0]["op_id"].as_str().unwrap().to_string();
    assert_eq!(graphs_ok(&w, &cat, &["show", "stuck"])["state"], "reserved", "left alone");
    // Other graphs are not blocked by it.
    graphs_ok(&w, &cat, &["create", "--id", "free", "--schema", "schema.pg"]);
    let (code, plan) = recover(&w, &cat, &["--apply", "--force", &op]);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(graphs_ok(&w, &cat, &["show", "stuck"])["state"], "failed");
    assert_consistent(&w, &cat);

    crash(&w, &cat, "delete.after_mark_deleting", 1_500, &["delete", "free"]);
    let (code, plan) = recover(&w, &cat, &["--apply"]);
    assert_eq!((code, plan["items"][0]["decision"].as_str()), (1, Some("wait")), "{plan:#}");
    std::thread::sleep(std::time::Duration::from_millis(1_700));
    let (code, plan) = recover(&w, &cat, &["--apply"]);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(graphs_ok(&w, &cat, &["show", "free"])["state"], "deleted");
    assert_consistent(&w, &cat);
}
