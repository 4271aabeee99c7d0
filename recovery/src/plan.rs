//! What a sweep found and what it decided, for people and for machines.

use omnigraph_catalog::{OpKind, Operation, State};
use serde::Serialize;

/// What one item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// An unfinished lifecycle operation.
    Operation,
    /// Storage under `graphs/` that no catalog entry owns.
    OrphanLocation,
    /// An active graph whose storage is missing, broken or needs repair.
    ActiveGraph,
    /// A deleted graph whose retention period ended.
    Retention,
    /// A catalog entry or sidecar that does not parse (corrupt, or written
    /// by a newer version). Reported, never acted on; the rest of the
    /// catalog is handled as usual.
    UnreadableRecord,
}

/// What to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Finish the operation.
    RollForward,
    /// Undo the operation.
    RollBack,
    /// The operation finished in the catalog; clean up and retire its sidecar.
    Retire,
    /// Its lease is live: leave it alone.
    Wait,
    /// Nothing safe to do automatically; a person must look.
    NeedsOperator,
    /// Remove storage nobody owns.
    Remove,
    /// Finish or undo a write left pending inside the graph (engine recovery).
    RepairGraph,
    /// Purge retained data whose retention ended.
    Purge,
}

impl Remedy {
    pub fn as_str(self) -> &'static str {
        match self {
            Remedy::RollForward => "roll forward",
            Remedy::RollBack => "roll back",
            Remedy::Retire => "retire",
            Remedy::Wait => "wait",
            Remedy::NeedsOperator => "needs operator",
            Remedy::Remove => "remove",
            Remedy::RepairGraph => "repair graph",
            Remedy::Purge => "purge",
        }
    }

    /// Can `--apply` carry it out?
    pub fn actionable(self) -> bool {
        !matches!(self, Remedy::Wait | Remedy::NeedsOperator)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub kind: ItemKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_kind: Option<OpKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub decision: Remedy,
    /// Why, in a sentence an operator can act on.
    pub reason: String,
    pub applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The operation record the decision was made on (not printed).
    #[serde(skip)]
    pub operation: Option<Operation>,
    /// The operator named this operation with `--force` (its lease is not
    /// waited for).
    #[serde(skip)]
    pub forced: bool,
}

impl Item {
    pub(crate) fn new(kind: ItemKind, decision: Remedy, reason: String) -> Item {
        Item {
            kind,
            graph_id: None,
            op_id: None,
            op_kind: None,
            state: None,
            location: None,
            decision,
            reason,
            applied: false,
            error: None,
            operation: None,
            forced: false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub catalog: String,
    pub applied: bool,
    pub items: Vec<Item>,
}

impl Plan {
    /// True when nothing is left to do: exit code 0.
    pub fn clean(&self) -> bool {
        self.items.iter().all(|i| i.applied)
    }

    /// The plan as lines a person reads at 3 a.m.
    pub fn render(&self) -> String {
        if self.items.is_empty() {
            return format!("catalog {}: clean, nothing to recover\n", self.catalog);
        }
        let mut out = format!("catalog {}: {} item(s)\n", self.catalog, self.items.len());
        for (n, i) in self.items.iter().enumerate() {
            let status = if i.applied {
                "done"
            } else if i.error.is_some() {
                "FAILED"
            } else if self.applied || !i.decision.actionable() {
                "left alone"
            } else {
                "planned"
            };
            let what = match (i.kind, &i.op_id) {
                (ItemKind::Operation, Some(op)) => format!(
                    "operation {op} ({}) on graph `{}`{}",
                    i.op_kind.map(|k| k.as_str()).unwrap_or("?"),
                    i.graph_id.as_deref().unwrap_or("?"),
                    i.state.map(|s| format!(", entry {s}")).unwrap_or_default()
                ),
                (ItemKind::OrphanLocation, _) => format!("orphan location {}", i.location.as_deref().unwrap_or("?")),
                (ItemKind::ActiveGraph, _) => format!("active graph `{}`", i.graph_id.as_deref().unwrap_or("?")),
                (ItemKind::Retention, _) => format!("deleted graph `{}`", i.graph_id.as_deref().unwrap_or("?")),
                _ => "item".to_string(),
            };
            out.push_str(&format!("{:>3}. [{}] {}: {}\n     {}\n", n + 1, status, i.decision.as_str(), what, i.reason));
            if let Some(e) = &i.error {
                out.push_str(&format!("     error: {e}\n"));
            }
        }
        if !self.applied && self.items.iter().any(|i| i.decision.actionable()) {
            out.push_str("dry run: nothing was changed; re-run with --apply to carry this out\n");
        }
        out
    }
}
