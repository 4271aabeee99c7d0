//! Turning a batch's changes into one staged Lance transaction per table,
//! committed and published by the write protocol (`graph::write`).

use std::collections::BTreeMap;

use arrow_array::RecordBatch;

use super::{Change, Mutator};
use crate::error::Result;
use crate::graph::write::{StagedWrite, commit_and_publish, stage_rows};
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
        let new_rows: Option<RecordBatch> = match batch.is_empty() {
            true => None,
            false => Some(crate::embed::fill(self.view.graph, t, batch.finish()).await?),
        };
        let txn = stage_rows(self.view.graph, &key, &base, new_rows, c.removed.values().copied()).await?;
        Ok(StagedWrite::new(key, t.location(), base, txn))
    }
}
