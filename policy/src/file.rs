//! The policy file: groups of actors, allow/deny rules over actions and
//! graphs, and protected branches. Every check names the rule or group at
//! fault; unknown fields are errors (a typo never silently widens access).
//!
//! ```yaml
//! groups:
//!   admins: [alice]
//!   analysts: [bob, carol]
//! protected_branches: [main]
//! rules:
//!   - allow: [graph_list, graph_create, graph_delete, read, change, export, schema_apply, admin]
//!     groups: [admins]
//!     branches: [main]
//!   - allow: [graph_list, read, export]
//!     groups: [analysts]
//!     graphs: ["sales-*"]
//!   - deny: [export]
//!     actors: [carol]
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::error::PolicyError;

/// The branch every graph has (omnigraph graphs have one line of history).
pub const MAIN_BRANCH: &str = "main";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Group name -> its actors (a group given twice is an error).
    #[serde(default, deserialize_with = "crate::unique::unique_map")]
    pub groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Writes (`change`, `schema_apply`) to these branches are allowed only
    /// by rules that name the branch in `branches`.
    #[serde(default)]
    pub protected_branches: Vec<String>,
    /// Where the file came from, for error messages.
    #[serde(skip)]
    pub source_name: String,
}

/// One rule: exactly one of `allow` or `deny`, whom it applies to
/// (`groups`, `actors`; `actors: ["*"]` means everyone), and for per-graph
/// actions, which graphs (`graphs`, default all; `*` is a wildcard).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub graphs: Vec<String>,
    /// Protected branches this rule may write to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<String>,
    /// Stored-query names (`*` a wildcard) this rule's `invoke_query`
    /// covers; default all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A rule after its checks: typed actions and an effect.
#[derive(Debug, Clone)]
pub struct CheckedRule {
    pub index: usize,
    pub permit: bool,
    pub actions: Vec<Action>,
    /// Groups and actors; empty means everyone.
    pub groups: Vec<String>,
    pub actors: Vec<String>,
    /// Graph id patterns; empty means every graph.
    pub graphs: Vec<String>,
    pub branches: Vec<String>,
    /// Stored-query name patterns `invoke_query` is narrowed to; empty
    /// means every query.
    pub queries: Vec<String>,
}

/// Rules attached to one graph at create time (`POST /graphs` `policy`).
/// They apply to that graph only, so they name no graphs and no
/// server-level actions; groups come from the server's policy file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphRules {
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}

fn valid_query_pattern(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '*'))
}

fn valid_graph_pattern(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '*'))
}

