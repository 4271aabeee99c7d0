//! One graph: [`init`] it, open it (read-only or for write), take a
//! [`Snapshot`], and change it through the [`write`] protocol, with
//! [`sidecar`]s and [`recovery`] covering crashes.

pub mod branches;
pub mod cleanup;
pub mod fence;
pub mod fold;
mod head;
pub mod history;
pub mod indexes;
pub mod init;
pub(crate) mod intents;
pub mod layout;
pub mod optimize;
pub mod owner;
pub mod recovery;
pub mod retry;
pub mod schema_store;
pub mod sidecar;
pub mod write;
pub mod write_queue;

use std::sync::Arc;

use lance::Dataset;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::schema::{SchemaIr, TypeDef, TypeKind, compile_schema};
use crate::session::{QueryLimits, Session, TableCache};
use crate::storage::branch::BranchPath;
use crate::storage::commit::Commit;
use crate::storage::manifest::{self, ManifestState};
use crate::storage::{Root, table};
use head::HeadCache;
pub use init::{InitReport, SchemaState, init, init_with_op_id};
pub use recovery::Recovered;
pub use schema_store::GraphSchema;
pub use write::WriteOptions;
pub use write_queue::WriteQueue;

/// An open graph. Reads go through a [`Snapshot`]; writes through [`write`].
#[derive(Debug, Clone)]
pub struct Graph {
    root: Root,
    /// The schema this handle value reads and writes with: its head's when
    /// it was opened or bound (see [`Graph::bound`]).
    schema: Arc<GraphSchema>,
    /// Every schema this handle has read, by where it is stored.
    schemas: Arc<schema_store::SchemaCache>,
    writable: bool,
    /// Writes this open repaired from sidecars.
    recovered: Vec<Recovered>,
    /// What queries read, per table version, from the session (see
    /// `session::cache`).
    table_cache: Arc<TableCache>,
    /// The `__manifest` head as last read or published (see `head`).
    head: Arc<HeadCache>,
    /// Mutations waiting to publish together, and the write turn
    /// (`write_queue`).
    writes: Arc<WriteQueue>,
    /// The commits this handle's snapshots are reading: `cleanup` keeps
    /// them.
    pins: Arc<cleanup::Pins>,
    /// The branch this handle reads and writes (`main` unless opened with
    /// [`Graph::on_branch`]).
    branch: Arc<BranchPath>,
    /// The head cache, write queue and pins of every branch handed out by
    /// this handle (see `branches`).
    lines: Arc<branches::Lines>,
}

/// One table as a snapshot publishes it.
#[derive(Debug, Clone, Serialize)]
pub struct TableSnapshot {
    pub key: String,
    pub kind: TypeKind,
    pub name: String,
    pub location: String,
    pub version: u64,
    pub row_count: u64,
}

/// The graph at one `__manifest` version.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub root: String,
    pub manifest_version: u64,
    pub genesis_id: Option<String>,
    pub schema_hash: String,
    /// The schema of this commit.
    #[serde(skip)]
    pub schema: Arc<GraphSchema>,
    pub tables: Vec<TableSnapshot>,
    /// The commit this snapshot reads.
    pub commit: Commit,
    #[serde(skip)]
    pub(crate) state: ManifestState,
    #[serde(skip)]
    pub(crate) manifest_ds: Option<Arc<Dataset>>,
    /// Keeps `cleanup` from removing this commit while the snapshot lives.
    #[serde(skip)]
    pub(crate) _pin: Option<Arc<cleanup::Pin>>,
}

impl Snapshot {
    pub fn table(&self, key: &str) -> Option<&TableSnapshot> {
        self.tables.iter().find(|t| t.key == key)
    }

    /// The `__manifest` dataset at this snapshot's version (for writers).
    pub fn manifest_ds(&self) -> Arc<Dataset> {
        self.manifest_ds.clone().expect("snapshots from Graph::snapshot carry their manifest")
    }

    /// The manifest state this snapshot was read from (for writers).
    pub fn manifest_state(&self) -> ManifestState {
        self.state.clone()
    }
}

