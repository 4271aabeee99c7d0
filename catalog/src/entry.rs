//! Catalog entries: one version chain per graph id.
//!
//! The state of graph `g` is the highest-numbered object under
//! `entries/g/`: `entries/g/00000000000000000007.json` holds version 7.
//! A transition from version `v` publishes version `v + 1` with one
//! put-if-absent, the way Lance commits `_versions/N.manifest`: of all
//! writers that read `v`, exactly one creates `v + 1`; the others get
//! [`Publish::Lost`], re-read and re-check against the new head. The check
//! (is the id free? is the graph active?) is always made on the very version
//! the conditional write replaces, so there is one authority and no check
//! outside the critical section.
//!
//! Chains are per id, so a transition reads and writes only its own graph's
//! objects: its cost does not depend on how many graphs the catalog holds,
//! and distinct ids never contend. Versions are never deleted (a deleted
//! version could be re-created by a writer holding a stale head).

use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, Result};
use crate::store::{CatalogStore, Put};

pub const ENTRIES_DIR: &str = "entries";

/// Lifecycle states (see docs/dev/catalog.md for the machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Reserved,
    Initializing,
    Active,
    Deleting,
    Deleted,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Reserved => "reserved",
            State::Initializing => "initializing",
            State::Active => "active",
            State::Deleting => "deleting",
            State::Deleted => "deleted",
            State::Failed => "failed",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of lifecycle operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Create,
    Import,
    Delete,
    Restore,
    Purge,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Import => "import",
            OpKind::Delete => "delete",
            OpKind::Restore => "restore",
            OpKind::Purge => "purge",
        }
    }
}

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operation in flight on an entry, as the entry records it. The
/// initial lease rides along so that an entry whose sidecar is missing can
/// still be judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRef {
    pub id: String,
    pub kind: OpKind,
    pub lease_until_ms: i64,
    /// Delete only: the retention asked for, so the delete can be finished
    /// as asked even without its sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_ms: Option<i64>,
    /// Delete only: the fence generation when the delete began; the delete
    /// retires only that generation (see `omnigraph::graph::fence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence_generation: Option<u64>,
}

/// One version of a graph's catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphEntry {
    pub id: String,
    /// Position in the chain; equals the number in the object's name.
    pub version: u64,
    pub state: State,
    /// Fresh per create; names the storage location.
    pub incarnation: String,
    /// The graph root (absolute path or `s3://...`).
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_hash: Option<String>,
    /// The genesis id of the graph's `__manifest` (the create's op id, or
    /// whatever `omnigraph init` minted for an imported graph).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// Deleted with retention: data kept until then (restore or purge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_until: Option<String>,
    /// True once a deleted or failed incarnation's data is gone.
    #[serde(default)]
    pub data_removed: bool,
    /// Registered with `import` (location outside the catalog's `graphs/`).
    #[serde(default)]
    pub imported: bool,
    /// The operation in flight, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<OpRef>,
    /// The last operation that completed a transition on this entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_op: Option<String>,
    /// Why a create was rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Free-form metadata given at create (for example an initial policy).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub metadata: serde_json::Value,
}

