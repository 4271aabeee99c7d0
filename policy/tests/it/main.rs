//! Policy compilation and decisions, against real Cedar evaluation.

use omnigraph_policy::{Action, Policy, PolicyFile, Resource};

const FILE: &str = r#"
groups:
  admins: [alice]
  analysts: [bob, carol]
  writers: [dave]
protected_branches: [main]
rules:
  - allow: [graph_list, graph_create, graph_delete, read, change, export, schema_apply]
    groups: [admins]
    branches: [main]
  - allow: [graph_list]
    groups: [analysts]
  - allow: [read, export]
    groups: [analysts]
    graphs: ["sales-*", "ops"]
  - deny: [export]
    actors: [carol]
  - allow: [change]
    groups: [writers]
"#;

fn policy() -> Policy {
    Policy::compile(PolicyFile::parse(FILE, "test.yaml").unwrap()).unwrap()
}

fn allowed(p: &Policy, actor: &str, action: Action, graph: Option<&str>) -> bool {
    let r = match graph {
        Some(g) => Resource::Graph(g),
        None => Resource::Server,
    };
    p.authorize(actor, action, r).allowed
}

#[test]
fn group_rules_grant_exactly_their_actions() {
    let p = policy();
    for a in [Action::GraphList, Action::GraphCreate, Action::GraphDelete] {
        assert!(allowed(&p, "alice", a, None), "alice {a}");
        assert!(!allowed(&p, "dave", a, None), "dave {a}");
    }
    assert!(allowed(&p, "bob", Action::GraphList, None));
    assert!(!allowed(&p, "bob", Action::GraphCreate, None));
    for a in [Action::Read, Action::Change, Action::Export, Action::SchemaApply] {
        assert!(allowed(&p, "alice", a, Some("anything")), "alice {a}");
    }
}

#[test]
fn graph_patterns_limit_per_graph_rules() {
    let p = policy();
    assert!(allowed(&p, "bob", Action::Read, Some("sales-eu")));
    assert!(allowed(&p, "bob", Action::Read, Some("ops")));
    assert!(!allowed(&p, "bob", Action::Read, Some("opsx")));
    assert!(!allowed(&p, "bob", Action::Read, Some("hr")));
    assert!(!allowed(&p, "bob", Action::Change, Some("sales-eu")));
}

#[test]
fn deny_wins_over_allow() {
    let p = policy();
    assert!(allowed(&p, "bob", Action::Export, Some("sales-eu")));
    assert!(!allowed(&p, "carol", Action::Export, Some("sales-eu")));
    assert!(allowed(&p, "carol", Action::Read, Some("sales-eu")));
}

#[test]
fn protected_branches_need_a_rule_naming_them() {
    let p = policy();
    // dave may `change`, but main is protected and his rule does not name it.
    assert!(!allowed(&p, "dave", Action::Change, Some("g")));
    assert!(p.authorize_on_branch("dave", Action::Change, Resource::Graph("g"), "scratch").allowed);
    // alice's rule names main.
    assert!(allowed(&p, "alice", Action::Change, Some("g")));
    // Reads are never subject to protection.
    let open =
        Policy::compile(PolicyFile::parse("groups: {r: [x]}\nprotected_branches: [main]\nrules:\n  - {allow: [read], groups: [r]}\n", "t").unwrap()).unwrap();
    assert!(allowed(&open, "x", Action::Read, Some("g")));
}

#[test]
fn unknown_actors_are_denied_everything() {
    let p = policy();
    for a in Action::ALL {
        let graph = (!a.is_server_level()).then_some("sales-eu");
        assert!(!allowed(&p, "mallory", a, graph), "mallory {a}");
    }
}

#[test]
fn built_in_policies() {
    let ro = Policy::read_only();
    assert!(allowed(&ro, "x", Action::Read, Some("g")));
    for a in [Action::Change, Action::Export, Action::SchemaApply] {
        assert!(!allowed(&ro, "x", a, Some("g")));
    }
    for a in [Action::GraphList, Action::GraphCreate, Action::GraphDelete] {
        assert!(!allowed(&ro, "x", a, None));
    }
    let all = Policy::allow_all();
    assert!(allowed(&all, "anyone", Action::GraphDelete, None));
}

