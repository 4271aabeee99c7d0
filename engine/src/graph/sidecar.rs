//! Write sidecars: `__recovery/<op-id>.json`, written (put-if-absent) before a
//! write commits its first table, removed after its publish. It names every
//! table the write touches and the version each had before; the pinned
//! commit makes the version after deterministic (`before + 1`), and every
//! version the write commits is tagged with its op id. That is enough for
//! [`super::recovery`] to tell what landed and to roll forward or back.

use serde::{Deserialize, Serialize};

use super::layout;
use super::owner::Lease;
use crate::error::{Error, Result};
use crate::storage::commit::CommitDraft;
use crate::storage::{Created, Root};

/// Lease of a write's commit window. The window only covers table commits
/// and one manifest publish (staging happens before it), so it is short.
pub const WRITE_LEASE_MS: i64 = 120_000;

/// The write lease for this process: `OMNIGRAPH_WRITE_LEASE_MS` when set to
/// 1 ms .. 1 day (operators on slow stores, and tests), else [`WRITE_LEASE_MS`].
/// Only processes on other hosts are judged by it; on this host a write is
/// abandoned exactly when its process is gone.
pub fn write_lease_ms() -> i64 {
    std::env::var("OMNIGRAPH_WRITE_LEASE_MS").ok().and_then(|v| v.trim().parse().ok()).filter(|v| *v > 0 && *v <= 86_400_000).unwrap_or(WRITE_LEASE_MS)
}

/// What kind of write a sidecar records. Stored as `load:append`,
/// `load:merge`, `load:overwrite`, `mutation` or `index`; a kind this
/// version does not know (a newer writer's) is kept as it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum WriteKind {
    LoadAppend,
    LoadMerge,
    LoadOverwrite,
    Mutation,
    /// Building the indexes a load asked for.
    Index,
    /// Merging the small fragments of many small writes (`graph::fold`).
    Fold,
    /// Compaction and index rebuild (`graph::optimize`).
    Optimize,
    /// A branch merged into another (`graph::merge`).
    Merge,
    /// A schema change (`graph::evolve`).
    Schema,
    Other(String),
}

impl WriteKind {
    fn stored(&self) -> &str {
        match self {
            WriteKind::LoadAppend => "load:append",
            WriteKind::LoadMerge => "load:merge",
            WriteKind::LoadOverwrite => "load:overwrite",
            WriteKind::Mutation => "mutation",
            WriteKind::Index => "index",
            WriteKind::Fold => "fold",
            WriteKind::Optimize => "optimize",
            WriteKind::Merge => "merge",
            WriteKind::Schema => "schema",
            WriteKind::Other(s) => s,
        }
    }
}

impl WriteKind {
    /// The kind of commit such a write makes: `load`, `mutate`, `index`,
    /// `fold`.
    pub fn commit_kind(&self) -> &str {
        match self {
            WriteKind::LoadAppend | WriteKind::LoadMerge | WriteKind::LoadOverwrite => "load",
            WriteKind::Mutation => "mutate",
            WriteKind::Index => "index",
            WriteKind::Fold => "fold",
            WriteKind::Optimize => "optimize",
            WriteKind::Merge => "merge",
            WriteKind::Schema => "schema",
            WriteKind::Other(s) => s,
        }
    }
}

impl From<String> for WriteKind {
    fn from(s: String) -> WriteKind {
        match s.as_str() {
            "load:append" => WriteKind::LoadAppend,
            "load:merge" => WriteKind::LoadMerge,
            "load:overwrite" => WriteKind::LoadOverwrite,
            "mutation" => WriteKind::Mutation,
            "index" => WriteKind::Index,
            "fold" => WriteKind::Fold,
            "optimize" => WriteKind::Optimize,
            "merge" => WriteKind::Merge,
            "schema" => WriteKind::Schema,
            _ => WriteKind::Other(s),
        }
    }
}

impl From<WriteKind> for String {
    fn from(k: WriteKind) -> String {
        k.stored().to_string()
    }
}

