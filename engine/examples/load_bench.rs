//! Loader benchmark: `omnigraph` JSONL load versus writing the same Arrow
//! batches straight into Lance, in the same run.
//!
//! ```text
//! cargo run --release -p omnigraph-engine --example load_bench -- [PERSONS] [KNOWS] [ROUNDS]
//! ```
//!
//! The parent writes a deterministic social graph (PERSONS `Person` nodes,
//! KNOWS `Knows` edges) as JSONL, then runs each phase ROUNDS times, each in
//! its own child process so peak RSS (VmHWM) is per phase:
//! - `raw`: build the Arrow batches in memory, then time only
//!   `Dataset::write` of them into two new Lance datasets;
//! - `load`: `omnigraph` init + `load --mode overwrite` of the JSONL file
//!   (parse, validate, stage, commit, publish), timed end to end.
//!
//! It prints medians and the ratio of loader to raw throughput.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{Int32Array, RecordBatch, RecordBatchIterator, StringArray};
use arrow_schema::{DataType, Field, Schema};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCHEMA: &str = "node Person { name: String @key  age: I32? }\nedge Knows: Person -> Person\n";
const BATCH: usize = 64 * 1024;

/// xorshift: the same graph on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn edges(persons: usize, knows: usize) -> impl Iterator<Item = (usize, usize)> {
    let mut rng = Rng(42);
    (0..knows).map(move |_| {
        let a = (rng.next() % persons as u64) as usize;
        let mut b = (rng.next() % persons as u64) as usize;
        if a == b {
            b = (b + 1) % persons;
        }
        (a, b)
    })
}

fn age(i: usize) -> i32 {
    18 + (i * 7919 % 73) as i32
}

fn write_jsonl(path: &std::path::Path, persons: usize, knows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..persons {
        writeln!(f, "{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\",\"age\":{}}}}}", age(i)).unwrap();
    }
    for (a, b) in edges(persons, knows) {
        writeln!(f, "{{\"edge\":\"Knows\",\"from\":\"p{a}\",\"to\":\"p{b}\"}}").unwrap();
    }
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

async fn raw(dir: &std::path::Path, persons: usize, knows: usize) -> f64 {
    let pschema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("age", DataType::Int32, true),
    ]));
    let kschema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("src", DataType::Utf8, false),
        Field::new("dst", DataType::Utf8, false),
    ]));
    let mut pb = Vec::new();
    for start in (0..persons).step_by(BATCH) {
        let end = (start + BATCH).min(persons);
        let names: Vec<String> = (start..end).map(|i| format!("p{i}")).collect();
        pb.push(
            RecordBatch::try_new(
                pschema.clone(),
                vec![
                    Arc::new(StringArray::from(names.clone())),
                    Arc::new(StringArray::from(names)),
                    Arc::new(Int32Array::from((start..end).map(age).collect::<Vec<_>>())),
                ],
            )
            .unwrap(),
        );
    }
    let all: Vec<(usize, usize)> = edges(persons, knows).collect();
    let mut kb = Vec::new();
    for chunk in all.chunks(BATCH) {
        let ids: Vec<String> = chunk.iter().map(|_| ulid::Ulid::new().to_string()).collect();
        kb.push(
            RecordBatch::try_new(
                kschema.clone(),
                vec![
                    Arc::new(StringArray::from(ids)),
                    Arc::new(StringArray::from(chunk.iter().map(|(a, _)| format!("p{a}")).collect::<Vec<_>>())),
                    Arc::new(StringArray::from(chunk.iter().map(|(_, b)| format!("p{b}")).collect::<Vec<_>>())),
                ],
            )
            .unwrap(),
        );
    }
    let t = Instant::now();
    let p = RecordBatchIterator::new(pb.into_iter().map(Ok), pschema);
    lance::Dataset::write(p, dir.join("person").to_str().unwrap(), None).await.unwrap();
    let k = RecordBatchIterator::new(kb.into_iter().map(Ok), kschema);
    lance::Dataset::write(k, dir.join("knows").to_str().unwrap(), None).await.unwrap();
    t.elapsed().as_secs_f64()
}

