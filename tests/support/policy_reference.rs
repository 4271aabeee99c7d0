//! A reference evaluator of access policies, written from the rules as
//! docs/user/server.md states them, and random policies to feed it (shared
//! by the policy crate's tests and the server's end-to-end tests):
//!
//! - a rule applies to a request when the action is in its list, the actor
//!   is named (in `actors`, through one of its `groups`, or `actors: ["*"]`),
//!   and, for per-graph actions, the graph matches one of `graphs` (all
//!   graphs when it has none; a graph's own rules apply to that graph);
//! - a `deny` with `branches` applies to those branches only;
//! - a write (`change`, `schema_apply`, `queries_write`, ..., and
//!   `invoke_query` of a stored mutation) to a protected branch is allowed
//!   only by an `allow` that names the branch in `branches`;
//! - a rule's `queries` narrows its `invoke_query` to those names (`*` a
//!   wildcard); asked with no name ("may run some query"), an `allow`
//!   with `queries` applies and a `deny` with `queries` does not;
//! - the answer is yes when some `allow` applies and no `deny` does.

use std::collections::BTreeMap;

use omnigraph_policy::{Action, Policy, PolicyFile};
use proptest::prelude::*;
use serde_json::{Value, json};

pub const ACTORS: [&str; 5] = ["ann", "bo", "cy", "dee", "eve"];
pub const GROUPS: [&str; 3] = ["admins", "devs", "ops"];
pub const GRAPHS: [&str; 5] = ["prod", "prod-eu", "scratch-1", "scratch-2", "team"];
const PATTERNS: [&str; 6] = ["prod", "prod-*", "scratch-*", "*", "*-eu", "team"];
pub const BRANCHES: [&str; 2] = ["main", "dev"];
/// Stored-query names asked about, and patterns rules name.
#[allow(dead_code)]
pub const QUERIES: [&str; 3] = ["friends", "add_person", "admin_report"];
const QUERY_PATTERNS: [&str; 4] = ["friends", "add*", "*", "*_report"];

/// A rule as the reference sees it.
#[derive(Debug, Clone)]
pub struct RefRule {
    pub allow: bool,
    pub actions: Vec<Action>,
    pub actors: Vec<String>,
    pub groups: Vec<String>,
    pub graphs: Vec<String>,
    pub branches: Vec<String>,
    pub queries: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RefPolicy {
    pub groups: BTreeMap<String, Vec<String>>,
    pub protected: Vec<String>,
    pub rules: Vec<RefRule>,
    /// Rules attached to one graph.
    pub graph_rules: Option<(String, Vec<RefRule>)>,
}

fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            let Some(tail) = s.strip_prefix(head) else { return false };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

impl RefRule {
    fn applies(&self, p: &RefPolicy, actor: &str, action: Action, graph: Option<&str>, own_graph: bool) -> bool {
        let who =
            self.actors.iter().any(|a| a == "*" || a == actor) || self.groups.iter().any(|g| p.groups.get(g).is_some_and(|m| m.iter().any(|x| x == actor)));
        let what = match graph {
            None => action.is_server_level(),
            Some(g) => !action.is_server_level() && (own_graph || self.graphs.is_empty() || self.graphs.iter().any(|pat| glob(pat, g))),
        };
        who && what && self.actions.contains(&action)
    }
}

impl RefPolicy {
    pub fn decide(&self, actor: &str, action: Action, graph: Option<&str>, branch: &str) -> bool {
        self.decide_query(actor, action, graph, branch, "", action.writes_branch())
    }

    /// [`decide`](RefPolicy::decide) for `action` about stored query `query`
    /// ("" for none), a write when `writes`.
    pub fn decide_query(&self, actor: &str, action: Action, graph: Option<&str>, branch: &str, query: &str, writes: bool) -> bool {
        let protected = writes && self.protected.iter().any(|b| b == branch);
        let mut rules: Vec<(&RefRule, bool)> = self.rules.iter().map(|r| (r, false)).collect();
        if let Some((g, own)) = &self.graph_rules
            && graph == Some(g.as_str())
        {
            rules.extend(own.iter().map(|r| (r, true)));
        }
        let mut allowed = false;
        for (r, own) in rules {
            if !r.applies(self, actor, action, graph, own) {
                continue;
            }
            if action == Action::InvokeQuery && !r.queries.is_empty() {
                let named = r.queries.iter().any(|pat| glob(pat, query));
                let some = query.is_empty() && r.allow;
                if !named && !some {
                    continue;
                }
            }
            let on_branch = r.branches.iter().any(|b| b == branch);
            if !r.allow {
                if r.branches.is_empty() || on_branch {
                    return false;
                }
            } else if !protected || on_branch {
                allowed = true;
            }
        }
        allowed
    }

