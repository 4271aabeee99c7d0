//! HTTP benchmark (docs/dev/benchmarks.md, "Server"): `POST /graphs`
//! creates/s and latency, then point-lookup and 2-hop query throughput and
//! p50/p99 on a 100k-node graph with 1, 8 and 64 concurrent clients, then
//! reads right after writes: single-row inserts and updates through
//! `/mutate`, each followed by the 1-hop of a person it touched.
//! Then concurrent single-row writers (1 to 64 clients; group commit) and
//! a mixed workload (64 clients, 95% point and 1-hop reads, 5% single-row
//! inserts, `BENCH_MIXED_SECS`, default 60) that checks afterwards that
//! every acknowledged insert is there.
//! `BENCH_ONLY=writes` skips to the write parts (after the load).
//! `BENCH_SERVERS=2` then also runs the concurrent writers against two
//! servers on the same catalog (clients alternate between them; writes that
//! lose the publish race to the other server are retried by it).
//! `BENCH_DATA=DIR` loads the graph `../shared/bench/gen_social.py` wrote to
//! DIR instead of the generated one (set `BENCH_NODES` to its person count).
//!
//! With `OMNIGRAPH_TEST_S3` set (the script starts the moto S3 server), it
//! also measures opening graphs on S3: a server restarted over a catalog of
//! 20 small graphs, the time until it listens (it opens every graph first),
//! and each graph's first query after that.
//!
//! Run with `./scripts/bench_server.sh` (release build). It starts its own
//! `omnigraph-server` (the path is the first argument) on a temp catalog.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCHEMA: &str = "node Person {\n  name: String @key\n  age: I32\n}\nedge Knows: Person -> Person\n";
const POINT: &str = "query q($n: String) { match { $p: Person { name: $n } } return { $p.name, $p.age } }";
const HOP1: &str = "query q($n: String) { match { $p: Person { name: $n } $p knows $f } return { $f.name, $f.age } }";
const TWO_HOP: &str = "query q($n: String) { match { $p: Person { name: $n } $p knows $f $f knows $g } return { $g.name } }";

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn post(http: &reqwest::Client, url: &str, body: String, ct: &str) -> (u16, String) {
    let r = http.post(url).header("content-type", ct).body(body).send().await.expect("request");
    let s = r.status().as_u16();
    (s, r.text().await.unwrap_or_default())
}

/// Runs `clients` loops for `secs`, each posting `query` with a random name.
async fn load_test(http: &reqwest::Client, base: &str, query: &'static str, nodes: u64, clients: usize, secs: f64) -> (f64, f64, f64) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let url = Arc::new(format!("{base}/graphs/bench/query"));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1);
            while Instant::now() < deadline {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let body = serde_json::json!({"query": query, "params": {"n": format!("p{}", x % nodes)}}).to_string();
                let t = Instant::now();
                let (s, text) = post(&http, &url, body, "application/json").await;
                assert_eq!(s, 200, "{text}");
                lat.push(t.elapsed().as_secs_f64() * 1e3);
            }
            lat
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    (all.len() as f64 / elapsed, pct(&all, 0.5), pct(&all, 0.99))
}

