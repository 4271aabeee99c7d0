//! The base of a merge: the newest commit both branches contain.
//!
//! Two branches part where their lines of parents meet: on the nearest
//! branch both descend from (or one of them), at the older of the two
//! versions they reach it at (the *split*). After that, the only commits
//! both contain come through earlier merges: the newest commit of the
//! source a merge into the target took (`h`), and the newest commit of the
//! target a merge into the source took (`g`). The base is the newest of the
//! split, `h` and `g`; when `h` and `g` are not one after the other (each
//! branch merged the other before seeing the other's merge), `h` is taken,
//! an older base than the best one, which can only report more conflicts,
//! never lose a change. Finding `h` and `g` reads the commits of each branch
//! since the split, one small read each, at most [`MAX_WALK`].

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::storage::branch::BranchPath;
use crate::storage::commit::{self, Commit};
use crate::storage::manifest::{self, ManifestState};

/// The most commits of one branch read looking for earlier merges.
pub const MAX_WALK: u64 = 10_000;

/// One stretch of a branch's line: manifest versions `from..=to` of `branch`.
#[derive(Debug, Clone)]
pub(super) struct Segment {
    pub branch: Arc<BranchPath>,
    pub from: u64,
    pub to: u64,
}

/// Where a merge starts from.
pub(super) struct Base {
    pub commit: Commit,
    /// The graph as the base commit publishes it.
    pub state: ManifestState,
    /// The stretches of the source's and the target's lines since the
    /// split: every entity changed on either side since the base is
    /// changed in one of them.
    pub source_line: Vec<Segment>,
    pub target_line: Vec<Segment>,
}

/// `(branch, version)` for `x` and each of its parents: how far each line
/// reaches on that branch (`head` on `x` itself, the fork on a parent).
fn reach(x: &Arc<BranchPath>, head: u64) -> Vec<(Arc<BranchPath>, u64)> {
    let mut out = vec![(x.clone(), head)];
    let mut cur = x.clone();
    while let Some((p, fork)) = cur.parent.clone() {
        out.push((p.clone(), fork));
        cur = p;
    }
    out
}

/// The stretches of `x`'s line from version `split` of branch `common` up
/// to `head`.
fn line(x: &Arc<BranchPath>, head: u64, common: &str, split: u64) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut to = head;
    let mut cur = x.clone();
    loop {
        if cur.name == common {
            if split < to {
                out.push(Segment { branch: cur.clone(), from: split, to });
            }
            return out;
        }
        let Some((p, fork)) = cur.parent.clone() else { return out };
        if fork < to {
            out.push(Segment { branch: cur.clone(), from: fork, to });
        }
        to = fork;
        cur = p;
    }
}

/// The newest merge commit on `on`'s own versions above `floor` whose second
/// parent is a commit of `other`: that commit and the merge's version.
async fn last_merge_from(on: &Graph, head: &ManifestState, floor: u64, other: &Graph, other_head: u64) -> Result<Option<(Commit, u64)>> {
    let ds = on.snapshot().await?.manifest_ds();
    let low = floor.max(on.branch().fork().unwrap_or(0)).max(head.version.saturating_sub(MAX_WALK));
    let mut v = head.version;
    while v > low {
        let Some(c) = manifest::commit_at(on.root(), on.branch(), &ds, v).await? else { break };
        if c.kind == super::MERGE_KIND
            && let Some(p) = c.parents.get(1)
            && let Some((code, pv)) = commit::locate(p)
            && pv <= other_head
            && other.branch().owner_of(pv).code() == code
            && let Ok(found) = other.commit(p).await
        {
            return Ok(Some((found, v)));
        }
        v -= 1;
    }
    Ok(None)
}

/// The base of merging `source` (at `s_head`) into `target` (at `t_head`).
pub(super) async fn find(source: &Graph, s_head: &ManifestState, target: &Graph, t_head: &ManifestState) -> Result<Base> {
    let s_path = Arc::new(source.branch().clone());
    let t_path = Arc::new(target.branch().clone());
    let s_reach = reach(&s_path, s_head.version);
    let t_reach = reach(&t_path, t_head.version);
    let refused = |reason: &str| Error::MergeRefused { source_branch: s_path.name.clone(), target: t_path.name.clone(), reason: reason.to_string() };
    let Some((common, vs, vt)) = s_reach.iter().find_map(|(b, vs)| t_reach.iter().find(|(c, _)| c.name == b.name).map(|(c, vt)| (c.clone(), *vs, *vt))) else {
        return Err(refused("the branches have no common commit"));
    };
    let split = vs.min(vt);
    let source_line = line(&s_path, s_head.version, &common.name, split);
    let target_line = line(&t_path, t_head.version, &common.name, split);

    // Earlier merges between the two, newest first on each side.
    let h = last_merge_from(target, t_head, if common.name == t_path.name { split } else { 0 }, source, s_head.version).await?;
    let g = last_merge_from(source, s_head, if common.name == s_path.name { split } else { 0 }, target, t_head.version).await?;
    let (commit, on_source) = match (h, g) {
        (None, None) => {
            let owner = if common.name == t_path.name { target } else { source };
            let ds = owner.snapshot().await?.manifest_ds();
            let c = manifest::commit_at(owner.root(), owner.branch(), &ds, split)
                .await?
                .ok_or_else(|| refused(&format!("their common commit (manifest version {split} of `{}`) was removed by cleanup", common.name)))?;
            (c, common.name == s_path.name)
        }
        (Some((h, _)), None) => (h, true),
        (None, Some((g, _))) => (g, false),
        (Some((h, m_t)), Some((g, _))) => {
            // `g` came after the merge that took `h`: it contains `h`.
            // Otherwise `h` (newer than `g`, or neither contains the other).
            if g.manifest_version >= m_t { (g, false) } else { (h, true) }
        }
    };
    let owner = if on_source { source } else { target };
    let (_, state) =
        manifest::read(owner.root(), owner.branch(), Some(commit.manifest_version)).await.map_err(|_| Error::CommitPruned { id: commit.id.clone() })?;
    Ok(Base { commit, state, source_line, target_line })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_meet_where_they_part() {
        let main = BranchPath::main();
        let a = Arc::new(BranchPath { name: "a".into(), parent: Some((main.clone(), 5)) });
        let b = Arc::new(BranchPath { name: "b".into(), parent: Some((a.clone(), 9)) });
        let l = line(&b, 12, "main", 5);
        let got: Vec<(String, u64, u64)> = l.iter().map(|s| (s.branch.name.clone(), s.from, s.to)).collect();
        assert_eq!(got, vec![("b".into(), 9, 12), ("a".into(), 5, 9)]);
        assert!(line(&main, 5, "main", 5).is_empty());
        assert_eq!(reach(&b, 12).len(), 3);
    }
}
