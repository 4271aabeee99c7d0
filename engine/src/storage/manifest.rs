//! `__manifest`: the one publish point of a graph.
//!
//! A Lance dataset with one row per published table version. The latest row
//! per table key (highest table version) is the graph's snapshot. A write
//! publishes by appending its rows in one commit pinned to the manifest
//! version it read (see [`super::pinned_commit`]); before each attempt it
//! checks that every table it touched is still at the version it expected.
//! If another publish moved the manifest but none of our tables, the same
//! staged rows are retried on the new head; if one of our tables moved, the
//! publish fails with `ExpectedVersionMismatch` and nothing becomes visible.
//! Every [`CHECKPOINT_FRAGMENTS`] publishes, the publish is a checkpoint
//! instead: a pinned overwrite holding one row per table (the genesis id on
//! each), so the cost of reading a snapshot does not grow with history.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, RecordBatchIterator, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use futures::TryStreamExt;
use lance::Dataset;
use lance::dataset::transaction::Transaction;
use lance::dataset::{InsertBuilder, WriteMode, WriteParams};
use serde::Serialize;

use super::Root;
use super::branch::BranchPath;
use super::commit::{Commit, CommitDraft, PROP_COMMIT};
use super::table::{self, PROP_OP_ID, PROP_ROLE};
use crate::error::{Error, Result};
use crate::failpoint;

pub const MANIFEST_TABLE: &str = "__manifest";
pub const MAIN_BRANCH: &str = "main";

fn manifest_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("table_key", DataType::Utf8, false),
        Field::new("table_version", DataType::UInt64, false),
        Field::new("branch", DataType::Utf8, false),
        Field::new("location", DataType::Utf8, false),
        Field::new("row_count", DataType::UInt64, false),
        Field::new("op_id", DataType::Utf8, false),
        Field::new("genesis_id", DataType::Utf8, true),
        Field::new("published_at_us", DataType::Int64, false),
    ]))
}

/// A table as the manifest publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableEntry {
    pub key: String,
    pub version: u64,
    pub location: String,
    pub row_count: u64,
    pub op_id: String,
}

/// What the manifest says at one of its versions.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestState {
    pub version: u64,
    pub genesis_id: Option<String>,
    pub tables: BTreeMap<String, TableEntry>,
    /// The latest fence row, if the graph was ever fenced (see
    /// `graph::fence`): `location` is [`FENCE_RETIRED`] or [`FENCE_LIVE`],
    /// `version` the fence generation, `op_id` the catalog operation.
    pub fence: Option<TableEntry>,
    /// The commit this version records (see `storage::commit`).
    pub commit: Commit,
    /// The schema row, if the schema was ever changed after `init` (see
    /// `graph::schema_store`): `location` is the stored schema file,
    /// `version` the schema generation. `None`: the schema `init` wrote.
    pub schema: Option<TableEntry>,
    /// The stored-queries row, if queries were ever stored (see
    /// `stored`): `location` is the catalog file, `version` its
    /// generation. `None`: no stored queries.
    pub queries: Option<TableEntry>,
}

/// The manifest row key of the fence. Not a table: no dataset behind it.
pub const FENCE_KEY: &str = "__fence";
pub const FENCE_RETIRED: &str = "retired";
pub const FENCE_LIVE: &str = "live";
/// The manifest row key of the schema a commit reads and writes with. Not a
/// table either: its location is a schema file under `_schemas/`.
pub const SCHEMA_KEY: &str = "__schema";
/// The manifest row key of a commit's stored queries: its location is a
/// catalog file under `_queries/`.
pub const QUERIES_KEY: &str = "__queries";

impl TableEntry {
    /// A row that removes table `key` from the snapshot (a type dropped or
    /// renamed by a schema change): no location.
    pub fn is_tombstone(&self) -> bool {
        self.location.is_empty()
    }
}

impl ManifestState {
    /// The fence row when the graph is retired (deleted through a catalog).
    pub fn retired(&self) -> Option<&TableEntry> {
        self.fence.as_ref().filter(|f| f.location == FENCE_RETIRED)
    }

    /// The schema generation: 0 for the schema `init` wrote, one more per
    /// schema change since.
    pub fn schema_generation(&self) -> u64 {
        self.schema.as_ref().map_or(0, |s| s.version)
    }

    /// The stored-queries generation: 0 before any were stored.
    pub fn queries_generation(&self) -> u64 {
        self.queries.as_ref().map_or(0, |s| s.version)
    }

