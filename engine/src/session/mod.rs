//! The engine session: what one process shares between every graph and
//! table it opens. The server and the CLI each make one [`Session`] and open
//! every graph through it ([`Graph::open`](crate::Graph::open)); a clone is
//! the same session.
//!
//! A session holds:
//! - one Lance [`lance::session::Session`]: Lance's metadata and index
//!   caches and its object-store registry, with `file://` made durable
//!   ([`durable`]), so every table open and write shares them; and a second
//!   one for searches, which only read ([`Session::lance_reads`]): its
//!   `file://` reads go through Lance's direct local reader (the durable
//!   store reads each range through `object_store`, which costs a search
//!   about a third more), and it holds the search indexes' cache;
//! - the S3 clients of the graph and catalog roots, one per bucket, so a
//!   process keeps one connection pool per bucket however many graphs it opens;
//! - the memory budget ([`budget`]) shared by the query caches
//!   ([`cache`]) of every graph handle, and by Lance's caches;
//! - the bounds every query runs under ([`limits`]).

pub mod budget;
pub mod cache;
pub mod durable;
pub mod limits;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lance::dataset::{WriteMode, WriteParams};
use lance_io::object_store::ObjectStoreRegistry;
use object_store::aws::{AmazonS3, AmazonS3Builder};

pub use budget::{BudgetUsage, CacheBudget};
pub use cache::TableCache;
pub use limits::{DEFAULT_MAX_QUERY_ROWS, DEFAULT_MAX_RESULT_BYTES, QueryLimits};

use crate::error::{Error, Result};

/// How to make a [`Session`].
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// All the memory the session's caches may hold, or `None` for Lance's
    /// default cache sizes and query caches that keep the last few versions of each
    /// table a graph handle has read (the CLI). With a budget, Lance's
    /// metadata cache and its index cache get an eighth each, up to Lance's
    /// defaults ([`CacheShares`]), and the query caches of all graphs the rest.
    pub cache_bytes: Option<u64>,
    /// The bounds of every query run through this session.
    pub limits: QueryLimits,
    /// When query views follow writes and when they fold their changes in.
    pub views: ViewTuning,
    /// The embedding provider (`@embed`, `nearest` with a text), or why the
    /// configuration is unusable.
    pub embed: std::result::Result<Option<crate::embed::EmbedConfig>, String>,
}

impl Default for SessionOptions {
    /// No budget; query limits from the environment
    /// ([`QueryLimits::from_env`]).
    fn default() -> Self {
        SessionOptions { cache_bytes: None, limits: QueryLimits::from_env(), views: ViewTuning::default(), embed: crate::embed::EmbedConfig::from_env() }
    }
}

/// When a query view (node ids, a column, an adjacency) of a newer table
/// version is derived from a cached one, and when the changes it gathered
/// are folded into a new base (docs/dev/queries.md, "Views that follow
/// writes"). The defaults suit any graph; tests lower them to exercise the
/// folding on small graphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewTuning {
    /// A change of up to this many rows (or a quarter of the table, if more)
    /// is followed; a larger one rebuilds the view from the table.
    pub follow_rows: usize,
    /// Past this many entries (or an eighth of the view, if more) apart
    /// from its base, a view folds them into a new base, in the background
    /// (`query::rebase`); past four times as many, at once.
    pub rebase_entries: usize,
    /// How long a background fold waits before it starts (zero; tests raise
    /// it so that writes land while a fold runs).
    pub rebase_delay: std::time::Duration,
}

impl Default for ViewTuning {
    fn default() -> Self {
        ViewTuning { follow_rows: 10_000, rebase_entries: 4_096, rebase_delay: std::time::Duration::ZERO }
    }
}

impl ViewTuning {
    pub fn follow_limit(&self, len: usize) -> usize {
        (len / 4).max(self.follow_rows)
    }

    pub fn rebase_limit(&self, len: usize) -> usize {
        (len / 8).max(self.rebase_entries)
    }
}

/// How a session's cache budget is shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheShares {
    /// The whole budget (`--cache-bytes`).
    pub total: u64,
    /// Lance's index cache: an eighth, at most Lance's default (6 GiB).
    pub lance_index: u64,
    /// Lance's metadata cache: an eighth, at most Lance's default (1 GiB).
    pub lance_metadata: u64,
    /// The query caches of every graph: the rest.
    pub query: u64,
}

impl CacheShares {
    pub fn of(total: u64) -> CacheShares {
        let eighth = total / 8;
        let lance_index = eighth.min(lance::dataset::DEFAULT_INDEX_CACHE_SIZE as u64);
        let lance_metadata = eighth.min(lance::dataset::DEFAULT_METADATA_CACHE_SIZE as u64);
        CacheShares { total, lance_index, lance_metadata, query: total - lance_index - lance_metadata }
    }
}

/// See the module documentation. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    lance: Arc<lance::session::Session>,
    lance_reads: Arc<lance::session::Session>,
    s3: Mutex<HashMap<String, AmazonS3>>,
    budget: Option<Arc<CacheBudget>>,
    shares: Option<CacheShares>,
    limits: QueryLimits,
    views: ViewTuning,
    embedder: std::result::Result<Option<Arc<crate::embed::Embedder>>, String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("budget", &self.inner.budget).field("limits", &self.inner.limits).finish()
    }
}

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionOptions::default())
    }
}

