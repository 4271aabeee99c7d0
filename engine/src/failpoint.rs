//! Crash-test hooks. With the `failpoints` feature, setting
//! `OMNIGRAPH_FAILPOINT=<name>` makes the process abort (no unwinding, no
//! cleanup: a real crash) when it reaches [`hit`] with that name; a value of
//! `<name>=error` makes [`fail`] return true instead, for error-path tests,
//! and `<name>=pause` makes the process stop there for a minute, so that a
//! test can kill it with SIGKILL at a known point, or let it go on early by
//! creating the file `OMNIGRAPH_FAILPOINT_RESUME` names.
//! Without the feature both are no-ops the compiler removes.

/// Every failpoint, by the protocol step it interrupts. A test checks that
/// each is in the code and is armed by some crash or error-path test.
pub const NAMES: &[&str] = &[
    // A graph's init (engine/src/graph/init.rs).
    "init.before_genesis",
    "init.after_genesis",
    "init.after_first_table",
    "init.create_table",
    "init.genesis_unknown",
    // A write: sidecar, table commits, publish (engine/src/graph/write.rs).
    "write.after_sidecar",
    "write.after_first_table_commit",
    "write.before_publish",
    "publish.before_manifest_commit",
    "publish.manifest_commit",
    "write.after_publish",
    // A fold's first table commit (engine/src/graph/write.rs).
    "fold.after_table_commit",
    // Between the two table commits of a write with a follow-up
    // (optimize: rewrite, then index rebuild; engine/src/graph/write.rs).
    "write.before_second_step",
    // Cleanup: after the manifest's old versions went, and after the first
    // table's (engine/src/graph/cleanup.rs).
    "cleanup.after_manifest",
    "cleanup.after_first_table",
    // A write that lost the publish race, before it runs again
    // (engine/src/graph/retry.rs).
    "write.before_retry",
    // Branches: after the manifest branch (the claim on the name), after
    // every table's branch, after a delete removed the manifest branch
    // (engine/src/graph/branches.rs); a merge before its write
    // (engine/src/graph/merge/mod.rs).
    "branch.after_manifest_branch",
    "branch.after_table_branches",
    "branch.after_manifest_delete",
    "merge.before_write",
    // A schema change (engine/src/graph/evolve): new tables made, nothing
    // committed yet.
    "evolve.before_commit",
    // The fence (engine/src/graph/fence.rs).
    "fence.storage",
    // Catalog lifecycle operations (catalog/src/lifecycle/).
    "create.after_sidecar",
    "create.after_reserve",
    "create.after_initializing",
    "create.after_init",
    "create.after_publish",
    "import.after_sidecar",
    "import.after_reserve",
    "delete.after_mark_deleting",
    "delete.after_fence",
    "delete.mid_data_removal",
    "delete.before_tombstone",
    "delete.after_tombstone",
    "restore.after_mark",
    "purge.after_mark",
];

/// Aborts the process if the failpoint `name` is armed.
#[inline]
pub fn hit(name: &str) {
    debug_assert!(NAMES.contains(&name), "failpoint `{name}` is not in failpoint::NAMES");
    #[cfg(feature = "failpoints")]
    if let Ok(armed) = std::env::var("OMNIGRAPH_FAILPOINT") {
        if armed == name {
            eprintln!("failpoint {name}: aborting");
            std::process::abort();
        }
        if armed.strip_suffix("=pause") == Some(name) {
            eprintln!("failpoint {name}: paused");
            let resume = std::env::var_os("OMNIGRAPH_FAILPOINT_RESUME").map(std::path::PathBuf::from);
            let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while std::time::Instant::now() < until && !resume.as_ref().is_some_and(|f| f.exists()) {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
    let _ = name;
}

/// True if `name` is armed as an injected error (`<name>=error`).
#[inline]
pub fn fail(name: &str) -> bool {
    debug_assert!(NAMES.contains(&name), "failpoint `{name}` is not in failpoint::NAMES");
    #[cfg(feature = "failpoints")]
    if let Ok(armed) = std::env::var("OMNIGRAPH_FAILPOINT") {
        return armed.strip_suffix("=error") == Some(name);
    }
    let _ = name;
    false
}