#[test]
fn graph_rules_apply_to_their_graph_only() {
    let p =
        policy().with_graph_rules("team-a", &serde_json::json!({"rules": [{"allow": ["change", "export"], "actors": ["bob"], "branches": ["main"]}]})).unwrap();
    assert!(allowed(&p, "bob", Action::Change, Some("team-a")));
    assert!(!allowed(&p, "bob", Action::Change, Some("team-b")));
    // The server's rules still hold: carol is denied export everywhere.
    let p2 = policy().with_graph_rules("team-a", &serde_json::json!({"rules": [{"allow": ["export"], "groups": ["analysts"]}]})).unwrap();
    assert!(!allowed(&p2, "carol", Action::Export, Some("team-a")));
    assert!(allowed(&p2, "bob", Action::Export, Some("team-a")));
}

fn error_of(src: &str) -> (String, String) {
    let e = Policy::compile(PolicyFile::parse(src, "bad.yaml").unwrap_or_else(|e| panic!("parse: {e}"))).unwrap_err();
    (e.code().to_string(), e.to_string())
}

#[test]
fn bad_rules_are_rejected_with_the_rule_named() {
    let (code, msg) = error_of("rules:\n  - {allow: [reed], actors: [x]}\n");
    assert_eq!(code, "OG-POLICY-002");
    assert!(msg.contains("rule 1") && msg.contains("unknown action `reed`"), "{msg}");

    let (_, msg) = error_of("rules:\n  - {allow: [read], actors: [x]}\n  - {allow: [read], groups: [nope]}\n");
    assert!(msg.contains("rule 2") && msg.contains("unknown group `nope`"), "{msg}");

    let (_, msg) = error_of("rules:\n  - {allow: [read], deny: [change], actors: [x]}\n");
    assert!(msg.contains("both"), "{msg}");

    let (_, msg) = error_of("rules:\n  - {allow: [read]}\n");
    assert!(msg.contains("names nobody"), "{msg}");

    let (_, msg) = error_of("rules:\n  - {allow: [graph_create], actors: [x], graphs: [g]}\n");
    assert!(msg.contains("per-graph actions only"), "{msg}");

    let (_, msg) = error_of("rules:\n  - {allow: [read], actors: [x], graphs: [\"Bad Name\"]}\n");
    assert!(msg.contains("graph pattern"), "{msg}");
}

#[test]
fn typos_in_field_names_are_errors_not_silent() {
    let e = PolicyFile::parse("rules:\n  - {alow: [read], actors: [x]}\n", "typo.yaml").unwrap_err();
    assert_eq!(e.code(), "OG-POLICY-001");
    assert!(e.to_string().contains("alow") && e.to_string().contains("line 2"), "{e}");
    let e = PolicyFile::parse("grups: {}\n", "typo.yaml").unwrap_err();
    assert!(e.to_string().contains("grups"), "{e}");
}

#[test]
fn graph_rules_cannot_reach_server_actions_or_other_graphs() {
    let p = policy();
    let e = p.with_graph_rules("g", &serde_json::json!({"rules": [{"allow": ["graph_delete"], "actors": ["bob"]}]})).unwrap_err();
    assert!(e.to_string().contains("server-level"), "{e}");
    let e = p.with_graph_rules("g", &serde_json::json!({"rules": [{"allow": ["read"], "actors": ["bob"], "graphs": ["*"]}]})).unwrap_err();
    assert!(e.to_string().contains("remove `graphs`"), "{e}");
}

#[test]
fn names_with_quotes_cannot_inject_cedar() {
    // Actor names are validated; a quote in one is an error, not Cedar text.
    let (code, _) = error_of("rules:\n  - {allow: [read], actors: ['x\" || true || \"']}\n");
    assert_eq!(code, "OG-POLICY-002");
}

#[test]
fn cases_report_pass_and_fail() {
    let p = policy();
    let cases = omnigraph_policy::cases::parse(
        "cases:\n  - {actor: alice, action: graph_create, expect: allow}\n  - {actor: bob, action: change, graph: sales-eu, expect: allow}\n",
        "c.yaml",
    )
    .unwrap();
    let r = omnigraph_policy::cases::run(&p, &cases, "c.yaml").unwrap();
    assert!(r[0].passed);
    assert!(!r[1].passed);
    let bad = omnigraph_policy::cases::parse("cases:\n  - {actor: a, action: read, expect: allow}\n", "c.yaml").unwrap();
    let e = omnigraph_policy::cases::run(&p, &bad, "c.yaml").unwrap_err();
    assert!(e.to_string().contains("case 1") && e.to_string().contains("give `graph`"), "{e}");
}

