//! What durable acknowledgement costs: the same writes on local disk, where
//! every file a commit makes is fsynced with its directory before the write
//! returns, and on tmpfs (`/dev/shm`), where fsync returns at once. Same
//! code, same process; the ratio is the price of surviving a power cut.
//!
//! ```text
//! cargo build --release --workspace --examples
//! target/release/examples/durability_bench [MUTATIONS] [LOAD_ROWS] [DISK_DIR]
//! ```
//!
//! Prints, per place: the median and p90 of a one-row insert mutation
//! (`omnigraph::query::run_mutation`), and the median of a LOAD_ROWS-row
//! `load --mode overwrite` (3 rounds).

use std::time::Instant;

use omnigraph::load::{LoadMode, LoadOptions};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCHEMA: &str = "node Person { name: String @key  age: I32? }\nedge Knows: Person -> Person\n";

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn people(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 48);
    for i in 0..n {
        out.extend_from_slice(format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\",\"age\":{}}}}}\n", i % 90).as_bytes());
    }
    out
}

async fn run(place: &str, base: &std::path::Path, mutations: usize, load_rows: usize) -> (f64, f64, f64) {
    let dir = tempfile::tempdir_in(base).expect("temp dir");
    let uri = dir.path().join("g").display().to_string();
    let session = omnigraph::Session::default();
    omnigraph::graph::init(&uri, &session, SCHEMA).await.unwrap();
    let g = omnigraph::Graph::open_for_write(&uri, &session).await.unwrap();
    let plans = omnigraph::query::compile(g.schema(), "query add($n: String) { insert Person { name: $n, age: 1 } }").unwrap();
    let mut lat = Vec::new();
    for i in 0..mutations {
        let t = Instant::now();
        omnigraph::query::run_mutation(&g, &plans[0], &serde_json::json!({"n": format!("m{i}")})).await.unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, p90) = (pct(&mut lat, 0.5), pct(&mut lat, 0.9));
    let data = people(load_rows);
    let mut loads = Vec::new();
    for _ in 0..3 {
        let opts = LoadOptions::new(LoadMode::Overwrite, "bench.jsonl");
        let t = Instant::now();
        omnigraph::load::load(&g, std::io::Cursor::new(data.clone()), &opts, &mut |_| {}).await.unwrap();
        loads.push(t.elapsed().as_secs_f64());
    }
    let load = pct(&mut loads, 0.5);
    println!("{place:>6}: insert p50 {p50:.2} ms  p90 {p90:.2} ms   load of {load_rows} rows {load:.2} s");
    (p50, p90, load)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mutations: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let load_rows: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let disk = args.get(3).map(std::path::PathBuf::from).unwrap_or_else(|| std::env::current_dir().unwrap().join("target"));
    let shm = std::path::Path::new("/dev/shm");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let d = run("disk", &disk, mutations, load_rows).await;
        if shm.is_dir() {
            let m = run("tmpfs", shm, mutations, load_rows).await;
            println!(
                "disk / tmpfs: insert p50 {:.2}x, p90 {:.2}x, load {:.2}x  (fsync adds {:.2} ms per insert, {:.2} s per load)",
                d.0 / m.0,
                d.1 / m.1,
                d.2 / m.2,
                d.0 - m.0,
                d.2 - m.2
            );
        }
    });
}