    /// Takes in one published row: a table's new version, its removal, the
    /// fence or the schema.
    fn take(&mut self, entry: TableEntry) {
        if entry.key == FENCE_KEY {
            if self.fence.as_ref().is_none_or(|f| f.version < entry.version) {
                self.fence = Some(entry);
            }
        } else if entry.key == SCHEMA_KEY {
            if self.schema.as_ref().is_none_or(|f| f.version < entry.version) {
                self.schema = Some(entry);
            }
        } else if entry.key == QUERIES_KEY {
            if self.queries.as_ref().is_none_or(|f| f.version < entry.version) {
                self.queries = Some(entry);
            }
        } else if entry.is_tombstone() {
            self.tables.remove(&entry.key);
        } else {
            match self.tables.get(&entry.key) {
                // A table's row with a new location replaces the old one
                // whatever its version (a type dropped and added again).
                Some(old) if old.version >= entry.version && old.location == entry.location => {}
                _ => {
                    self.tables.insert(entry.key.clone(), entry);
                }
            }
        }
    }
}

/// One table change carried by a publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TableUpdate {
    pub key: String,
    pub expected: u64,
    pub new_version: u64,
    pub location: String,
    pub row_count: u64,
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn rows_batch(entries: &[TableEntry], genesis_id: Option<&str>, branch: &str) -> RecordBatch {
    let n = entries.len();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(entries.iter().map(|e| e.key.as_str()))),
        Arc::new(UInt64Array::from_iter_values(entries.iter().map(|e| e.version))),
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(branch, n))),
        Arc::new(StringArray::from_iter_values(entries.iter().map(|e| e.location.as_str()))),
        Arc::new(UInt64Array::from_iter_values(entries.iter().map(|e| e.row_count))),
        Arc::new(StringArray::from_iter_values(entries.iter().map(|e| e.op_id.as_str()))),
        Arc::new(StringArray::from(vec![genesis_id; n])),
        Arc::new(Int64Array::from_iter_values(std::iter::repeat_n(now_us(), n))),
    ];
    RecordBatch::try_new(manifest_schema(), cols).expect("manifest batch matches its schema")
}

/// Creates `__manifest` with its genesis rows, stamped with `genesis_id`.
/// Fails if a manifest already exists.
pub async fn create_genesis(root: &Root, entries: &[TableEntry], genesis_id: &str, draft: &CommitDraft) -> Result<ManifestState> {
    let batch = rows_batch(entries, Some(genesis_id), MAIN_BRANCH);
    let reader = RecordBatchIterator::new(vec![Ok(batch)], manifest_schema());
    let commit = Commit::new(draft, MAIN_BRANCH, 1, None);
    let params = WriteParams {
        transaction_properties: Some(Arc::new(std::collections::HashMap::from([
            (PROP_OP_ID.to_string(), genesis_id.to_string()),
            (PROP_ROLE.to_string(), "genesis".to_string()),
            (PROP_COMMIT.to_string(), commit.to_json()),
        ]))),
        ..root.session().write_params(WriteMode::Create)
    };
    let ds = Dataset::write(reader, root.child_uri(MANIFEST_TABLE).as_str(), Some(params)).await.map_err(|e| Error::lance(MANIFEST_TABLE, e))?;
    Ok(ManifestState {
        version: ds.version().version,
        genesis_id: Some(genesis_id.to_string()),
        tables: entries.iter().map(|e| (e.key.clone(), e.clone())).collect(),
        fence: None,
        commit,
        schema: None,
        queries: None,
    })
}

/// Reads the manifest of `branch` at `version` (the head when `None`).
pub async fn read(root: &Root, branch: &BranchPath, version: Option<u64>) -> Result<(Arc<Dataset>, ManifestState)> {
    let ds = Arc::new(table::open(root.session(), &root.child_uri(&branch.manifest_at(version)), version).await?);
    let state = read_state(&ds).await?;
    Ok((ds, state))
}

async fn read_state(ds: &Dataset) -> Result<ManifestState> {
    let batches = scan_rows(ds, None).await?;
    let mut state = ManifestState {
        version: ds.version().version,
        genesis_id: None,
        tables: BTreeMap::new(),
        fence: None,
        commit: recorded_commit(ds).await?,
        schema: None,
        queries: None,
    };
    apply_rows(&mut state, &batches);
    Ok(state)
}