/// Single-row writes through `/mutate`, each followed by the 1-hop of a
/// person it touched, against the warm 1-hop.
async fn after_writes(http: &reqwest::Client, base: &str, nodes: u64) {
    let (mutate, query) = (format!("{base}/graphs/bench/mutate"), format!("{base}/graphs/bench/query"));
    let hop1 = |n: String| serde_json::json!({"query": HOP1, "params": {"n": n}}).to_string();
    let timed = |url: String, body: String| async move {
        let t = Instant::now();
        let (s, text) = post(http, &url, body, "application/json").await;
        assert_eq!(s, 200, "{text}");
        t.elapsed().as_secs_f64() * 1e3
    };
    let n = 30;
    let mut warm = Vec::new();
    for i in 0..n {
        warm.push(timed(query.clone(), hop1(format!("p{}", (i * 7919) % nodes))).await);
    }
    warm.sort_by(f64::total_cmp);
    println!("| step (1 client) | write p50 ms | write p99 ms | 1-hop after p50 ms | 1-hop after p99 ms |");
    println!("| --- | --- | --- | --- | --- |");
    println!("| warm 1-hop, no write | - | - | {:.2} | {:.2} |", pct(&warm, 0.5), pct(&warm, 0.99));
    let steps: [(&str, &str); 3] = [
        ("insert `Person`", "query m($a: String, $b: String) { insert Person { name: $a, age: 30 } }"),
        ("update `Person`", "query m($a: String, $b: String) { update Person set { age: 31 } where name = $a }"),
        ("insert `Knows`", "query m($a: String, $b: String) { insert Knows { from: $a, to: $b } }"),
    ];
    for (name, m) in steps {
        let (mut w, mut r) = (Vec::new(), Vec::new());
        for i in 0..n {
            let who = if name.starts_with("insert `P") { format!("fresh{i}") } else { format!("p{}", (i * 104_729 + 11) % nodes) };
            let body = serde_json::json!({"query": m, "params": {"a": who, "b": format!("p{}", (i * 31 + 5) % nodes)}}).to_string();
            w.push(timed(mutate.clone(), body).await);
            r.push(timed(query.clone(), hop1(who)).await);
        }
        w.sort_by(f64::total_cmp);
        r.sort_by(f64::total_cmp);
        println!("| {name}, then the 1-hop | {:.2} | {:.2} | {:.2} | {:.2} |", pct(&w, 0.5), pct(&w, 0.99), pct(&r, 0.5), pct(&r, 0.99));
    }
}

/// Creates one graph; returns the latency in ms.
async fn create_graph(http: reqwest::Client, base: String, id: String) -> f64 {
    let t = Instant::now();
    let (s, text) = post(&http, &format!("{base}/graphs"), serde_json::json!({"id": id, "schema": SCHEMA}).to_string(), "application/json").await;
    assert_eq!(s, 201, "{text}");
    t.elapsed().as_secs_f64() * 1e3
}

