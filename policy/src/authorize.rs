//! [`Policy`]: the compiled Cedar policy set and the entities it needs, and
//! the one question the server asks: may this actor do this action on this
//! resource? Cedar's rules decide: a matching `forbid` wins, otherwise a
//! matching `permit` allows, otherwise the answer is no.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet, Request, RestrictedExpression};
use serde::Serialize;

use crate::action::Action;
use crate::compile::{self, group_uid, server_uid};
use crate::error::PolicyError;
use crate::file::{GraphRules, MAIN_BRANCH, PolicyFile};

/// What a request acts on.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Server,
    Graph(&'a str),
}

/// Where the policy came from (shown at startup and in errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// No tokens and no policy file: a loopback-only development server.
    AllowAll,
    /// Tokens but no policy file: everyone may `read`, nothing else.
    ReadOnly,
    File,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// Ids of the Cedar policies that decided (empty for a default deny).
    pub policies: Vec<String>,
    /// Why a request was refused (`None` when allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denial: Option<Denial>,
}

/// Why a request was refused, for the answer's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Denial {
    /// A `deny` rule matched (these Cedar policy ids).
    DenyRule { policies: Vec<String> },
    /// An `allow` rule covers the request except that the branch is
    /// protected and the rule does not name it in `branches`.
    ProtectedBranch { branch: String },
    /// No `allow` rule covers the request.
    NoRule,
}

impl Denial {
    /// One sentence for an error message.
    pub fn explain(&self) -> String {
        match self {
            Denial::DenyRule { policies } => {
                let rules: Vec<String> = policies.iter().map(|p| rule_name(p)).collect();
                format!("a deny rule matches ({})", rules.join(", "))
            }
            Denial::ProtectedBranch { branch } => format!(
                "branch `{branch}` is protected: a rule allows this action, but only a rule that names the branch (`branches: [{branch}]`) may write to it"
            ),
            Denial::NoRule => "no rule allows it".to_string(),
        }
    }
}

/// `rule-3-graph` -> `rule 3 of the server policy`; `graph-g-rule-1-graph`
/// -> `rule 1 of graph `g`'s policy`.
fn rule_name(policy_id: &str) -> String {
    let trimmed = policy_id.trim_end_matches("-graph").trim_end_matches("-server");
    if let Some(n) = trimmed.strip_prefix("rule-") {
        return format!("rule {n} of the server policy");
    }
    if let Some(rest) = trimmed.strip_prefix("graph-")
        && let Some((graph, n)) = rest.rsplit_once("-rule-")
    {
        return format!("rule {n} of graph `{graph}`'s policy");
    }
    policy_id.to_string()
}

#[derive(Debug, Clone)]
pub struct Policy {
    origin: Origin,
    file: PolicyFile,
    set: PolicySet,
    /// Cedar text of every policy, in order (for `policy validate --cedar`).
    texts: Vec<(String, String)>,
    /// actor -> groups.
    memberships: BTreeMap<String, Vec<String>>,
}

/// The uid of entity `id` of type `Omnigraph::<kind>`, built without
/// parsing: `id` may be anything a client sent (quotes, control
/// characters), and stays plain data.
fn entity(kind: &str, id: &str) -> EntityUid {
    let name = EntityTypeName::from_str(&format!("Omnigraph::{kind}")).expect("our type names parse");
    EntityUid::from_type_name_and_id(name, EntityId::new(id))
}

fn uid(s: &str) -> EntityUid {
    EntityUid::from_str(s).expect("entity uids built by compile:: parse")
}

fn build_set(source_name: &str, texts: &[(String, String)]) -> Result<PolicySet, PolicyError> {
    let mut set = PolicySet::new();
    for (id, text) in texts {
        let p = cedar_policy::Policy::parse(Some(PolicyId::new(id)), text)
            .map_err(|e| PolicyError::Cedar { source_name: source_name.into(), message: format!("{id}: {e}") })?;
        set.add(p).map_err(|e| PolicyError::Cedar { source_name: source_name.into(), message: format!("{id}: {e}") })?;
    }
    Ok(set)
}

