//! Import: register a graph directory made by `omnigraph init`.
//!
//! The directory is opened read-only first (it must be a healthy graph) and
//! its genesis id recorded; it is never moved or rewritten. Two ids must not
//! share one location, so after reserving the id the import claims the
//! location with a put-if-absent of `locations/<sha256 of location>.json`:
//! the claim, not a scan of other entries, is the one authority. The claim
//! is released when the graph's data is removed or the import rolls back.

use omnigraph::failpoint;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::NewIncarnation;
use crate::catalog::{Catalog, GRAPHS_DIR};
use crate::entry::{GraphEntry, OpKind, State, validate_id};
use crate::error::{CatalogError, Result};
use crate::operation::Operation;
use crate::store::Put;

pub const LOCATIONS_DIR: &str = "locations";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocationClaim {
    pub location: String,
    pub graph_id: String,
    pub incarnation: String,
    pub op_id: String,
}

/// The claim object of `location`, keyed by its canonical spelling
/// (`omnigraph::storage::root::canonical_uri`): `/data/g`, `/data/g/`,
/// `/data/g/../g` and a symlink to it are one claim.
fn claim_path(location: &str) -> String {
    let canonical = omnigraph::storage::root::canonical_uri(location).unwrap_or_else(|_| location.to_string());
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{LOCATIONS_DIR}/{hex}.json")
}

impl Catalog {
    /// Registers the graph at `path` as `id`. The location is recorded and
    /// claimed in its canonical spelling (the graph root's URI).
    pub async fn import(&self, id: &str, path: &str) -> Result<GraphEntry> {
        validate_id(id)?;
        let graph = omnigraph::Graph::open(path, &self.session).await?;
        let snap = graph.snapshot().await?;
        let location = graph.root().uri().to_string();
        let inside = self.store.child_uri(GRAPHS_DIR);
        if location.starts_with(&format!("{inside}/")) || location == self.uri() {
            return Err(CatalogError::LocationTaken { location, owner: "this catalog's own storage".into() });
        }
        let new = NewIncarnation {
            location: Some(location),
            schema_hash: Some(graph.schema_hash().to_string()),
            genesis_id: snap.genesis_id.clone(),
            imported: true,
            metadata: serde_json::Value::Null,
        };
        let (op, reserved) = self.reserve_new(id, OpKind::Import, &new).await?;
        failpoint::hit("import.after_reserve");
        let active = self.leased(&op, self.finish_import(&op, &reserved)).await?;
        Operation::remove_sidecar(&self.store, &op.op_id).await?;
        Ok(active)
    }

    async fn finish_import(&self, op: &Operation, reserved: &GraphEntry) -> Result<GraphEntry> {
        let claim = LocationClaim {
            location: reserved.location.clone(),
            graph_id: reserved.id.clone(),
            incarnation: reserved.incarnation.clone(),
            op_id: op.op_id.clone(),
        };
        let path = claim_path(&claim.location);
        match self.store.put_if_absent(&path, serde_json::to_vec_pretty(&claim).expect("claim serializes")).await? {
            Put::Created => {}
            Put::AlreadyExists => {
                let holder = self.location_claim(&claim.location).await?;
                if holder.as_ref().map(|h| h.op_id.as_str()) != Some(op.op_id.as_str()) {
                    let owner = holder.map(|h| h.graph_id).unwrap_or_else(|| "unknown".into());
                    // Not ours: roll back without touching the claim.
                    let mut next = reserved.clone();
                    next.state = State::Failed;
                    next.op = None;
                    next.last_op = Some(op.op_id.clone());
                    next.failure = Some(format!("location already registered as `{owner}`"));
                    self.step(op, reserved, next).await?;
                    Operation::remove_sidecar(&self.store, &op.op_id).await?;
                    return Err(CatalogError::LocationTaken { location: claim.location, owner });
                }
            }
        }
        let mut next = reserved.clone();
        next.state = State::Active;
        next.op = None;
        next.last_op = Some(op.op_id.clone());
        self.step(op, reserved, next).await
    }

    /// The claim on `location`, if an import holds one.
    pub async fn location_claim(&self, location: &str) -> Result<Option<LocationClaim>> {
        let path = claim_path(location);
        match self.store.get(&path).await? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| CatalogError::Corrupt { path: self.store.child_uri(&path), reason: e.to_string() }),
        }
    }

    /// Whether `e` (an imported graph) owns its location: the claim on it
    /// names `e`. An entry that does not (two imports of one directory made
    /// by a version before claims were canonical) must neither fence nor
    /// remove data another entry still names.
    pub async fn owns_location(&self, e: &GraphEntry) -> Result<bool> {
        Ok(self.location_claim(&e.location).await?.is_some_and(|c| c.graph_id == e.id && c.incarnation == e.incarnation))
    }

    /// Releases `e`'s claim on its location, only if it is `e`'s own.
    pub(crate) async fn release_location(&self, e: &GraphEntry) -> Result<()> {
        if let Some(c) = self.location_claim(&e.location).await?
            && c.graph_id == e.id
            && c.incarnation == e.incarnation
        {
            self.store.delete(&claim_path(&e.location)).await?;
        }
        Ok(())
    }
}