/// The parser names rules by position from 0 (`rules[1]`); every other
/// message numbers them from 1 (`rule 2`), as a reader counts.
fn rules_from_one(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("rules[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "rules[".len()..];
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        match (digits.parse::<usize>(), after[digits.len()..].starts_with(']')) {
            (Ok(n), true) => {
                out.push_str(&format!("rule {}", n + 1));
                rest = &after[digits.len() + 1..];
            }
            _ => {
                out.push_str("rules[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl PolicyFile {
    /// Parses a policy file (YAML; JSON is YAML too).
    pub fn parse(src: &str, source_name: &str) -> Result<PolicyFile, PolicyError> {
        let mut f: PolicyFile = if src.trim().is_empty() {
            PolicyFile::default()
        } else {
            serde_norway::from_str(src).map_err(|e| PolicyError::Syntax { source_name: source_name.into(), message: rules_from_one(&e.to_string()) })?
        };
        f.source_name = source_name.to_string();
        Ok(f)
    }

    pub fn read(path: &std::path::Path) -> Result<PolicyFile, PolicyError> {
        let name = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| PolicyError::Syntax { source_name: name.clone(), message: format!("cannot read: {e}") })?;
        PolicyFile::parse(&src, &name)
    }

    /// Checks groups, branches and every rule.
    pub fn check(&self) -> Result<Vec<CheckedRule>, PolicyError> {
        for (g, members) in &self.groups {
            let err = |message: String| PolicyError::Group { source_name: self.source_name.clone(), group: g.clone(), message };
            if !valid_name(g) {
                return Err(err("a group name uses letters, digits, `_ - . @`".into()));
            }
            if let Some(m) = members.iter().find(|m| !valid_name(m)) {
                return Err(err(format!("member `{m}` is not a valid actor name (letters, digits, `_ - . @`)")));
            }
        }
        for b in &self.protected_branches {
            if !valid_name(b) {
                return Err(PolicyError::Syntax { source_name: self.source_name.clone(), message: format!("protected branch `{b}` is not a valid name") });
            }
        }
        self.rules.iter().enumerate().map(|(i, r)| check_rule(self, r, i + 1, false)).collect()
    }

    /// Checks rules attached to one graph against this file's groups.
    pub fn check_graph_rules(&self, rules: &GraphRules, source_name: &str) -> Result<Vec<CheckedRule>, PolicyError> {
        let ctx = PolicyFile { source_name: source_name.to_string(), ..self.clone() };
        rules.rules.iter().enumerate().map(|(i, r)| check_rule(&ctx, r, i + 1, true)).collect()
    }
}

fn check_rule(file: &PolicyFile, r: &Rule, index: usize, graph_scoped: bool) -> Result<CheckedRule, PolicyError> {
    let err = |message: String| PolicyError::Rule { source_name: file.source_name.clone(), rule: index, message };
    let (permit, names) = match (&r.allow, &r.deny) {
        (Some(a), None) => (true, a),
        (None, Some(d)) => (false, d),
        (Some(_), Some(_)) => return Err(err("has both `allow` and `deny`; write two rules".into())),
        (None, None) => return Err(err("needs `allow: [actions]` or `deny: [actions]`".into())),
    };
    if names.is_empty() {
        return Err(err("lists no actions".into()));
    }
    let mut actions = Vec::new();
    for n in names {
        let a = Action::parse(n).ok_or_else(|| err(format!("unknown action `{n}` (actions: {})", Action::names())))?;
        if graph_scoped && a.is_server_level() {
            return Err(err(format!(
                "`{a}` is a server-level action; a graph's own policy can only use read, change, export, schema_apply, admin, branch_create, branch_delete, branch_merge, invoke_query, queries_write"
            )));
        }
        if !actions.contains(&a) {
            actions.push(a);
        }
    }
    if r.groups.is_empty() && r.actors.is_empty() {
        return Err(err("names nobody: give `groups` or `actors` (`actors: [\"*\"]` means everyone)".into()));
    }
    for g in &r.groups {
        if !file.groups.contains_key(g) {
            let known = if file.groups.is_empty() {
                "the policy file defines no groups".to_string()
            } else {
                format!("groups: {}", file.groups.keys().cloned().collect::<Vec<_>>().join(", "))
            };
            return Err(err(format!("unknown group `{g}` ({known})")));
        }
    }
    let everyone = r.actors.iter().any(|a| a == "*");
    for a in r.actors.iter().filter(|a| *a != "*") {
        if !valid_name(a) {
            return Err(err(format!("actor `{a}` is not a valid name (letters, digits, `_ - . @`)")));
        }
    }
    if graph_scoped && !r.graphs.is_empty() {
        return Err(err("a graph's own policy applies to that graph only; remove `graphs`".into()));
    }
    // `graphs` cannot scope a server-level action (it names no graph), so a
    // rule that mixed them would grant that action everywhere: refuse it.
    if let Some(a) = actions.iter().find(|a| a.is_server_level()).filter(|_| !r.graphs.is_empty()) {
        return Err(err(format!(
            "`graphs` applies to per-graph actions only, and `{a}` is server-level (it would apply to every graph); put server-level actions in a rule without `graphs`"
        )));
    }
    for g in &r.graphs {
        if !valid_graph_pattern(g) {
            return Err(err(format!("graph pattern `{g}` uses characters a graph id cannot have (a-z 0-9 _ - and * as a wildcard)")));
        }
    }
    if !r.branches.is_empty() {
        if !actions.iter().any(|a| a.writes_branch() || *a == Action::InvokeQuery) {
            return Err(err(
                "`branches` applies to the actions that write a branch (change, schema_apply, branch_merge, branch_delete, queries_write, invoke_query), and this rule has none".into(),
            ));
        }
        // A deny's `branches` narrows it to those branches, and a
        // server-level action has no branch: it cannot be narrowed so.
        if let Some(a) = actions.iter().find(|a| a.is_server_level()).filter(|_| !permit) {
            return Err(err(format!(
                "a deny with `branches` applies on those branches only, and `{a}` is server-level (it has no branch); put it in a deny without `branches`"
            )));
        }
        for b in &r.branches {
            if !valid_name(b) {
                return Err(err(format!("branch `{b}` is not a valid name")));
            }
        }
    }
    if !r.queries.is_empty() {
        if !actions.contains(&Action::InvokeQuery) {
            return Err(err("`queries` names the stored queries `invoke_query` may run, and this rule has no `invoke_query`".into()));
        }
        if let Some(q) = r.queries.iter().find(|q| !valid_query_pattern(q)) {
            return Err(err(format!("query pattern `{q}` uses characters a query name cannot have (letters, digits, _ and * as a wildcard)")));
        }
    }
    Ok(CheckedRule {
        index,
        permit,
        actions,
        groups: if everyone { vec![] } else { r.groups.clone() },
        actors: if everyone { vec![] } else { r.actors.clone() },
        graphs: r.graphs.clone(),
        branches: r.branches.clone(),
        queries: r.queries.clone(),
    })
}
