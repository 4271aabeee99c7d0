//! Two `omnigraph init` processes racing on one root: one graph, one clear error.

use crate::common::*;

#[test]
fn two_concurrent_inits_yield_one_graph_and_one_clear_error() {
    for round in 0..4 {
        let w = Work::new();
        let spawn = || {
            bin()
                .current_dir(w.dir.path())
                .args(["init", "--schema", "schema.pg", &w.graph(), "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let wins = outs.iter().filter(|o| o.status.success()).count();
        assert_eq!(wins, 1, "round {round}: {} winners", wins);
        let loser = outs.iter().find(|o| !o.status.success()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&loser.stdout).unwrap();
        let code = v["code"].as_str().unwrap();
        assert!(code == "OG-INIT-001" || code == "OG-INIT-002", "round {round}: loser said {v}");
        // The winner's graph is whole and usable.
        w.ok(&["load", "--data", "data.jsonl", "--store", &w.graph()]);
        assert_eq!(w.rows("Person"), 2);
        assert!(!w.path("graph/__init_claim.json").exists());
    }
}
