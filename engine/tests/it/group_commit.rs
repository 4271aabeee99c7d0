//! Group commit: mutations waiting on one graph handle publish as one
//! write, each answered with its own result, one that fails refused alone,
//! and the batch equal to running its mutations one after the other.
//!
//! The tests hold the handle's write turn while the mutations queue up, so
//! the batch they form is known, then let it go.

use std::time::Duration;

use omnigraph::load::LoadMode;
use omnigraph::query::MutationReport;
use omnigraph::{Graph, query};
use serde_json::{Value as Json, json};

use crate::common::*;

const SCHEMA: &str = "node P { k: String @key  age: I32?  mail: String? @unique }\nnode Q { k: String @key }\n\
                      edge Link: P -> P { w: I32? }\nedge Owns: P -> Q @card(0..2)";

type Request = (&'static str, Json);

fn run(g: &Graph, (src, params): &Request) -> impl Future<Output = omnigraph::Result<MutationReport>> + Send + 'static {
    let (g, src, params) = (g.clone(), src.to_string(), params.clone());
    async move {
        let plans = query::compile(g.schema(), &src).unwrap();
        query::run_mutation(&g, &plans[0], &params).await
    }
}

async fn wait_for_queue(g: &Graph, n: usize) {
    for _ in 0..2_000 {
        if g.write_queue().waiting_len() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("{n} mutations never queued (now {})", g.write_queue().waiting_len());
}

/// Queues `requests` in order behind the held write turn, then lets them
/// run as one batch; their results in order.
async fn as_one_batch(g: &Graph, requests: &[Request]) -> Vec<omnigraph::Result<MutationReport>> {
    let turn = g.write_queue().turn().await;
    let mut tasks = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        tasks.push(tokio::spawn(run(g, r)));
        wait_for_queue(g, i + 1).await;
    }
    drop(turn);
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// What a result says, comparable between a batch and a one-by-one run.
fn outcome(r: &omnigraph::Result<MutationReport>) -> String {
    match r {
        Ok(m) => format!("ok +{} ~{} -{} cascaded {}", m.inserted, m.updated, m.deleted, m.cascaded),
        Err(e) => format!("refused {}", e.code()),
    }
}

async fn manifest_version(g: &Graph) -> u64 {
    g.snapshot().await.unwrap().manifest_version
}

const SEED: &str =
    "{\"type\":\"P\",\"data\":{\"k\":\"p0\",\"mail\":\"m0\"}}\n{\"type\":\"P\",\"data\":{\"k\":\"p1\"}}\n{\"type\":\"Q\",\"data\":{\"k\":\"q0\"}}\n";

#[test]
fn concurrent_writers_share_one_publish_and_an_invalid_one_fails_alone() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        load(&t.uri(), LoadMode::Append, SEED).await.unwrap();
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let before = manifest_version(&g).await;
        let mut requests: Vec<Request> = (0..16).map(|i| ("query m($k: String) { insert P { k: $k } }", json!({"k": format!("n{i}")}))).collect();
        // The invalid one: its edge names a node nobody wrote.
        requests.insert(7, ("query m() { insert Link { from: \"p0\", to: \"nobody\" } }", json!({})));
        let results = as_one_batch(&g, &requests).await;
        for (i, r) in results.iter().enumerate() {
            match (i, r) {
                (7, Err(e)) => assert_eq!(e.code(), "OG-MUTATE-002", "{e}"),
                (7, Ok(_)) => panic!("the edge to a missing node landed"),
                (_, Ok(m)) => assert_eq!((m.inserted, m.manifest_version), (1, before + 1), "request {i}: one publish for the batch"),
                (_, Err(e)) => panic!("request {i} was refused with the invalid one: {e}"),
            }
        }
        // Every acknowledged row is there, through a fresh handle; the
        // refused edge is not.
        let lines = export_lines(&t.uri(), true).await;
        for i in 0..16 {
            assert!(lines.iter().any(|l| l.contains(&format!("\"k\":\"n{i}\""))), "n{i} lost");
        }
        assert!(!lines.iter().any(|l| l.contains("\"edge\"")), "the refused edge is visible: {lines:?}");
        assert_eq!(manifest_version(&Graph::open(&t.uri(), &session()).await.unwrap()).await, before + 1);
    });
}

