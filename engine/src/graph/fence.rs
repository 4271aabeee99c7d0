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
//! Every branch's `__manifest` gets the same row after `main`'s, so a
//! branch's writes and reads are refused by the same check.
//!
//! Both are conditional, so that an operation whose holder outlived its
//! lease (a stopped process, a long storage retry) fails harmlessly when it
//! resumes: [`retire`] given the generation its delete saw refuses once the
//! fence moved since, and [`restore`] lifts only the fence of the delete it
//! names, never one a later delete set.

use super::{layout, recovery, sidecar};
use crate::error::{Error, Result};
use crate::storage::Root;
use crate::storage::commit::{CommitDraft, SYSTEM_ACTOR};
use crate::storage::manifest::{self, FENCE_KEY, FENCE_LIVE, FENCE_RETIRED, TableUpdate};

/// The fence as the manifest head shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FenceState {
    /// Never fenced, or restored.
    Live,
    /// Retired by the operation named.
    Retired { op: String },
}

/// Reads the fence at the manifest head of the graph at `root`.
pub async fn state(root: &Root) -> Result<FenceState> {
    injected_fault(root.uri())?;
    let (_, state) = manifest::read(root, &crate::storage::branch::BranchPath::main(), None).await?;
    Ok(match state.retired() {
        Some(f) => FenceState::Retired { op: f.op_id.clone() },
        None => FenceState::Live,
    })
}

/// The fence's generation (0 if the graph was never fenced): a delete
/// records it before it starts, and retires only that generation.
pub async fn generation(root: &Root) -> Result<u64> {
    injected_fault(root.uri())?;
    let (_, state) = manifest::read(root, &crate::storage::branch::BranchPath::main(), None).await?;
    Ok(state.fence.as_ref().map(|f| f.version).unwrap_or(0))
}

/// Publishes a retired fence stamped with `op_id`. Idempotent: a fence this
/// operation already retired is left as it is. With `expected` (the
/// generation when the delete began), a fence that moved since (retired by
/// another delete, or retired and lifted again) is `FenceMoved` and left
/// alone; without it (an operation recorded before generations were), any
/// retired fence counts as done.
pub async fn retire(root: &Root, op_id: &str, expected: Option<u64>) -> Result<()> {
    set(root, op_id, FENCE_RETIRED, Condition::Generation(expected)).await
}

/// Lifts the fence (a catalog restore) that delete `lifting` set; a fence
/// retired by any other operation is `FenceMoved` and left alone (`None`:
/// any). Idempotent. Writes left pending by processes that the fence
/// refused are rolled back first: they were never acknowledged and must not
/// appear once the graph is live again.
pub async fn restore(root: &Root, op_id: &str, lifting: Option<&str>) -> Result<()> {
    if let FenceState::Retired { op } = state(root).await?
        && lifting.is_some_and(|l| l != op)
    {
        return Err(Error::FenceMoved {
            root: root.uri().to_string(),
            reason: format!("it was retired by operation {op}, not {}", lifting.unwrap_or_default()),
        });
    }
    for s in sidecar::list(root).await? {
        recovery::recover(root, &s, true).await?;
    }
    set(root, op_id, FENCE_LIVE, Condition::RetiredBy(lifting.map(str::to_string))).await
}

/// What must hold for [`set`] to move the fence.
enum Condition {
    /// The generation is this one (or anything, `None`).
    Generation(Option<u64>),
    /// The fence is live, or retired by this operation (or any, `None`).
    RetiredBy(Option<String>),
}

/// The failpoint `fence.storage=error` makes reading and setting the fence
/// fail as a passing storage fault would (tests of the delete's fence rule).
fn injected_fault(uri: &str) -> Result<()> {
    if crate::failpoint::fail("fence.storage") {
        return Err(Error::storage(uri, "injected storage fault (failpoint fence.storage)"));
    }
    Ok(())
}

