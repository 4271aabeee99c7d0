//! Views that follow writes: a graph handle that stays open while writes
//! land (as the server's does) answers every query exactly as a handle
//! opened afresh, whose views are built from scratch at the same version.
//! Random inserts, updates and deletes of nodes and edges (cascades,
//! parallel edges, self-loops, ids deleted and written again), mutations
//! and loads, interleaved with reads.

use omnigraph::load::LoadMode;
use omnigraph::{Graph, Session, SessionOptions, ViewTuning, query};
use serde_json::{Value as Json, json};

use crate::common::*;

const SCHEMA: &str = "node P { k: String @key  age: I32? }\nnode Q { k: String @key }\nedge Link: P -> P { w: I32? }\nedge Owns: P -> Q @card(0..2)";

const READS: &[&str] = &[
    "query q() { match { $p: P } return { $p.k, $p.age } }",
    "query q() { match { $q: Q } return { $q.k } }",
    "query q() { match { $a link $b } return { $a.k, $b.k, $b.age } }",
    "query q() { match { $a link $b  $b link $c } return { $a.k, $c.k } }",
    "query q() { match { $b: P  $a link $b  $b.age > 30 } return { $b.k, $a.age } }",
    "query q() { match { $a: P  $a link{1,3} $b } return { $a.k, $b.k } }",
    "query q() { match { $p: P  not { $p link $x } } return { $p.k } }",
    "query q() { match { $p owns $q } return { $p.k, $p.age, $q.k } }",
    "query q() { match { $p: P  $p link $f } return { $p.k, count($f) as n } }",
    "query q() { match { $p: P { k: \"p3\" }  $p link $f } return { $f.k, $f.age } }",
    "query q() { match { $p: P  $p.age < 20 } return { $p.k } }",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn p(&mut self) -> String {
        format!("p{}", self.below(12))
    }
}

async fn answers(g: &Graph) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for src in READS {
        let plans = query::compile(g.schema(), src).unwrap();
        let mut rows: Vec<String> = query::run_read(g, &plans[0], &json!({})).await.unwrap().json_rows().map(|r| r.to_string()).collect();
        rows.sort();
        out.push(rows);
    }
    out
}

async fn mutate(g: &Graph, src: &str, params: Json) {
    let plans = query::compile(g.schema(), src).unwrap();
    // Refusals (a missing endpoint, a clash) are part of the mix.
    let _ = query::run_mutation(g, &plans[0], &params).await;
}

/// One random write through `g`.
async fn write(g: &Graph, r: &mut Rng) {
    let (a, b) = (r.p(), r.p());
    let age = r.below(60) as i64;
    // Edges among a few nodes, so parallel edges are common.
    let (x, y) = (format!("p{}", r.below(4)), format!("p{}", r.below(4)));
    match r.below(11) {
        0 | 1 => mutate(g, "query m($k: String, $a: I32) { insert P { k: $k, age: $a } }", json!({"k": a, "a": age})).await,
        2 => mutate(g, "query m($k: String, $a: I32) { update P set { age: $a } where k = $k }", json!({"k": a, "a": age})).await,
        3 => mutate(g, "query m($k: String) { delete P where k = $k }", json!({"k": a})).await,
        4 | 5 => mutate(g, "query m($a: String, $b: String, $w: I32) { insert Link { from: $a, to: $b, w: $w } }", json!({"a": x, "b": y, "w": age % 3})).await,
        // All of a node's edges, or only those of one weight: one of two
        // parallel edges can go while the other stays.
        6 if age % 2 == 0 => mutate(g, "query m($a: String) { delete Link where from = $a }", json!({"a": a})).await,
        6 => mutate(g, "query m($a: String, $w: I32) { delete Link where from = $a and w = $w }", json!({"a": x, "w": age % 3})).await,
        7 | 8 => {
            let q = format!("q{}", r.below(4));
            mutate(g, "query m($q: String) { insert Q { k: $q } }", json!({"q": q})).await;
            // Few owners, so `@card(0..2)` is reached.
            let owner = format!("p{}", r.below(3));
            mutate(g, "query m($a: String, $q: String) { insert Owns { from: $a, to: $q } }", json!({"a": owner, "q": q})).await;
        }
        9 => mutate(g, "query m($q: String) { delete Q where k = $q }", json!({"q": format!("q{}", r.below(4))})).await,
        _ => {
            // A load: several rows at once, upserting what exists.
            let mut lines = String::new();
            for _ in 0..3 {
                lines += &format!("{}\n", json!({"type": "P", "data": {"k": r.p(), "age": r.below(60)}}));
            }
            lines += &format!("{}\n", json!({"edge": "Link", "from": a, "to": b}));
            let _ = load_into(g, LoadMode::Merge, &lines).await;
        }
    }
}

