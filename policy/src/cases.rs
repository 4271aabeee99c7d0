//! `omnigraph policy test`: a file of cases, each an actor, an action, a
//! graph (for per-graph actions) and the expected answer.
//!
//! ```yaml
//! cases:
//!   - {actor: alice, action: graph_create, expect: allow}
//!   - {actor: bob, action: change, graph: sales-eu, expect: deny}
//! ```

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::authorize::{Policy, Resource};
use crate::error::PolicyError;
use crate::file::MAIN_BRANCH;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub actor: String,
    pub action: String,
    #[serde(default)]
    pub graph: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    pub expect: Expect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Allow,
    Deny,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    cases: Vec<Case>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub case: usize,
    pub actor: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<String>,
    pub expect: Expect,
    pub got: Expect,
    pub passed: bool,
    /// The Cedar policies that decided.
    pub policies: Vec<String>,
}

/// Parses a case file (`cases: [...]`).
pub fn parse(src: &str, source_name: &str) -> Result<Vec<Case>, PolicyError> {
    let f: CaseFile = serde_norway::from_str(src).map_err(|e| PolicyError::Syntax { source_name: source_name.into(), message: e.to_string() })?;
    Ok(f.cases)
}

/// Runs every case; errors name a case that cannot be asked.
pub fn run(policy: &Policy, cases: &[Case], source_name: &str) -> Result<Vec<CaseResult>, PolicyError> {
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let err = |message: String| PolicyError::Case { source_name: source_name.into(), case: i + 1, message };
            let action = Action::parse(&c.action).ok_or_else(|| err(format!("unknown action `{}` (actions: {})", c.action, Action::names())))?;
            let resource = match (&c.graph, action.is_server_level()) {
                (None, true) => Resource::Server,
                (Some(_), true) => return Err(err(format!("`{action}` is server-level; remove `graph`"))),
                (Some(g), false) => Resource::Graph(g),
                (None, false) => return Err(err(format!("`{action}` is a per-graph action; give `graph`"))),
            };
            let d = policy.authorize_on_branch(&c.actor, action, resource, c.branch.as_deref().unwrap_or(MAIN_BRANCH));
            let got = if d.allowed { Expect::Allow } else { Expect::Deny };
            Ok(CaseResult {
                case: i + 1,
                actor: c.actor.clone(),
                action,
                graph: c.graph.clone(),
                expect: c.expect,
                got,
                passed: got == c.expect,
                policies: d.policies,
            })
        })
        .collect()
}
