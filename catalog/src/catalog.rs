//! [`Catalog`]: the handle every caller (CLI, server, recovery) uses.
//!
//! Layout under the catalog root (docs/dev/catalog.md has the details):
//!
//! ```text
//! _catalog.json                      marker {format_version}
//! entries/<id>/<version>.json        one version chain per graph id
//! operations/<op-id>.json            sidecars of unfinished operations
//! locations/<sha256>.json            claims on imported graph locations
//! graphs/<id>/<incarnation>/         graph data, one root per incarnation
//! ```

use omnigraph::Session;
use serde::{Deserialize, Serialize};

use crate::entry::{self, GraphEntry, Publish, State};
use crate::error::{CatalogError, Result};
use crate::operation::Operation;
use crate::store::{CatalogStore, Put, StoreStats};

pub const MARKER: &str = "_catalog.json";
pub const GRAPHS_DIR: &str = "graphs";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    format_version: u32,
    created_at: String,
}

/// An open catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub(crate) store: CatalogStore,
    pub(crate) actor: String,
    /// The engine session graphs are created, opened and fenced through.
    pub(crate) session: Session,
}

/// A graph as `list` and `show` report it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphInfo {
    #[serde(flatten)]
    pub entry: GraphEntry,
    /// The sidecar of the operation in flight, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default)]
    pub operation: Option<Operation>,
}

impl GraphInfo {
    /// Shown by a plain `list`: everything but failed creates and
    /// tombstones whose data is gone (and that nothing is working on).
    pub fn listed(&self) -> bool {
        let e = &self.entry;
        !(matches!(e.state, State::Failed | State::Deleted) && !e.retained() && e.op.is_none())
    }
}

/// What [`Catalog::list_all`] found.
#[derive(Debug, Default)]
pub struct Listing {
    pub graphs: Vec<GraphInfo>,
    pub unreadable: Vec<UnreadableRecord>,
}

/// A catalog record that does not parse: which graph, which file, why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnreadableRecord {
    pub id: String,
    pub code: &'static str,
    pub error: String,
}

impl UnreadableRecord {
    pub fn of(id: &str, e: &CatalogError) -> UnreadableRecord {
        UnreadableRecord { id: id.to_string(), code: e.code(), error: e.to_string() }
    }
}

impl Catalog {
    /// Opens the catalog at `uri` (a local path or `s3://bucket/prefix`).
    /// Nothing is written until the first create or import. Graphs are
    /// created, opened and fenced through `session`.
    pub async fn open(uri: &str, session: &Session) -> Result<Catalog> {
        let store = CatalogStore::open(session, uri, true)?;
        Ok(Catalog { store, actor: "cli".into(), session: session.clone() })
    }

    /// Opens a catalog that must already exist (for list, show, recover).
    /// Writes nothing, not even a missing local directory.
    pub async fn open_existing(uri: &str, session: &Session) -> Result<Catalog> {
        let store = match CatalogStore::open(session, uri, false) {
            Ok(s) => s,
            Err(CatalogError::Engine(omnigraph::Error::NotAGraph { root, .. })) => {
                return Err(CatalogError::NotACatalog { uri: root, marker: MARKER.into() });
            }
            Err(e) => return Err(e),
        };
        let c = Catalog { store, actor: "cli".into(), session: session.clone() };
        if c.store.get(MARKER).await?.is_none() {
            return Err(CatalogError::NotACatalog { uri: c.store.uri().to_string(), marker: MARKER.into() });
        }
        Ok(c)
    }

    /// Who is recorded as the actor of operations started through this handle.
    pub fn with_actor(mut self, actor: &str) -> Catalog {
        self.actor = actor.to_string();
        self
    }

    pub fn uri(&self) -> &str {
        self.store.uri()
    }

    pub fn store(&self) -> &CatalogStore {
        &self.store
    }

    /// The engine session this catalog works through.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The root of a graph location, opened through this catalog's session.
    pub(crate) fn graph_root(&self, location: &str) -> omnigraph::Result<omnigraph::storage::Root> {
        omnigraph::storage::Root::new(&self.session, location, false)
    }

    /// The fence of the graph at `location`.
    pub(crate) async fn fence_state(&self, location: &str) -> omnigraph::Result<omnigraph::graph::fence::FenceState> {
        omnigraph::graph::fence::state(&self.graph_root(location)?).await
    }