/// Random requests that depend on each other (an edge to a node inserted
/// by an earlier request, a delete that cascades an edge written earlier,
/// clashes of keys and `@unique` values, `@card` reached across requests).
fn random_requests(r: &mut u64, n: usize) -> Vec<Request> {
    let mut next = |m: u64| {
        *r ^= *r << 13;
        *r ^= *r >> 7;
        *r ^= *r << 17;
        *r % m
    };
    let mut out = Vec::new();
    for _ in 0..n {
        let (a, b) = (format!("p{}", next(5)), format!("p{}", next(5)));
        let req: Request = match next(9) {
            0 | 1 => (
                "query m($k: String, $a: I32, $m: String) { insert P { k: $k, age: $a, mail: $m } }",
                json!({"k": a, "a": next(50), "m": format!("m{}", next(4))}),
            ),
            2 => ("query m($k: String, $a: I32) { update P set { age: $a } where k = $k }", json!({"k": a, "a": next(50)})),
            3 => ("query m($k: String) { delete P where k = $k }", json!({"k": a})),
            4 | 5 => ("query m($a: String, $b: String, $w: I32) { insert Link { from: $a, to: $b, w: $w } }", json!({"a": a, "b": b, "w": next(3)})),
            6 => ("query m($a: String) { delete Link where from = $a }", json!({"a": a})),
            7 => ("query m($a: String, $q: String) { insert Owns { from: $a, to: $q } }", json!({"a": format!("p{}", next(2)), "q": "q0"})),
            _ => ("query m($k: String, $m: String) { update P set { mail: $m } where k = $k }", json!({"k": a, "m": format!("m{}", next(4))})),
        };
        out.push(req);
    }
    out
}

#[test]
fn a_batch_answers_as_its_mutations_run_one_after_the_other() {
    rt().block_on(async {
        for seed in [5u64, 99, 31337, 4242] {
            let (batched, serial) = (new_graph(SCHEMA).await, new_graph(SCHEMA).await);
            for t in [&batched, &serial] {
                load(&t.uri(), LoadMode::Append, SEED).await.unwrap();
            }
            let gb = Graph::open_for_write(&batched.uri(), &session()).await.unwrap();
            let gs = Graph::open_for_write(&serial.uri(), &session()).await.unwrap();
            let mut r = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for round in 0..4 {
                let requests = random_requests(&mut r, 24);
                let before = manifest_version(&gb).await;
                let got = as_one_batch(&gb, &requests).await;
                let mut want = Vec::new();
                for req in &requests {
                    want.push(run(&gs, req).await);
                }
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(outcome(g), outcome(w), "seed {seed}, round {round}, request {i}: {:?}", requests[i]);
                }
                let published = manifest_version(&gb).await;
                assert!(published <= before + 1, "seed {seed}, round {round}: the batch published {} times", published - before);
                assert_eq!(export_lines(&batched.uri(), true).await, export_lines(&serial.uri(), true).await, "seed {seed}, round {round}: stored rows");
            }
        }
    });
}

#[test]
fn a_load_and_mutations_through_one_handle_take_turns() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        load(&t.uri(), LoadMode::Append, SEED).await.unwrap();
        let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..6 {
            tasks.push(tokio::spawn(run(&g, &("query m($k: String) { insert P { k: $k } }", json!({"k": format!("m{i}")})))));
            let g = g.clone();
            tasks.push(tokio::spawn(async move {
                load_into(&g, LoadMode::Append, &format!("{{\"type\":\"P\",\"data\":{{\"k\":\"l{i}\"}}}}\n")).await.map(|_| MutationReport::default())
            }));
        }
        for task in tasks {
            task.await.unwrap().expect("no write through one handle loses a race to another");
        }
        let lines = export_lines(&t.uri(), true).await;
        assert_eq!(lines.iter().filter(|l| l.contains("\"type\":\"P\"")).count(), 2 + 12);
    });
}
