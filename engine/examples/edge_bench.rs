//! Filters on an edge property (`$a $k:knows $b  $k.since < ...`) on the
//! social graph with a `since` date per `Knows` edge (see
//! docs/dev/benchmarks.md, "Edge properties versus Kuzu").
//!
//! `edge_bench DATADIR/since` where the directory comes from
//! `scripts/bench/knows_since.py`. Prints warm p50/p99 (ms) per query in the
//! shape of `scripts/bench/kuzu_edges.py`.

use std::time::Instant;

use omnigraph::Graph;
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph::query;
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const QUERIES: &[(&str, &str)] = &[
    ("since_1pct_count", "query q() { match { $a $k:knows $b  $k.since < date(\"2000-04-01\") } return { count(*) } }"),
    ("since_1pct_rows", "query q() { match { $a $k:knows $b  $k.since < date(\"2000-04-01\") } return { $a.name, $b.name, $k.since } }"),
    ("since_half_count", "query q() { match { $a $k:knows $b  $k.since < date(\"2012-07-02\") } return { count(*) } }"),
    ("since_of_one", "query q($n: String) { match { $a: Person { name: $n } $a $k:knows $b  $k.since < date(\"2012-07-02\") } return { $b.name, $k.since } }"),
];

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p) as usize]
}

fn main() {
    omnigraph::allocator::tune();
    let dir = std::env::args().nth(1).expect("usage: edge_bench DATADIR/since");
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
        for (name, src) in QUERIES {
            let plans = query::compile(g.schema(), src).unwrap();
            let mut lat = Vec::new();
            let (mut rows, mut last) = (0, String::new());
            for i in 0..22 {
                let params = if src.contains("$n") { json!({"n": format!("p{}", (i * 7919) % 100_000)}) } else { json!({}) };
                let t = Instant::now();
                let r = query::run_read(&g, &plans[0], &params).await.unwrap();
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                if i == 0 {
                    println!("omnigraph_{name}_first_ms={ms:.2}");
                }
                rows = r.rows.len();
                last = r.rows.last().map(|row| format!("{:?}", row.iter().map(|v| v.display()).collect::<Vec<_>>())).unwrap_or_default();
                if i >= 2 {
                    lat.push(ms);
                }
            }
            println!("omnigraph_{name}_ms p50={:.2} p99={:.2} rows_last={rows} last={last}", pct(lat.clone(), 0.5), pct(lat, 0.99));
        }
    });
}
