//! The catalog's object store: local directory or S3-compatible bucket,
//! opened the way the engine opens graph roots (one place:
//! `omnigraph::storage::root::open_store`, fsync on for local disk).
//!
//! Every transition is decided by [`CatalogStore::put_if_absent`], the
//! one conditional primitive both backends offer (`O_EXCL`-style
//! hard-link on local disk, `If-None-Match: *` on S3). Requests and bytes
//! are counted so the benchmark can show a transition's cost does not grow
//! with the catalog.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::error::{CatalogError, Result};

/// Requests and bytes sent to or read from the store since it was opened.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StoreStats {
    pub requests: u64,
    pub bytes_written: u64,
    pub bytes_read: u64,
    /// Keys returned by listings (what a listing costs beyond its requests).
    pub keys_listed: u64,
}

#[derive(Default, Debug)]
struct Counters {
    requests: AtomicU64,
    bytes_written: AtomicU64,
    bytes_read: AtomicU64,
    keys_listed: AtomicU64,
}

#[derive(Clone)]
pub struct CatalogStore {
    uri: String,
    store: Arc<dyn ObjectStore>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for CatalogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogStore").field("uri", &self.uri).finish()
    }
}

/// Outcome of a put-if-absent: the race is a value, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    AlreadyExists,
}

impl CatalogStore {
    pub fn open(session: &omnigraph::Session, uri: &str, create_local: bool) -> Result<CatalogStore> {
        let (uri, store) = omnigraph::storage::root::open_store(session, uri, create_local)?;
        Ok(CatalogStore { uri, store, counters: Default::default() })
    }

    /// The canonical URI (absolute path or `s3://bucket/prefix`).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    pub fn child_uri(&self, rel: &str) -> String {
        format!("{}/{}", self.uri.trim_end_matches('/'), rel)
    }

    pub fn stats(&self) -> StoreStats {
        StoreStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            bytes_written: self.counters.bytes_written.load(Ordering::Relaxed),
            bytes_read: self.counters.bytes_read.load(Ordering::Relaxed),
            keys_listed: self.counters.keys_listed.load(Ordering::Relaxed),
        }
    }

    fn count(&self, written: usize, read: usize) {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes_written.fetch_add(written as u64, Ordering::Relaxed);
        self.counters.bytes_read.fetch_add(read as u64, Ordering::Relaxed);
    }

    pub async fn get(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let got = match self.store.get(&Path::from(rel)).await {
            Ok(r) => Some(r.bytes().await.map_err(|e| CatalogError::storage(self.child_uri(rel), e))?.to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(CatalogError::storage(self.child_uri(rel), e)),
        };
        self.count(0, got.as_ref().map(|b| b.len()).unwrap_or(0));
        Ok(got)
    }

    /// Creates `rel` only if nothing is there. Durable when it returns.
    pub async fn put_if_absent(&self, rel: &str, bytes: Vec<u8>) -> Result<Put> {
        let n = bytes.len();
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        let out = match self.store.put_opts(&Path::from(rel), PutPayload::from(bytes), opts).await {
            Ok(_) => Put::Created,
            Err(object_store::Error::AlreadyExists { .. }) | Err(object_store::Error::Precondition { .. }) => Put::AlreadyExists,
            Err(e) => return Err(CatalogError::storage(self.child_uri(rel), e)),
        };
        self.count(n, 0);
        Ok(out)
    }

    /// Checks, on a probe object, that the store refuses a put-if-absent
    /// over an existing object and (where it offers them, S3) a put whose
    /// `If-Match` names another version. A store that quietly overwrites
    /// would let two processes both win one transition.
    pub async fn probe_conditional_writes(&self) -> Result<()> {
        let rel = format!("probes/{}.json", ulid::Ulid::new());
        let refuse = |detail: &str| CatalogError::NotConditional { uri: self.uri.clone(), detail: detail.to_string() };
        let create = |bytes: &'static [u8]| {
            let path = Path::from(rel.as_str());
            async move { self.store.put_opts(&path, PutPayload::from_static(bytes), PutOptions { mode: PutMode::Create, ..Default::default() }).await }
        };
        match create(b"{\"probe\": 1}").await {
            Ok(_) => {}
            Err(object_store::Error::NotImplemented { .. }) => return Err(refuse("put-if-absent is not supported")),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                return Err(refuse("a put-if-absent of a new probe object was refused"));
            }
            Err(e) => return Err(CatalogError::storage(self.child_uri(&rel), e)),
        }
        let second = match create(b"{\"probe\": 2}").await {
            Ok(_) => Ok(Put::Created),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(Put::AlreadyExists),
            Err(e) => Err(CatalogError::storage(self.child_uri(&rel), e)),
        };
        let stale = object_store::UpdateVersion { e_tag: Some("\"omnigraph-probe-stale\"".into()), version: None };
        let update = match self.uri.starts_with("s3://") {
            true => Some(
                self.store
                    .put_opts(&Path::from(rel.as_str()), PutPayload::from_static(b"{}"), PutOptions { mode: PutMode::Update(stale), ..Default::default() })
                    .await,
            ),
            false => None,
        };
        self.delete(&rel).await?;
        match second? {
            Put::AlreadyExists => {}
            Put::Created => return Err(refuse("a put-if-absent over an existing object succeeded")),
        }
        match update {
            None | Some(Err(object_store::Error::Precondition { .. })) => Ok(()),
            Some(Ok(_)) => Err(refuse("a put with If-Match naming another version succeeded")),
            Some(Err(object_store::Error::NotImplemented { .. })) => Err(refuse("If-Match puts are not supported")),
            Some(Err(e)) => Err(CatalogError::storage(self.child_uri(&rel), e)),
        }
    }

    /// Overwrites `rel`. Only for records one owner writes (a lease renewal).
    pub async fn put(&self, rel: &str, bytes: Vec<u8>) -> Result<()> {
        let n = bytes.len();
        self.store.put(&Path::from(rel), PutPayload::from(bytes)).await.map_err(|e| CatalogError::storage(self.child_uri(rel), e))?;
        self.count(n, 0);
        Ok(())
    }

    pub async fn delete(&self, rel: &str) -> Result<()> {
        let out = match self.store.delete(&Path::from(rel)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(CatalogError::storage(self.child_uri(rel), e)),
        };
        self.count(0, 0);
        out
    }

    /// Object paths under `prefix` (recursive), relative to the catalog root.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let metas: Vec<_> = self.store.list(Some(&Path::from(prefix))).try_collect().await.map_err(|e| CatalogError::storage(self.child_uri(prefix), e))?;
        // One request per page of 1,000 keys, as S3 serves them.
        for _ in 0..(metas.len() / 1000 + 1) {
            self.count(0, 0);
        }
        self.counters.keys_listed.fetch_add(metas.len() as u64, Ordering::Relaxed);
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }

    /// Names of the "directories" directly under `prefix`.
    pub async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>> {
        let listing = self.store.list_with_delimiter(Some(&Path::from(prefix))).await.map_err(|e| CatalogError::storage(self.child_uri(prefix), e))?;
        self.count(0, 0);
        let mut names: Vec<String> = listing.common_prefixes.into_iter().filter_map(|p| p.filename().map(str::to_string)).collect();
        names.sort();
        Ok(names)
    }
}
