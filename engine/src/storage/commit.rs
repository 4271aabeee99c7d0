//! A graph's commits: one per `__manifest` version, recorded in that
//! version's own transaction (the property [`PROP_COMMIT`]), so a commit
//! exists exactly when the publish that carries it landed.
//!
//! A commit id is a ULID whose time is the commit's time (in ms) and whose
//! random part locates the commit: the `__manifest` version (48 bits) and
//! the branch (16 bits, 0 for `main`; issue 17), then 16 random bits. So
//! finding a commit by id is one read of that version's transaction, and a
//! forged or foreign id is told apart by the record found there (its id must
//! be the one asked for). Commit times never go back along a branch (a
//! commit's time is at least its parent's plus 1 µs, whatever the clocks
//! of the writers say), so finding the commit at a time is a binary search
//! over versions. See docs/dev/history.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Transaction property of a `__manifest` version: its commit, as JSON.
pub const PROP_COMMIT: &str = "omnigraph.commit";

/// The actor of the commits omnigraph makes on its own: folds, fences.
pub const SYSTEM_ACTOR: &str = "omnigraph";

/// The actor of writes made by this process when no one is named: the
/// `OMNIGRAPH_ACTOR` environment variable, else the OS user, else
/// `unknown`. (The server names the token's actor instead.)
pub fn process_actor() -> String {
    ["OMNIGRAPH_ACTOR", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

const VERSION_BITS: u32 = 48;
const VERSION_MASK: u128 = (1 << VERSION_BITS) - 1;

/// What one commit changed in one type: rows inserted, updated, deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeCounts {
    #[serde(default)]
    pub inserted: u64,
    #[serde(default)]
    pub updated: u64,
    #[serde(default)]
    pub deleted: u64,
}

impl TypeCounts {
    pub fn is_empty(&self) -> bool {
        self.inserted + self.updated + self.deleted == 0
    }
}

/// Who makes a commit and why: what a writer hands to the publish.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitDraft {
    pub actor: String,
    /// `init`, `load`, `mutate`, `index`, `fold`, `recover`, `fence`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Per type name, what changed (types that did not change are left out).
    #[serde(default)]
    pub changes: BTreeMap<String, TypeCounts>,
    /// Publish only over this commit (a conditional write): the publish is
    /// refused with `HeadMoved` if the head is another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_parent: Option<String>,
    /// A merge's second parent: the source branch's commit it merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<String>,
}

impl CommitDraft {
    /// A commit omnigraph makes on its own (a fold, an index build).
    pub fn system(kind: &str) -> CommitDraft {
        CommitDraft { actor: SYSTEM_ACTOR.into(), kind: kind.into(), ..Default::default() }
    }
}

/// One commit of a graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub id: String,
    /// The commit before it on its branch (none for the first); two for a
    /// merge.
    pub parents: Vec<String>,
    pub branch: String,
    pub actor: String,
    /// RFC 3339, UTC, microseconds.
    pub time: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub changes: BTreeMap<String, TypeCounts>,
    /// The `__manifest` version it published.
    pub manifest_version: u64,
}

impl Commit {
    /// The commit `draft` makes at `version`, after `parent` (the head it
    /// publishes over). Its time is now, or just after the parent's if a
    /// clock is behind.
    pub fn new(draft: &CommitDraft, branch: &str, version: u64, parent: Option<&Commit>) -> Commit {
        let now = chrono::Utc::now().timestamp_micros();
        let time_us = parent.map_or(now, |p| now.max(p.time_us() + 1));
        Commit {
            id: id_for(time_us, version, crate::storage::branch::code_of(branch), (ulid::Ulid::new().random() & 0xffff) as u16),
            parents: parent.map(|p| p.id.clone()).into_iter().chain(draft.merged.clone()).collect(),
            branch: branch.to_string(),
            actor: draft.actor.clone(),
            time: format_time(time_us),
            kind: draft.kind.clone(),
            message: draft.message.clone(),
            changes: draft.changes.iter().filter(|(_, c)| !c.is_empty()).map(|(t, c)| (t.clone(), c.clone())).collect(),
            manifest_version: version,
        }
    }

    /// A commit for a `__manifest` version written before commits were
    /// recorded: its id from the version and its time, its actor unknown.
    pub fn unrecorded(version: u64, time_us: i64, parent: Option<String>, kind: &str) -> Commit {
        Commit {
            // No random bits: the same id every time it is made up.
            id: id_for(time_us, version, 0, 0),
            parents: parent.into_iter().collect(),
            branch: crate::storage::manifest::MAIN_BRANCH.to_string(),
            actor: "unknown".into(),
            time: format_time(time_us),
            kind: kind.to_string(),
            message: None,
            changes: BTreeMap::new(),
            manifest_version: version,
        }
    }

    /// The commit time in µs since the epoch.
    pub fn time_us(&self) -> i64 {
        chrono::DateTime::parse_from_rfc3339(&self.time).map(|t| t.timestamp_micros()).unwrap_or(0)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a commit serializes")
    }

    pub fn from_json(s: &str) -> Option<Commit> {
        serde_json::from_str(s).ok()
    }
}

fn format_time(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The id of the commit at `version` of the branch with code `branch` made
/// at `time_us`.
fn id_for(time_us: i64, version: u64, branch: u16, noise: u16) -> String {
    let ms = (time_us.max(0) / 1000) as u64;
    let random = ((branch as u128) << (16 + VERSION_BITS)) | ((version as u128 & VERSION_MASK) << 16) | noise as u128;
    ulid::Ulid::from_parts(ms, random).to_string()
}

/// The branch code and `__manifest` version a commit id names, if it is a
/// well-formed id.
pub fn locate(id: &str) -> Option<(u16, u64)> {
    let u = ulid::Ulid::from_string(id).ok()?;
    let v = (u.random() >> 16) & VERSION_MASK;
    let code = (u.random() >> (16 + VERSION_BITS)) as u16;
    (v > 0).then_some((code, v as u64))
}

/// The `__manifest` version a commit id names, if it is a well-formed id.
pub fn version_of(id: &str) -> Option<u64> {
    locate(id).map(|(_, v)| v)
}