/// What the manifest says at `new`, a later version than `old`'s, which
/// said `known`: when `new` only appended rows to `old` (every publish but
/// a checkpoint), only the appended fragments are read; otherwise all of
/// it. So following another writer's publish costs what it wrote.
pub async fn read_after(old: &Dataset, known: &ManifestState, new: &Dataset) -> Result<ManifestState> {
    let before: std::collections::HashSet<u64> = old.get_fragments().iter().map(|f| f.id() as u64).collect();
    let after = new.get_fragments();
    let kept = after.iter().filter(|f| before.contains(&(f.id() as u64))).count();
    if kept != before.len() || known.version != old.version().version {
        return read_state(new).await;
    }
    let added: Vec<lance_table::format::Fragment> = after.iter().filter(|f| !before.contains(&(f.id() as u64))).map(|f| f.metadata().clone()).collect();
    let batches = if added.is_empty() { Vec::new() } else { scan_rows(new, Some(added)).await? };
    let mut state = known.clone();
    state.version = new.version().version;
    state.commit = recorded_commit(new).await?;
    apply_rows(&mut state, &batches);
    Ok(state)
}

/// The manifest's rows (of `fragments` only, if given).
async fn scan_rows(ds: &Dataset, fragments: Option<Vec<lance_table::format::Fragment>>) -> Result<Vec<RecordBatch>> {
    let mut scan = ds.scan();
    if let Some(f) = fragments {
        scan.with_fragments(f);
    }
    scan.try_into_stream().await.map_err(|e| Error::lance_open(MANIFEST_TABLE, e))?.try_collect().await.map_err(|e| Error::lance_open(MANIFEST_TABLE, e))
}

/// Folds manifest rows into `state`, in the order they were published: the
/// highest version per table key wins (a new location always does), a
/// tombstone removes its table; the genesis id, fence and schema are kept.
fn apply_rows(state: &mut ManifestState, batches: &[RecordBatch]) {
    for b in batches {
        let col = |name: &str| b.column_by_name(name).expect("manifest column");
        let keys = col("table_key").as_string::<i32>();
        let versions = col("table_version").as_primitive::<UInt64Type>();
        let locations = col("location").as_string::<i32>();
        let counts = col("row_count").as_primitive::<UInt64Type>();
        let ops = col("op_id").as_string::<i32>();
        let genesis = col("genesis_id").as_string::<i32>();
        for i in 0..b.num_rows() {
            if genesis.is_valid(i) {
                state.genesis_id = Some(genesis.value(i).to_string());
            }
            state.take(TableEntry {
                key: keys.value(i).to_string(),
                version: versions.value(i),
                location: locations.value(i).to_string(),
                row_count: counts.value(i),
                op_id: ops.value(i).to_string(),
            });
        }
    }
}

/// The commit `ds`'s version records (one read of its transaction, which
/// the session caches); for a version written before commits were
/// recorded, one made up from its version and time.
async fn recorded_commit(ds: &Dataset) -> Result<Commit> {
    let txn = ds.read_transaction().await.map_err(|e| Error::lance_open(MANIFEST_TABLE, e))?;
    let props = txn.as_ref().and_then(|t| t.transaction_properties.clone());
    if let Some(c) = props.as_ref().and_then(|p| p.get(PROP_COMMIT)).and_then(|j| Commit::from_json(j)) {
        return Ok(c);
    }
    let role = props.as_ref().and_then(|p| p.get(PROP_ROLE).cloned()).unwrap_or_default();
    let v = ds.version();
    Ok(Commit::unrecorded(v.version, v.timestamp.timestamp_micros(), None, if role == "genesis" { "init" } else { "write" }))
}

/// The commit of `branch` at `version`, `ds` being the branch's manifest
/// at its head, or `None` when that version is gone (removed by cleanup)
/// or never existed. Versions up to the branch's fork are its parent's
/// commits, read there.
pub async fn commit_at(root: &Root, branch: &BranchPath, ds: &Dataset, version: u64) -> Result<Option<Commit>> {
    if version == 0 || version > ds.version().version {
        return Ok(None);
    }
    let owner = branch.owner_of(version);
    if owner.name != branch.name {
        return match table::open(root.session(), &root.child_uri(&owner.manifest()), Some(version)).await {
            Ok(parent) => recorded_commit(&parent).await.map(Some),
            Err(_) => Ok(None),
        };
    }
    own_commit_at(ds, version).await
}

