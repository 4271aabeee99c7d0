//! Schema-change benchmark (docs/dev/benchmarks.md, "Schema changes"): the
//! time of `apply` for each metadata-only step on a graph of 10 persons and
//! on one of 1M persons, in the same process, and one rewriting step
//! (`I32` to `I64`) for scale.
//!
//! `target/release/examples/schema_bench DATADIR` where DATADIR holds
//! `social.pg` and `social.jsonl` from `../shared/bench/gen_social.py
//! DATADIR 1000000 100000`. Prints the median of `ROUNDS` applies per step,
//! in ms, and the ratio large/small.

use std::time::Instant;

use omnigraph::Graph;
use omnigraph::evolve::{self, EvolveOptions};
use omnigraph::load::{LoadMode, LoadOptions};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROUNDS: usize = 7;

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A step and the schema that undoes it (so that it can run again).
struct Case {
    name: &'static str,
    there: &'static str,
    back: &'static str,
}

const BASE: &str =
    "node Person { name: String @key  age: I32? }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company\n";

const CASES: &[Case] = &[
    Case {
        name: "add nullable property",
        there: "node Person { name: String @key  age: I32?  nick: String? }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company\n",
        back: BASE,
    },
    Case {
        name: "rename property",
        there: "node Person { name: String @key  years: I32? @rename_from(\"age\") }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company\n",
        back: "node Person { name: String @key  age: I32? @rename_from(\"years\") }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company\n",
    },
    Case {
        name: "rename type",
        there: "node Human @rename_from(\"Person\") { name: String @key  age: I32? }\nnode Company { name: String @key }\nedge Knows: Human -> Human\nedge WorksAt: Human -> Company\n",
        back: "node Person @rename_from(\"Human\") { name: String @key  age: I32? }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company\n",
    },
    Case {
        name: "description",
        there: "node Person @description(\"people\") { name: String @key  age: I32? }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company\n",
        back: BASE,
    },
];

async fn apply(g: &Graph, src: &str, allow: bool) -> f64 {
    let t = Instant::now();
    let r = evolve::apply(g, src, &EvolveOptions { allow_data_loss: allow, ..Default::default() }).await.unwrap();
    assert!(r.commit.is_some(), "{r:?}");
    t.elapsed().as_secs_f64() * 1000.0
}

/// Median ms of each case's apply (and of its undo, a drop for the first).
async fn run(g: &Graph) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for c in CASES {
        let (mut there, mut back) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            there.push(apply(g, c.there, false).await);
            back.push(apply(g, c.back, true).await);
        }
        out.push((c.name.to_string(), p50(there)));
        if c.name == "add nullable property" {
            out.push(("drop property".to_string(), p50(back)));
        }
    }
    out
}

async fn graph(uri: &str, data: &str, session: &omnigraph::Session) -> Graph {
    let _ = std::fs::remove_dir_all(uri);
    omnigraph::graph::init(uri, session, BASE).await.unwrap();
    let g = Graph::open_for_write(uri, session).await.unwrap();
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(data).unwrap());
    omnigraph::load::load(&g, file, &LoadOptions::new(LoadMode::Overwrite, data), &mut |_| {}).await.unwrap();
    g
}

fn main() {
    omnigraph::allocator::tune();
    let dir = std::env::args().nth(1).expect("usage: schema_bench DATADIR");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let session = omnigraph::Session::default();
        let small_data = format!("{dir}/schema-small.jsonl");
        let small_rows: String = (0..10).map(|i| format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"s{i}\",\"age\":{i}}}}}\n")).collect();
        std::fs::write(&small_data, small_rows).unwrap();
        let small = graph(&format!("{dir}/schema-small.db"), &small_data, &session).await;
        let t = Instant::now();
        let large = graph(&format!("{dir}/schema.db"), &format!("{dir}/social.jsonl"), &session).await;
        let persons = large.snapshot().await.unwrap().tables.iter().find(|t| t.name == "Person").unwrap().row_count;
        eprintln!("loaded {persons} persons in {:.1} s", t.elapsed().as_secs_f64());
        let s = run(&small).await;
        let l = run(&large).await;
        println!("{:<24} {:>10} {:>12} {:>7}", "step", "10 rows ms", "1M rows ms", "ratio");
        for ((name, a), (_, b)) in s.iter().zip(&l) {
            println!("{name:<24} {a:>10.1} {b:>12.1} {:>7.2}", b / a);
        }
        // One rewriting step, for scale: every Person row is rewritten.
        let wide = BASE.replace("age: I32?", "age: I64?");
        let (a, b) = (apply(&small, &wide, false).await, apply(&large, &wide, false).await);
        println!("{:<24} {a:>10.1} {b:>12.1} {:>7.2}", "widen I32 to I64 (rewrite)", b / a);
    });
}
