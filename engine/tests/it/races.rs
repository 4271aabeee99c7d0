//! Two handles writing to one graph at once (two servers, in one process
//! here): every write lands once, and a handle that lost a race gets its
//! turn instead of losing the next ones too (`graph::intents`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use omnigraph::{Graph, query};
use serde_json::json;

use crate::common::*;

const SCHEMA: &str = "node Item { key: String @key }";

/// `clients` tasks inserting distinct keys through `g` until `stop`; the
/// retries each insert took.
async fn insert_until(g: Graph, name: &'static str, clients: usize, stop: Arc<AtomicBool>) -> Vec<u32> {
    let plan = query::compile(g.schema(), "query add($k: String) { insert Item { key: $k } }").unwrap().remove(0);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (g, plan, stop) = (g.clone(), plan.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut retries = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let report = query::run_mutation(&g, &plan, &json!({"k": format!("{name}-{c}-{i}")})).await.unwrap();
                assert_eq!(report.inserted, 1);
                retries.push(report.retries);
                i += 1;
            }
            retries
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

#[test]
fn two_handles_under_a_sustained_load_take_turns() {
    rt().block_on(async {
        let t = new_graph(SCHEMA).await;
        let a = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let b = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let runs = [tokio::spawn(insert_until(a.clone(), "a", 4, stop.clone())), tokio::spawn(insert_until(b.clone(), "b", 4, stop.clone()))];
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.store(true, Ordering::Relaxed);
        let [ra, rb] = runs;
        let (ra, rb) = (ra.await.unwrap(), rb.await.unwrap());

        // Every acknowledged insert is there, once.
        let counts = row_counts(&t.uri()).await;
        assert_eq!(counts["Item"], (ra.len() + rb.len()) as u64);
        // Both handles wrote a fair share, and no write waited through a
        // long run of lost races: the loser of one race has the next turn.
        let (na, nb) = (ra.len(), rb.len());
        assert!(na.min(nb) * 3 >= na.max(nb), "one handle kept losing: {na} writes through one, {nb} through the other");
        let worst = ra.iter().chain(&rb).copied().max().unwrap();
        assert!(worst <= 6, "a write lost {worst} races in a row ({na} + {nb} writes)");
        let raced = a.write_queue().retries() + b.write_queue().retries();
        let waited = a.write_queue().waits() + b.write_queue().waits();
        assert!(raced > 0, "the handles never raced ({na} + {nb} writes): the test shows nothing");
        assert!(waited > 0, "{raced} lost races, and no write gave way to the loser");
        eprintln!("{na} + {nb} writes, {raced} lost races, {waited} waits, worst {worst}");
    });
}