/// What the writer's checks (answered from its views) must have kept true,
/// read from the stored rows: every edge's ends exist, no `P` owns more than
/// two `Q`s (`@card(0..2)`), keys are unique.
async fn stored_rows_keep_the_rules(uri: &str, seed: u64, step: usize) {
    let lines = export_lines(uri, false).await;
    let rows: Vec<Json> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let keys = |ty: &str| -> Vec<String> { rows.iter().filter(|r| r["type"] == ty).map(|r| r["data"]["k"].as_str().unwrap().to_string()).collect() };
    let (ps, qs) = (keys("P"), keys("Q"));
    for ks in [&ps, &qs] {
        let distinct: std::collections::BTreeSet<&String> = ks.iter().collect();
        assert_eq!(distinct.len(), ks.len(), "seed {seed}, step {step}: duplicate keys");
    }
    let mut owned: std::collections::BTreeMap<String, usize> = Default::default();
    for r in rows.iter().filter(|r| r.get("edge").is_some()) {
        let (from, to) = (r["from"].as_str().unwrap().to_string(), r["to"].as_str().unwrap().to_string());
        let targets = if r["edge"] == "Owns" { &qs } else { &ps };
        assert!(ps.contains(&from) && targets.contains(&to), "seed {seed}, step {step}: dangling edge {r}");
        if r["edge"] == "Owns" {
            *owned.entry(from).or_default() += 1;
        }
    }
    assert!(owned.values().all(|n| *n <= 2), "seed {seed}, step {step}: @card broken: {owned:?}");
}

/// A graph of six `P`s, `p0` and `p1` linked both ways.
async fn seeded() -> TempGraph {
    let t = new_graph(SCHEMA).await;
    let mut seeds = String::new();
    for i in 0..6 {
        seeds += &format!("{}\n", json!({"type": "P", "data": {"k": format!("p{i}"), "age": i * 9}}));
    }
    seeds += "{\"edge\":\"Link\",\"from\":\"p0\",\"to\":\"p1\"}\n{\"edge\":\"Link\",\"from\":\"p1\",\"to\":\"p0\"}\n";
    load(&t.uri(), LoadMode::Append, &seeds).await.unwrap();
    t
}

fn tuned(views: ViewTuning) -> Session {
    Session::new(SessionOptions { views, ..Default::default() })
}

#[test]
fn views_after_writes_answer_as_views_built_from_scratch() {
    rt().block_on(async {
        for seed in [3u64, 17, 2026] {
            let t = seeded().await;
            // The writer folds its changes into new bases almost at once and
            // rebuilds on any change of more than a few rows; the reader keeps
            // the defaults (follows every change here, never folds).
            let writer =
                Graph::open_for_write(&t.uri(), &tuned(ViewTuning { follow_rows: 3, rebase_entries: 2, rebase_delay: std::time::Duration::from_millis(3) }))
                    .await
                    .unwrap();
            let reader = Graph::open(&t.uri(), &tuned(ViewTuning::default())).await.unwrap();
            answers(&writer).await;
            answers(&reader).await;
            let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            for step in 0..40 {
                write(&writer, &mut r).await;
                if r.below(3) == 0 {
                    // Two writes between reads: a view follows both at once.
                    write(&writer, &mut r).await;
                }
                stored_rows_keep_the_rules(&t.uri(), seed, step).await;
                let fresh = Graph::open(&t.uri(), &session()).await.unwrap();
                let want = answers(&fresh).await;
                assert_eq!(answers(&writer).await, want, "seed {seed}, step {step}: the writer's views");
                assert_eq!(answers(&reader).await, want, "seed {seed}, step {step}: the reader's views");
            }
            assert!(rebases_settled(&writer).await.installed > 0, "seed {seed}: the writer's views folded into new bases");
        }
    });
}

