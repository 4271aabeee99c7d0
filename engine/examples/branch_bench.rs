//! Branch benchmark (docs/dev/benchmarks.md, "Branches"): on a 1M-person
//! graph, the time to create (and delete) a branch, and a merge of a
//! 100-row change into it: its time and its peak memory above the process's
//! idle RSS.
//!
//! `target/release/examples/branch_bench DATADIR` where DATADIR holds
//! `social.pg` and `social.jsonl` from `../shared/bench/gen_social.py
//! DATADIR 1000000 100000`. With `OMNIGRAPH_TEST_S3` set (source
//! `scripts/s3_env.sh` first), branch create is measured on the S3 test
//! server too, on a graph of the same 1M persons. Prints medians in ms.

use std::time::Instant;

use omnigraph::Graph;
use omnigraph::graph::{WriteOptions, branches};
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph::merge::{self, MergeOptions};
use omnigraph::query;
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const UPDATE: &str = "query m($n: String, $a: I32) { update Person set { age: $a } where name = $n }";

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `VmRSS` or `VmHWM` of this process, in MiB.
fn status_mib(field: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

/// Resets `VmHWM` to the current RSS (Linux `clear_refs` 5).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

async fn load(g: &Graph, path: &str, mode: LoadMode) {
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).unwrap());
    omnigraph::load::load(g, file, &LoadOptions::new(mode, path), &mut |_| {}).await.unwrap();
}

/// Creates and deletes `n` branches; the medians of both, in ms.
async fn create_delete(g: &Graph, n: usize) -> (f64, f64, f64) {
    let (mut made, mut gone) = (Vec::new(), Vec::new());
    for i in 0..n {
        let t = Instant::now();
        branches::create(g, &format!("b{i}"), None, &WriteOptions::default()).await.unwrap();
        made.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for i in 0..n {
        let t = Instant::now();
        branches::delete(g, &format!("b{i}")).await.unwrap();
        gone.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let max = made.iter().cloned().fold(0.0, f64::max);
    (p50(made), max, p50(gone))
}

fn main() {
    omnigraph::allocator::tune();
    let dir = std::env::args().nth(1).expect("usage: branch_bench DATADIR");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let schema = std::fs::read_to_string(format!("{dir}/social.pg")).unwrap();
        let session = omnigraph::Session::default();
        let uri = format!("{dir}/branch.db");
        let _ = std::fs::remove_dir_all(&uri);
        omnigraph::graph::init(&uri, &session, &schema).await.unwrap();
        let g = Graph::open_for_write(&uri, &session).await.unwrap();
        let t = Instant::now();
        load(&g, &format!("{dir}/social.jsonl"), LoadMode::Overwrite).await;
        let snap = g.snapshot().await.unwrap();
        let persons = snap.tables.iter().find(|t| t.name == "Person").unwrap().row_count;
        let rows: u64 = snap.tables.iter().map(|t| t.row_count).sum();
        println!("local: loaded {persons} persons ({rows} rows in {} tables) in {:.1} s", snap.tables.len(), t.elapsed().as_secs_f64());

        let (made, max, gone) = create_delete(&g, 30).await;
        println!("local: branch create p50={made:.2} ms (max {max:.2} ms), delete p50={gone:.2} ms");

        // A 100-row change on a branch (50 new persons, 50 updated), and
        // 10 other persons updated on main meanwhile: a three-way merge.
        branches::create(&g, "change", None, &WriteOptions::default()).await.unwrap();
        let b = g.on_branch("change").await.unwrap();
        let new_rows: String = (0..50).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"new{i}\",\"age\":30}}}}\n")).collect();
        let path = format!("{dir}/branch-new.jsonl");
        std::fs::write(&path, new_rows).unwrap();
        load(&b, &path, LoadMode::Append).await;
        let update = query::compile(g.schema(), UPDATE).unwrap().remove(0);
        for i in 0..50 {
            let params = json!({"n": format!("p{}", (i * 7919) % persons as usize), "a": 1000 + i});
            query::run_mutation_with(&b, &update, &params, &WriteOptions::default()).await.unwrap();
        }
        for i in 0..10 {
            let params = json!({"n": format!("p{}", (i * 104_729 + 13) % persons as usize), "a": 5});
            query::run_mutation_with(&g, &update, &params, &WriteOptions::default()).await.unwrap();
        }
        // Idle: the graph open, its head read.
        g.snapshot().await.unwrap();
        let idle = status_mib("VmRSS:");
        let t = Instant::now();
        let dry = merge::merge(&g, "change", &MergeOptions { dry_run: true, ..Default::default() }, &WriteOptions::default()).await.unwrap();
        let dry_ms = t.elapsed().as_secs_f64() * 1000.0;
        reset_peak();
        let before = status_mib("VmRSS:");
        let t = Instant::now();
        let r = merge::merge(&g, "change", &MergeOptions::default(), &WriteOptions::default()).await.unwrap();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let peak = status_mib("VmHWM:");
        assert_eq!(r.outcome, "merged");
        assert_eq!(dry.changes["Person"].inserted + dry.changes["Person"].updated, 100, "{:?}", dry.changes);
        println!(
            "local: merge of a 100-row change into {persons} persons: {ms:.0} ms (dry run {dry_ms:.0} ms); RSS idle {idle:.0} MiB, before {before:.0} MiB, peak {peak:.0} MiB: {:.0} MiB above idle",
            peak - idle
        );

        if let Ok(bucket) = std::env::var("OMNIGRAPH_TEST_S3") {
            // The same 1M persons on the S3 test server.
            let persons_only = format!("{dir}/persons.jsonl");
            let text = std::fs::read_to_string(format!("{dir}/social.jsonl")).unwrap();
            let only: String = text.lines().filter(|l| l.starts_with("{\"type\": \"Person\"") || l.starts_with("{\"type\":\"Person\"")).map(|l| format!("{l}\n")).collect();
            std::fs::write(&persons_only, only).unwrap();
            let uri = format!("{bucket}/branch-bench-{}", ulid::Ulid::new().to_string().to_lowercase());
            omnigraph::graph::init(&uri, &session, &schema).await.unwrap();
            let g = Graph::open_for_write(&uri, &session).await.unwrap();
            let t = Instant::now();
            load(&g, &persons_only, LoadMode::Overwrite).await;
            let persons = g.snapshot().await.unwrap().tables.iter().find(|t| t.name == "Person").unwrap().row_count;
            println!("s3: loaded {persons} persons in {:.1} s", t.elapsed().as_secs_f64());
            let (made, max, gone) = create_delete(&g, 20).await;
            println!("s3: branch create p50={made:.2} ms (max {max:.2} ms), delete p50={gone:.2} ms");
        }
    });
}
