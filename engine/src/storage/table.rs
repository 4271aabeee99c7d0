//! One Lance dataset per node or edge type (and `__manifest`): create, open
//! at a pinned version, and commit through the pinned commit.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use lance::Dataset;
use lance::dataset::builder::DatasetBuilder;
use lance::dataset::transaction::{Operation, Transaction};
use lance::dataset::{CommitBuilder, WriteMode, WriteParams};
use lance_table::io::commit::commit_handler_from_url;

use super::pinned_commit::PinnedCommitHandler;
use crate::error::{Error, Result};
use crate::session::Session;

/// Transaction property naming the omnigraph write that made a version.
pub const PROP_OP_ID: &str = "omnigraph.op_id";
/// Transaction property: `write` or `rollback`.
pub const PROP_ROLE: &str = "omnigraph.role";

/// Creates an empty dataset (version 1) with `schema`.
pub async fn create_empty(session: &Session, uri: &str, schema: SchemaRef, op_id: &str) -> Result<Dataset> {
    let reader = RecordBatchIterator::new(Vec::<std::result::Result<RecordBatch, arrow_schema::ArrowError>>::new(), schema);
    let params = WriteParams {
        transaction_properties: Some(Arc::new(HashMap::from([(PROP_OP_ID.to_string(), op_id.to_string()), (PROP_ROLE.to_string(), "create".to_string())]))),
        ..session.write_params(WriteMode::Create)
    };
    Dataset::write(reader, uri, Some(params)).await.map_err(|e| Error::lance(uri, e))
}

/// Opens `uri` at `version` (the head when `None`).
pub async fn open(session: &Session, uri: &str, version: Option<u64>) -> Result<Dataset> {
    let mut b = DatasetBuilder::from_uri(uri).with_session(session.lance().clone());
    if let Some(v) = version {
        b = b.with_version(v);
    }
    b.load().await.map_err(|e| Error::lance_open(uri, e))
}

/// `uri` opened for reading only (searches), through the session's read
/// Lance session: never write through the handle (see `Session::lance_reads`).
pub async fn open_for_reading(session: &Session, uri: &str, version: u64) -> Result<Dataset> {
    DatasetBuilder::from_uri(uri).with_session(session.lance_reads().clone()).with_version(version).load().await.map_err(|e| Error::lance_open(uri, e))
}

/// The newest committed version of `uri`, published or not.
pub async fn head_version(session: &Session, uri: &str) -> Result<u64> {
    let ds = open(session, uri, None).await?;
    Ok(ds.version().version)
}

/// The omnigraph op id and role recorded on `version`, if any.
pub async fn op_tag(ds: &Dataset, version: u64) -> Result<Option<(String, String)>> {
    let uri = ds.uri().to_string();
    let txn = ds.read_transaction_by_version(version).await.map_err(|e| Error::lance(&uri, e))?;
    Ok(txn.and_then(|t| {
        let props = t.transaction_properties?;
        Some((props.get(PROP_OP_ID)?.clone(), props.get(PROP_ROLE).cloned().unwrap_or_default()))
    }))
}

/// Commits `txn` on top of `ds` (opened at the pinned version) so that it
/// lands at exactly `ds.version + 1`, tagged with `op_id` and `role`.
/// A lost race is `ExpectedVersionMismatch { table, expected, actual }`.
pub async fn commit_pinned(ds: Arc<Dataset>, txn: Transaction, table: &str, op_id: &str, role: &str) -> Result<Dataset> {
    commit_pinned_with(ds, txn, table, op_id, role, None).await
}

/// [`commit_pinned`] that also records `extra` (a property name and value)
/// on the version: `__manifest` versions record their commit this way.
pub async fn commit_pinned_with(
    ds: Arc<Dataset>,
    mut txn: Transaction,
    table: &str,
    op_id: &str,
    role: &str,
    extra: Option<(&str, String)>,
) -> Result<Dataset> {
    let read = ds.version().version;
    let uri = ds.uri().to_string();
    txn.read_version = read;
    let mut props = HashMap::from([(PROP_OP_ID.to_string(), op_id.to_string()), (PROP_ROLE.to_string(), role.to_string())]);
    if let Some((k, v)) = extra {
        props.insert(k.to_string(), v);
    }
    txn.transaction_properties = Some(Arc::new(props));
    let inner = commit_handler_from_url(&uri, &None).await.map_err(|e| Error::lance(&uri, e))?;
    let handler = Arc::new(PinnedCommitHandler::new(inner, read + 1));
    let res = CommitBuilder::new(ds.clone()).with_commit_handler(handler).with_max_retries(0).with_skip_auto_cleanup(true).execute(txn).await;
    match res {
        Ok(new) => Ok(new),
        Err(e) if is_conflict(&e) => {
            let actual = ds.latest_version_id().await.unwrap_or(read);
            Err(Error::ExpectedVersionMismatch { table: table.to_string(), expected: read, actual })
        }
        Err(e) => Err(Error::lance(table, e)),
    }
}

/// Commits a restore of `version` on top of `ds` (a roll back).
pub async fn commit_restore(ds: Arc<Dataset>, version: u64, table: &str, op_id: &str) -> Result<Dataset> {
    let txn = Transaction::new(ds.version().version, Operation::Restore { version }, None);
    commit_pinned(ds, txn, table, op_id, "rollback").await
}

fn is_conflict(e: &lance::Error) -> bool {
    matches!(
        e,
        lance::Error::CommitConflict { .. }
            | lance::Error::RetryableCommitConflict { .. }
            | lance::Error::IncompatibleTransaction { .. }
            | lance::Error::TooMuchWriteContention { .. }
    )
}
