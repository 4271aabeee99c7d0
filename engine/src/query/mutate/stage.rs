//! Turning a batch's changes into one staged Lance transaction per table,
//! committed and published by the write protocol (`graph::write`).

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use lance::dataset::transaction::{Operation, Transaction, UpdateMode};
use lance::dataset::{InsertBuilder, WriteMode};

use super::{Change, Mutator};
use crate::error::{Error, Result};
use crate::graph::write::{StagedWrite, commit_and_publish};
use crate::graph::{Graph, WriteOptions};
use crate::load::builder::TypeBatch;

impl<'a, 'g> Mutator<'a, 'g> {
    /// Publishes every change as one write, a commit made with `opts`; the
    /// manifest version and commit that hold them (the snapshot's when
    /// there is nothing to write).
    pub(super) async fn commit(&mut self, graph: &Graph, opts: &WriteOptions) -> Result<(u64, String)> {
        let snap = &self.view.snap;
        let mut staged = Vec::new();
        let mut counts = BTreeMap::new();
        for c in self.changes.values().filter(|c| !c.is_empty()) {
            self.consulted.insert(c.t.table_key());
            staged.push(self.stage(c).await?);
            counts.insert(c.t.name.clone(), c.counts());
        }
        if staged.is_empty() {
            return Ok((snap.manifest_version, snap.commit.id.clone()));
        }
        let reads: Vec<(String, u64)> = snap.tables.iter().filter(|t| self.consulted.contains(&t.key)).map(|t| (t.key.clone(), t.version)).collect();
        let kind = crate::graph::sidecar::WriteKind::Mutation;
        let draft = opts.draft(kind.commit_kind(), counts);
        let published = commit_and_publish(graph, snap.manifest_ds(), snap.manifest_state(), kind, staged, &reads, draft).await?;
        Ok((published.version, published.commit.id))
    }

    async fn stage(&self, c: &Change<'g>) -> Result<StagedWrite> {
        let t = c.t;
        let key = t.table_key();
        let base = self.view.dataset(t).await?;
        let mut batch = TypeBatch::new(t);
        for row in c.live() {
            batch.push(&row.id, row.ends.as_ref().map(|(s, d)| (s.as_str(), d.as_str())), &row.cells);
        }
        let new_rows: Option<RecordBatch> = (!batch.is_empty()).then(|| batch.finish());
        let params = self.view.graph.session().write_params(WriteMode::Append);
        let mut new_fragments = Vec::new();
        let append = match &new_rows {
            Some(b) => {
                Some(InsertBuilder::new(base.clone()).with_params(&params).execute_uncommitted(vec![b.clone()]).await.map_err(|e| Error::lance(&key, e))?)
            }
            None => None,
        };
        if c.removed.is_empty() {
            let txn = append.expect("a change without removals has rows");
            return Ok(StagedWrite::new(key, t.location(), base, txn));
        }
        if let Some(txn) = append {
            match txn.operation {
                Operation::Append { fragments } => new_fragments = fragments,
                other => return Err(Error::lance(&key, format!("unexpected staged operation {other}"))),
            }
        }
        // The removed rows' addresses (read with them), per fragment.
        let mut by_fragment: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        for a in c.removed.values() {
            by_fragment.entry(a >> 32).or_default().push((a & 0xffff_ffff) as u32);
        }
        for offsets in by_fragment.values_mut() {
            offsets.sort_unstable();
        }
        let mut updated_fragments = Vec::new();
        let mut removed_fragment_ids = Vec::new();
        for f in base.get_fragments() {
            let id = f.id() as u64;
            let Some(offsets) = by_fragment.remove(&id) else { continue };
            match f.extend_deletions(offsets).await.map_err(|e| Error::lance(&key, e))? {
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
        let txn = Transaction::new(base.version().version, op, None);
        Ok(StagedWrite::new(key, t.location(), base, txn))
    }
}