    /// Retires the fence of the graph at `location` (see `fence::retire`).
    pub(crate) async fn retire_fence(&self, location: &str, op_id: &str, expected: Option<u64>) -> omnigraph::Result<()> {
        omnigraph::graph::fence::retire(&self.graph_root(location)?, op_id, expected).await
    }

    /// Requests and bytes this handle has sent to storage.
    pub fn stats(&self) -> StoreStats {
        self.store.stats()
    }

    /// Writes the marker if missing (idempotent, put-if-absent).
    pub(crate) async fn ensure_marker(&self) -> Result<()> {
        let m = Marker { format_version: FORMAT_VERSION, created_at: entry::now_rfc3339() };
        match self.store.put_if_absent(MARKER, serde_json::to_vec_pretty(&m).expect("marker serializes")).await? {
            Put::Created | Put::AlreadyExists => Ok(()),
        }
    }

    /// Where a new incarnation of `id` lives.
    pub(crate) fn incarnation_location(&self, id: &str, incarnation: &str) -> String {
        self.store.child_uri(&format!("{GRAPHS_DIR}/{id}/{incarnation}"))
    }

    /// The current entry of `id`, if the id was ever used.
    pub async fn entry(&self, id: &str) -> Result<Option<GraphEntry>> {
        entry::head(&self.store, id).await
    }

    /// One graph with its in-flight operation.
    pub async fn show(&self, id: &str) -> Result<GraphInfo> {
        entry::validate_id(id)?;
        let e = self.entry(id).await?.ok_or_else(|| CatalogError::NotFound { id: id.to_string() })?;
        let operation = match &e.op {
            Some(op) => Operation::read(&self.store, &op.id).await?,
            None => None,
        };
        Ok(GraphInfo { entry: e, operation })
    }

    /// Every graph id's current entry (tombstones and failed creates
    /// included; filter on `state` to see only what is served). Records
    /// that do not parse are left out; [`Catalog::list_all`] reports them.
    pub async fn list(&self) -> Result<Vec<GraphInfo>> {
        Ok(self.list_all().await?.graphs)
    }

    /// Every graph id's current entry, and every record that does not parse
    /// (corrupt, or written by a newer version): one bad record is reported
    /// on its own and never hides the other graphs. A storage fault still
    /// fails the whole listing (the caller retries).
    pub async fn list_all(&self) -> Result<Listing> {
        let mut out = Listing::default();
        for id in entry::ids(&self.store).await? {
            let e = match self.entry(&id).await {
                Ok(Some(e)) => e,
                Ok(None) => continue,
                Err(err @ CatalogError::Corrupt { .. }) => {
                    out.unreadable.push(UnreadableRecord::of(&id, &err));
                    continue;
                }
                Err(err) => return Err(err),
            };
            let operation = match &e.op {
                Some(op) => match Operation::read(&self.store, &op.id).await {
                    Ok(o) => o,
                    Err(err @ CatalogError::Corrupt { .. }) => {
                        out.unreadable.push(UnreadableRecord::of(&id, &err));
                        None
                    }
                    Err(err) => return Err(err),
                },
                None => None,
            };
            out.graphs.push(GraphInfo { entry: e, operation });
        }
        Ok(out)
    }

    /// The location of an active graph, for callers about to open it.
    pub async fn active_location(&self, id: &str) -> Result<String> {
        let e = self.entry(id).await?.ok_or_else(|| CatalogError::NotFound { id: id.to_string() })?;
        match e.state {
            State::Active if e.op.is_none() => Ok(e.location),
            State::Active | State::Reserved | State::Initializing | State::Deleting => {
                let op = e.op.as_ref().map(|o| (o.id.clone(), o.kind.to_string())).unwrap_or_default();
                Err(CatalogError::InProgress { id: id.into(), op: op.0, kind: op.1 })
            }
            State::Deleted | State::Failed => Err(CatalogError::NotFound { id: id.to_string() }),
        }
    }

    /// Publishes `next` after `base`. On a lost race, returns the head that
    /// won so the caller can re-check against it.
    pub(crate) async fn advance(&self, base: &GraphEntry, next: GraphEntry) -> Result<Result<GraphEntry, Option<GraphEntry>>> {
        match entry::publish(&self.store, Some(base), next).await? {
            Publish::Published(e) => Ok(Ok(e)),
            Publish::Lost => Ok(Err(self.entry(&base.id).await?)),
        }
    }
}
