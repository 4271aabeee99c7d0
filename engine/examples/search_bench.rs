//! Search through omnigraph queries on the data of
//! `scripts/bench/search_data.py`, side by side with
//! `scripts/bench/pylance_search.py` (see docs/dev/benchmarks.md, "Search
//! versus pylance"): vector index build, nearest top-10 p50/p99 and
//! recall@10 against exact search, the same with a filter keeping 1% of the
//! rows (every answer must hold 10 rows), text index build and BM25 top-10.
//!
//! `search_bench DIR`. Prints `omnigraph_<case>_ms p50=.. p99=..` lines.

use std::io::Read;
use std::time::Instant;

use omnigraph::Graph;
use omnigraph::load::{LoadMode, LoadOptions};
use omnigraph::query;
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn f32s(path: &str) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// The documents as JSONL, made as the loader reads them (no 1.5 GB file).
struct Lines {
    vectors: Vec<f32>,
    docs: Vec<String>,
    dim: usize,
    row: usize,
    buf: Vec<u8>,
    at: usize,
}

impl Read for Lines {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
            let end = (self.row + 1000).min(self.docs.len());
            for i in self.row..end {
                use std::fmt::Write as _;
                let mut s =
                    format!("{{\"type\":\"Doc\",\"data\":{{\"key\":\"d{i}\",\"category\":\"c{}\",\"body\":\"{}\",\"embedding\":[", i % 100, self.docs[i]);
                for (k, x) in self.vectors[i * self.dim..(i + 1) * self.dim].iter().enumerate() {
                    if k > 0 {
                        s.push(',');
                    }
                    write!(s, "{x}").unwrap();
                }
                s.push_str("]}}\n");
                self.buf.extend_from_slice(s.as_bytes());
            }
            self.row = end;
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn main() {
    omnigraph::allocator::tune();
    let dir = std::env::args().nth(1).expect("usage: search_bench DIR");
    let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}/meta.json")).unwrap()).unwrap();
    let (n, dim, nq) = (meta["n"].as_u64().unwrap() as usize, meta["d"].as_u64().unwrap() as usize, meta["q"].as_u64().unwrap() as usize);
    let vectors = f32s(&format!("{dir}/vectors.f32"));
    let queries = f32s(&format!("{dir}/queries.f32"));
    let truth: Vec<i32> = std::fs::read(format!("{dir}/truth.i32")).unwrap().chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let docs: Vec<String> = std::fs::read_to_string(format!("{dir}/docs.txt")).unwrap().lines().take(n).map(str::to_string).collect();
    let terms: Vec<String> = std::fs::read_to_string(format!("{dir}/terms.txt")).unwrap().lines().map(str::to_string).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let uri = format!("{dir}/omnigraph.db");
        let session = omnigraph::Session::default();
        // SEARCH_BENCH_REUSE=1: query the graph a previous run built.
        let reuse = std::env::var("SEARCH_BENCH_REUSE").is_ok_and(|v| v == "1") && std::path::Path::new(&uri).exists();
        let g = if reuse {
            Graph::open_for_write(&uri, &session).await.unwrap()
        } else {
            let _ = std::fs::remove_dir_all(&uri);
            let plain = format!("node Doc {{ key: String @key\n category: String\n body: String\n embedding: Vector({dim}) }}");
            omnigraph::graph::init(&uri, &session, &plain).await.unwrap();
            let g = Graph::open_for_write(&uri, &session).await.unwrap();
            let t = Instant::now();
            let input = std::io::BufReader::with_capacity(1 << 20, Lines { vectors, docs, dim, row: 0, buf: Vec::new(), at: 0 });
            omnigraph::load::load(&g, input, &LoadOptions::new(LoadMode::Overwrite, "docs.jsonl"), &mut |_| {}).await.unwrap();
            println!("omnigraph_load_s {:.1}", t.elapsed().as_secs_f64());
            // Each index as its own schema change: its build time alone.
            let with_vec = plain.replace(&format!("Vector({dim})"), &format!("Vector({dim}) @index"));
            let t = Instant::now();
            omnigraph::evolve::apply(&g, &with_vec, &Default::default()).await.unwrap();
            println!("omnigraph_build_vector_s {:.1}", t.elapsed().as_secs_f64());
            let with_text = with_vec.replace("body: String", "body: String @index");
            let t = Instant::now();
            omnigraph::evolve::apply(&g, &with_text, &Default::default()).await.unwrap();
            println!("omnigraph_build_text_s {:.1}", t.elapsed().as_secs_f64());
            g
        };
        let (g, _) = g.current().await.unwrap();
        for s in omnigraph::graph::indexes::status(&g).await.unwrap() {
            println!("index {} {} {} {} covered={}", s.type_name, s.property, s.kind, s.state, s.rows_covered);
        }