    fn rule_json(r: &RefRule) -> Value {
        let mut v = json!({(if r.allow { "allow" } else { "deny" }): r.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>()});
        for (k, list) in [("actors", &r.actors), ("groups", &r.groups), ("graphs", &r.graphs), ("branches", &r.branches), ("queries", &r.queries)] {
            if !list.is_empty() {
                v[k] = json!(list);
            }
        }
        v
    }

    /// The policy file (JSON is YAML) for the server's rules.
    pub fn file_text(&self) -> String {
        json!({
            "groups": self.groups,
            "protected_branches": self.protected,
            "rules": self.rules.iter().map(RefPolicy::rule_json).collect::<Vec<_>>(),
        })
        .to_string()
    }

    /// The `policy` field of the graph with its own rules.
    pub fn graph_rules_json(&self) -> Option<(String, Value)> {
        self.graph_rules.as_ref().map(|(g, rules)| (g.clone(), json!({"rules": rules.iter().map(RefPolicy::rule_json).collect::<Vec<_>>()})))
    }
}

fn subset<T: Clone + std::fmt::Debug + 'static>(items: Vec<T>, max: usize) -> impl Strategy<Value = Vec<T>> {
    proptest::sample::subsequence(items.clone(), 0..=max.min(items.len()))
}

fn rule(graph_scoped: bool) -> impl Strategy<Value = RefRule> {
    let actions: Vec<Action> = if graph_scoped { Action::ALL.into_iter().filter(|a| !a.is_server_level()).collect() } else { Action::ALL.to_vec() };
    let mut who: Vec<String> = ACTORS.iter().map(|s| s.to_string()).collect();
    who.push("*".into());
    (
        proptest::bool::weighted(0.75),
        proptest::sample::subsequence(actions, 1..=3),
        subset(who, 2),
        subset(GROUPS.iter().map(|s| s.to_string()).collect(), 2),
        subset(PATTERNS.iter().map(|s| s.to_string()).collect(), 2),
        subset(BRANCHES.iter().map(|s| s.to_string()).collect(), 2),
        subset(QUERY_PATTERNS.iter().map(|s| s.to_string()).collect(), 2),
    )
        .prop_map(move |(allow, actions, mut actors, groups, graphs, branches, queries)| {
            if actors.is_empty() && groups.is_empty() {
                actors.push(ACTORS[0].to_string());
            }
            // Only shapes the checks accept: `graphs` with per-graph actions
            // only (never on a graph's own rules), `branches` with a write.
            let server_level = actions.iter().any(|a| a.is_server_level());
            let graphs = if graph_scoped || server_level { vec![] } else { graphs };
            let writes = actions.iter().any(|a| a.writes_branch() || *a == Action::InvokeQuery);
            let branches = if writes && (allow || !server_level) { branches } else { vec![] };
            let queries = if actions.contains(&Action::InvokeQuery) { queries } else { vec![] };
            RefRule { allow, actions, actors, groups, graphs, branches, queries }
        })
}

pub fn ref_policy() -> impl Strategy<Value = RefPolicy> {
    let members = || subset(ACTORS.iter().map(|s| s.to_string()).collect(), 3);
    (
        (members(), members(), members()),
        subset(BRANCHES.iter().map(|s| s.to_string()).collect(), 1),
        proptest::collection::vec(rule(false), 2..9),
        proptest::option::of((proptest::sample::select(GRAPHS.to_vec()), proptest::collection::vec(rule(true), 1..4))),
    )
        .prop_map(|((a, d, o), protected, rules, graph_rules)| RefPolicy {
            groups: BTreeMap::from([("admins".into(), a), ("devs".into(), d), ("ops".into(), o)]),
            protected,
            rules,
            graph_rules: graph_rules.map(|(g, r)| (g.to_string(), r)),
        })
}

/// The compiled policy for graph `graph` (the server's, plus that graph's
/// own rules when it has them).
#[allow(dead_code)]
pub fn compiled(p: &RefPolicy) -> (Policy, Option<Policy>) {
    let server = Policy::compile(PolicyFile::parse(&p.file_text(), "random.yaml").unwrap()).unwrap_or_else(|e| panic!("{e}\n{}", p.file_text()));
    let with_graph = p.graph_rules_json().map(|(g, rules)| server.with_graph_rules(&g, &rules).unwrap_or_else(|e| panic!("{e}")));
    (server, with_graph)
}