/// Starts the server on `catalog`; returns it, its base URL and the time
/// until it listened.
fn start(server: &str, catalog: &str) -> (std::process::Child, String, f64) {
    let t = Instant::now();
    let mut child = Command::new(server)
        .args(["--catalog", catalog])
        .args(["--bind", "127.0.0.1:0", "--max-in-flight", "256", "--max-body-bytes", "1073741824"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let first = BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let base = first.strip_prefix("omnigraph-server listening on ").expect("server banner").trim().to_string();
    (child, base, t.elapsed().as_secs_f64() * 1e3)
}

/// `n` people, each knowing two others, as load lines.
fn people(n: u64) -> String {
    let mut data = String::with_capacity(n as usize * 120);
    for i in 0..n {
        data.push_str(&format!("{{\"type\":\"Person\",\"data\":{{\"name\":\"p{i}\",\"age\":{}}}}}\n", i % 90));
    }
    for i in 0..n {
        data.push_str(&format!("{{\"edge\":\"Knows\",\"from\":\"p{i}\",\"to\":\"p{}\"}}\n", (i + 1) % n));
        data.push_str(&format!("{{\"edge\":\"Knows\",\"from\":\"p{i}\",\"to\":\"p{}\"}}\n", (i * 7 + 3) % n));
    }
    data
}

/// Opening graphs on S3: a catalog of `graphs` small graphs, the server
/// restarted over it (it opens each before it listens), then each graph's
/// first point lookup, then a warm one.
async fn s3_open(server: &str, bucket: &str, http: &reqwest::Client) {
    let graphs = 20;
    let catalog = format!("{bucket}/http-bench-{}", std::process::id());
    let (mut child, base, empty_ms) = start(server, &catalog);
    for g in 0..graphs {
        create_graph(http.clone(), base.clone(), format!("g{g}")).await;
        let (s, text) = post(http, &format!("{base}/graphs/g{g}/load?mode=overwrite"), people(1000), "application/x-ndjson").await;
        assert_eq!(s, 200, "{text}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let (mut child, base, full_ms) = start(server, &catalog);
    let body = serde_json::json!({"query": POINT, "params": {"n": "p7"}}).to_string();
    let mut first = Vec::new();
    let mut warm = Vec::new();
    for g in 0..graphs {
        let url = format!("{base}/graphs/g{g}/query");
        let t = Instant::now();
        let (s, text) = post(http, &url, body.clone(), "application/json").await;
        assert_eq!(s, 200, "{text}");
        first.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let (s, _) = post(http, &url, body.clone(), "application/json").await;
        assert_eq!(s, 200);
        warm.push(t.elapsed().as_secs_f64() * 1e3);
    }
    first.sort_by(f64::total_cmp);
    warm.sort_by(f64::total_cmp);
    println!("S3 (moto), {graphs} graphs of 1,000 nodes:");
    println!("| server start, empty catalog | {empty_ms:.0} ms |");
    println!("| server start, {graphs} graphs | {full_ms:.0} ms ({:.1} ms per graph) |", (full_ms - empty_ms) / graphs as f64);
    println!("| first point lookup per graph | p50 {:.1} ms | p99 {:.1} ms |", pct(&first, 0.5), pct(&first, 0.99));
    println!("| second point lookup per graph | p50 {:.1} ms | p99 {:.1} ms |", pct(&warm, 0.5), pct(&warm, 0.99));
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::main]
async fn main() {
    let server = std::env::args().nth(1).expect("usage: http_bench <path to omnigraph-server>");
    let nodes: u64 = std::env::var("BENCH_NODES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let secs: f64 = std::env::var("BENCH_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10.0);
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let only_writes = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "writes");
    if !only_writes && let Ok(bucket) = std::env::var("OMNIGRAPH_TEST_S3") {
        s3_open(&server, &bucket, &http).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = start(&server, dir.path().to_str().unwrap());
    println!("server {base}, catalog {}", dir.path().display());

    if !only_writes {
        creates(&http, &base).await;
    }

    // The query graph: `nodes` people, each knowing two others; or, with
    // `BENCH_DATA=DIR`, the graph `gen_social.py` wrote to DIR (its
    // `social.pg` and `social.jsonl`; `BENCH_NODES` is then its person count).
    let (schema, data) = match std::env::var("BENCH_DATA") {
        Ok(d) => (std::fs::read_to_string(format!("{d}/social.pg")).unwrap(), std::fs::read_to_string(format!("{d}/social.jsonl")).unwrap()),
        Err(_) => (SCHEMA.to_string(), people(nodes)),
    };
    let (s, text) = post(&http, &format!("{base}/graphs"), serde_json::json!({"id": "bench", "schema": schema}).to_string(), "application/json").await;
    assert_eq!(s, 201, "{text}");
    let (lines, bytes) = (data.lines().count(), data.len());
    let t = Instant::now();
    let (s, text) = post(&http, &format!("{base}/graphs/bench/load?mode=overwrite"), data, "application/x-ndjson").await;
    assert_eq!(s, 200, "{text}");
    println!("loaded {lines} lines ({} MB) over HTTP in {:.1} s", bytes >> 20, t.elapsed().as_secs_f64());

    // Warm up both queries (first reads build caches).
    for q in [POINT, TWO_HOP, HOP1] {
        let _ = load_test(&http, &base, q, nodes, 1, 1.0).await;
    }
    if !only_writes {
        println!("| query | clients | requests/s | p50 ms | p99 ms |");
        println!("| --- | --- | --- | --- | --- |");
        for (name, q) in [("point lookup", POINT), ("2-hop", TWO_HOP)] {
            for clients in [1, 8, 64] {
                let (rps, p50, p99) = load_test(&http, &base, q, nodes, clients, secs).await;
                println!("| {name} | {clients} | {rps:.0} | {p50:.2} | {p99:.2} |");
            }
        }
    }
    after_writes(&http, &base, nodes).await;
    concurrent_writes(&http, std::slice::from_ref(&base), secs).await;
    if std::env::var("BENCH_SERVERS").is_ok_and(|v| v == "2") {
        let (mut second, base2, _) = start(&server, dir.path().to_str().unwrap());
        concurrent_writes(&http, &[base.clone(), base2], secs).await;
        let _ = second.kill();
        let _ = second.wait();
    }
    let mixed_secs: f64 = std::env::var("BENCH_MIXED_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60.0);
    mixed(&http, &base, nodes, mixed_secs).await;
    let _ = child.kill();
    let _ = child.wait();
}

/// Creates: sequential, then 8 at a time.
async fn creates(http: &reqwest::Client, base: &str) {
    let create = |id: String| create_graph(http.clone(), base.to_string(), id);
    let n_seq = 50;
    let t = Instant::now();
    let mut lat = Vec::new();
    for i in 0..n_seq {
        lat.push(create(format!("seq{i}")).await);
    }
    let seq_rate = n_seq as f64 / t.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!("| POST /graphs, 1 client | {seq_rate:.1} creates/s | p50 {:.1} ms | p99 {:.1} ms |", pct(&lat, 0.5), pct(&lat, 0.99));
    let n_par = 80;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (http, base) = (http.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut l = Vec::new();
            for i in 0..n_par / 8 {
                l.push(create_graph(http.clone(), base.clone(), format!("par{c}x{i}")).await);
            }
            l
        }));
    }
    let mut lat = Vec::new();
    for task in tasks {
        lat.extend(task.await.unwrap());
    }
    let par_rate = n_par as f64 / t.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!("| POST /graphs, 8 clients | {par_rate:.1} creates/s | p50 {:.1} ms | p99 {:.1} ms |", pct(&lat, 0.5), pct(&lat, 0.99));
}

const INSERT_PERSON: &str = "query m($a: String) { insert Person { name: $a, age: 30 } }";
const INSERT_KNOWS: &str = "query m($a: String, $b: String) { insert Knows { from: $a, to: $b } }";
const COUNT: &str = "query q() { match { $p: Person } return { count($p) as n } }";

fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// `clients` loops inserting one new `Person` per request for `secs`,
/// client `c` through server `c % bases.len()`: writes/s and latency as
/// the group commit batches them, and the lost publish races retried.
async fn concurrent_writes(http: &reqwest::Client, bases: &[String], secs: f64) {
    let servers = bases.len();
    println!("| single-row inserts, {servers} server(s) | clients | writes/s | p50 ms | p99 ms | retried | refused |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for clients in [1usize, 4, 16, 64] {
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (http, url) = (http.clone(), Arc::new(format!("{}/graphs/bench/mutate", bases[c % servers])));
            tasks.push(tokio::spawn(async move {
                let (mut lat, mut retried, mut refused) = (Vec::new(), 0u64, 0u64);
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let body = serde_json::json!({"query": INSERT_PERSON, "params": {"a": format!("w{servers}-{clients}-{c}-{i}")}}).to_string();
                    let t = Instant::now();
                    let (s, text) = post(&http, &url, body, "application/json").await;
                    i += 1;
                    // Through two servers, a write that lost its race more
                    // than the retry limit allows is refused (409).
                    if s == 409 && servers > 1 {
                        refused += 1;
                        continue;
                    }
                    assert_eq!(s, 200, "{text}");
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                    let reply: serde_json::Value = serde_json::from_str(&text).expect("a JSON reply");
                    retried += u64::from(reply["retries"].as_u64().unwrap_or(0) > 0);
                }
                (lat, retried, refused)
            }));
        }
        let started = Instant::now();
        let (mut all, mut retried, mut refused) = (Vec::new(), 0, 0);
        for t in tasks {
            let (lat, r, x) = t.await.unwrap();
            all.extend(lat);
            retried += r;
            refused += x;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_by(f64::total_cmp);
        println!(
            "| insert `Person` | {clients} | {:.0} | {:.2} | {:.2} | {:.1}% | {refused} |",
            all.len() as f64 / elapsed,
            pct(&all, 0.5),
            pct(&all, 0.99),
            100.0 * retried as f64 / all.len().max(1) as f64
        );
    }
}

async fn person_count(http: &reqwest::Client, base: &str) -> u64 {
    let (s, text) = post(http, &format!("{base}/graphs/bench/query"), serde_json::json!({"query": COUNT}).to_string(), "application/json").await;
    assert_eq!(s, 200, "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("a JSON reply");
    doc["rows"][0]["n"].as_u64().expect("a count")
}

/// 64 clients, each request a point lookup or 1-hop (95%) or a single-row
/// insert of a `Person` or a `Knows` (5%), for `secs`. Then every
/// acknowledged `Person` insert must be counted.
async fn mixed(http: &reqwest::Client, base: &str, nodes: u64, secs: f64) {
    let before = person_count(http, base).await;
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let (query, mutate) = (Arc::new(format!("{base}/graphs/bench/query")), Arc::new(format!("{base}/graphs/bench/mutate")));
    let mut tasks = Vec::new();
    for c in 0..64u64 {
        let (http, query, mutate) = (http.clone(), query.clone(), mutate.clone());
        tasks.push(tokio::spawn(async move {
            let (mut reads, mut writes, mut persons) = (Vec::new(), Vec::new(), 0u64);
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ (c + 1);
            let mut i = 0u64;
            while Instant::now() < deadline {
                let r = next(&mut x);
                let n = format!("p{}", (r >> 8) % nodes);
                let (url, body, is_write) = match r % 100 {
                    0..=2 => {
                        persons += 1;
                        i += 1;
                        (&mutate, serde_json::json!({"query": INSERT_PERSON, "params": {"a": format!("mixed-{c}-{i}")}}), true)
                    }
                    3 | 4 => (&mutate, serde_json::json!({"query": INSERT_KNOWS, "params": {"a": n, "b": format!("p{}", (r >> 24) % nodes)}}), true),
                    r if r % 2 == 0 => (&query, serde_json::json!({"query": POINT, "params": {"n": n}}), false),
                    _ => (&query, serde_json::json!({"query": HOP1, "params": {"n": n}}), false),
                };
                let t = Instant::now();
                let (s, text) = post(&http, url, body.to_string(), "application/json").await;
                assert_eq!(s, 200, "{text}");
                let ms = t.elapsed().as_secs_f64() * 1e3;
                if is_write { writes.push(ms) } else { reads.push(ms) }
            }
            (reads, writes, persons)
        }));
    }
    let started = Instant::now();
    let (mut reads, mut writes, mut persons) = (Vec::new(), Vec::new(), 0);
    for t in tasks {
        let (r, w, p) = t.await.unwrap();
        reads.extend(r);
        writes.extend(w);
        persons += p;
    }
    let elapsed = started.elapsed().as_secs_f64();
    reads.sort_by(f64::total_cmp);
    writes.sort_by(f64::total_cmp);
    let after = person_count(http, base).await;
    println!("mixed workload, 64 clients, {secs:.0} s:");
    println!("| class | requests/s | p50 ms | p99 ms |");
    println!("| --- | --- | --- | --- |");
    println!("| reads (point, 1-hop) | {:.0} | {:.2} | {:.2} |", reads.len() as f64 / elapsed, pct(&reads, 0.5), pct(&reads, 0.99));
    println!("| writes (insert `Person`, `Knows`) | {:.0} | {:.2} | {:.2} |", writes.len() as f64 / elapsed, pct(&writes, 0.5), pct(&writes, 0.99));
    assert_eq!(after - before, persons, "acknowledged Person inserts lost");
    println!("acknowledged Person inserts: {persons}, all counted afterwards");
}