#[test]
fn a_group_given_twice_is_an_error_not_a_silent_widening() {
    let src = "groups:\n  admins: [admin]\n  admins: [admin, mallory]\nrules:\n  - allow: [graph_delete]\n    groups: [admins]\n";
    let err = omnigraph_policy::PolicyFile::parse(src, "policy.yaml").unwrap_err();
    assert!(err.to_string().contains("`admins` is given twice"), "{err}");
    // Distinct groups still parse.
    let ok = "groups:\n  admins: [admin]\n  readers: [mallory]\n";
    assert_eq!(omnigraph_policy::PolicyFile::parse(ok, "policy.yaml").unwrap().groups.len(), 2);
}

#[test]
fn a_rule_scoped_by_graphs_cannot_grant_a_server_level_action_everywhere() {
    let src = "groups:\n  devs: [bob]\nrules:\n  - allow: [read, graph_delete]\n    actors: [bob]\n    graphs: [\"scratch-*\"]\n";
    let err = PolicyFile::parse(src, "policy.yaml").unwrap().check().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`graph_delete` is server-level") && msg.contains("rule 1"), "{msg}");
    // Split in two rules, it is what it says: read on scratch-*, delete anywhere.
    let split = "rules:\n  - allow: [read]\n    actors: [bob]\n    graphs: [\"scratch-*\"]\n  - allow: [graph_delete]\n    actors: [bob]\n";
    assert!(PolicyFile::parse(split, "policy.yaml").unwrap().check().is_ok());
}
#[path = "../../../tests/support/policy_reference.rs"]
mod policy_reference;
mod reference;

#[test]
fn a_refusal_says_why() {
    use omnigraph_policy::Denial;
    let p = policy();
    let why = |actor, action, graph| p.authorize(actor, action, Resource::Graph(graph)).denial;
    // dave's rule allows `change` but does not name the protected main.
    assert_eq!(why("dave", Action::Change, "g"), Some(Denial::ProtectedBranch { branch: "main".into() }));
    assert!(why("dave", Action::Change, "g").unwrap().explain().contains("branches: [main]"));
    let Some(Denial::DenyRule { policies }) = why("carol", Action::Export, "sales-eu") else { panic!("carol export") };
    assert!(Denial::DenyRule { policies }.explain().contains("rule 4 of the server policy"));
    assert_eq!(why("mallory", Action::Read, "g"), Some(Denial::NoRule));
    assert_eq!(why("alice", Action::Read, "g"), None);
    let g = p.with_graph_rules("team", &serde_json::json!({"rules": [{"deny": ["read"], "actors": ["alice"]}]})).unwrap();
    let d = g.authorize("alice", Action::Read, Resource::Graph("team")).denial.unwrap();
    assert!(d.explain().contains("rule 1 of graph `team`'s policy"), "{}", d.explain());
}

#[test]
fn a_deny_narrowed_to_branches_cannot_name_a_server_level_action() {
    // Found by the reference test: `deny: [graph_create, schema_apply]` with
    // `branches: [main]` denied graph_create everywhere, since a server-level
    // action has no branch. Such a rule is refused instead.
    let src = "rules:\n  - deny: [graph_create, schema_apply]\n    actors: [ann]\n    branches: [main]\n";
    let msg = PolicyFile::parse(src, "policy.yaml").unwrap().check().unwrap_err().to_string();
    assert!(msg.contains("rule 1") && msg.contains("`graph_create` is server-level"), "{msg}");
    // An allow may: its `branches` only opens protected branches to its writes.
    let allow = "rules:\n  - allow: [graph_create, change]\n    actors: [ann]\n    branches: [main]\n";
    assert!(PolicyFile::parse(allow, "policy.yaml").unwrap().check().is_ok());
}

#[test]
fn any_graph_id_a_client_sends_is_decided_without_a_panic() {
    // The server asks the policy about a route's id before checking it, so
    // ids with quotes, backslashes, control characters or non-ASCII must
    // be plain data to Cedar.
    let p = policy();
    for id in ["\"", "\\", "\\\"", "\0", "a\nb", "\u{7f}", "\u{fffd}", "x\"||true||\"", "é", &"x".repeat(256), ""] {
        assert!(!p.authorize("mallory", Action::Read, Resource::Graph(id)).allowed, "{id:?}");
        assert!(p.authorize("alice", Action::Read, Resource::Graph(id)).allowed, "{id:?}");
        assert!(!p.authorize("bob", Action::Read, Resource::Graph(id)).allowed, "{id:?}: no sales-* or ops pattern matches");
    }
}
