//! Checked rules to Cedar policy text.
//!
//! Entities: `Omnigraph::Actor::"<name>"` (member of its
//! `Omnigraph::Group::"<group>"`s), `Omnigraph::Server::"omnigraph"` and
//! `Omnigraph::Graph::"<id>"` (attribute `id`). Every request's context has
//! `branch` (the branch written or read) and `protected_branch` (true when
//! the action writes a branch listed in `protected_branches`).
//!
//! A rule becomes one Cedar policy per resource kind it covers:
//! - its principal test: `principal in [groups and actors]` (omitted for everyone);
//! - server-level actions: `resource == Omnigraph::Server::"omnigraph"`;
//! - per-graph actions: `resource is Omnigraph::Graph` plus `resource.id like`
//!   each pattern (or `resource == ...` for a graph's own rules);
//! - an `allow` of writes also needs `!context.protected_branch` unless the
//!   rule names the branch in `branches`; a `deny` with `branches` applies
//!   to those branches only.

use crate::action::Action;
use crate::file::CheckedRule;

pub const SERVER_ID: &str = "omnigraph";

/// Quotes a string as a Cedar string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn actor_uid(name: &str) -> String {
    format!("Omnigraph::Actor::{}", quote(name))
}

pub fn group_uid(name: &str) -> String {
    format!("Omnigraph::Group::{}", quote(name))
}

pub fn graph_uid(id: &str) -> String {
    format!("Omnigraph::Graph::{}", quote(id))
}

pub fn action_uid(a: Action) -> String {
    format!("Omnigraph::Action::{}", quote(a.as_str()))
}

pub fn server_uid() -> String {
    format!("Omnigraph::Server::{}", quote(SERVER_ID))
}

/// A pattern over graph ids (`*` matches any run of characters).
fn graph_test(patterns: &[String]) -> Option<String> {
    if patterns.is_empty() || patterns.iter().any(|p| p == "*") {
        return None;
    }
    let tests: Vec<String> =
        patterns.iter().map(|p| if p.contains('*') { format!("resource.id like {}", quote(p)) } else { format!("resource.id == {}", quote(p)) }).collect();
    Some(format!("({})", tests.join(" || ")))
}

fn actions_list(actions: &[Action]) -> String {
    format!("[{}]", actions.iter().map(|a| action_uid(*a)).collect::<Vec<_>>().join(", "))
}

/// The Cedar policies of one rule, with an id for each. `graph` scopes a
/// graph's own rules to that graph.
pub fn rule_to_cedar(r: &CheckedRule, id_prefix: &str, graph: Option<&str>) -> Vec<(String, String)> {
    let effect = if r.permit { "permit" } else { "forbid" };
    let mut who: Vec<String> = r.groups.iter().map(|g| group_uid(g)).collect();
    who.extend(r.actors.iter().map(|a| actor_uid(a)));
    let principal_test = (!who.is_empty()).then(|| format!("principal in [{}]", who.join(", ")));

    let mut out = Vec::new();
    let server: Vec<Action> = r.actions.iter().copied().filter(|a| a.is_server_level()).collect();
    let per_graph: Vec<Action> = r.actions.iter().copied().filter(|a| !a.is_server_level()).collect();
    if !server.is_empty() {
        let conds: Vec<String> = principal_test.iter().cloned().collect();
        out.push((format!("{id_prefix}-server"), policy(effect, &server, &format!("resource == {}", server_uid()), &conds)));
    }
    if !per_graph.is_empty() {
        let mut conds: Vec<String> = principal_test.iter().cloned().collect();
        let resource = match graph {
            Some(g) => format!("resource == {}", graph_uid(g)),
            None => {
                conds.extend(graph_test(&r.graphs));
                "resource is Omnigraph::Graph".to_string()
            }
        };
        let branch_list = format!("[{}]", r.branches.iter().map(|b| quote(b)).collect::<Vec<_>>().join(", "));
        if !r.queries.is_empty() {
            // Other actions of the rule are not narrowed by `queries`.
            let mut tests: Vec<String> = r
                .queries
                .iter()
                .map(|q| if q.contains('*') { format!("context.query like {}", quote(q)) } else { format!("context.query == {}", quote(q)) })
                .collect();
            // An allow also answers "may run some stored query" (asked
            // with no name, before the names are looked up).
            if r.permit {
                tests.push("context.query == \"\"".to_string());
            }
            conds.push(format!("(action != {} || {})", action_uid(Action::InvokeQuery), tests.join(" || ")));
        }
        if r.permit {
            // A stored query that writes is checked as a write
            // (`context.protected_branch` is set for it only).
            if per_graph.iter().any(|a| a.writes_branch() || *a == Action::InvokeQuery) {
                conds.push(if r.branches.is_empty() {
                    "!context.protected_branch".to_string()
                } else {
                    format!("(!context.protected_branch || {branch_list}.contains(context.branch))")
                });
            }
        } else if !r.branches.is_empty() {
            conds.push(format!("{branch_list}.contains(context.branch)"));
        }
        out.push((format!("{id_prefix}-graph"), policy(effect, &per_graph, &resource, &conds)));
    }
    out
}

fn policy(effect: &str, actions: &[Action], resource: &str, conds: &[String]) -> String {
    let action = if actions.len() == 1 { format!("action == {}", action_uid(actions[0])) } else { format!("action in {}", actions_list(actions)) };
    let mut s = format!("{effect}(principal, {action}, {resource})");
    if !conds.is_empty() {
        s.push_str(&format!(" when {{ {} }}", conds.join(" && ")));
    }
    s.push(';');
    s
}
