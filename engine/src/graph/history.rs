//! Reading a graph's history: its commits, newest first, one commit by id,
//! and the graph as it was at a commit or a time.
//!
//! Every `__manifest` version is a commit, recorded in that version's
//! transaction (`storage::commit`). A commit id names its version, so
//! finding one is a single read; a page of the list reads one version per
//! commit, from the head (or the cursor) down; a time is found by binary
//! search (commit times never go back along a branch). None of it reads
//! more as history grows. See docs/dev/history.md.

use chrono::{DateTime, Utc};

use super::{Graph, Snapshot};
use crate::error::{Error, Result};
use crate::storage::commit::{self, Commit};
use crate::storage::manifest;

/// Where to read: a commit, or the last commit at or before a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    Commit(String),
    Time(DateTime<Utc>),
}

impl At {
    /// A commit id, or an RFC 3339 time (`2026-12-06T10:00:00Z`).
    pub fn parse(s: &str) -> Result<At> {
        let s = s.trim();
        if commit::version_of(s).is_some() {
            return Ok(At::Commit(s.to_string()));
        }
        match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Ok(At::Time(t.with_timezone(&Utc))),
            Err(_) => Err(Error::InvalidArgument(format!(
                "at: `{}` is neither a commit id nor an RFC 3339 time such as 2026-12-06T10:00:00Z",
                s.chars().take(64).collect::<String>()
            ))),
        }
    }
}

/// The most commits one page of the list holds.
pub const MAX_PAGE: usize = 1000;

/// One page of commits, newest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommitPage {
    pub commits: Vec<Commit>,
    /// Pass as `before` for the next page; `None` on the last page (the
    /// first commit, or the oldest one cleanup kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Graph {
    /// The graph as it was at `at`, or now when `None`. Its tables are read
    /// at the versions that commit published.
    pub async fn snapshot_at(&self, at: Option<&At>) -> Result<Snapshot> {
        let head = self.snapshot().await?;
        let Some(at) = at else { return Ok(head) };
        let c = match at {
            At::Commit(id) => self.commit(id).await?,
            At::Time(t) => self.commit_at_time(&head, *t).await?,
        };
        if c.manifest_version == head.manifest_version {
            return Ok(head);
        }
        let (ds, state) = manifest::read(&self.root, &self.branch, Some(c.manifest_version)).await.map_err(|_| Error::CommitPruned { id: c.id.clone() })?;
        self.snapshot_of(ds, state).await
    }

    /// This handle bound to the schema of the commit `at` names (the
    /// head's when `None`): what a query to run at `at` compiles against.
    pub async fn bound_at(&self, at: Option<&At>) -> Result<Graph> {
        let snap = self.snapshot_at(at).await?;
        Ok(self.bound(&snap))
    }

    /// One commit, by id.
    pub async fn commit(&self, id: &str) -> Result<Commit> {
        let head = self.snapshot().await?;
        let not_found = || Error::CommitNotFound { what: format!("`{}`", id.chars().take(64).collect::<String>()) };
        let Some((code, v)) = commit::locate(id) else { return Err(not_found()) };
        if v > head.manifest_version || self.branch.owner_of(v).code() != code {
            return Err(not_found());
        }
        match manifest::commit_at(&self.root, &self.branch, &head.manifest_ds(), v).await? {
            Some(c) if c.id == id => Ok(c),
            Some(_) => Err(not_found()),
            None => Err(Error::CommitPruned { id: id.to_string() }),
        }
    }

    /// Up to `limit` commits (at most [`MAX_PAGE`]), newest first, from the
    /// head or from just before the commit `before`.
    pub async fn commits(&self, limit: usize, before: Option<&str>) -> Result<CommitPage> {
        let head = self.snapshot().await?;
        let ds = head.manifest_ds();
        let mut v = match before {
            Some(id) => self.commit(id).await?.manifest_version - 1,
            None => head.manifest_version,
        };
        let mut commits = Vec::new();
        while v > 0 && commits.len() < limit.clamp(1, MAX_PAGE) {
            match manifest::commit_at(&self.root, &self.branch, &ds, v).await? {
                Some(c) => commits.push(c),
                None => break,
            }
            v -= 1;
        }
        let more = v > 0 && manifest::commit_at(&self.root, &self.branch, &ds, v).await?.is_some();
        let next = if more { commits.last().map(|c| c.id.clone()) } else { None };
        Ok(CommitPage { commits, next })
    }

    /// The last commit at or before `t`.
    async fn commit_at_time(&self, head: &Snapshot, t: DateTime<Utc>) -> Result<Commit> {
        let want = t.timestamp_micros();
        let ds = head.manifest_ds();
        let (mut lo, mut hi) = (1u64, head.manifest_version);
        let (mut found, mut pruned) = (None, false);
        while lo <= hi {
            let mid = lo + (hi - lo) / 2;
            match manifest::commit_at(&self.root, &self.branch, &ds, mid).await? {
                // Cleanup removes the oldest versions: the rest is newer.
                None => {
                    pruned = true;
                    lo = mid + 1;
                }
                Some(c) if c.time_us() <= want => {
                    found = Some(c);
                    lo = mid + 1;
                }
                Some(_) => hi = mid - 1,
            }
        }
        let when = t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        match found {
            Some(c) => Ok(c),
            None if pruned => Err(Error::CommitPruned { id: format!("at {when}") }),
            None => Err(Error::CommitNotFound { what: format!("at or before {when}") }),
        }
    }
}