/// The commit recorded at `version` of the manifest `ds` belongs to.
async fn own_commit_at(ds: &Dataset, version: u64) -> Result<Option<Commit>> {
    if version == ds.version().version {
        return recorded_commit(ds).await.map(Some);
    }
    match ds.read_version_transaction(version).await {
        Ok(vt) => {
            let props = vt.transaction.as_ref().and_then(|t| t.transaction_properties.clone());
            if let Some(c) = props.as_ref().and_then(|p| p.get(PROP_COMMIT)).and_then(|j| Commit::from_json(j)) {
                return Ok(Some(c));
            }
            let role = props.as_ref().and_then(|p| p.get(PROP_ROLE).cloned()).unwrap_or_default();
            Ok(Some(Commit::unrecorded(version, vt.timestamp.timestamp_micros(), None, if role == "genesis" { "init" } else { "write" })))
        }
        Err(e) => match ds.checkout_version(version).await {
            // The version is there, its transaction unreadable: say why.
            Ok(_) => Err(Error::lance_open(MANIFEST_TABLE, e)),
            Err(_) => Ok(None),
        },
    }
}

fn check_expected(root: &Root, state: &ManifestState, updates: &[TableUpdate], reads: &[(String, u64)], through_fence: bool) -> Result<()> {
    // The fence: once a retired row is published, no other publish lands.
    // Every attempt re-checks it against the head it commits over, so a write
    // racing a delete either lands before the fence or is refused.
    if let Some(f) = state.retired()
        && !through_fence
        && !updates.iter().any(|u| u.key == FENCE_KEY)
    {
        return Err(Error::GraphRetired { root: root.uri().to_string(), op: f.op_id.clone() });
    }
    let expected = updates.iter().map(|u| (&u.key, u.expected)).chain(reads.iter().map(|(k, v)| (k, *v)));
    for (key, want) in expected {
        let actual = match key.as_str() {
            FENCE_KEY => state.fence.as_ref().map(|f| f.version).unwrap_or(0),
            SCHEMA_KEY => state.schema_generation(),
            QUERIES_KEY => state.queries_generation(),
            _ => state.tables.get(key).map(|e| e.version).unwrap_or(0),
        };
        if actual != want {
            return Err(Error::ExpectedVersionMismatch { table: key.clone(), expected: want, actual });
        }
    }
    Ok(())
}

/// A conditional write publishes only over the commit it expected.
fn check_parent(state: &ManifestState, draft: &CommitDraft) -> Result<()> {
    match &draft.if_parent {
        Some(p) if *p != state.commit.id => Err(Error::HeadMoved { expected: p.clone(), head: state.commit.id.clone() }),
        _ => Ok(()),
    }
}

/// Past this many fragments a publish rewrites the manifest as a checkpoint
/// (one row per table), so reading the snapshot stays cheap however many
/// writes the graph has seen. Older rows stay readable in older manifest
/// versions.
pub const CHECKPOINT_FRAGMENTS: usize = 64;

/// The uncommitted manifest transaction of one publish attempt: an append of
/// `entries`, or, when the manifest has grown long, an overwrite holding the
/// whole of `next` (a checkpoint). Both are committed pinned.
async fn stage_publish(root: &Root, ds: &Arc<Dataset>, next: &ManifestState, entries: &[TableEntry]) -> Result<Transaction> {
    // An `optimize` commit always checkpoints: after it (and a cleanup) the
    // head is one small file, as for a freshly loaded graph.
    // A branch's first commit moves every table to the branch's own
    // location at the same version: only a rewrite says so.
    let checkpoint = ds.get_fragments().len() >= CHECKPOINT_FRAGMENTS
        || (next.commit.kind == "optimize" && ds.get_fragments().len() > 1)
        || next.commit.kind == super::branch::BRANCH_KIND
        // A commit that publishes no table (a merge with nothing to write).
        || entries.is_empty();
    if !checkpoint {
        let params = root.session().write_params(WriteMode::Append);
        return InsertBuilder::new(ds.clone())
            .with_params(&params)
            .execute_uncommitted(vec![rows_batch(entries, None, &next.commit.branch)])
            .await
            .map_err(|e| Error::lance(MANIFEST_TABLE, e));
    }
    let all: Vec<TableEntry> = next.tables.values().chain(next.fence.iter()).chain(next.schema.iter()).chain(next.queries.iter()).cloned().collect();
    let params = root.session().write_params(WriteMode::Overwrite);
    InsertBuilder::new(ds.clone())
        .with_params(&params)
        .execute_uncommitted(vec![rows_batch(&all, next.genesis_id.as_deref(), &next.commit.branch)])
        .await
        .map_err(|e| Error::lance(MANIFEST_TABLE, e))
}

