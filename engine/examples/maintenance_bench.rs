//! Maintenance benchmark (docs/dev/benchmarks.md, "Maintenance"): a graph
//! that took many single-row mutations, before and after `optimize` +
//! `cleanup`, against a fresh load of the same rows.
//!
//! `target/release/examples/maintenance_bench DATADIR` where DATADIR holds
//! `social.pg` and `social.jsonl` from `../shared/bench/gen_social.py`.
//! `BENCH_MUTATIONS=N` (default 10000) single-row mutations: 50% inserts of
//! new people, 40% updates of an age, 10% deletes of a person inserted
//! before. Prints, for the churned graph before and after maintenance and
//! for the fresh graph: write p50 (200 more mutations of the same mix),
//! snapshot-open p50 (a new session opens the graph and reads its head, 20
//! times) and bytes on disk, then the ratios to the fresh graph.

use std::time::Instant;

use omnigraph::Graph;
use omnigraph::graph::WriteOptions;
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph::query;
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const INSERT: &str = "query m($n: String, $a: I32) { insert Person { name: $n, age: $a } }";
const UPDATE: &str = "query m($n: String, $a: I32) { update Person set { age: $a } where name = $n }";
const DELETE: &str = "query m($n: String) { delete Person where name = $n }";

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn bytes(p: &std::path::Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
        let m = e.metadata().unwrap();
        n += if m.is_dir() { bytes(&e.path()) } else { m.len() };
    }
    n
}

/// `n` mutations of the mix, numbered from `from`; their latencies in ms.
async fn churn(g: &Graph, from: usize, n: usize, tag: &str) -> Vec<f64> {
    let plans: Vec<query::Plan> = [INSERT, UPDATE, DELETE].iter().map(|s| query::compile(g.schema(), s).unwrap().remove(0)).collect();
    let mut lat = Vec::with_capacity(n);
    for i in from..from + n {
        let (plan, params) = match i % 10 {
            0..=4 => (&plans[0], json!({"n": format!("{tag}{i}"), "a": (i % 90) as i32})),
            5..=8 => (&plans[1], json!({"n": format!("p{}", (i * 7919) % 100_000), "a": (i % 77) as i32})),
            // A person this run inserted before (i - 9 is an insert: 9 % 10 = 9 -> i - 9 ends in 0).
            _ => (&plans[2], json!({"n": format!("{tag}{}", i - 9)})),
        };
        let t = Instant::now();
        query::run_mutation_with(g, plan, &params, &WriteOptions::default()).await.unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat
}

async fn open_p50(uri: &str) -> f64 {
    let mut v = Vec::new();
    for _ in 0..20 {
        let session = omnigraph::Session::default();
        let t = Instant::now();
        let g = Graph::open(uri, &session).await.unwrap();
        g.snapshot().await.unwrap();
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    p50(v)
}

struct Figures {
    write_p50: f64,
    open_p50: f64,
    bytes: u64,
}

async fn measure(g: &Graph, uri: &str, from: usize, tag: &str) -> Figures {
    let bytes = bytes(std::path::Path::new(uri));
    let open = open_p50(uri).await;
    let write = p50(churn(g, from, 200, tag).await);
    Figures { write_p50: write, open_p50: open, bytes }
}

fn show(name: &str, f: &Figures) {
    println!("{name}: write_p50_ms={:.2} snapshot_open_p50_ms={:.2} bytes={} ({:.1} MiB)", f.write_p50, f.open_p50, f.bytes, f.bytes as f64 / 1048576.0);
}

fn main() {
    omnigraph::allocator::tune();
    let dir = std::env::args().nth(1).expect("usage: maintenance_bench DATADIR");
    let n: usize = std::env::var("BENCH_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let schema = std::fs::read_to_string(format!("{dir}/social.pg")).unwrap();
        let session = omnigraph::Session::default();
        let uri = format!("{dir}/maintenance.db");
        let _ = std::fs::remove_dir_all(&uri);
        omnigraph::graph::init(&uri, &session, &schema).await.unwrap();
        let g = Graph::open_for_write(&uri, &session).await.unwrap();
        let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(format!("{dir}/social.jsonl")).unwrap());
        omnigraph::load::load(&g, file, &LoadOptions::new(LoadMode::Overwrite, "social.jsonl"), &mut |_| {}).await.unwrap();
        let loaded = bytes(std::path::Path::new(&uri));
        println!("loaded: bytes={loaded} ({:.1} MiB)", loaded as f64 / 1048576.0);

        let t = Instant::now();
        let lat = churn(&g, 0, n, "m").await;
        println!(
            "{n} mutations in {:.1} s: first 1000 p50={:.2} ms, last 1000 p50={:.2} ms",
            t.elapsed().as_secs_f64(),
            p50(lat[..1000.min(n)].to_vec()),
            p50(lat[n.saturating_sub(1000)..].to_vec())
        );
        let before = measure(&g, &uri, n, "m").await;
        show("churned", &before);

        let t = Instant::now();
        let o = omnigraph::graph::optimize::optimize(&g, &WriteOptions::default()).await.unwrap();
        let optimize_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let opts = omnigraph::graph::cleanup::CleanupOptions { keep_days: 0.0, keep_commits: 1, dry_run: false };
        let c = omnigraph::graph::cleanup::cleanup(&g, &opts).await.unwrap();
        println!(
            "optimize {:.2} s ({} tables, {} rows rewritten); cleanup {:.2} s ({} commits, {} files, {:.1} MiB freed)",
            optimize_s,
            o.tables.len(),
            o.tables.iter().map(|t| t.rows_rewritten).sum::<u64>(),
            t.elapsed().as_secs_f64(),
            c.commits_removed,
            c.files_removed,
            c.bytes_freed as f64 / 1048576.0
        );
        let after = measure(&g, &uri, n + 200, "m").await;
        show("after optimize+cleanup", &after);

        // The same rows, loaded fresh.
        let export = format!("{dir}/maintenance.jsonl");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&export).unwrap());
        omnigraph::export::export(&g, None, &mut out).await.unwrap();
        drop(out);
        let fresh_uri = format!("{dir}/maintenance-fresh.db");
        let _ = std::fs::remove_dir_all(&fresh_uri);
        omnigraph::graph::init(&fresh_uri, &session, &schema).await.unwrap();
        let f = Graph::open_for_write(&fresh_uri, &session).await.unwrap();
        let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&export).unwrap());
        omnigraph::load::load(&f, file, &LoadOptions::new(LoadMode::Overwrite, "maintenance.jsonl"), &mut |_| {}).await.unwrap();
        let fresh = measure(&f, &fresh_uri, n + 400, "m").await;
        show("fresh load of the same rows", &fresh);
        for (name, x) in [("churned", &before), ("after", &after)] {
            println!(
                "ratio_to_fresh {name}: write {:.2}x, snapshot open {:.2}x, bytes {:.2}x",
                x.write_p50 / fresh.write_p50,
                x.open_p50 / fresh.open_p50,
                x.bytes as f64 / fresh.bytes as f64
            );
        }
    });
}
