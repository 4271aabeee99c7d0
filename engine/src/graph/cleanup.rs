//! `cleanup`: removes the table and `__manifest` versions that no kept
//! commit needs, and the files only they referenced.
//!
//! Kept: the head; every commit younger than `keep_days`; the last
//! `keep_commits` commits; every commit a snapshot of this handle is reading
//! ([`Pins`]); and the table versions an unfinished write (a sidecar) may
//! have to restore. Commits are manifest versions and times never go back
//! along them, so what is kept is a suffix of versions `K ..= head`: cleanup
//! removes the manifest versions before `K`, then each table's versions
//! before the one commit `K` publishes (Lance's own cleanup, which deletes a
//! file only when no remaining version references it).
//!
//! Order makes it crash-safe: the manifest goes first, so a removed table
//! version is never one a remaining commit publishes. A crash part way
//! leaves old versions behind for the next cleanup; every kept commit
//! reads the same throughout. Readers in other processes are protected by
//! the retention alone: a commit older than it may go while they read it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use lance::Dataset;
use lance::dataset::cleanup::{CleanupPolicy, RemovalStats};
use serde::Serialize;

use super::{Graph, sidecar};
use crate::error::{Error, Result};
use crate::failpoint;
use crate::storage::commit::Commit;
use crate::storage::manifest::{self, MANIFEST_TABLE};
use crate::storage::table;

/// Retention by default: a week, and the last 100 commits.
pub const DEFAULT_KEEP_DAYS: f64 = 7.0;
pub const DEFAULT_KEEP_COMMITS: u64 = 100;
/// The longest retention one can ask for (a century).
pub const MAX_KEEP_DAYS: f64 = 36_500.0;

/// What to keep, and whether to only say what would go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanupOptions {
    /// Keep every commit younger than this many days (0 or more).
    pub keep_days: f64,
    /// Keep the last this many commits (1 or more).
    pub keep_commits: u64,
    /// Report what would be removed; remove nothing.
    pub dry_run: bool,
}

impl Default for CleanupOptions {
    fn default() -> Self {
        CleanupOptions { keep_days: DEFAULT_KEEP_DAYS, keep_commits: DEFAULT_KEEP_COMMITS, dry_run: false }
    }
}

impl CleanupOptions {
    pub fn validate(&self) -> Result<()> {
        if !(self.keep_days.is_finite() && (0.0..=MAX_KEEP_DAYS).contains(&self.keep_days)) {
            return Err(Error::InvalidArgument(format!("keep_days: {} is not a number of days from 0 to {MAX_KEEP_DAYS}", self.keep_days)));
        }
        if self.keep_commits == 0 {
            return Err(Error::InvalidArgument("keep_commits: at least 1 (the head is always kept)".into()));
        }
        Ok(())
    }
}

/// What cleanup removed (or, in a dry run, would remove) from one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetCleaned {
    /// A type name, or `__manifest`.
    pub table: String,
    pub versions_removed: u64,
    pub files_removed: u64,
    pub bytes_freed: u64,
}

/// What cleanup did.
#[derive(Debug, Clone, Serialize)]
pub struct CleanupReport {
    pub dry_run: bool,
    /// The oldest commit kept.
    pub oldest_kept: Commit,
    /// Commits removed (or that would be).
    pub commits_removed: u64,
    pub bytes_freed: u64,
    pub files_removed: u64,
    /// Per dataset, those with something to remove.
    pub tables: Vec<DatasetCleaned>,
}

/// The manifest versions snapshots of one handle read now, with how many
/// snapshots read each.
#[derive(Debug, Default)]
pub struct Pins(Mutex<BTreeMap<u64, usize>>);

/// One snapshot's hold on its commit; released when dropped.
#[derive(Debug)]
pub struct Pin {
    pins: Arc<Pins>,
    version: u64,
}

impl Pins {
    pub(crate) fn pin(self: &Arc<Self>, version: u64) -> Arc<Pin> {
        *self.0.lock().expect("pins lock").entry(version).or_default() += 1;
        Arc::new(Pin { pins: self.clone(), version })
    }

    /// The oldest manifest version a live snapshot reads.
    pub fn oldest(&self) -> Option<u64> {
        self.0.lock().expect("pins lock").keys().next().copied()
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut m = self.pins.0.lock().expect("pins lock");
        if let Some(n) = m.get_mut(&self.version) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.version);
            }
        }
    }
}

/// The first manifest version at or after `from` whose commit is at or
/// after `cutoff_us`, or `head` when none before it is (binary search:
/// commit times never go back).
async fn first_younger(graph: &Graph, ds: &Dataset, from: u64, head: u64, cutoff_us: i64) -> Result<u64> {
    let (mut lo, mut hi) = (from, head);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match manifest::commit_at(graph.root(), graph.branch(), ds, mid).await? {
            Some(c) if c.time_us() >= cutoff_us => hi = mid,
            _ => lo = mid + 1,
        }
    }
    Ok(lo)
}

