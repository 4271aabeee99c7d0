//! Helpers for the catalog tests: a catalog next to the work dir (or on the
//! S3 test server), CLI calls against it, and the invariant check every
//! crash and race test ends with.

use std::process::Output;

use omnigraph_catalog::lifecycle::data;
use omnigraph_catalog::{Catalog, State};

use crate::common::{Work, bin};

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A catalog URI: `<work>/catalog`, or a fresh prefix on the S3 test server.
pub fn catalog_uri(w: &Work, s3: bool) -> Option<String> {
    if !s3 {
        return Some(w.path("catalog").display().to_string());
    }
    match std::env::var("OMNIGRAPH_TEST_S3") {
        Ok(bucket) => Some(format!("{bucket}/{}", ulid::Ulid::new().to_string().to_lowercase())),
        Err(_) if std::env::var("OMNIGRAPH_SKIP_S3").as_deref() == Ok("1") => None,
        Err(_) => panic!("OMNIGRAPH_TEST_S3 is not set: run ./scripts/test.sh (or set OMNIGRAPH_SKIP_S3=1)"),
    }
}

pub fn graphs(w: &Work, cat: &str, args: &[&str]) -> Output {
    let mut full = vec!["graphs"];
    full.extend_from_slice(&args[..1]);
    full.extend_from_slice(&["--catalog", cat]);
    full.extend_from_slice(&args[1..]);
    w.run(&full)
}

pub fn graphs_ok(w: &Work, cat: &str, args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = graphs(w, cat, &a);
    assert!(out.status.success(), "graphs {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `recover --catalog` with extra args; returns (exit code, plan JSON).
pub fn recover(w: &Work, cat: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut a = vec!["recover", "--catalog", cat, "--json"];
    a.extend_from_slice(extra);
    let out = w.run(&a);
    let code = out.status.code().unwrap_or(-1);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("recover output: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    (code, v)
}

/// Runs a `graphs` command armed with a failpoint and a short lease; it must abort.
pub fn crash(w: &Work, cat: &str, fp: &str, lease_ms: u64, args: &[&str]) {
    let mut full = vec!["graphs"];
    full.extend_from_slice(&args[..1]);
    full.extend_from_slice(&["--catalog", cat]);
    full.extend_from_slice(&args[1..]);
    let out = bin().current_dir(w.dir.path()).env("OMNIGRAPH_FAILPOINT", fp).env("OMNIGRAPH_LEASE_MS", lease_ms.to_string()).args(&full).output().unwrap();
    assert!(crate::common::killed_by_abort(&out), "{fp}: expected an abort, got {:?}: {}", out.status, crate::common::stderr(&out));
}

pub use crate::tree_hash::tree_hash;

/// The catalog and the storage agree: no operation in flight, no sidecar,
/// every active graph opens with the genesis the catalog recorded, every
/// removed incarnation is gone, retained ones are present, and a recovery
/// dry run finds nothing.
pub fn assert_consistent(w: &Work, cat: &str) {
    let (code, plan) = recover(w, cat, &[]);
    assert_eq!(code, 0, "recovery still finds work: {plan:#}");
    rt().block_on(async {
        let c = Catalog::open_existing(cat, &crate::common::session()).await.unwrap();
        assert!(omnigraph_catalog::Operation::list(c.store()).await.unwrap().is_empty(), "a sidecar is left");
        for g in c.list().await.unwrap() {
            let e = &g.entry;
            assert!(e.op.is_none(), "{} has operation {:?} in flight", e.id, e.op);
            match e.state {
                State::Active => {
                    let graph =
                        omnigraph::Graph::open(&e.location, &crate::common::session()).await.unwrap_or_else(|err| panic!("{} does not open: {err}", e.id));
                    let snap = graph.snapshot().await.unwrap();
                    assert_eq!(snap.genesis_id, e.genesis_id, "{}: a different graph at its location", e.id);
                }
                State::Deleted if e.retained() => {
                    assert!(data::exists(&crate::common::session(), &e.location).await.unwrap(), "{}: retained data missing", e.id)
                }
                State::Deleted | State::Failed => {
                    if !e.imported {
                        assert!(!data::exists(&crate::common::session(), &e.location).await.unwrap(), "{}: {} data left at {}", e.id, e.state, e.location);
                    }
                }
                s => panic!("{} left in state {s}", e.id),
            }
        }
    });
}

/// Polls a recovery dry run until no item waits on a live lease (at most
/// 30 s): the leases of stopped or crashed operations have run out.
pub fn until_leases_expired(w: &Work, cat: &str) {
    let start = std::time::Instant::now();
    loop {
        let (_, plan) = recover(w, cat, &[]);
        let waiting = plan["items"].as_array().is_some_and(|items| items.iter().any(|i| i["decision"] == "wait"));
        if !waiting {
            return;
        }
        assert!(start.elapsed().as_secs() < 30, "a lease never expired: {plan:#}");
        std::thread::yield_now();
    }
}
