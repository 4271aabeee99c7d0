//! The write protocol every change to a graph follows (loads and mutations;
//! docs/dev/storage.md describes it for readers, this is the code):
//!
//! 1. stage: each touched table gets an uncommitted Lance transaction built
//!    against the version the manifest publishes (nothing visible, nothing
//!    committed);
//! 2. sidecar: `__recovery/<op-id>.json` names the tables and their versions;
//! 3. commit: each table commits pinned at `before + 1`, tagged with the op id;
//! 4. publish: one `__manifest` commit carrying every table's expected version;
//! 5. finish: the sidecar is removed.
//!
//! A lost race at step 3 rolls back what this write committed and returns
//! `ExpectedVersionMismatch`. A crash anywhere in 3-5 is repaired from the
//! sidecar by the next open for write.

use std::sync::Arc;

use arrow_array::RecordBatch;
use lance::Dataset;
use lance::dataset::transaction::{Operation, Transaction, UpdateMode};
use lance::dataset::{InsertBuilder, WriteMode};

use super::sidecar::{Sidecar, SidecarTable, WriteKind};
use super::{Graph, recovery};
use crate::error::{Error, Result};
use crate::failpoint;
use crate::storage::commit::{CommitDraft, TypeCounts};
use crate::storage::manifest::{self, ManifestState, TableUpdate};
use crate::storage::table;

/// Who writes, why, and on what condition: the server gives the token's
/// actor, the CLI `--as` (or this process's actor), `--message` and
/// `--if-commit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// The commit's actor; this process's ([`process_actor`]) when `None`.
    ///
    /// [`process_actor`]: crate::storage::commit::process_actor
    pub actor: Option<String>,
    /// The commit's message.
    pub message: Option<String>,
    /// Write only if the head is this commit (`HeadMoved` otherwise); such
    /// a write is never run again after a lost race.
    pub if_commit: Option<String>,
}

/// The longest commit message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// The longest actor name, in bytes.
pub const MAX_ACTOR_BYTES: usize = 256;

impl WriteOptions {
    /// Refuses a message or actor that is too long or holds control
    /// characters, and an `if_commit` that is no commit id.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, why: String| Err(Error::InvalidArgument(format!("{what}: {why}")));
        if let Some(m) = &self.message {
            if m.len() > MAX_MESSAGE_BYTES {
                return bad("message", format!("{} bytes, at most {MAX_MESSAGE_BYTES}", m.len()));
            }
            if m.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return bad("message", "control characters other than newline and tab are not allowed".into());
            }
        }
        if let Some(a) = &self.actor
            && (a.is_empty() || a.len() > MAX_ACTOR_BYTES || a.chars().any(char::is_control))
        {
            return bad("actor", format!("1 to {MAX_ACTOR_BYTES} bytes without control characters"));
        }
        if let Some(c) = &self.if_commit
            && crate::storage::commit::version_of(c).is_none()
        {
            return bad("if_commit", format!("`{}` is not a commit id", c.chars().take(64).collect::<String>()));
        }
        Ok(())
    }

    /// The commit a write of `kind` with these options makes.
    pub(crate) fn draft(&self, kind: &str, changes: std::collections::BTreeMap<String, TypeCounts>) -> CommitDraft {
        CommitDraft {
            actor: self.actor.clone().unwrap_or_else(crate::storage::commit::process_actor),
            kind: kind.to_string(),
            message: self.message.clone(),
            changes,
            if_parent: self.if_commit.clone(),
            merged: None,
        }
    }
}

/// A second transaction a write commits on a table right after its first,
/// built from the table as the first left it (`optimize` rebuilds the
/// indexes of the fragments it just rewrote). Both versions carry the
/// write's op id; the manifest publishes the second.
pub type FollowUp = Box<dyn FnOnce(Arc<Dataset>) -> futures::future::BoxFuture<'static, Result<Transaction>> + Send>;

/// One table's staged change.
pub struct StagedWrite {
    pub key: String,
    pub location: String,
    /// The table opened at the version the manifest publishes.
    pub base: Arc<Dataset>,
    pub txn: Transaction,
    /// What to commit after `txn`, if anything.
    pub then: Option<FollowUp>,
}

