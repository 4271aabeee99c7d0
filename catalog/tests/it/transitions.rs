//! The version chain and the operation discipline, in process: same-id
//! creates from many tasks, a transition's cost with many graphs in the
//! catalog, a live operation seen by `show` and recovery's wait.

use omnigraph_catalog::{Catalog, State};
use serde_json::json;

use crate::common::{SCHEMA, backends, rt};

#[test]
fn same_id_creates_from_many_tasks_have_one_winner() {
    for b in backends() {
        rt().block_on(async {
            let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
            let mut tasks = Vec::new();
            for _ in 0..6 {
                let c = c.clone();
                tasks.push(tokio::spawn(async move { c.create("contended", SCHEMA, json!(null)).await }));
            }
            let mut wins = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(_) => wins += 1,
                    Err(e) => assert!(matches!(e.code(), "OG-CATALOG-002" | "OG-CATALOG-003"), "{e}"),
                }
            }
            assert_eq!(wins, 1);
            let e = c.entry("contended").await.unwrap().unwrap();
            assert_eq!(e.state, State::Active);
            // Only the winner's incarnation has storage.
            let dirs = c.store().list_dirs("graphs/contended").await.unwrap();
            assert_eq!(dirs, vec![e.incarnation.clone()]);
        });
    }
}

#[test]
fn a_transition_costs_the_same_with_more_graphs_in_the_catalog() {
    let b = crate::common::local();
    rt().block_on(async {
        let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
        let cost = |c: &Catalog, id: &'static str| {
            let c = c.clone();
            async move {
                let before = c.stats();
                c.create(id, SCHEMA, json!(null)).await.unwrap();
                c.delete(id, Default::default()).await.unwrap();
                let after = c.stats();
                (after.requests - before.requests, after.bytes_written - before.bytes_written)
            }
        };
        let small = cost(&c, "probe-a").await;
        for i in 0..40 {
            c.create(&format!("filler-{i}"), SCHEMA, json!(null)).await.unwrap();
        }
        let large = cost(&c, "probe-b").await;
        assert_eq!(small.0, large.0, "requests per create+delete: {small:?} vs {large:?}");
        assert!(large.1 <= small.1 + 64, "bytes per create+delete: {small:?} vs {large:?}");
    });
}

#[test]
fn recovery_leaves_a_live_operation_alone() {
    let b = crate::common::local();
    rt().block_on(async {
        let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
        c.create("busy", SCHEMA, json!(null)).await.unwrap();
        // A delete whose owner is alive: mark `deleting` by hand through the
        // same entry publish, with a fresh lease and a sidecar.
        let head = c.entry("busy").await.unwrap().unwrap();
        let op = omnigraph_catalog::Operation::new(omnigraph_catalog::OpKind::Delete, "busy", &head.incarnation, &head.location, "test", head.version);
        op.write(c.store()).await.unwrap();
        let mut next = head.clone();
        next.state = State::Deleting;
        next.op =
            Some(omnigraph_catalog::OpRef { id: op.op_id.clone(), kind: op.kind, lease_until_ms: op.lease.until_ms, retain_ms: None, fence_generation: None });
        omnigraph_catalog::entry::publish(c.store(), Some(&head), next).await.unwrap();
        let shown = c.show("busy").await.unwrap();
        assert_eq!(shown.operation.as_ref().unwrap().op_id, op.op_id);
        let plan = omnigraph_recovery::run(&c, &omnigraph_recovery::Options { apply: true, force: None }).await.unwrap();
        assert_eq!(plan.items.len(), 1);
        assert_eq!(plan.items[0].decision, omnigraph_recovery::Remedy::Wait);
        assert!(!plan.clean());
        assert_eq!(c.entry("busy").await.unwrap().unwrap().state, State::Deleting, "left alone");
        let err = c.create("busy", SCHEMA, json!(null)).await.unwrap_err();
        assert_eq!(err.code(), "OG-CATALOG-003", "{err}");
        // Forced by its exact id, it is finished.
        let plan = omnigraph_recovery::run(&c, &omnigraph_recovery::Options { apply: true, force: Some(op.op_id.clone()) }).await.unwrap();
        assert!(plan.clean(), "{}", plan.render());
        let e = c.entry("busy").await.unwrap().unwrap();
        assert_eq!((e.state, e.data_removed), (State::Deleted, true));
        let again = omnigraph_recovery::run(&c, &Default::default()).await.unwrap();
        assert!(again.items.is_empty(), "{}", again.render());
        let unknown = omnigraph_recovery::run(&c, &omnigraph_recovery::Options { apply: false, force: Some("01NOPE".into()) }).await;
        assert_eq!(unknown.unwrap_err().code(), "OG-CATALOG-012");
    });
}

#[test]
fn a_transition_costs_the_same_after_a_long_history_of_its_id() {
    let b = crate::common::local();
    rt().block_on(async {
        let c = Catalog::open(&b.uri, &crate::common::session()).await.unwrap();
        let cycle = |c: &Catalog| {
            let c = c.clone();
            async move {
                let before = c.stats();
                c.create("again", SCHEMA, json!(null)).await.unwrap();
                c.delete("again", omnigraph_catalog::lifecycle::delete::DeleteOptions::retain(None)).await.unwrap();
                let after = c.stats();
                (after.requests - before.requests, after.keys_listed - before.keys_listed, after.bytes_read - before.bytes_read)
            }
        };
        cycle(&c).await;
        let first = cycle(&c).await;
        for _ in 0..60 {
            cycle(&c).await;
        }
        let later = cycle(&c).await;
        // Each cycle adds versions to the id's chain; finding its head must
        // not read or list them all.
        assert_eq!(first.0, later.0, "requests per cycle: first {first:?}, after 62 cycles {later:?}");
        assert_eq!(first.1, later.1, "keys listed per cycle: first {first:?}, after 62 cycles {later:?}");
        assert!(later.2 <= first.2 + 256, "bytes read per cycle: first {first:?}, after 62 cycles {later:?}");
    });
}