/// Moves the fence of `main` (under `condition`), then of every branch.
async fn set(root: &Root, op_id: &str, to: &str, condition: Condition) -> Result<()> {
    set_main(root, op_id, to, condition).await?;
    set_branches(root, op_id, to).await
}

/// Every branch's `__manifest` carries the fence too, so that a branch's
/// writes and reads are refused by the same pinned check as `main`'s. Run
/// after `main`'s fence moved (again on a retried operation: idempotent).
async fn set_branches(root: &Root, op_id: &str, to: &str) -> Result<()> {
    for r in crate::storage::branch::list(root).await? {
        let Some(path) = crate::storage::branch::resolve(root, &r.name).await? else { continue };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (ds, state) = match manifest::read(root, &path, None).await {
                Ok(read) => read,
                // Its files are going (a delete removing the graph's data
                // ran before this retry): nothing can read or write it.
                Err(Error::Unreadable { .. }) => break,
                Err(e) => return Err(e),
            };
            let current = state.fence.as_ref().map(|f| f.location.as_str()).unwrap_or(FENCE_LIVE);
            let setter = state.fence.as_ref().map(|f| f.op_id.as_str()).unwrap_or("");
            // Done already; or a branch whose creation never finished (it
            // takes no reads or writes).
            if (current == to && (setter == op_id || to == FENCE_LIVE)) || path.fork() == Some(state.version) {
                break;
            }
            let generation = state.fence.as_ref().map(|f| f.version).unwrap_or(0);
            let update = TableUpdate { key: FENCE_KEY.to_string(), expected: generation, new_version: generation + 1, location: to.to_string(), row_count: 0 };
            match manifest::publish(root, &path, ds, state, &[update], &[], op_id, &draft(op_id, to)).await {
                Ok(_) => break,
                // A write on the branch landed first: look again.
                Err(Error::ExpectedVersionMismatch { .. }) if attempts < 16 => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn draft(op_id: &str, to: &str) -> CommitDraft {
    CommitDraft {
        actor: SYSTEM_ACTOR.into(),
        kind: "fence".into(),
        message: Some(format!("{} by catalog operation {op_id}", if to == FENCE_RETIRED { "retired" } else { "restored" })),
        ..Default::default()
    }
}

async fn set_main(root: &Root, op_id: &str, to: &str, condition: Condition) -> Result<()> {
    injected_fault(root.uri())?;
    const MAX_ATTEMPTS: usize = 16;
    for _ in 0..MAX_ATTEMPTS {
        let (ds, state) = manifest::read(root, &crate::storage::branch::BranchPath::main(), None).await?;
        let current = state.fence.as_ref().map(|f| f.location.as_str()).unwrap_or(FENCE_LIVE);
        let generation = state.fence.as_ref().map(|f| f.version).unwrap_or(0);
        let setter = state.fence.as_ref().map(|f| f.op_id.as_str()).unwrap_or("");
        let moved = |reason: String| Err(Error::FenceMoved { root: root.uri().to_string(), reason });
        match &condition {
            // Already where this operation put it.
            _ if current == to && setter == op_id => return Ok(()),
            Condition::Generation(None) if current == to => return Ok(()),
            Condition::Generation(Some(g)) if *g != generation => {
                return moved(format!("its generation is {generation}, not {g} as when this operation began (set by {setter})"));
            }
            Condition::RetiredBy(_) if current == to => return Ok(()),
            Condition::RetiredBy(Some(by)) if setter != by => {
                return moved(format!("it was retired by operation {setter}, not {by}"));
            }
            _ => {}
        }
        let update = TableUpdate { key: FENCE_KEY.to_string(), expected: generation, new_version: generation + 1, location: to.to_string(), row_count: 0 };
        match manifest::publish(root, &crate::storage::branch::BranchPath::main(), ds, state, &[update], &[], op_id, &draft(op_id, to)).await {
            Ok(_) => return Ok(()),
            // Someone else moved the fence: look again.
            Err(Error::ExpectedVersionMismatch { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::storage(root.child_uri(layout::MANIFEST), "fence publish kept losing races; try again"))
}