impl StagedWrite {
    /// A change of one transaction.
    pub fn new(key: String, location: String, base: Arc<Dataset>, txn: Transaction) -> StagedWrite {
        StagedWrite { key, location, base, txn, then: None }
    }

    /// How many table versions this change commits.
    fn steps(&self) -> u64 {
        1 + self.then.is_some() as u64
    }
}

/// Commits and publishes `staged` as one atomic change of `graph`, which
/// then knows the published `__manifest` as its head (its next snapshot
/// reads nothing more unless another writer published since).
pub async fn commit_and_publish(
    graph: &Graph,
    manifest_ds: Arc<Dataset>,
    mstate: ManifestState,
    kind: WriteKind,
    staged: Vec<StagedWrite>,
    reads: &[(String, u64)],
    commit: CommitDraft,
) -> Result<ManifestState> {
    commit_and_publish_with(graph, manifest_ds, mstate, kind, staged, reads, commit, Vec::new()).await
}

/// [`commit_and_publish`] that also publishes `extra` manifest rows, rows
/// that are not a staged table's new version (a schema change's schema row,
/// new and renamed types, tombstones), recorded in the sidecar so that a
/// roll forward publishes them too.
#[allow(clippy::too_many_arguments)]
pub async fn commit_and_publish_with(
    graph: &Graph,
    manifest_ds: Arc<Dataset>,
    mstate: ManifestState,
    kind: WriteKind,
    staged: Vec<StagedWrite>,
    reads: &[(String, u64)],
    commit: CommitDraft,
    extra: Vec<TableUpdate>,
) -> Result<ManifestState> {
    let root = graph.root();
    // A table is written where the manifest publishes it: on a branch, the
    // branch's own dataset of it.
    let mut staged = staged;
    for s in &mut staged {
        if let Some(e) = mstate.tables.get(&s.key) {
            s.location = e.location.clone();
        }
    }
    // No precheck of versions here: the pinned table commits and the
    // manifest publish are the one authority on a lost race.
    let op_id = ulid::Ulid::new().to_string();
    let folding = kind == WriteKind::Fold;
    let mut sidecar = Sidecar::new(
        &op_id,
        kind,
        &graph.branch().name,
        mstate.version,
        staged.iter().map(|s| SidecarTable { key: s.key.clone(), location: s.location.clone(), before: s.base.version().version, steps: s.steps() }).collect(),
        commit,
    );
    sidecar.schema_generation = Some(mstate.schema_generation());
    sidecar.extra = extra;
    sidecar.write(root).await?;
    failpoint::hit("write.after_sidecar");

    let mut updates = Vec::new();
    for (i, s) in staged.into_iter().enumerate() {
        let before = s.base.version().version;
        let then = s.then;
        let committed = match table::commit_pinned(s.base, s.txn, &s.key, &op_id, "write").await {
            Ok(ds) => ds,
            // Lost the first table's race: this write committed nothing.
            Err(e @ Error::ExpectedVersionMismatch { .. }) if i == 0 => {
                sidecar.remove(root).await?;
                return Err(e);
            }
            Err(e) => {
                // Undo whatever this write committed, then report the race.
                recovery::recover(root, &sidecar, true).await?;
                return Err(e);
            }
        };
        if i == 0 {
            failpoint::hit("write.after_first_table_commit");
            if folding {
                failpoint::hit("fold.after_table_commit");
            }
        }
        let committed = match then {
            None => committed,
            Some(then) => {
                failpoint::hit("write.before_second_step");
                let second = match then(Arc::new(committed.clone())).await {
                    Ok(txn) => table::commit_pinned(Arc::new(committed), txn, &s.key, &op_id, "write").await,
                    Err(e) => Err(e),
                };
                match second {
                    Ok(ds) => ds,
                    Err(e) => {
                        recovery::recover(root, &sidecar, true).await?;
                        return Err(e);
                    }
                }
            }
        };
        let row_count = committed.count_rows(None).await.map_err(|e| Error::lance(&s.key, e))? as u64;
        // The reads after this write find the version open (datasets are
        // small: metadata, not charged). Before the publish, but only
        // readers of a snapshot that publishes it look this version up.
        let committed = Arc::new(committed);
        graph.table_cache().put_derived(crate::session::cache::DATASET, s.location.clone(), committed.version().version, committed.clone(), 0);
        updates.push(TableUpdate { key: s.key, expected: before, new_version: committed.version().version, location: s.location, row_count });
    }
    failpoint::hit("write.before_publish");
    updates.extend(sidecar.extra.iter().cloned());
    let touched: std::collections::HashSet<&str> = updates.iter().map(|u| u.key.as_str()).collect();
    let reads: Vec<(String, u64)> = reads.iter().filter(|(k, _)| !touched.contains(k.as_str())).cloned().collect();
    let base_version = mstate.version;
    let published = match manifest::publish(root, graph.branch(), manifest_ds, mstate, &updates, &reads, &op_id, &sidecar.commit_draft()).await {
        Ok((ds, state)) => {
            graph.remember_manifest(ds, state.clone()).await;
            state
        }
        Err(e @ (Error::ExpectedVersionMismatch { .. } | Error::HeadMoved { .. })) => {
            // Another process's recovery may have found this write's
            // sidecar and published it for us (a roll-forward publishes
            // under this write's op id). Then the write is visible: report
            // it as done, never as a conflict a client would retry.
            if let Some(done) = manifest::find_publish(root, graph.branch(), base_version, &op_id).await? {
                sidecar.remove(root).await?;
                return Ok(done);
            }
            // A table this write read or wrote moved: it will never publish.
            recovery::recover(root, &sidecar, true).await?;
            return Err(e);
        }
        Err(e @ Error::GraphRetired { .. }) => {
            // Fenced by a delete: it will never publish. Undo it (the
            // roll-back passes the fence); the graph's data may already be
            // going away, so a failure here changes nothing for the caller.
            let _ = recovery::recover(root, &sidecar, true).await;
            return Err(e);
        }
        // Outcome unknown: the sidecar stays for recovery to decide.
        Err(e) => return Err(Error::PublishOutcomeUnknown { op_id, source: Box::new(e) }),
    };
    failpoint::hit("write.after_publish");
    sidecar.remove(root).await?;
    Ok(published)
}