/// In messages: `load (append)`, `mutation`, `index build`.
impl std::fmt::Display for WriteKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteKind::LoadAppend => f.write_str("load (append)"),
            WriteKind::LoadMerge => f.write_str("load (merge)"),
            WriteKind::LoadOverwrite => f.write_str("load (overwrite)"),
            WriteKind::Mutation => f.write_str("mutation"),
            WriteKind::Index => f.write_str("index build"),
            WriteKind::Fold => f.write_str("fold of small fragments"),
            WriteKind::Optimize => f.write_str("optimize"),
            WriteKind::Merge => f.write_str("merge"),
            WriteKind::Schema => f.write_str("schema change"),
            WriteKind::Other(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidecarTable {
    pub key: String,
    pub location: String,
    pub before: u64,
    /// How many versions the write commits on this table (1, or 2 for a
    /// write with a follow-up: `optimize`); it publishes `before + steps`.
    #[serde(default = "one_step", skip_serializing_if = "is_one_step")]
    pub steps: u64,
}

fn one_step() -> u64 {
    1
}

fn is_one_step(n: &u64) -> bool {
    *n == 1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    pub op_id: String,
    pub kind: WriteKind,
    pub manifest_version: u64,
    pub tables: Vec<SidecarTable>,
    #[serde(flatten)]
    pub lease: Lease,
    pub started_at: String,
    /// The commit the write publishes (its actor, message and changes), so
    /// that a roll forward publishes the same commit. Absent in sidecars
    /// written before commits were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitDraft>,
    /// The branch the write publishes to; `main` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The schema generation the write was staged against: it is rolled
    /// forward only while the head still has that schema. Absent in
    /// sidecars written before schema changes existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_generation: Option<u64>,
    /// Manifest rows the write publishes besides its tables' new versions:
    /// a schema change's schema row, new and renamed types, tombstones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<crate::storage::manifest::TableUpdate>,
}

impl Sidecar {
    pub fn new(op_id: &str, kind: WriteKind, branch: &str, manifest_version: u64, tables: Vec<SidecarTable>, commit: CommitDraft) -> Sidecar {
        let now = chrono::Utc::now();
        Sidecar {
            op_id: op_id.to_string(),
            kind,
            manifest_version,
            tables,
            lease: Lease::new(write_lease_ms()),
            started_at: now.to_rfc3339(),
            commit: Some(commit),
            branch: (branch != crate::storage::manifest::MAIN_BRANCH).then(|| branch.to_string()),
            schema_generation: None,
            extra: Vec::new(),
        }
    }

    /// The commit a roll forward of this write publishes.
    pub fn commit_draft(&self) -> CommitDraft {
        self.commit.clone().unwrap_or_else(|| CommitDraft { actor: "unknown".into(), kind: self.kind.commit_kind().into(), ..Default::default() })
    }

    /// True when nobody is working on it any more: its owner died (same
    /// host, where liveness is known exactly) or, for an owner on another
    /// host, its lease ran out.
    pub fn abandoned(&self) -> bool {
        self.lease.abandoned()
    }

    pub async fn write(&self, root: &Root) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("sidecar serializes");
        match root.put_if_absent(&layout::sidecar_path(&self.op_id), bytes).await? {
            Created::Yes => Ok(()),
            Created::AlreadyExists => Err(Error::storage(layout::sidecar_path(&self.op_id), "sidecar already exists")),
        }
    }

    pub async fn remove(&self, root: &Root) -> Result<()> {
        root.delete(&layout::sidecar_path(&self.op_id)).await
    }
}

/// Every sidecar under the root.
pub async fn list(root: &Root) -> Result<Vec<Sidecar>> {
    let mut out = Vec::new();
    for path in root.list(layout::RECOVERY_DIR).await? {
        if !path.ends_with(".json") {
            continue;
        }
        if let Some(bytes) = root.get(&path).await? {
            let s: Sidecar = serde_json::from_slice(&bytes).map_err(|e| Error::storage(&path, format!("unreadable sidecar: {e}")))?;
            out.push(s);
        }
    }
    out.sort_by(|a, b| a.op_id.cmp(&b.op_id));
    Ok(out)
}
