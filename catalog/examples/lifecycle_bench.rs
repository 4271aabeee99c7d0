//! Create and delete latency, and catalog requests and bytes per
//! transition, with 10 and with 1,000 graphs already in the catalog, on local
//! disk and (when `OMNIGRAPH_TEST_S3` is set, see scripts/s3_env.sh) on the
//! S3-compatible server; then one id created and deleted 1,000 times
//! (`CYCLES`), comparing its last cycles with its first. Run:
//! `./scripts/bench_catalog.sh`.
//!
//! The existing graphs are entries published through the catalog's own
//! `entry::publish` (state `active`, one version each): what a transition
//! costs depends on the catalog's entries, not on the graphs' data.

use std::time::Instant;

use omnigraph_catalog::Catalog;
use omnigraph_catalog::entry::{self, GraphEntry, State};

const SCHEMA: &str =
    "node Person { name: String @key  age: I32? }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company\n";

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn fill(c: &Catalog, n: usize) {
    let now = entry::now_rfc3339();
    for i in 0..n {
        let e = GraphEntry {
            id: format!("filler-{i:05}"),
            version: 0,
            state: State::Active,
            incarnation: ulid::Ulid::new().to_string(),
            location: c.store().child_uri(&format!("graphs/filler-{i:05}/x")),
            schema_hash: None,
            genesis_id: None,
            created_at: now.clone(),
            updated_at: now.clone(),
            deleted_at: None,
            retained_until: None,
            data_removed: false,
            imported: false,
            op: None,
            last_op: None,
            failure: None,
            metadata: serde_json::Value::Null,
        };
        entry::publish(c.store(), None, e).await.unwrap();
    }
}

async fn run(backend: &str, uri: &str, existing: usize, rounds: usize) {
    let c = Catalog::open(uri, &omnigraph::Session::default()).await.unwrap();
    fill(&c, existing).await;
    let (mut create_ms, mut delete_ms) = (Vec::new(), Vec::new());
    let (mut create_req, mut delete_req, mut create_bytes, mut delete_bytes) = (0u64, 0u64, 0u64, 0u64);
    for r in 0..rounds {
        let id = format!("probe-{r:04}");
        let s0 = c.stats();
        let t = Instant::now();
        c.create(&id, SCHEMA, serde_json::Value::Null).await.unwrap();
        create_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let s1 = c.stats();
        let t = Instant::now();
        c.delete(&id, Default::default()).await.unwrap();
        delete_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let s2 = c.stats();
        create_req += s1.requests - s0.requests;
        create_bytes += s1.bytes_written + s1.bytes_read - s0.bytes_written - s0.bytes_read;
        delete_req += s2.requests - s1.requests;
        delete_bytes += s2.bytes_written + s2.bytes_read - s1.bytes_written - s1.bytes_read;
    }
    let n = rounds as f64;
    println!(
        "{backend:<6} {existing:>6} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.0} {:>10.1} {:>10.0}",
        pct(&mut create_ms, 0.5),
        pct(&mut create_ms, 0.99),
        pct(&mut delete_ms, 0.5),
        pct(&mut delete_ms, 0.99),
        create_req as f64 / n,
        create_bytes as f64 / n,
        delete_req as f64 / n,
        delete_bytes as f64 / n,
    );
}

/// One id created and deleted `cycles` times: the p50 of a create+delete of
/// the first `window` cycles against the last `window`, when the id's chain
/// holds thousands of versions.
async fn history(backend: &str, uri: &str, cycles: usize, window: usize) {
    let c = Catalog::open(uri, &omnigraph::Session::default()).await.unwrap();
    let mut ms = Vec::with_capacity(cycles);
    for _ in 0..cycles {
        let t = Instant::now();
        c.create("again", SCHEMA, serde_json::Value::Null).await.unwrap();
        c.delete("again", omnigraph_catalog::lifecycle::delete::DeleteOptions::retain(None)).await.unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut first = ms[..window].to_vec();
    let mut last = ms[cycles - window..].to_vec();
    let (a, b) = (pct(&mut first, 0.5), pct(&mut last, 0.5));
    println!("{backend:<6} one id, {cycles} create+delete cycles: p50 of the first {window} {a:.1} ms, of the last {window} {b:.1} ms, ratio {:.2}", b / a);
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    println!("catalog requests/bytes count the catalog's own object-store calls (engine init I/O excluded); {rounds} rounds");
    println!(
        "{:<6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "store", "graphs", "create p50", "create p99", "delete p50", "delete p99", "create req", "create B", "delete req", "delete B"
    );
    let dir = tempfile::tempdir().unwrap();
    for existing in [10, 1000] {
        let uri = dir.path().join(format!("cat-{existing}")).display().to_string();
        run("local", &uri, existing, rounds).await;
    }
    if let Ok(bucket) = std::env::var("OMNIGRAPH_TEST_S3") {
        for existing in [10, 1000] {
            let uri = format!("{bucket}/bench-{}-{existing}", ulid::Ulid::new().to_string().to_lowercase());
            run("s3", &uri, existing, rounds).await;
        }
    }
    let cycles: usize = std::env::var("CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    history("local", &dir.path().join("cat-history").display().to_string(), cycles, 30).await;
    if let Ok(bucket) = std::env::var("OMNIGRAPH_TEST_S3") {
        let uri = format!("{bucket}/bench-history-{}", ulid::Ulid::new().to_string().to_lowercase());
        history("s3", &uri, cycles.min(300), 30).await;
    }
}