async fn load(dir: &std::path::Path, data: &std::path::Path) -> f64 {
    let uri = dir.join("graph").display().to_string();
    let t = Instant::now();
    let session = omnigraph::Session::default();
    omnigraph::graph::init(&uri, &session, SCHEMA).await.unwrap();
    let g = omnigraph::Graph::open_for_write(&uri, &session).await.unwrap();
    let opts = omnigraph::load::LoadOptions::new(omnigraph::load::LoadMode::Overwrite, "bench.jsonl");
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(data).unwrap());
    omnigraph::load::load(&g, file, &opts, &mut |_| {}).await.unwrap();
    t.elapsed().as_secs_f64()
}

/// Single-threaded parse + value checks of every line, nothing else: the
/// floor of the loader's per-line cost.
fn parse_only(data: &std::path::Path) -> f64 {
    use std::io::BufRead;
    let schema = omnigraph::schema::compile_schema(SCHEMA).unwrap();
    let index = omnigraph::load::line::TypeIndex::new(&schema);
    let t = Instant::now();
    let mut ok = 0usize;
    for line in std::io::BufReader::new(std::fs::File::open(data).unwrap()).lines() {
        ok += omnigraph::load::line::parse(&index, &line.unwrap()).is_ok() as usize;
    }
    assert!(ok > 0);
    t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    omnigraph::allocator::tune();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--phase") {
        // Child: run one phase, print `secs peak_rss_mb`.
        let (phase, dir, persons, knows, data) = (&args[2], &args[3], args[4].parse().unwrap(), args[5].parse().unwrap(), &args[6]);
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let dir = std::path::Path::new(dir);
        let secs = rt.block_on(async {
            match phase.as_str() {
                "raw" => raw(dir, persons, knows).await,
                "parse" => parse_only(std::path::Path::new(data)),
                _ => load(dir, std::path::Path::new(data)).await,
            }
        });
        println!("{secs} {}", peak_rss_mb());
        return;
    }
    let persons: usize = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(1_000_000);
    let knows: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(2_000_000);
    let rounds: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(3);
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("social.jsonl");
    write_jsonl(&data, persons, knows);
    let rows = (persons + knows) as f64;
    let size_mb = std::fs::metadata(&data).unwrap().len() as f64 / 1e6;
    println!("graph: {persons} persons + {knows} knows = {rows} rows; JSONL {size_mb:.0} MB; {rounds} rounds per phase");
    let exe = std::env::current_exe().unwrap();
    let mut results: std::collections::BTreeMap<&str, (Vec<f64>, Vec<f64>)> = Default::default();
    for round in 0..rounds {
        for phase in ["parse", "raw", "load"] {
            let dir = work.path().join(format!("{phase}-{round}"));
            std::fs::create_dir_all(&dir).unwrap();
            // Flush what earlier phases wrote, so their writeback does not
            // land in this phase's time.
            let _ = std::process::Command::new("sync").status();
            let out = std::process::Command::new(&exe)
                .args(["--phase", phase, dir.to_str().unwrap(), &persons.to_string(), &knows.to_string(), data.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(out.status.success(), "{phase}: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8(out.stdout).unwrap();
            let mut it = text.split_whitespace().map(|x| x.parse::<f64>().unwrap());
            let (secs, rss) = (it.next().unwrap(), it.next().unwrap());
            println!("  round {round} {phase:<4} {secs:>7.2} s  {:>10.0} rows/s  peak RSS {rss:>6.0} MB", rows / secs);
            let e = results.entry(phase).or_default();
            e.0.push(secs);
            e.1.push(rss);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    let (raw_s, raw_rss) = (median(results["raw"].0.clone()), median(results["raw"].1.clone()));
    let (load_s, load_rss) = (median(results["load"].0.clone()), median(results["load"].1.clone()));
    println!("median raw lance write : {raw_s:.2} s, {:.0} rows/s, peak RSS {raw_rss:.0} MB", rows / raw_s);
    println!("median omnigraph load  : {load_s:.2} s, {:.0} rows/s, peak RSS {load_rss:.0} MB", rows / load_s);
    let parse_s = median(results["parse"].0.clone());
    println!("median parse only (1 thread): {parse_s:.2} s, {:.0} rows/s", rows / parse_s);
    println!("loader / raw throughput: {:.2} (target >= 0.50)", raw_s / load_s);
    // Each round runs raw then load back to back, so a round's ratio sees
    // the same machine state (page-fault cost here swings run to run).
    let per_round: Vec<f64> = results["raw"].0.iter().zip(&results["load"].0).map(|(r, l)| r / l).collect();
    println!(
        "median of per-round ratios: {:.2} (rounds: {})",
        median(per_round.clone()),
        per_round.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(" ")
    );
}
