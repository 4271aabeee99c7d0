//! History benchmark (docs/dev/benchmarks.md, "History"): on a loaded
//! graph, the changes of a one-row mutation, a page of the commit list and
//! a point read at an old commit, each after N commits of history.
//!
//! `target/release/examples/history_bench DATADIR` where DATADIR holds
//! `social.pg` and `social.jsonl` from `../shared/bench/gen_social.py`
//! (1M persons for the figure). `BENCH_COMMITS=N` (default 200)
//! one-row mutations are made first; then 30 more, each followed by the
//! measured reads. Prints p50s in ms.

use std::time::Instant;

use omnigraph::Graph;
use omnigraph::graph::WriteOptions;
use omnigraph::graph::history::At;
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph::query;
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const UPDATE: &str = "query m($n: String, $a: I32) { update Person set { age: $a } where name = $n }";
const POINT: &str = "query q($n: String) { match { $p: Person { name: $n } } return { $p.age } }";

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    omnigraph::allocator::tune();
    let dir = std::env::args().nth(1).expect("usage: history_bench DATADIR");
    let history: usize = std::env::var("BENCH_COMMITS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let schema = std::fs::read_to_string(format!("{dir}/social.pg")).unwrap();
        let session = omnigraph::Session::default();
        let uri = format!("{dir}/history.db");
        let _ = std::fs::remove_dir_all(&uri);
        omnigraph::graph::init(&uri, &session, &schema).await.unwrap();
        let g = Graph::open_for_write(&uri, &session).await.unwrap();
        let t = Instant::now();
        let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(format!("{dir}/social.jsonl")).unwrap());
        omnigraph::load::load(&g, file, &LoadOptions::new(LoadMode::Overwrite, "social.jsonl"), &mut |_| {}).await.unwrap();
        let persons = g.snapshot().await.unwrap().tables.iter().find(|t| t.name == "Person").unwrap().row_count;
        println!("loaded {persons} persons in {:.1} s", t.elapsed().as_secs_f64());
        let update = query::compile(g.schema(), UPDATE).unwrap().remove(0);
        let point = query::compile(g.schema(), POINT).unwrap().remove(0);
        let first = g.snapshot().await.unwrap().commit.id;
        for i in 0..history {
            let params = json!({"n": format!("p{}", (i * 7919) % persons as usize), "a": (i % 80) as i32});
            query::run_mutation_with(&g, &update, &params, &WriteOptions::default()).await.unwrap();
        }
        let (mut changes, mut pages, mut old_reads) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..30 {
            let before = g.snapshot().await.unwrap().commit.id;
            let params = json!({"n": format!("p{}", (i * 104_729) % persons as usize), "a": 7});
            let r = query::run_mutation_with(&g, &update, &params, &WriteOptions::default()).await.unwrap();
            let t = Instant::now();
            let mut lines = Vec::new();
            omnigraph::changes::changes(&g, &before, Some(&r.commit), &mut |v| {
                lines.push(v);
                Ok(())
            })
            .await
            .unwrap();
            changes.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(lines.len(), 1);
            let t = Instant::now();
            let page = g.commits(20, None).await.unwrap();
            pages.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(page.commits.len(), 20);
            let t = Instant::now();
            let deadline = query::limits::Deadline::start(g.query_limits().timeout);
            query::run_read_at(&g, &point, &json!({"n": "p1"}), deadline, Some(&At::Commit(first.clone()))).await.unwrap();
            old_reads.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "after {history} commits: changes of a one-row mutation p50={:.2} ms; commit list page of 20 p50={:.2} ms; point read at the first commit p50={:.2} ms",
            p50(changes),
            p50(pages),
            p50(old_reads)
        );
    });
}