impl Session {
    pub fn new(options: SessionOptions) -> Session {
        let registry = ObjectStoreRegistry::default();
        registry.insert("file", Arc::new(durable::DurableFileProvider));
        let shares = options.cache_bytes.map(CacheShares::of);
        let (index_bytes, metadata_bytes) = match shares {
            Some(s) => (s.lance_index as usize, s.lance_metadata as usize),
            None => (lance::dataset::DEFAULT_INDEX_CACHE_SIZE, lance::dataset::DEFAULT_METADATA_CACHE_SIZE),
        };
        let budget = shares.map(|s| CacheBudget::new(s.query));
        // The index share goes mostly to searches (vector and text indexes);
        // writes and scans keep a quarter for scalar lookups.
        let lance = Arc::new(lance::session::Session::new(index_bytes / 4, metadata_bytes / 2, Arc::new(registry)));
        let lance_reads = Arc::new(lance::session::Session::new(
            index_bytes - index_bytes / 4,
            metadata_bytes - metadata_bytes / 2,
            Arc::new(ObjectStoreRegistry::default()),
        ));
        let embedder = match options.embed {
            Ok(Some(c)) => crate::embed::Embedder::new(c).map(|e| Some(Arc::new(e))).map_err(|e| e.to_string()),
            Ok(None) => Ok(None),
            Err(m) => Err(m),
        };
        Session {
            inner: Arc::new(Inner {
                lance,
                lance_reads,
                s3: Mutex::new(HashMap::new()),
                budget,
                shares,
                limits: options.limits,
                views: options.views,
                embedder,
            }),
        }
    }

    /// The embedding provider, or why there is none (`OG-EMBED-002`).
    pub fn embedder(&self) -> Result<&Arc<crate::embed::Embedder>> {
        match &self.inner.embedder {
            Ok(Some(e)) => Ok(e),
            Ok(None) => Err(Error::Embed {
                code: crate::codes::EMBED_NOT_CONFIGURED.code,
                provider: "none".into(),
                message: "no embedding provider is configured: set OMNIGRAPH_EMBED_URL and OMNIGRAPH_EMBED_MODEL (or `embed` in the server config)".into(),
            }),
            Err(m) => Err(Error::Embed { code: crate::codes::EMBED_NOT_CONFIGURED.code, provider: "none".into(), message: m.clone() }),
        }
    }

    /// The Lance session every dataset is opened and written through.
    pub fn lance(&self) -> &Arc<lance::session::Session> {
        &self.inner.lance
    }

    /// The Lance session of searches: tables opened through it are only
    /// read, never written (its local store does not sync).
    pub fn lance_reads(&self) -> &Arc<lance::session::Session> {
        &self.inner.lance_reads
    }

    /// Whether `other` is this session (a clone of it).
    pub fn same_as(&self, other: &Session) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Write parameters for every table write: this session, no automatic
    /// cleanup (versions are kept for recovery and history).
    pub fn write_params(&self, mode: WriteMode) -> WriteParams {
        WriteParams { mode, skip_auto_cleanup: true, session: Some(self.inner.lance.clone()), ..Default::default() }
    }

    /// The bounds of every query run through this session.
    pub fn query_limits(&self) -> QueryLimits {
        self.inner.limits
    }

    /// When query views follow writes and fold their changes in.
    pub fn view_tuning(&self) -> ViewTuning {
        self.inner.views
    }

    /// How the cache budget is shared out, when the session has one.
    pub fn cache_shares(&self) -> Option<CacheShares> {
        self.inner.shares
    }

    /// The query-cache budget, when the session has one.
    pub fn cache_budget(&self) -> Option<&Arc<CacheBudget>> {
        self.inner.budget.as_ref()
    }

    /// A new query cache for one graph handle, counted against the budget.
    pub fn new_table_cache(&self) -> Arc<TableCache> {
        match &self.inner.budget {
            Some(b) => b.new_cache(),
            None => Arc::new(TableCache::default()),
        }
    }

    /// The client of S3 bucket `bucket`, made on first use from the standard
    /// `AWS_*` environment variables (`AWS_ENDPOINT` or `AWS_ENDPOINT_URL`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ALLOW_HTTP`) and shared by every root in that bucket.
    pub(crate) fn s3_client(&self, bucket: &str, uri: &str) -> Result<AmazonS3> {
        let mut clients = self.inner.s3.lock().expect("s3 clients");
        if let Some(c) = clients.get(bucket) {
            return Ok(c.clone());
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        // object_store reads AWS_ENDPOINT; Lance and the AWS tools also know
        // AWS_ENDPOINT_URL. Accept either, the same way for both.
        if std::env::var_os("AWS_ENDPOINT").is_none()
            && let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL")
        {
            builder = builder.with_endpoint(endpoint);
        }
        let client = builder.build().map_err(|e| Error::storage(uri, e))?;
        clients.insert(bucket.to_string(), client.clone());
        Ok(client)
    }
}