/// One transaction on `base` (table `key`) that appends `new_rows` and
/// deletes the rows at the `removed` row addresses: how mutations and
/// merges stage their change of a table.
pub(crate) async fn stage_rows(
    graph: &Graph,
    key: &str,
    base: &Arc<Dataset>,
    new_rows: Option<RecordBatch>,
    removed: impl IntoIterator<Item = u64>,
) -> Result<Transaction> {
    let params = graph.session().write_params(WriteMode::Append);
    let append = match new_rows {
        Some(b) => Some(InsertBuilder::new(base.clone()).with_params(&params).execute_uncommitted(vec![b]).await.map_err(|e| Error::lance(key, e))?),
        None => None,
    };
    // The removed rows' addresses, per fragment.
    let mut by_fragment: std::collections::BTreeMap<u64, Vec<u32>> = std::collections::BTreeMap::new();
    for a in removed {
        by_fragment.entry(a >> 32).or_default().push((a & 0xffff_ffff) as u32);
    }
    if by_fragment.is_empty() {
        return append.ok_or_else(|| Error::InvalidArgument(format!("{key}: a change with no rows to write or remove")));
    }
    let mut new_fragments = Vec::new();
    if let Some(txn) = append {
        match txn.operation {
            Operation::Append { fragments } => new_fragments = fragments,
            other => return Err(Error::lance(key, format!("unexpected staged operation {other}"))),
        }
    }
    for offsets in by_fragment.values_mut() {
        offsets.sort_unstable();
    }
    let mut updated_fragments = Vec::new();
    let mut removed_fragment_ids = Vec::new();
    for f in base.get_fragments() {
        let id = f.id() as u64;
        let Some(offsets) = by_fragment.remove(&id) else { continue };
        match f.extend_deletions(offsets).await.map_err(|e| Error::lance(key, e))? {
            Some(updated) => updated_fragments.push(updated.metadata().clone()),
            None => removed_fragment_ids.push(id),
        }
    }
    let op = Operation::Update {
        removed_fragment_ids,
        updated_fragments,
        new_fragments,
        fields_modified: vec![],
        compacted_sstables: vec![],
        fields_for_preserving_frag_bitmap: vec![],
        update_mode: Some(UpdateMode::RewriteRows),
        inserted_rows_filter: None,
        updated_fragment_offsets: None,
    };
    Ok(Transaction::new(base.version().version, op, None))
}
