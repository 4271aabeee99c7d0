//! The actions a request can need. Server-level actions apply to the
//! server resource; per-graph actions to one graph.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `GET /graphs`.
    GraphList,
    /// `POST /graphs`.
    GraphCreate,
    /// `DELETE /graphs/{id}`.
    GraphDelete,
    /// Queries, snapshot, schema, `GET /graphs/{id}`.
    Read,
    /// Mutations and loads.
    Change,
    /// `/export`.
    Export,
    /// Schema changes.
    SchemaApply,
    /// Maintenance of one graph: `optimize`, `cleanup`.
    Admin,
    /// Creating a branch of a graph.
    BranchCreate,
    /// Deleting a branch (on that branch).
    BranchDelete,
    /// Merging a branch into another (on the target branch).
    BranchMerge,
    /// Running a stored query by name (`POST /graphs/{id}/queries/{name}`);
    /// a rule's `queries` narrows it to some names.
    InvokeQuery,
    /// Adding, replacing and removing stored queries.
    QueriesWrite,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::GraphList,
        Action::GraphCreate,
        Action::GraphDelete,
        Action::Read,
        Action::Change,
        Action::Export,
        Action::SchemaApply,
        Action::Admin,
        Action::BranchCreate,
        Action::BranchDelete,
        Action::BranchMerge,
        Action::InvokeQuery,
        Action::QueriesWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::GraphList => "graph_list",
            Action::GraphCreate => "graph_create",
            Action::GraphDelete => "graph_delete",
            Action::Read => "read",
            Action::Change => "change",
            Action::Export => "export",
            Action::SchemaApply => "schema_apply",
            Action::Admin => "admin",
            Action::BranchCreate => "branch_create",
            Action::BranchDelete => "branch_delete",
            Action::BranchMerge => "branch_merge",
            Action::InvokeQuery => "invoke_query",
            Action::QueriesWrite => "queries_write",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// True for actions on the server resource (the others are per graph).
    pub fn is_server_level(self) -> bool {
        matches!(self, Action::GraphList | Action::GraphCreate | Action::GraphDelete)
    }

    /// True for actions that write to a branch (subject to
    /// `protected_branches`): a merge writes its target, a delete removes
    /// the branch.
    pub fn writes_branch(self) -> bool {
        matches!(self, Action::Change | Action::SchemaApply | Action::BranchMerge | Action::BranchDelete | Action::QueriesWrite)
    }

    pub fn names() -> String {
        Action::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