/// The oldest manifest version still there (cleanup removes a prefix).
async fn oldest_present(graph: &Graph, ds: &Dataset, head: u64) -> Result<u64> {
    let (mut lo, mut hi) = (1, head);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if manifest::commit_at(graph.root(), graph.branch(), ds, mid).await?.is_some() { hi = mid } else { lo = mid + 1 }
    }
    Ok(lo)
}

async fn clean(ds: &Dataset, before_version: u64, dry_run: bool, name: &str) -> Result<Option<DatasetCleaned>> {
    let oldest = ds.versions().await.map_err(|e| Error::lance(name, e))?.first().map(|v| v.version).unwrap_or(before_version);
    if oldest >= before_version {
        return Ok(None);
    }
    let policy = CleanupPolicy { before_version: Some(before_version), error_if_tagged_old_versions: false, ..Default::default() };
    let op = ds.cleanup(policy);
    let stats: RemovalStats =
        if dry_run { op.explain().await.map_err(|e| Error::lance(name, e))?.stats } else { op.execute().await.map_err(|e| Error::lance(name, e))? };
    let files = stats.data_files_removed + stats.index_files_removed + stats.deletion_files_removed + stats.transaction_files_removed;
    Ok(Some(DatasetCleaned { table: name.to_string(), versions_removed: stats.old_versions, files_removed: files, bytes_freed: stats.bytes_removed }))
}

/// Removes what no kept commit needs (see the module), in the graph's
/// write turn, so no write of this handle runs meanwhile; writes of other
/// processes may, and are not disturbed.
pub async fn cleanup(graph: &Graph, opts: &CleanupOptions) -> Result<CleanupReport> {
    graph.require_writable()?;
    opts.validate()?;
    let _turn = graph.write_queue().turn().await;
    let head = graph.snapshot().await?;
    let h = head.manifest_version;
    let mds = head.manifest_ds();
    let oldest = oldest_present(graph, &mds, h).await?;
    let by_count = h.saturating_sub(opts.keep_commits - 1).max(1);
    let cutoff_us = chrono::Utc::now().timestamp_micros() - (opts.keep_days * 86_400e6) as i64;
    let by_time = first_younger(graph, &mds, oldest, h, cutoff_us).await?;
    let mut keep_from = by_count.min(by_time).min(h);
    if let Some(p) = graph.pins().oldest() {
        keep_from = keep_from.min(p);
    }
    // A branch created from this one keeps the commit it was created at
    // (the base of its first merge) and everything after it.
    for b in crate::storage::branch::list(graph.root()).await? {
        if b.parent == graph.branch().name {
            keep_from = keep_from.min(b.fork);
        }
    }
    // An unfinished write may restore its tables to the versions it read.
    let sidecars = sidecar::list(graph.root()).await?;
    keep_from = keep_from.max(oldest);
    // A branch's own versions start after its fork: below that are its
    // parent's, which only the parent's cleanup removes.
    if let Some(fork) = graph.branch().fork() {
        keep_from = keep_from.max(fork + 1).min(h);
    }
    let oldest_kept = manifest::commit_at(graph.root(), graph.branch(), &mds, keep_from)
        .await?
        .ok_or_else(|| Error::CommitPruned { id: format!("manifest version {keep_from}") })?;
    let mut report =
        CleanupReport { dry_run: opts.dry_run, oldest_kept, commits_removed: keep_from - oldest, bytes_freed: 0, files_removed: 0, tables: Vec::new() };
    let (_, kept_state) = manifest::read(graph.root(), graph.branch(), Some(keep_from)).await?;

    // The manifest first: after it, no remaining commit publishes a table
    // version older than the ones kept below.
    let head_mds = table::open(graph.session(), &graph.root().child_uri(&graph.branch().manifest()), None).await?;
    if let Some(c) = clean(&head_mds, keep_from, opts.dry_run, MANIFEST_TABLE).await? {
        report.tables.push(c);
    }
    failpoint::hit("cleanup.after_manifest");
    let mut first = true;
    // Every table a kept commit publishes (also types a later schema
    // change dropped or renamed).
    for entry in kept_state.tables.values() {
        let key = entry.key.clone();
        let name = key.split_once(':').map_or(key.as_str(), |(_, n)| n).to_string();
        let mut floor = entry.version;
        for s in &sidecars {
            if let Some(st) = s.tables.iter().find(|st| st.key == key) {
                floor = floor.min(st.before);
            }
        }
        let ds = table::open(graph.session(), &graph.root().child_uri(&entry.location), None).await?;
        if let Some(mut c) = clean(&ds, floor, opts.dry_run, &name).await? {
            c.table = name.clone();
            report.tables.push(c);
            if first && !opts.dry_run {
                failpoint::hit("cleanup.after_first_table");
                first = false;
            }
        }
    }
    report.bytes_freed = report.tables.iter().map(|t| t.bytes_freed).sum();
    report.files_removed = report.tables.iter().map(|t| t.files_removed).sum();
    Ok(report)
}