impl Graph {
    /// Opens a graph for reading through `session`. Never writes; a write
    /// abandoned mid-commit is reported as `RecoveryRequired`.
    pub async fn open(uri: &str, session: &Session) -> Result<Graph> {
        Self::open_impl(uri, session, false).await
    }

    /// Opens a graph for writing, first repairing any abandoned write.
    pub async fn open_for_write(uri: &str, session: &Session) -> Result<Graph> {
        Self::open_impl(uri, session, true).await
    }

    /// This graph, opened read-only, made writable: what [`open_for_write`]
    /// does beyond a read-only open (remove a landed init's leftover claim,
    /// refuse a retired graph, repair abandoned writes), without reading the
    /// schema files again. The server opens read-only first to decide
    /// whether to serve a graph, then this.
    ///
    /// [`open_for_write`]: Graph::open_for_write
    pub async fn into_writable(mut self) -> Result<Graph> {
        if self.writable {
            return Ok(self);
        }
        if let Some(claim) = init::read_claim(&self.root).await?
            && claim.abandoned()
        {
            // A read-only open checked that this init landed.
            self.root.delete(layout::INIT_CLAIM).await?;
        }
        self.writable = true;
        self.recovered = Self::writable_checks(&self.root).await?;
        Ok(self)
    }

    /// The fence, then abandoned writes: refused if retired, else repaired.
    async fn writable_checks(root: &Root) -> Result<Vec<Recovered>> {
        if let fence::FenceState::Retired { op } = fence::state(root).await? {
            return Err(Error::GraphRetired { root: root.uri().to_string(), op });
        }
        let mut recovered = Vec::new();
        for s in sidecar::list(root).await?.iter().filter(|s| s.abandoned()) {
            recovered.push(recovery::recover(root, s, false).await?);
        }
        Ok(recovered)
    }

