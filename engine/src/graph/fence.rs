//! The fence: how a deleted graph stops accepting writes from every process.
//!
//! A catalog delete publishes a fence row (`__fence`, location `retired`,
//! stamped with the delete's operation id) into the graph's own
//! `__manifest`, through the same pinned publish every write uses. Each
//! publish checks the head it commits over for a retired fence (see
//! `storage::manifest::publish`), so a process that opened the graph before
//! the delete, even one whose catalog view is stale, has its next write
//! refused with `GraphRetired`: either its publish landed before the fence
//! (and so before the delete was acknowledged) or it sees the fence. Reads
//! through [`Graph::snapshot`](super::Graph::snapshot) are refused too.
//! [`restore`] publishes a `live` fence row with a higher generation.

use super::{layout, recovery, sidecar};
use crate::error::{Error, Result};
use crate::storage::Root;
use crate::storage::manifest::{self, FENCE_KEY, FENCE_LIVE, FENCE_RETIRED, TableUpdate};

/// The fence as the manifest head shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FenceState {
    /// Never fenced, or restored.
    Live,
    /// Retired by the operation named.
    Retired { op: String },
}

/// Reads the fence at the manifest head of the graph at `uri`.
pub async fn state(uri: &str) -> Result<FenceState> {
    let root = Root::new(uri, false)?;
    let (_, state) = manifest::read(&root.child_uri(layout::MANIFEST), None).await?;
    Ok(match state.retired() {
        Some(f) => FenceState::Retired { op: f.op_id.clone() },
        None => FenceState::Live,
    })
}

/// Publishes a retired fence stamped with `op_id`. Idempotent: a graph
/// already retired (by any operation) is left as it is.
pub async fn retire(uri: &str, op_id: &str) -> Result<()> {
    set(uri, op_id, FENCE_RETIRED).await
}

/// Lifts the fence (a catalog restore). Idempotent. Writes left pending by
/// processes that the fence refused are rolled back first: they were never
/// acknowledged and must not appear once the graph is live again.
pub async fn restore(uri: &str, op_id: &str) -> Result<()> {
    let root = Root::new(uri, false)?;
    for s in sidecar::list(&root).await? {
        recovery::recover(&root, &s, true).await?;
    }
    set(uri, op_id, FENCE_LIVE).await
}

async fn set(uri: &str, op_id: &str, to: &str) -> Result<()> {
    let root = Root::new(uri, false)?;
    let manifest_uri = root.child_uri(layout::MANIFEST);
    const MAX_ATTEMPTS: usize = 16;
    for _ in 0..MAX_ATTEMPTS {
        let (ds, state) = manifest::read(&manifest_uri, None).await?;
        let current = state.fence.as_ref().map(|f| f.location.as_str()).unwrap_or(FENCE_LIVE);
        if current == to {
            return Ok(());
        }
        let generation = state.fence.as_ref().map(|f| f.version).unwrap_or(0);
        let update = TableUpdate {
            key: FENCE_KEY.to_string(),
            expected: generation,
            new_version: generation + 1,
            location: to.to_string(),
            row_count: 0,
        };
        match manifest::publish(&manifest_uri, ds, state, &[update], &[], op_id).await {
            Ok(_) => return Ok(()),
            // Someone else moved the fence: look again.
            Err(Error::ExpectedVersionMismatch { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::storage(manifest_uri, "fence publish kept losing races; try again"))
}
