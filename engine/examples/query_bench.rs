//! Query benchmark on the shared social graph (see docs/dev/benchmarks.md).
//!
//! `cargo run --release -p omnigraph-engine --example query_bench -- DATADIR [NAME]`
//! where DATADIR holds `social.pg` and `social.jsonl` from
//! `../shared/bench/gen_social.py`. Prints warm p50/p99 (ms) per query in the
//! same shape as `kuzu_bench.py`, then single-row mutation throughput (node inserts, updates, edge inserts),
//! then reads right after writes: each write followed by the 1-hop of a person it touched (write and read p50),
//! then concurrent writers on one handle (group commit): single-row inserts/s with 1, 4, 16 and 64 writers.
//! `BENCH_WRITES=N` sets the number of single-row writes per loop (default 30); NAME `none` skips the queries.

use std::time::Instant;

use omnigraph::Graph;
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph::query;
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const QUERIES: &[(&str, &str, usize)] = &[
    ("point", "query q($n: String) { match { $p: Person { name: $n } } return { $p.name, $p.age } }", 50),
    ("hop1", "query q($n: String) { match { $p: Person { name: $n } $p knows $f } return { $f.name, $f.age } }", 50),
    ("hop2", "query q($n: String) { match { $p: Person { name: $n } $p knows $m $m knows $f } return { $f.name } }", 50),
    ("var1_3", "query q($n: String) { match { $p: Person { name: $n } $p knows{1,3} $f } return { count($f) } }", 50),
    ("agg_top20", "query q() { match { $p: Person $p knows $f } return { $p.name, count($f) as friends } order { friends desc, $p.name } limit 20 }", 5),
];

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p) as usize]
}

