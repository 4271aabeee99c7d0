//! A graph's branches: create one from a branch or a commit, list them,
//! delete one, and open a handle on one ([`Graph::on_branch`]).
//!
//! Creating branch `b` from commit `c` (manifest version `v` of branch `s`):
//! 1. a Lance branch `b` of `__manifest` at `(s, v)`: a shallow clone, and
//!    the claim on the name (a second create of `b` fails here);
//! 2. a Lance branch `b` of every table at the version `c` publishes;
//! 3. one commit on `b` (kind `branch`, parent `c`) that publishes every
//!    table at the same version in `b`'s own dataset.
//!
//! Nothing is copied, so the time does not grow with the graph. A crash
//! before 3 leaves a branch whose head is its fork: reads and writes refuse
//! it (`OG-BRANCH-004`) and `branch delete` removes it. Deleting removes the
//! manifest branch first (the branch is gone from then on), then the table
//! branches; a crash in between leaves table branches nothing reads, which
//! the next create of the name replaces. See docs/dev/branches.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use lance::dataset::refs::Ref;
use serde::Serialize;

use super::cleanup::Pins;
use super::head::HeadCache;
use super::{Graph, WriteOptions, WriteQueue};
use crate::error::{Error, Result};
use crate::failpoint;
use crate::storage::branch::{self, BranchPath};
use crate::storage::commit::Commit;
use crate::storage::manifest::{self, MAIN_BRANCH, TableUpdate};
use crate::storage::table;

pub use crate::storage::branch::BRANCH_KIND;

/// One branch handle's caches, shared by every handle on that branch made
/// from one opened graph.
#[derive(Clone)]
struct Line {
    path: Arc<BranchPath>,
    head: Arc<HeadCache>,
    writes: Arc<WriteQueue>,
    pins: Arc<Pins>,
}

/// The branches handed out by one opened graph, by name.
#[derive(Default)]
pub(crate) struct Lines(Mutex<HashMap<String, Line>>);

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.0.lock().expect("lines").keys().cloned().collect();
        f.debug_tuple("Lines").field(&names).finish()
    }
}

/// A branch as `branch list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BranchInfo {
    pub name: String,
    /// The branch it was created from (none for `main`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The commit it was created from (none for `main`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
    /// Its newest commit.
    pub head: Commit,
}

impl Graph {
    /// The branch this handle reads and writes.
    pub fn branch(&self) -> &BranchPath {
        &self.branch
    }

    /// A handle on branch `name` of this graph: its reads and writes go to
    /// that branch. Handles on one branch made from one opened graph share
    /// their head cache and write queue.
    pub async fn on_branch(&self, name: &str) -> Result<Graph> {
        if name == self.branch.name {
            return Ok(self.clone());
        }
        if name != MAIN_BRANCH {
            branch::validate_name(name)?;
        }
        let path = branch::resolve(&self.root, name).await?.ok_or_else(|| Error::BranchNotFound { name: name.to_string() })?;
        let line = {
            let mut lines = self.lines.0.lock().expect("lines");
            lines.entry(self.branch.name.clone()).or_insert_with(|| Line {
                path: self.branch.clone(),
                head: self.head.clone(),
                writes: self.writes.clone(),
                pins: self.pins.clone(),
            });
            match lines.get(name) {
                // The same branch (not one deleted and made again since).
                Some(l) if l.path == path => l.clone(),
                _ => {
                    let l = Line { path, head: Default::default(), writes: Default::default(), pins: Default::default() };
                    lines.insert(name.to_string(), l.clone());
                    l
                }
            }
        };
        let mut g = Graph { branch: line.path, head: line.head, writes: line.writes, pins: line.pins, ..self.clone() };
        // The branch's own schema: its head's as this handle knows it, or
        // read (a head that cannot be read says why at its first snapshot).
        let known = match g.head.known_state() {
            Some(state) => Some(state),
            None => g.head.read(&g.root, &g.branch).await.ok().map(|(_, state)| state),
        };
        if let Some(state) = known {
            g.schema = g.schema_of(&state).await?;
        }
        Ok(g)
    }