impl Policy {
    fn from_texts(origin: Origin, file: PolicyFile, texts: Vec<(String, String)>) -> Result<Policy, PolicyError> {
        let set = build_set(&file.source_name, &texts)?;
        let mut memberships: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (g, members) in &file.groups {
            for m in members {
                memberships.entry(m.clone()).or_default().push(g.clone());
            }
        }
        Ok(Policy { origin, file, set, texts, memberships })
    }

    /// Compiles a checked policy file.
    pub fn compile(file: PolicyFile) -> Result<Policy, PolicyError> {
        let rules = file.check()?;
        let texts = rules.iter().flat_map(|r| compile::rule_to_cedar(r, &format!("rule-{}", r.index), None)).collect();
        Policy::from_texts(Origin::File, file, texts)
    }

    /// Reads and compiles a policy file.
    pub fn load(path: &std::path::Path) -> Result<Policy, PolicyError> {
        Policy::compile(PolicyFile::read(path)?)
    }

    /// Everything allowed (no tokens, no policy file: a loopback dev server).
    pub fn allow_all() -> Policy {
        Policy::from_texts(
            Origin::AllowAll,
            PolicyFile { source_name: "(allow all)".into(), ..Default::default() },
            vec![("allow-all".into(), "permit(principal, action, resource);".into())],
        )
        .expect("built-in policy compiles")
    }