impl GraphEntry {
    /// True when data of a deleted incarnation is still kept (restorable).
    pub fn retained(&self) -> bool {
        self.state == State::Deleted && !self.data_removed && self.retained_until.is_some()
    }
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn version_path(id: &str, version: u64) -> String {
    format!("{ENTRIES_DIR}/{id}/{version:020}.json")
}

/// The head hint of `id`'s chain: a version known to exist, written after
/// each publish. Advisory only: writers may leave it behind the head (never
/// ahead of it, since it names only published versions), and the head is
/// found by reading forward from it.
fn hint_path(id: &str) -> String {
    format!("{ENTRIES_DIR}/{id}/head")
}

/// The head of `id`'s chain, or `None` if the id was never used.
///
/// From the head hint, this reads the hinted version and the versions after
/// it until one is missing: a few requests however long the chain is. Only
/// without a usable hint (a catalog written before hints) is the chain
/// listed, once; the hint is then written.
pub async fn head(store: &CatalogStore, id: &str) -> Result<Option<GraphEntry>> {
    let hinted = store.get(&hint_path(id)).await?.and_then(|b| String::from_utf8(b).ok()?.trim().parse::<u64>().ok());
    if let Some(v) = hinted
        && let Some(mut e) = read_version(store, id, v).await?
    {
        while let Some(next) = read_version(store, id, e.version + 1).await? {
            e = next;
        }
        if e.version > v {
            write_hint(store, id, e.version).await;
        }
        return Ok(Some(e));
    }
    let listed = store.list(&format!("{ENTRIES_DIR}/{id}/")).await?;
    let latest = listed.iter().filter_map(|p| p.rsplit('/').next()?.strip_suffix(".json")?.parse::<u64>().ok()).max();
    let Some(version) = latest else { return Ok(None) };
    let e = read_version(store, id, version).await?;
    if e.is_some() {
        write_hint(store, id, version).await;
    }
    Ok(e)
}

/// Best effort: a failed hint write only costs the next reader a listing.
async fn write_hint(store: &CatalogStore, id: &str, version: u64) {
    let _ = store.put(&hint_path(id), version.to_string().into_bytes()).await;
}

pub async fn read_version(store: &CatalogStore, id: &str, version: u64) -> Result<Option<GraphEntry>> {
    let path = version_path(id, version);
    let Some(bytes) = store.get(&path).await? else { return Ok(None) };
    let entry: GraphEntry = serde_json::from_slice(&bytes).map_err(|e| CatalogError::Corrupt { path: store.child_uri(&path), reason: e.to_string() })?;
    Ok(Some(entry))
}

/// Outcome of a conditional publish.
#[derive(Debug)]
pub enum Publish {
    Published(GraphEntry),
    /// Another writer published this version first; re-read and re-check.
    Lost,
}

/// Publishes `next` as the version after `base` (or as version 1 when the
/// id is new), with one put-if-absent.
pub async fn publish(store: &CatalogStore, base: Option<&GraphEntry>, mut next: GraphEntry) -> Result<Publish> {
    next.version = base.map(|b| b.version + 1).unwrap_or(1);
    next.updated_at = now_rfc3339();
    let bytes = serde_json::to_vec_pretty(&next).expect("entry serializes");
    match store.put_if_absent(&version_path(&next.id, next.version), bytes).await? {
        Put::Created => {
            write_hint(store, &next.id, next.version).await;
            Ok(Publish::Published(next))
        }
        Put::AlreadyExists => Ok(Publish::Lost),
    }
}

/// Every graph id that has a chain.
pub async fn ids(store: &CatalogStore) -> Result<Vec<String>> {
    store.list_dirs(ENTRIES_DIR).await
}

/// Graph ids: a letter or digit, then up to 62 of letters, digits, `_`, `-`
/// (lower case only, so ids are also safe directory and URL names).
pub fn validate_id(id: &str) -> Result<()> {
    // An invalid id is echoed back in part only: it may be anything a client sent.
    let shown = if id.chars().count() > 64 { format!("{}...", id.chars().take(64).collect::<String>()) } else { id.to_string() };
    let bad = |reason: &str| Err(CatalogError::InvalidId { id: shown.clone(), reason: reason.to_string() });
    let mut chars = id.chars();
    match chars.next() {
        None => return bad("it is empty"),
        Some(c) if !(c.is_ascii_lowercase() || c.is_ascii_digit()) => {
            return bad("it must start with a lower-case letter or a digit");
        }
        _ => {}
    }
    if id.len() > 63 {
        return bad("it is longer than 63 characters");
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')) {
        return bad(&format!("character `{c}` is not allowed (use a-z, 0-9, `_`, `-`)"));
    }
    Ok(())
}