    /// Maps a failure to read this branch's head to `BranchNotFound` when
    /// the branch was deleted meanwhile.
    pub(crate) fn branch_gone(&self, e: Error) -> Error {
        if self.branch.is_main() || !matches!(e, Error::Unreadable { .. }) {
            return e;
        }
        Error::BranchNotFound { name: self.branch.name.clone() }
    }

    /// The branch and commit `from` names: a branch (its head), or a commit
    /// id of any branch. `None`: this handle's head.
    pub async fn resolve_from(&self, from: Option<&str>) -> Result<(Graph, Commit)> {
        let Some(from) = from.map(str::trim) else {
            return Ok((self.clone(), self.snapshot().await?.commit));
        };
        if branch::validate_name(from).is_ok() || from == MAIN_BRANCH {
            match self.on_branch(from).await {
                Ok(g) => {
                    let c = g.snapshot().await?.commit;
                    return Ok((g, c));
                }
                Err(Error::BranchNotFound { .. }) if crate::storage::commit::locate(from).is_some() => {}
                Err(e) => return Err(e),
            }
        }
        let Some((code, _)) = crate::storage::commit::locate(from) else {
            return Err(Error::InvalidArgument(format!("from: `{}` is neither a branch nor a commit id", from.chars().take(64).collect::<String>())));
        };
        let mut candidates = vec![MAIN_BRANCH.to_string()];
        candidates.extend(branch::list(&self.root).await?.into_iter().map(|r| r.name).filter(|n| branch::code_of(n) == code));
        for name in candidates.into_iter().filter(|n| branch::code_of(n) == code) {
            let g = self.on_branch(&name).await?;
            match g.commit(from).await {
                Ok(c) => return Ok((g, c)),
                Err(Error::CommitNotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::CommitNotFound { what: format!("`{}`", from.chars().take(64).collect::<String>()) })
    }
}

/// The Lance reference of manifest `version` on `b`.
fn lance_ref(b: &str, version: u64) -> Ref {
    Ref::Version((b != MAIN_BRANCH).then(|| b.to_string()), Some(version))
}

/// The branch of a table location (`nodes/T/tree/b` is on `b`).
fn branch_of_location(location: &str) -> &str {
    location.split_once("/tree/").map_or(MAIN_BRANCH, |(_, b)| b)
}

fn is_exists(e: &lance::Error) -> bool {
    let s = e.to_string();
    matches!(e, lance::Error::RefConflict { .. } | lance::Error::CommitConflict { .. } | lance::Error::DatasetAlreadyExists { .. })
        || s.contains("already exists")
}

/// Makes the Lance branch `name` of the table at `uri`, from version
/// `version` of its branch `src`.
async fn branch_table(session: &crate::session::Session, uri: &str, src: &str, version: u64, key: &str, name: &str) -> Result<()> {
    let mut ds = table::open(session, uri, Some(version)).await?;
    match ds.create_branch(name, lance_ref(src, version), None).await {
        Ok(_) => Ok(()),
        // A table branch of this name left by a create or delete that
        // crashed (Lance reports it as one error or another): nothing reads
        // it, since the manifest branch, which this create holds, is new.
        Err(_) => {
            ds.force_delete_branch(name).await.map_err(|e| Error::lance(key, e))?;
            ds.create_branch(name, lance_ref(src, version), None).await.map(|_| ()).map_err(|e| Error::lance(key, e))
        }
    }
}

/// Creates branch `name` from `from` (a branch or a commit; this handle's
/// head when `None`). Its first commit is made by `opts`' actor.
pub async fn create(graph: &Graph, name: &str, from: Option<&str>, opts: &WriteOptions) -> Result<BranchInfo> {
    graph.require_writable()?;
    opts.validate()?;
    branch::validate_name(name)?;
    if name == MAIN_BRANCH || branch::resolve(graph.root(), name).await?.is_some() {
        return Err(Error::BranchExists { name: name.to_string() });
    }
    let (source, commit) = graph.resolve_from(from).await?;
    let root = graph.root();
    let v = commit.manifest_version;
    let (_, state) = manifest::read(root, source.branch(), Some(v)).await.map_err(|_| Error::CommitPruned { id: commit.id.clone() })?;

    // 1. The manifest branch: the claim on the name.
    let mut main_manifest = table::open(graph.session(), &root.child_uri(manifest::MANIFEST_TABLE), None).await?;
    if let Err(e) = main_manifest.create_branch(name, lance_ref(&source.branch().name, v), None).await {
        if is_exists(&e) || branch::resolve(root, name).await?.is_some() {
            return Err(Error::BranchExists { name: name.to_string() });
        }
        if leftover(graph, name).await? {
            return Err(Error::BranchRefused {
                name: name.to_string(),
                reason: format!("a crashed delete left its files; `omnigraph branch delete {name}` removes them"),
            });
        }
        return Err(Error::lance(manifest::MANIFEST_TABLE, e));
    }
    failpoint::hit("branch.after_manifest_branch");

    // 2. A branch of every table at the version the commit publishes.
    let mut bases = HashMap::new();
    for t in graph.schema().types() {
        bases.insert(t.table_key(), t.location());
    }
    let jobs: Vec<_> = state
        .tables
        .values()
        .map(|e| {
            let base = bases.get(&e.key).cloned().unwrap_or_else(|| e.location.split("/tree/").next().unwrap_or(&e.location).to_string());
            (e.clone(), base)
        })
        .collect();
    let session = graph.session().clone();
    let work: Vec<(String, String, u64, String, String)> = jobs
        .iter()
        .map(|(e, _)| (root.child_uri(&e.location), branch_of_location(&e.location).to_string(), e.version, e.key.clone(), name.to_string()))
        .collect();
    let results: Vec<Result<()>> = futures::stream::iter(work)
        .map(|(uri, src, version, key, name)| {
            let session = session.clone();
            async move { branch_table(&session, &uri, &src, version, &key, &name).await }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>>>()?;
    failpoint::hit("branch.after_table_branches");

    // 3. The branch's first commit: every table in its own dataset.
    let path = branch::resolve(root, name).await?.ok_or_else(|| Error::BranchNotFound { name: name.to_string() })?;
    let (mds, mut mstate) = manifest::read(root, &path, Some(v)).await?;
    mstate.commit = commit.clone();
    let updates: Vec<TableUpdate> = jobs
        .iter()
        .map(|(e, base)| TableUpdate { key: e.key.clone(), expected: e.version, new_version: e.version, location: path.location(base), row_count: e.row_count })
        .collect();
    let mut draft = opts.draft(BRANCH_KIND, Default::default());
    draft.if_parent = None;
    if draft.message.is_none() {
        draft.message = Some(format!("branch {name} from {} at {}", source.branch().name, commit.id));
    }
    let op_id = ulid::Ulid::new().to_string();
    let (_, published) = manifest::publish(root, &path, mds, mstate, &updates, &[], &op_id, &draft).await?;
    // A delete that fenced the graph while this create ran may have listed
    // the branches before this one existed: then it goes again.
    if let super::fence::FenceState::Retired { op } = super::fence::state(root).await? {
        let _ = delete(graph, name).await;
        return Err(Error::GraphRetired { root: root.uri().to_string(), op });
    }
    Ok(BranchInfo { name: name.to_string(), parent: Some(source.branch().name.clone()), created_from: Some(commit.id), head: published.commit })
}

/// Every branch of the graph, `main` first, with its head commit.
pub async fn list(graph: &Graph) -> Result<Vec<BranchInfo>> {
    let main = graph.on_branch(MAIN_BRANCH).await?;
    let mut out = vec![BranchInfo { name: MAIN_BRANCH.into(), parent: None, created_from: None, head: main.snapshot().await?.commit }];
    for r in branch::list(graph.root()).await? {
        let g = match graph.on_branch(&r.name).await {
            Ok(g) => g,
            // Deleted while listing.
            Err(Error::BranchNotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let head = match g.snapshot().await {
            Ok(s) => s.commit,
            Err(Error::BranchNotFound { .. }) => continue,
            // A create that did not finish: listed so that it can be deleted.
            Err(Error::BranchRefused { .. }) => Commit::unrecorded(r.fork, (r.created_s as i64) * 1_000_000, None, "incomplete"),
            Err(e) => return Err(e),
        };
        let created_from = main.resolve_fork_commit(&r).await;
        out.push(BranchInfo { name: r.name.clone(), parent: Some(r.parent.clone()), created_from, head });
    }
    Ok(out)
}

impl Graph {
    /// The id of the commit branch `r` was created from, if still kept.
    async fn resolve_fork_commit(&self, r: &branch::BranchRecord) -> Option<String> {
        let parent = self.on_branch(&r.parent).await.ok()?;
        let snap = parent.snapshot().await.ok()?;
        manifest::commit_at(parent.root(), parent.branch(), &snap.manifest_ds(), r.fork).await.ok().flatten().map(|c| c.id)
    }
}

/// Whether files of a branch `name` with no record are left in
/// `__manifest` (a delete that crashed inside Lance's, between the record
/// and the directory).
async fn leftover(graph: &Graph, name: &str) -> Result<bool> {
    Ok(!graph.root().list(&format!("{}/tree/{name}/_versions", manifest::MANIFEST_TABLE)).await?.is_empty())
}

/// Deletes branch `name` with its own commits and files; the commits it was
/// made from are its parent's and stay. Without a record, removes the files
/// a delete that crashed inside Lance's left (`leftover`).
pub async fn delete(graph: &Graph, name: &str) -> Result<()> {
    graph.require_writable()?;
    if name == MAIN_BRANCH {
        return Err(Error::BranchRefused { name: name.into(), reason: "`main` cannot be deleted".into() });
    }
    branch::validate_name(name)?;
    let root = graph.root();
    let records = branch::list(root).await?;
    // Without a record, only the files a crashed delete left can be removed.
    if !records.iter().any(|r| r.name == name) && !leftover(graph, name).await? {
        return Err(Error::BranchNotFound { name: name.to_string() });
    }
    let children: Vec<&str> = records.iter().filter(|r| r.parent == name).map(|r| r.name.as_str()).collect();
    if !children.is_empty() {
        return Err(Error::BranchRefused { name: name.into(), reason: format!("branches were created from it ({}); delete them first", children.join(", ")) });
    }
    // The tables to remove the branch from: this handle's schema's, and
    // those the branch's head publishes (types its own schema added).
    let mut bases: std::collections::BTreeMap<String, String> = graph.schema().types().map(|t| (t.location(), t.table_key())).collect();
    if let Some(path) = records.iter().find(|r| r.name == name).and(branch::resolve(root, name).await.ok().flatten())
        && let Ok((_, state)) = manifest::read(root, &path, None).await
    {
        for e in state.tables.values() {
            bases.insert(e.location.split("/tree/").next().unwrap_or(&e.location).to_string(), e.key.clone());
        }
    }
    let mut main_manifest = table::open(graph.session(), &root.child_uri(manifest::MANIFEST_TABLE), None).await?;
    main_manifest.force_delete_branch(name).await.map_err(|e| Error::lance(manifest::MANIFEST_TABLE, e))?;
    failpoint::hit("branch.after_manifest_delete");
    for (location, key) in &bases {
        let mut ds = table::open(graph.session(), &root.child_uri(location), None).await?;
        if let Err(e) = ds.force_delete_branch(name).await
            && !matches!(e, lance::Error::RefNotFound { .. })
        {
            return Err(Error::lance(key, e));
        }
    }
    graph.lines.0.lock().expect("lines").remove(name);
    Ok(())
}