    /// Tokens without a policy file: `read` for everyone, nothing else.
    pub fn read_only() -> Policy {
        Policy::from_texts(
            Origin::ReadOnly,
            PolicyFile { source_name: "(default: read only)".into(), ..Default::default() },
            vec![("default-read".into(), format!("permit(principal, action == {}, resource is Omnigraph::Graph);", compile::action_uid(Action::Read)))],
        )
        .expect("built-in policy compiles")
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// This policy plus the rules attached to graph `graph_id` (which apply
    /// to that graph only). `rules` is the JSON or YAML value given at create.
    pub fn with_graph_rules(&self, graph_id: &str, rules: &serde_json::Value) -> Result<Policy, PolicyError> {
        let source_name = format!("policy of graph `{graph_id}`");
        let parsed: GraphRules =
            serde_json::from_value(rules.clone()).map_err(|e| PolicyError::Syntax { source_name: source_name.clone(), message: e.to_string() })?;
        let checked = self.file.check_graph_rules(&parsed, &source_name)?;
        let mut texts = self.texts.clone();
        for r in &checked {
            texts.extend(compile::rule_to_cedar(r, &format!("graph-{graph_id}-rule-{}", r.index), Some(graph_id)));
        }
        let set = build_set(&source_name, &texts)?;
        Ok(Policy { origin: self.origin, file: self.file.clone(), set, texts, memberships: self.memberships.clone() })
    }

    /// The Cedar text of every policy.
    pub fn cedar(&self) -> String {
        self.texts.iter().map(|(id, t)| format!("@id({})\n{t}\n", compile::quote(id))).collect::<Vec<_>>().join("\n")
    }

    pub fn policy_count(&self) -> usize {
        self.texts.len()
    }

    /// May `actor` do `action` on `resource` (on the `main` branch)?
    pub fn authorize(&self, actor: &str, action: Action, resource: Resource<'_>) -> Decision {
        self.authorize_on_branch(actor, action, resource, MAIN_BRANCH)
    }

    /// May `actor` do `action` on `resource` on some branch? What a server
    /// asks before it knows the branch (it is in the request body); the
    /// branch's own check ([`Policy::authorize_on_branch`]) follows.
    pub fn authorize_some_branch(&self, actor: &str, action: Action, resource: Resource<'_>) -> Decision {
        let (allowed, policies) = self.ask(actor, action, resource, "", false);
        let denial = match (allowed, policies.is_empty()) {
            (true, _) => None,
            (false, false) => Some(Denial::DenyRule { policies: policies.clone() }),
            (false, true) => Some(Denial::NoRule),
        };
        Decision { allowed, policies, denial }
    }

    pub fn authorize_on_branch(&self, actor: &str, action: Action, resource: Resource<'_>, branch: &str) -> Decision {
        self.decide(actor, action, resource, branch, action.writes_branch(), "")
    }

    /// May `actor` run the stored query `query` (one that writes when
    /// `writes`: then a protected branch needs a rule naming it) on graph
    /// `resource`, on `branch`?
    pub fn authorize_query(&self, actor: &str, resource: Resource<'_>, branch: &str, query: &str, writes: bool) -> Decision {
        self.decide(actor, Action::InvokeQuery, resource, branch, writes, query)
    }

    fn decide(&self, actor: &str, action: Action, resource: Resource<'_>, branch: &str, writes: bool, query: &str) -> Decision {
        let protected = writes && self.file.protected_branches.iter().any(|b| b == branch);
        let (allowed, policies) = self.ask_query(actor, action, resource, branch, protected, query);
        let denial = if allowed {
            None
        } else if !policies.is_empty() {
            // A denial with deciding policies means a `forbid` matched.
            Some(Denial::DenyRule { policies: policies.clone() })
        } else if protected && self.ask_query(actor, action, resource, branch, false, query).0 {
            Some(Denial::ProtectedBranch { branch: branch.to_string() })
        } else {
            Some(Denial::NoRule)
        };
        Decision { allowed, policies, denial }
    }

    /// One Cedar request: (allowed, ids of the deciding policies).
    fn ask(&self, actor: &str, action: Action, resource: Resource<'_>, branch: &str, protected: bool) -> (bool, Vec<String>) {
        self.ask_query(actor, action, resource, branch, protected, "")
    }

    /// [`ask`](Policy::ask) about stored query `query` ("" for none).
    fn ask_query(&self, actor: &str, action: Action, resource: Resource<'_>, branch: &str, protected: bool, query: &str) -> (bool, Vec<String>) {
        let principal = entity("Actor", actor);
        let groups: Vec<EntityUid> = self.memberships.get(actor).into_iter().flatten().map(|g| uid(&group_uid(g))).collect();
        let mut entities = vec![Entity::new_no_attrs(principal.clone(), groups.iter().cloned().collect::<HashSet<_>>())];
        entities.extend(groups.into_iter().map(|g| Entity::new_no_attrs(g, HashSet::new())));
        let resource_uid = match resource {
            Resource::Server => {
                let u = uid(&server_uid());
                entities.push(Entity::new_no_attrs(u.clone(), HashSet::new()));
                u
            }
            Resource::Graph(id) => {
                let u = entity("Graph", id);
                let attrs = HashMap::from([("id".to_string(), RestrictedExpression::new_string(id.to_string()))]);
                entities.push(Entity::new(u.clone(), attrs, HashSet::new()).expect("a string attribute evaluates"));
                u
            }
        };
        let context = Context::from_pairs([
            ("branch".to_string(), RestrictedExpression::new_string(branch.to_string())),
            ("protected_branch".to_string(), RestrictedExpression::new_bool(protected)),
            ("query".to_string(), RestrictedExpression::new_string(query.to_string())),
        ])
        .expect("context of literals");
        let request = Request::new(principal, uid(&compile::action_uid(action)), resource_uid, context, None).expect("request without a schema");
        let entities = Entities::from_entities(entities, None).expect("distinct entities");
        let response = Authorizer::new().is_authorized(&request, &self.set, &entities);
        (response.decision() == cedar_policy::Decision::Allow, response.diagnostics().reason().map(|p| p.to_string()).collect())
    }
}