        let nearest = query::compile(g.schema(), &format!("query q($v: Vector({dim})) {{ match {{ $d: Doc }} return {{ $d.key }} order {{ nearest($d.embedding, $v) }} limit 10 }}")).unwrap().remove(0);
        let filtered = query::compile(
            g.schema(),
            &format!("query q($v: Vector({dim}), $c: String) {{ match {{ $d: Doc {{ category: $c }} }} return {{ $d.key, $d.category }} order {{ nearest($d.embedding, $v) }} limit 10 }}"),
        )
        .unwrap()
        .remove(0);
        let bm25 = query::compile(g.schema(), "query q($q: String) { match { $d: Doc } return { $d.key, bm25($d.body, $q) as s } order { s desc } limit 10 }").unwrap().remove(0);
        let q = |i: usize| json!(queries[i * dim..(i + 1) * dim].to_vec());
        // The engine's own cost per query: one row by key.
        let point = query::compile(g.schema(), "query q($k: String) { match { $d: Doc { key: $k } } return { $d.key } }").unwrap().remove(0);
        let mut lat = Vec::new();
        for i in 0..(nq + 10) {
            let t = Instant::now();
            query::run_read(&g, &point, &json!({"k": format!("d{}", i * 7919 % n)})).await.unwrap();
            if i >= 10 {
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        println!("omnigraph_point_ms p50={:.2} p99={:.2}", pct(lat.clone(), 0.5), pct(lat, 0.99));
        for i in 0..10 {
            query::run_read(&g, &nearest, &json!({"v": q(i)})).await.unwrap();
        }
        let (mut lat, mut hits) = (Vec::new(), 0);
        for i in 0..nq {
            let t = Instant::now();
            let r = query::run_read(&g, &nearest, &json!({"v": q(i)})).await.unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            let want: Vec<i32> = truth[i * 10..(i + 1) * 10].to_vec();
            hits += r.rows.iter().filter(|row| row[0].display()[1..].parse::<i32>().is_ok_and(|x| want.contains(&x))).count();
        }
        println!("omnigraph_nearest_ms p50={:.2} p99={:.2}", pct(lat.clone(), 0.5), pct(lat, 0.99));
        println!("omnigraph_recall10 {:.3}", hits as f64 / (10 * nq) as f64);
        let (mut lat, mut short) = (Vec::new(), 0);
        for i in 0..nq {
            let t = Instant::now();
            let r = query::run_read(&g, &filtered, &json!({"v": q(i), "c": format!("c{}", i % 100)})).await.unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            short += (r.rows.len() < 10) as usize;
            assert!(r.rows.iter().all(|row| row[1].display() == format!("c{}", i % 100)));
        }
        println!("omnigraph_nearest_filtered_ms p50={:.2} p99={:.2}", pct(lat.clone(), 0.5), pct(lat, 0.99));
        println!("omnigraph_filtered_short {short}");
        for w in terms.iter().take(10) {
            query::run_read(&g, &bm25, &json!({"q": w})).await.unwrap();
        }
        let mut lat = Vec::new();
        for w in &terms {
            let t = Instant::now();
            query::run_read(&g, &bm25, &json!({"q": w})).await.unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("omnigraph_bm25_ms p50={:.2} p99={:.2}", pct(lat.clone(), 0.5), pct(lat, 0.99));
    });
}
