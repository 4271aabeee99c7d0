//! Staging: rows are written as data files before anything is committed.
//!
//! - `Direct` (append, overwrite): uncommitted fragments inside the target
//!   table, written in the background while parsing goes on; committed later
//!   as one Append/Overwrite transaction, or deleted if the load is rejected.
//! - `Scratch` (merge): a private dataset under `__staging/<load-id>/`,
//!   read back in order at commit time so duplicates resolve last-wins
//!   before Lance's merge-insert sees them; always deleted afterwards.

use std::sync::Arc;

use arrow_array::RecordBatch;
use lance::Dataset;
use lance::dataset::transaction::Operation;
use lance::dataset::{InsertBuilder, WriteMode, WriteParams};
use lance_table::format::Fragment;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::session::Session;
use crate::storage::{Root, table};

/// Background writes allowed in flight per table.
const IN_FLIGHT: usize = 2;

pub enum Stager {
    Direct { key: String, location: String, ds: Arc<Dataset>, pending: Vec<JoinHandle<Result<Vec<Fragment>>>>, fragments: Vec<Fragment> },
    Scratch { key: String, uri: String, written: bool, session: Session },
}

/// Write parameters of a staged write: the dataset's Lance session, no cleanup.
fn params(mode: WriteMode, session: Arc<lance::session::Session>) -> WriteParams {
    WriteParams { mode, skip_auto_cleanup: true, session: Some(session), ..Default::default() }
}

impl Stager {
    pub async fn push(&mut self, batch: RecordBatch) -> Result<()> {
        match self {
            Stager::Direct { key, ds, pending, fragments, .. } => {
                if pending.len() >= IN_FLIGHT {
                    let first = pending.remove(0);
                    fragments.extend(first.await.map_err(|e| Error::lance(key.as_str(), e))??);
                }
                let ds = ds.clone();
                let key = key.clone();
                pending.push(tokio::spawn(async move {
                    let lance_session = ds.session();
                    let txn = InsertBuilder::new(ds)
                        .with_params(&params(WriteMode::Append, lance_session))
                        .execute_uncommitted(vec![batch])
                        .await
                        .map_err(|e| Error::lance(&key, e))?;
                    match txn.operation {
                        Operation::Append { fragments } => Ok(fragments),
                        other => Err(Error::lance(&key, format!("unexpected staged operation {other}"))),
                    }
                }));
                Ok(())
            }
            Stager::Scratch { key, uri, written, session, .. } => {
                let mode = if *written { WriteMode::Append } else { WriteMode::Create };
                let schema = batch.schema();
                let reader = arrow_array::RecordBatchIterator::new(vec![Ok(batch)], schema);
                Dataset::write(reader, uri.as_str(), Some(session.write_params(mode))).await.map_err(|e| Error::lance(key.as_str(), e))?;
                *written = true;
                Ok(())
            }
        }
    }

    /// Waits for background writes; returns the staged fragments (Direct).
    pub async fn finish(&mut self) -> Result<Vec<Fragment>> {
        match self {
            Stager::Direct { key, pending, fragments, .. } => {
                let mut first_err = None;
                for h in pending.drain(..) {
                    match h.await.map_err(|e| Error::lance(key.as_str(), e)).and_then(|r| r) {
                        Ok(f) => fragments.extend(f),
                        Err(e) => first_err = first_err.or(Some(e)),
                    }
                }
                match first_err {
                    Some(e) => Err(e),
                    None => Ok(fragments.clone()),
                }
            }
            Stager::Scratch { .. } => Ok(vec![]),
        }
    }

    /// Deletes everything this stager wrote (never committed anywhere).
    pub async fn discard(&mut self, root: &Root) {
        let _ = self.finish().await;
        match self {
            Stager::Direct { location, fragments, .. } => {
                for f in fragments.drain(..) {
                    for file in &f.files {
                        let _ = root.delete(&format!("{location}/data/{}", file.path)).await;
                    }
                }
            }
            Stager::Scratch { .. } => {}
        }
    }

    /// The staged files now belong to a transaction handed to the write
    /// protocol: from here on only recovery decides their fate, so a later
    /// `discard` must not delete them.
    pub fn hand_off(&mut self) {
        if let Stager::Direct { fragments, .. } = self {
            fragments.clear();
        }
    }

    /// Merge: the scratch dataset this stager wrote, if it wrote any rows.
    pub async fn scratch(&self) -> Result<Option<Dataset>> {
        match self {
            Stager::Scratch { uri, written: true, session, .. } => Ok(Some(table::open(session, uri, None).await?)),
            _ => Ok(None),
        }
    }
}