#[test]
fn a_traversal_after_a_node_update_sees_the_same_edges() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let data = "{\"type\":\"P\",\"data\":{\"k\":\"a\"}}\n{\"type\":\"P\",\"data\":{\"k\":\"b\"}}\n{\"type\":\"P\",\"data\":{\"k\":\"c\"}}\n\
                    {\"edge\":\"Link\",\"from\":\"a\",\"to\":\"b\"}\n{\"edge\":\"Link\",\"from\":\"b\",\"to\":\"c\"}\n";
        load(&t.uri(), LoadMode::Append, data).await.unwrap();
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let before = answers(&g).await;
        // The update rewrites `a`'s row at the end of the table: a view that
        // numbered nodes by scan position would shift `b` and `c`.
        mutate(&g, "query m() { update P set { age: 1 } where k = \"a\" }", json!({})).await;
        let after = answers(&g).await;
        assert_eq!(after[2], before[2], "the same edges");
        assert_ne!(after[0], before[0], "the update is seen");
    });
}

#[test]
fn removing_one_of_two_parallel_edges_keeps_the_pair() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let data = "{\"type\":\"P\",\"data\":{\"k\":\"a\"}}\n{\"type\":\"P\",\"data\":{\"k\":\"b\"}}\n\
                    {\"edge\":\"Link\",\"from\":\"a\",\"to\":\"b\",\"data\":{\"w\":1}}\n{\"edge\":\"Link\",\"from\":\"a\",\"to\":\"b\",\"data\":{\"w\":2}}\n";
        load(&t.uri(), LoadMode::Append, data).await.unwrap();
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let pairs = |g: &Graph| {
            let g = g.clone();
            async move { answers(&g).await[2].clone() }
        };
        assert_eq!(pairs(&g).await.len(), 1, "parallel edges bind the pair once");
        mutate(&g, "query m() { delete Link where from = \"a\" and w = 1 }", json!({})).await;
        assert_eq!(pairs(&g).await.len(), 1, "one edge still joins a and b");
        mutate(&g, "query m() { insert Link { from: \"a\", to: \"b\", w: 3 } }", json!({})).await;
        mutate(&g, "query m() { delete Link where from = \"a\" and w = 2 }", json!({})).await;
        assert_eq!(pairs(&g).await.len(), 1, "the edge written since still joins them");
        mutate(&g, "query m() { delete Link where from = \"a\" and w = 3 }", json!({})).await;
        assert!(pairs(&g).await.is_empty(), "no edge left");
    });
}

/// Waits until no view base is being rebuilt in the background.
async fn rebases_settled(g: &Graph) -> omnigraph::session::cache::Rebases {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = g.view_rebases();
        if r.running == 0 {
            return r;
        }
        assert!(std::time::Instant::now() < deadline, "background rebases never finished: {r:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[test]
fn a_base_rebuilt_in_the_background_keeps_the_writes_made_while_it_ran() {
    rt().block_on(async {
        let t = seeded().await;
        // Bases fold past two entries, after a pause long enough for the
        // writes below to land first: each fold then goes in under a newer
        // version than the one it folded.
        let tuning = ViewTuning { follow_rows: 10_000, rebase_entries: 2, rebase_delay: std::time::Duration::from_millis(400) };
        let g = Graph::open_for_write(&t.uri(), &tuned(tuning)).await.unwrap();
        answers(&g).await;
        let mut r = Rng(7);
        let mut transplanted = 0;
        for round in 0..3 {
            for i in 0..5 {
                let k = format!("n{round}_{i}");
                mutate(&g, "query m($k: String, $a: I32) { insert P { k: $k, age: $a } }", json!({"k": k, "a": i})).await;
                mutate(&g, "query m($a: String, $b: String) { insert Link { from: $a, to: $b } }", json!({"a": k, "b": r.p()})).await;
                mutate(&g, "query m($k: String, $a: I32) { update P set { age: $a } where k = $k }", json!({"k": r.p(), "a": 50 + i})).await;
                answers(&g).await;
            }
            write(&g, &mut r).await;
            let during = answers(&g).await;
            let fresh = Graph::open(&t.uri(), &session()).await.unwrap();
            assert_eq!(during, answers(&fresh).await, "round {round}: answers while a base is rebuilt");
            let settled = rebases_settled(&g).await;
            assert!(settled.transplanted > transplanted, "round {round}: folds went in over the writes made meanwhile: {settled:?}");
            transplanted = settled.transplanted;
            write(&g, &mut r).await;
            let fresh = Graph::open(&t.uri(), &session()).await.unwrap();
            assert_eq!(answers(&g).await, answers(&fresh).await, "round {round}: answers after the new bases went in");
        }
    });
}