fn main() {
    omnigraph::allocator::tune();
    let dir = std::env::args().nth(1).expect("usage: query_bench DATADIR [NAME]");
    // Only the queries whose name contains NAME (for profiling one of them).
    let only = std::env::args().nth(2).unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let uri = format!("{dir}/omnigraph.db");
        let _ = std::fs::remove_dir_all(&uri);
        let schema = std::fs::read_to_string(format!("{dir}/social.pg")).unwrap();
        let session = omnigraph::Session::default();
        omnigraph::graph::init(&uri, &session, &schema).await.unwrap();
        let g = Graph::open_for_write(&uri, &session).await.unwrap();
        let t = Instant::now();
        let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(format!("{dir}/social.jsonl")).unwrap());
        omnigraph::load::load(&g, file, &LoadOptions::new(LoadMode::Overwrite, "social.jsonl"), &mut |_| {}).await.unwrap();
        println!("omnigraph_load_s={:.2}", t.elapsed().as_secs_f64());

        for (name, src, n_iter) in QUERIES.iter().filter(|(name, _, _)| name.contains(only.as_str())) {
            let plans = query::compile(g.schema(), src).unwrap();
            let mut lat = Vec::new();
            let mut rows = 0;
            for i in 0..n_iter + 2 {
                let params = json!({"n": format!("p{}", (i * 7919) % 100_000)});
                let params = if src.contains("$n") { params } else { json!({}) };
                let t = Instant::now();
                let r = query::run_read(&g, &plans[0], &params).await.unwrap();
                rows = r.rows.len();
                if i >= 2 {
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            let p50 = pct(lat.clone(), 0.5);
            println!("omnigraph_{name}_ms p50={p50:.2} p99={:.2} rows_last={rows}", pct(lat, 0.99));
        }

        let plans = query::compile(g.schema(), "query m($n: String, $a: I32) { insert Person { name: $n, age: $a } }").unwrap();
        let upd = query::compile(g.schema(), "query m($n: String, $a: I32) { update Person set { age: $a } where name = $n }").unwrap();
        let n: usize = std::env::var("BENCH_WRITES").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
        let t = Instant::now();
        for i in 0..n {
            query::run_mutation(&g, &plans[0], &json!({"n": format!("new{i}"), "a": 30})).await.unwrap();
        }
        println!("omnigraph_insert_per_s={:.1}", n as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for i in 0..n {
            query::run_mutation(&g, &upd[0], &json!({"n": format!("p{}", i * 31), "a": 40})).await.unwrap();
        }
        println!("omnigraph_update_per_s={:.1}", n as f64 / t.elapsed().as_secs_f64());
        // One edge between two stored people: the endpoint check looks both up.
        let link = query::compile(g.schema(), "query m($a: String, $b: String) { insert Knows { from: $a, to: $b } }").unwrap();
        let t = Instant::now();
        for i in 0..n {
            query::run_mutation(&g, &link[0], &json!({"a": format!("p{}", i * 17), "b": format!("p{}", i * 29 + 1)})).await.unwrap();
        }
        println!("omnigraph_edge_insert_per_s={:.1}", n as f64 / t.elapsed().as_secs_f64());

        // Reads right after writes: the views follow each write.
        let hop1 = query::compile(g.schema(), QUERIES[1].1).unwrap();
        let mut warm = Vec::new();
        for i in 0..20 {
            let t = Instant::now();
            query::run_read(&g, &hop1[0], &json!({"n": format!("p{}", i * 13)})).await.unwrap();
            warm.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("omnigraph_hop1_warm_ms p50={:.2}", pct(warm, 0.5));
        for (name, plan) in [("insert", &plans), ("update", &upd), ("edge_insert", &link)] {
            let (mut w, mut r) = (Vec::new(), Vec::new());
            for i in 0..20 {
                let who = format!("p{}", 1000 + i * 37);
                let params = match name {
                    "insert" => json!({"n": format!("after{i}"), "a": 30}),
                    "update" => json!({"n": who, "a": 50}),
                    _ => json!({"a": who, "b": format!("p{}", 2000 + i)}),
                };
                let t = Instant::now();
                query::run_mutation(&g, &plan[0], &params).await.unwrap();
                w.push(t.elapsed().as_secs_f64() * 1000.0);
                let n = if name == "insert" { format!("after{i}") } else { who };
                let t = Instant::now();
                query::run_read(&g, &hop1[0], &json!({"n": n})).await.unwrap();
                r.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            println!("omnigraph_after_{name}_ms write_p50={:.2} hop1_after_p50={:.2} hop1_after_p99={:.2}", pct(w, 0.5), pct(r.clone(), 0.5), pct(r, 0.99));
        }

        // Concurrent writers on one handle: their mutations share publishes.
        for writers in [1usize, 4, 16, 64] {
            let deadline = Instant::now() + std::time::Duration::from_secs(3);
            let mut tasks = Vec::new();
            for w in 0..writers {
                let (g, plan) = (g.clone(), plans[0].clone());
                tasks.push(tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut i = 0;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        query::run_mutation(&g, &plan, &json!({"n": format!("c{writers}-{w}-{i}"), "a": 30})).await.unwrap();
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        i += 1;
                    }
                    lat
                }));
            }
            let t = Instant::now();
            let mut lat = Vec::new();
            for task in tasks {
                lat.extend(task.await.unwrap());
            }
            let per_s = lat.len() as f64 / t.elapsed().as_secs_f64();
            println!("omnigraph_concurrent_insert writers={writers} per_s={per_s:.0} p50_ms={:.2} p99_ms={:.2}", pct(lat.clone(), 0.5), pct(lat, 0.99));
        }

        // Mixed: 64 tasks, 95% 1-hop reads, 5% single-row inserts.
        let secs: u64 = std::env::var("BENCH_MIXED_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
        let deadline = Instant::now() + std::time::Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for w in 0..64u64 {
            let (g, ins, hop) = (g.clone(), plans[0].clone(), hop1[0].clone());
            tasks.push(tokio::spawn(async move {
                let (mut reads, mut writes) = (Vec::new(), Vec::new());
                let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (w + 1);
                let mut i = 0;
                while Instant::now() < deadline {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let t = Instant::now();
                    if x % 100 < 5 {
                        query::run_mutation(&g, &ins, &json!({"n": format!("mx-{w}-{i}"), "a": 30})).await.unwrap();
                        writes.push(t.elapsed().as_secs_f64() * 1000.0);
                        i += 1;
                    } else {
                        query::run_read(&g, &hop, &json!({"n": format!("p{}", (x >> 8) % 100_000)})).await.unwrap();
                        reads.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                (reads, writes)
            }));
        }
        let t = Instant::now();
        let (mut reads, mut writes) = (Vec::new(), Vec::new());
        for task in tasks {
            let (r, w) = task.await.unwrap();
            reads.extend(r);
            writes.extend(w);
        }
        let el = t.elapsed().as_secs_f64();
        println!(
            "omnigraph_mixed reads_per_s={:.0} read_p50_ms={:.2} read_p99_ms={:.2} writes_per_s={:.0} write_p50_ms={:.2} write_p99_ms={:.2}",
            reads.len() as f64 / el,
            pct(reads.clone(), 0.5),
            pct(reads, 0.99),
            writes.len() as f64 / el,
            pct(writes.clone(), 0.5),
            pct(writes, 0.99)
        );
    });
}
