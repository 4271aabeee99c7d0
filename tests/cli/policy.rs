//! `omnigraph policy validate|test` as an operator runs them.

use crate::common::*;

const POLICY: &str = "groups:\n  admins: [alice]\n  analysts: [bob]\nprotected_branches: [main]\nrules:\n  - allow: [graph_list, graph_create, read, change]\n    groups: [admins]\n    branches: [main]\n  - allow: [read]\n    groups: [analysts]\n    graphs: [\"sales-*\"]\n";

#[test]
fn validate_reports_the_policy_count_and_prints_cedar() {
    let w = Work::new();
    std::fs::write(w.path("p.yaml"), POLICY).unwrap();
    let out = w.ok(&["policy", "validate", "p.yaml"]);
    assert_eq!(out.trim(), "ok: p.yaml compiles to 3 Cedar policies");
    let cedar = w.ok(&["policy", "validate", "p.yaml", "--cedar"]);
    assert!(cedar.contains("permit(principal, action in [Omnigraph::Action::\"graph_list\""), "{cedar}");
    assert!(cedar.contains("resource.id like \"sales-*\""), "{cedar}");
    let json: serde_json::Value = serde_json::from_str(&w.ok(&["--json", "policy", "validate", "p.yaml"])).unwrap();
    assert_eq!(json["policies"], 3);
}

#[test]
fn validate_names_the_bad_rule_and_exits_1() {
    let w = Work::new();
    std::fs::write(w.path("bad.yaml"), "groups: {a: [x]}\nrules:\n  - allow: [read]\n    groups: [a]\n  - allow: [raed]\n    groups: [a]\n").unwrap();
    let out = w.run(&["policy", "validate", "bad.yaml"]);
    assert_eq!(out.status.code(), Some(1), "an error is exit 1, as for every command but recover and policy test");
    let err = stderr(&out);
    assert!(err.contains("OG-POLICY-002") && err.contains("rule 2") && err.contains("raed"), "{err}");
    // A typo in a field names the rule the same way, counted from 1.
    std::fs::write(w.path("typo.yaml"), "groups: {a: [x]}\nrules:\n  - allow: [read]\n    groups: [a]\n  - alow: [read]\n    groups: [a]\n").unwrap();
    let err = stderr(&w.run(&["policy", "validate", "typo.yaml"]));
    assert!(err.contains("rule 2: unknown field `alow`") && !err.contains("rules[1]"), "{err}");
    // An unknown group in a file without groups says so.
    std::fs::write(w.path("nogroups.yaml"), "rules:\n  - allow: [read]\n    groups: [nope]\n").unwrap();
    let err = stderr(&w.run(&["policy", "validate", "nogroups.yaml"]));
    assert!(err.contains("unknown group `nope` (the policy file defines no groups)"), "{err}");
}

#[test]
fn test_runs_cases_and_fails_on_a_wrong_expectation() {
    let w = Work::new();
    std::fs::write(w.path("p.yaml"), POLICY).unwrap();
    std::fs::write(
        w.path("good.yaml"),
        "cases:\n  - {actor: alice, action: graph_create, expect: allow}\n  - {actor: bob, action: read, graph: sales-eu, expect: allow}\n  - {actor: bob, action: read, graph: hr, expect: deny}\n  - {actor: bob, action: change, graph: sales-eu, expect: deny}\n",
    )
    .unwrap();
    let out = w.ok(&["policy", "test", "p.yaml", "--cases", "good.yaml"]);
    assert!(out.ends_with("4 passed, 0 failed\n"), "{out}");

    std::fs::write(w.path("wrong.yaml"), "cases:\n  - {actor: bob, action: graph_create, expect: allow}\n").unwrap();
    let out = w.run(&["policy", "test", "p.yaml", "--cases", "wrong.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL case 1: bob graph_create: expected allow, got deny"), "{text}");
}