/// Publishes `updates` in one manifest commit. `ds`/`state` are the manifest
/// as the writer read it; `reads` are tables the write read but did not
/// change (say, node tables an edge load checked endpoints against): they
/// must not have moved either. Returns the `__manifest` dataset at the
/// version it committed and the new state (a writer's handle keeps both as
/// the head it knows).
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    root: &Root,
    branch: &BranchPath,
    ds: Arc<Dataset>,
    state: ManifestState,
    updates: &[TableUpdate],
    reads: &[(String, u64)],
    op_id: &str,
    draft: &CommitDraft,
) -> Result<(Arc<Dataset>, ManifestState)> {
    publish_impl(root, branch, ds, state, updates, reads, op_id, draft, false).await
}

/// The `__manifest` version that publishes write `op_id`, looking at the
/// versions after `since`: the publish commit is tagged with the write's op
/// id (its own, or a recovery's roll-forward of it, which publishes under
/// the same id). `None` if no such version exists.
pub async fn find_publish(root: &Root, branch: &BranchPath, since: u64, op_id: &str) -> Result<Option<ManifestState>> {
    let head = table::open(root.session(), &root.child_uri(&branch.manifest()), None).await?;
    for v in since + 1..=head.version().version {
        if let Some((id, role)) = table::op_tag(&head, v).await?
            && id == op_id
            && role == "publish"
        {
            return Ok(Some(read(root, branch, Some(v)).await?.1));
        }
    }
    Ok(None)
}

/// [`publish`] for a recovery roll-back, which may pass a retired fence: it
/// only records table versions whose content equals what is already
/// published, so that later writes can pin their commits again.
pub async fn publish_rollback(
    root: &Root,
    branch: &BranchPath,
    ds: Arc<Dataset>,
    state: ManifestState,
    updates: &[TableUpdate],
    op_id: &str,
    draft: &CommitDraft,
) -> Result<ManifestState> {
    publish_impl(root, branch, ds, state, updates, &[], op_id, draft, true).await.map(|(_, state)| state)
}

#[allow(clippy::too_many_arguments)]
async fn publish_impl(
    root: &Root,
    branch: &BranchPath,
    ds: Arc<Dataset>,
    state: ManifestState,
    updates: &[TableUpdate],
    reads: &[(String, u64)],
    op_id: &str,
    draft: &CommitDraft,
    through_fence: bool,
) -> Result<(Arc<Dataset>, ManifestState)> {
    let entries: Vec<TableEntry> = updates
        .iter()
        .map(|u| TableEntry { key: u.key.clone(), version: u.new_version, location: u.location.clone(), row_count: u.row_count, op_id: op_id.to_string() })
        .collect();
    // Every write was staged against the schema of the head it read: it
    // publishes only while that schema holds (a schema change in between
    // makes it a conflict, never rows the new schema cannot read). A schema
    // change, a fence and a roll back carry their own checks.
    let mut reads = reads.to_vec();
    if !through_fence && !updates.iter().any(|u| u.key == SCHEMA_KEY || u.key == FENCE_KEY) {
        reads.push((SCHEMA_KEY.to_string(), state.schema_generation()));
    }
    let reads = reads.as_slice();
    let (mut ds, mut state) = (ds, state);
    check_expected(root, &state, updates, reads, through_fence)?;
    check_parent(&state, draft)?;
    failpoint::hit("publish.before_manifest_commit");
    const MAX_ATTEMPTS: usize = 64;
    for _ in 0..MAX_ATTEMPTS {
        let mut next = state.clone();
        for e in &entries {
            next.take(e.clone());
        }
        // The commit is made for this attempt: its version and parent are
        // the head it commits over.
        next.commit = Commit::new(draft, &branch.name, ds.version().version + 1, Some(&state.commit));
        let txn = stage_publish(root, &ds, &next, &entries).await?;
        if failpoint::fail("publish.manifest_commit") {
            return Err(Error::storage(root.child_uri(MANIFEST_TABLE), "injected failure of the manifest commit (failpoint)"));
        }
        // A roll-back's publish is tagged apart from a write's, so that
        // `find_publish` never takes an undone write for a published one.
        let role = if through_fence { "publish-rollback" } else { "publish" };
        match table::commit_pinned_with(ds.clone(), txn, MANIFEST_TABLE, op_id, role, Some((PROP_COMMIT, next.commit.to_json()))).await {
            Ok(new) => {
                next.version = new.version().version;
                return Ok((Arc::new(new), next));
            }
            Err(Error::ExpectedVersionMismatch { table, .. }) if table == MANIFEST_TABLE => {
                // Another publish landed first. Re-read and re-check our tables.
                (ds, state) = read(root, branch, None).await?;
                check_expected(root, &state, updates, reads, through_fence)?;
                check_parent(&state, draft)?;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::storage(root.child_uri(MANIFEST_TABLE), format!("manifest publish lost {MAX_ATTEMPTS} races in a row; try again")))
}