    async fn open_impl(uri: &str, session: &Session, writable: bool) -> Result<Graph> {
        let root = Root::new(session, uri, false)?;
        let manifest_present = !root.list(layout::MANIFEST).await?.is_empty();
        if let Some(claim) = init::read_claim(&root).await? {
            let landed = if manifest_present {
                manifest::read(&root, &BranchPath::main(), None).await?.1.genesis_id.as_deref() == Some(claim.op_id.as_str())
            } else {
                false
            };
            if !landed {
                return Err(Error::InitIncomplete { root: root.uri().to_string(), op_id: claim.op_id });
            }
            if writable && claim.abandoned() {
                // The init landed; only its claim was left behind.
                root.delete(layout::INIT_CLAIM).await?;
            }
        }
        if !manifest_present {
            return Err(Error::NotAGraph { root: root.uri().to_string(), missing: layout::MANIFEST.into() });
        }
        let missing = |name: &str| Error::NotAGraph { root: root.uri().to_string(), missing: name.to_string() };
        let src = root.get(layout::SCHEMA_PG).await?.ok_or_else(|| missing(layout::SCHEMA_PG))?;
        let ir_bytes = root.get(layout::SCHEMA_IR).await?.ok_or_else(|| missing(layout::SCHEMA_IR))?;
        let state_bytes = root.get(layout::SCHEMA_STATE).await?.ok_or_else(|| missing(layout::SCHEMA_STATE))?;
        let mismatch = |reason: String| Error::SchemaStateMismatch { root: root.uri().to_string(), reason };
        let src = String::from_utf8(src).map_err(|_| mismatch(format!("{} is not UTF-8", layout::SCHEMA_PG)))?;
        let ir: SchemaIr = serde_json::from_slice(&ir_bytes).map_err(|e| mismatch(format!("{}: {e}", layout::SCHEMA_IR)))?;
        let state: SchemaState = serde_json::from_slice(&state_bytes).map_err(|e| mismatch(format!("{}: {e}", layout::SCHEMA_STATE)))?;
        let hash = ir.content_hash();
        if hash != state.schema_ir_hash {
            return Err(mismatch(format!("{} hashes to {hash}, {} says {}", layout::SCHEMA_IR, layout::SCHEMA_STATE, state.schema_ir_hash)));
        }
        let from_src = compile_schema(&src).map_err(Error::Schema)?;
        if from_src.content_hash() != hash {
            return Err(mismatch(format!("{} does not compile to {}", layout::SCHEMA_PG, layout::SCHEMA_IR)));
        }

        let recovered = if writable {
            Self::writable_checks(&root).await?
        } else {
            let abandoned: Vec<String> = sidecar::list(&root).await?.into_iter().filter(|s| s.abandoned()).map(|s| s.op_id).collect();
            if !abandoned.is_empty() {
                return Err(Error::RecoveryRequired { root: root.uri().to_string(), ops: abandoned });
            }
            Vec::new()
        };
        let genesis = Arc::new(GraphSchema { ir, source: src, hash, generation: 0 });
        let schemas = Arc::new(schema_store::SchemaCache::with_genesis(genesis.clone()));
        // The head's schema; the read is kept as the head this handle
        // knows, so its first snapshot reads nothing more.
        let (head_ds, head) = manifest::read(&root, &BranchPath::main(), None).await?;
        let schema = schemas.of(&root, &head).await?;
        let g = Graph {
            root,
            schema,
            schemas,
            writable,
            recovered,
            table_cache: session.new_table_cache(),
            head: Default::default(),
            writes: Default::default(),
            pins: Default::default(),
            branch: BranchPath::main(),
            lines: Default::default(),
        };
        g.remember_manifest(head_ds, head).await;
        Ok(g)
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The schema this handle value reads and writes with (its head's when
    /// opened or [`bound`](Graph::bound)).
    pub fn schema(&self) -> &SchemaIr {
        &self.schema.ir
    }

    pub fn schema_source(&self) -> &str {
        &self.schema.source
    }

    pub fn schema_hash(&self) -> &str {
        &self.schema.hash
    }

    /// The schema with its source, hash and generation.
    pub fn graph_schema(&self) -> &Arc<GraphSchema> {
        &self.schema
    }

    /// This handle, reading and writing with the schema of `snap` (a
    /// clone: caches, queue and pins are shared).
    pub fn bound(&self, snap: &Snapshot) -> Graph {
        let mut g = self.clone();
        g.schema = snap.schema.clone();
        g
    }

    /// This handle bound to the schema of the head it last read or
    /// published, without looking at the store: what a write request
    /// compiles against before its batch reads the head (a batch refuses a
    /// plan of another schema with `SchemaMoved`; compile against
    /// [`current`](Graph::current) then). Looks once when it knows no head.
    pub async fn bound_to_known(&self) -> Result<Graph> {
        match self.head.known_state() {
            Some(state) => {
                let mut g = self.clone();
                g.schema = self.schema_of(&state).await?;
                Ok(g)
            }
            None => Ok(self.current().await?.0),
        }
    }

    /// The latest snapshot, and this handle bound to its schema: how every
    /// read and write starts, so that it uses the schema of the commit it
    /// reads.
    pub async fn current(&self) -> Result<(Graph, Snapshot)> {
        let snap = self.snapshot().await?;
        Ok((self.bound(&snap), snap))
    }

    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The session this graph was opened through.
    pub fn session(&self) -> &Session {
        self.root.session()
    }

    /// The bounds of every query on this graph (the session's).
    pub fn query_limits(&self) -> QueryLimits {
        self.root.session().query_limits()
    }

    /// This handle's write queue: the turn every load and batch of
    /// mutations takes, so that writes through one handle never race each
    /// other, and the mutations waiting for the next batch.
    pub fn write_queue(&self) -> &WriteQueue {
        &self.writes
    }

    /// The commits (manifest versions) snapshots of this handle read now.
    pub(crate) fn pins(&self) -> &cleanup::Pins {
        &self.pins
    }

    pub(crate) fn table_cache(&self) -> &TableCache {
        &self.table_cache
    }

    pub(crate) fn table_cache_arc(&self) -> &Arc<TableCache> {
        &self.table_cache
    }

    /// Background rebuilds of view bases: running now, swapped in so far
    /// (docs/dev/queries.md, "Views that follow writes"). For tests and
    /// diagnostics.
    pub fn view_rebases(&self) -> crate::session::cache::Rebases {
        self.table_cache.rebases()
    }

    /// Writes that opening this graph repaired.
    pub fn recovered(&self) -> &[Recovered] {
        &self.recovered
    }

    /// Takes `ds` (at `state`'s version) as the `__manifest` head this
    /// handle knows: what a write of this handle just published. The next
    /// snapshot still asks the store for the head and uses this only if it
    /// is that very file.
    pub(crate) async fn remember_manifest(&self, ds: Arc<Dataset>, state: ManifestState) {
        self.head.remember(&self.root, ds, state).await;
    }

    /// How many times this handle scanned `__manifest` because its head
    /// moved (a publish through this handle does not make the next
    /// snapshot scan). For tests and diagnostics.
    pub fn manifest_scans(&self) -> u64 {
        self.head.scans()
    }

    /// The latest published snapshot: one look at where the `__manifest`
    /// head is, and a scan of it only when it moved (see `head`).
    pub async fn snapshot(&self) -> Result<Snapshot> {
        let (ds, state) = self.head.read(&self.root, &self.branch).await.map_err(|e| self.branch_gone(e))?;
        if let Some(f) = state.retired() {
            return Err(Error::GraphRetired { root: self.root.uri().to_string(), op: f.op_id.clone() });
        }
        if self.branch.fork() == Some(state.version) {
            return Err(Error::BranchRefused { name: self.branch.name.clone(), reason: "its creation did not finish; delete it and create it again".into() });
        }
        self.snapshot_of(ds, state).await
    }

    /// The schema `state` reads with.
    pub(crate) async fn schema_of(&self, state: &ManifestState) -> Result<Arc<GraphSchema>> {
        self.schemas.of(&self.root, state).await
    }

    /// The snapshot `state` (read from the `__manifest` `ds`) publishes.
    pub(crate) async fn snapshot_of(&self, ds: Arc<Dataset>, state: ManifestState) -> Result<Snapshot> {
        let schema = self.schema_of(&state).await?;
        let mut tables = Vec::new();
        for t in schema.ir.types() {
            let key = t.table_key();
            let Some(e) = state.tables.get(&key) else {
                return Err(Error::storage(self.root.child_uri(layout::MANIFEST), format!("manifest has no entry for {key}")));
            };
            tables.push(TableSnapshot { key, kind: t.kind, name: t.name.clone(), location: e.location.clone(), version: e.version, row_count: e.row_count });
        }
        Ok(Snapshot {
            root: self.root.uri().to_string(),
            manifest_version: state.version,
            genesis_id: state.genesis_id.clone(),
            schema_hash: schema.hash.clone(),
            schema,
            tables,
            commit: state.commit.clone(),
            _pin: Some(self.pins.pin(state.version)),
            state,
            manifest_ds: Some(ds),
        })
    }

    /// Opens a type's dataset at the version `snap` publishes.
    pub async fn open_table(&self, snap: &Snapshot, t: &TypeDef) -> Result<Dataset> {
        let ts = snap.table(&t.table_key()).ok_or_else(|| Error::UnknownType { name: t.name.clone() })?;
        table::open(self.root.session(), &self.root.child_uri(&ts.location), Some(ts.version)).await
    }

    /// Looks a type up by name (node types first).
    pub fn type_named(&self, name: &str) -> Result<&TypeDef> {
        self.schema.ir.node(name).or_else(|| self.schema.ir.edge(name)).ok_or_else(|| Error::UnknownType { name: name.to_string() })
    }

    pub(crate) fn require_writable(&self) -> Result<()> {
        if self.writable { Ok(()) } else { Err(Error::InvalidArgument("graph was opened read-only; open it for write".into())) }
    }
}
