//! Random policies and requests, each decided by the compiled Cedar policy
//! and by the reference evaluator (tests/support/policy_reference.rs).

use omnigraph_policy::{Action, Resource};
use proptest::prelude::*;

use crate::policy_reference::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_compiled_policy_decides_as_the_documented_rules_say(p in ref_policy()) {
        let (server, with_graph) = compiled(&p);
        for actor in ACTORS.iter().chain(&["stranger"]) {
            for action in Action::ALL {
                let targets: Vec<Option<&str>> = if action.is_server_level() { vec![None] } else { GRAPHS.iter().map(|g| Some(*g)).collect() };
                for graph in targets {
                    for branch in BRANCHES {
                        let policy = match (&with_graph, &p.graph_rules, graph) {
                            (Some(wg), Some((g, _)), Some(id)) if g == id => wg,
                            _ => &server,
                        };
                        let resource = graph.map(Resource::Graph).unwrap_or(Resource::Server);
                        let d = policy.authorize_on_branch(actor, action, resource, branch);
                        let want = p.decide(actor, action, graph, branch);
                        prop_assert_eq!(d.allowed, want, "{} {} {:?} on {}\n{}\n{:?}", actor, action, graph, branch, p.file_text(), p.graph_rules_json());
                        prop_assert_eq!(d.denial.is_none(), d.allowed);
                        // Stored queries by name, reads and writes.
                        if action == Action::InvokeQuery && let Some(g) = graph {
                            for q in QUERIES {
                                for writes in [false, true] {
                                    let d = policy.authorize_query(actor, Resource::Graph(g), branch, q, writes);
                                    let want = p.decide_query(actor, action, graph, branch, q, writes);
                                    prop_assert_eq!(d.allowed, want, "{} {} `{}` (writes {}) {:?} on {}\n{}\n{:?}", actor, action, q, writes, graph, branch, p.file_text(), p.graph_rules_json());
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
