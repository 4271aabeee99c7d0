//! A graph root: one URI under which every artifact of one graph lives.
//!
//! Small files (schema, sidecars, init claim) go through `object_store`
//! directly; Lance datasets get their URIs from [`Root::child_uri`]. Local
//! roots use `LocalFileSystem` with fsync on, so a file reported written
//! survives a power cut. Put-if-absent is the only primitive that decides a
//! race.

use std::sync::Arc;

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::error::{Error, Result};
use crate::session::Session;

/// Canonical URI and object store for a graph or catalog root: an absolute
/// local path (fsync on, so a reported write survives a power cut), or
/// `s3://bucket/prefix` configured from the `AWS_*` environment variables
/// (`AWS_ENDPOINT`/`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP`). The returned store
/// is rooted at the URI: paths given to it are relative to the root.
/// The S3 client is the session's one for that bucket.
pub fn open_store(session: &Session, uri: &str, create_local: bool) -> Result<(String, Arc<dyn ObjectStore>)> {
    if let Some(rest) = uri.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::InvalidArgument(format!("`{uri}` names no bucket")));
        }
        let s3 = session.s3_client(bucket, uri)?;
        let prefix = canonical_key_prefix(uri, prefix)?;
        let prefix = prefix.as_str();
        let canonical = format!("s3://{bucket}/{prefix}").trim_end_matches('/').to_string();
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
        return Ok((canonical, store));
    }
    if let Some(scheme_end) = uri.find("://") {
        let scheme = &uri[..scheme_end];
        if scheme != "file" {
            return Err(Error::InvalidArgument(format!("storage scheme `{scheme}://` is not supported; use a local path or s3://bucket/prefix")));
        }
    }
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    let path = std::path::absolute(path).map_err(|e| Error::storage(uri, e))?;
    if create_local {
        create_dir_durably(&path).map_err(|e| Error::storage(path.display().to_string(), e))?;
    } else if !path.is_dir() {
        return Err(Error::NotAGraph { root: path.display().to_string(), missing: "the directory itself".into() });
    }
    // One name per directory: symlinks, `.`, `..` and trailing slashes
    // resolved, so that two spellings of one graph are one root (the
    // catalog's location claims and "inside the catalog" checks rely on it).
    let path = std::fs::canonicalize(&path).map_err(|e| Error::storage(path.display().to_string(), e))?;
    let store = LocalFileSystem::new_with_prefix(&path).map_err(|e| Error::storage(path.display().to_string(), e))?.with_fsync(true);
    Ok((path.display().to_string(), Arc::new(store)))
}

/// An S3 key prefix with empty segments (`a//b`, a trailing `/`) removed;
/// `.` and `..` segments are refused, since S3 keys do not resolve them and
/// one prefix must have one spelling.
fn canonical_key_prefix(uri: &str, prefix: &str) -> Result<String> {
    let mut parts = Vec::new();
    for seg in prefix.split('/').filter(|s| !s.is_empty()) {
        if seg == "." || seg == ".." {
            return Err(Error::InvalidArgument(format!("`{uri}`: `.` and `..` are not allowed in an S3 prefix")));
        }
        parts.push(seg);
    }
    Ok(parts.join("/"))
}

/// The one spelling of a root URI: for a local directory that exists, its
/// canonical absolute path; for one that does not, the absolute path with
/// `.`, `..` and trailing slashes removed; for S3, the bucket and a prefix
/// without empty segments.
pub fn canonical_uri(uri: &str) -> Result<String> {
    if let Some(rest) = uri.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = canonical_key_prefix(uri, prefix)?;
        return Ok(format!("s3://{bucket}/{prefix}").trim_end_matches('/').to_string());
    }
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    let path = std::path::absolute(path).map_err(|e| Error::storage(uri, e))?;
    if let Ok(real) = std::fs::canonicalize(&path) {
        return Ok(real.display().to_string());
    }
    let mut clean = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    Ok(clean.display().to_string())
}

/// Creates `path` and any missing parents, fsyncing the parent of each
/// directory it made, so the new root's name survives a power cut.
fn create_dir_durably(path: &std::path::Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        create_dir_durably(parent)?;
    }
    match std::fs::create_dir(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    match path.parent() {
        Some(parent) => std::fs::File::open(parent)?.sync_all(),
        None => Ok(()),
    }
}

#[derive(Clone)]
pub struct Root {
    uri: String,
    store: Arc<dyn ObjectStore>,
    session: Session,
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Root").field("uri", &self.uri).finish()
    }
}

/// Outcome of a put-if-absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Yes,
    AlreadyExists,
}

impl Root {
    /// Opens a root. A local path is made absolute; `create` makes the local
    /// directory when missing (an empty directory is not a graph artifact).
    /// `s3://bucket/prefix` roots are configured from the standard `AWS_*`
    /// environment variables, as Lance reads them. Every dataset under the
    /// root is opened and written through `session`.
    pub fn new(session: &Session, uri: &str, create: bool) -> Result<Root> {
        let (uri, store) = open_store(session, uri, create)?;
        Ok(Root { uri, store, session: session.clone() })
    }

    /// Whether the root is a local directory (its object paths are then
    /// file paths below `/`).
    pub fn is_local(&self) -> bool {
        !self.uri.starts_with("s3://")
    }

    /// The session this root was opened through.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The object store this root reads and writes, rooted at [`Root::uri`].
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// URI of a child (for Lance), e.g. `nodes/Person`.
    pub fn child_uri(&self, rel: &str) -> String {
        format!("{}/{}", self.uri.trim_end_matches('/'), rel)
    }

    pub async fn get(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        match self.store.get(&Path::from(rel)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| Error::storage(self.child_uri(rel), e))?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::storage(self.child_uri(rel), e)),
        }
    }

    pub async fn put_if_absent(&self, rel: &str, bytes: Vec<u8>) -> Result<Created> {
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        match self.store.put_opts(&Path::from(rel), PutPayload::from(bytes), opts).await {
            Ok(_) => Ok(Created::Yes),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Created::AlreadyExists),
            Err(e) => Err(Error::storage(self.child_uri(rel), e)),
        }
    }

    pub async fn delete(&self, rel: &str) -> Result<()> {
        match self.store.delete(&Path::from(rel)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::storage(self.child_uri(rel), e)),
        }
    }

    /// Every object under `prefix` (recursive), as paths relative to the root.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let p = Path::from(prefix);
        let metas: Vec<_> = self.store.list(Some(&p)).try_collect().await.map_err(|e| Error::storage(self.child_uri(prefix), e))?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }

    /// Deletes every object under `prefix`, then (locally) the empty directories.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<()> {
        for obj in self.list(prefix).await? {
            self.delete(&obj).await?;
        }
        let local = std::path::Path::new(&self.uri).join(prefix);
        if !self.uri.contains("://") && local.is_dir() {
            let _ = std::fs::remove_dir_all(&local);
        }
        Ok(())
    }

    /// Names directly under the root (files and directories).
    pub async fn top_level(&self) -> Result<Vec<String>> {
        let listing = self.store.list_with_delimiter(None).await.map_err(|e| Error::storage(&self.uri, e))?;
        let mut names: Vec<String> =
            listing.common_prefixes.into_iter().map(|p| p.to_string()).chain(listing.objects.into_iter().map(|o| o.location.to_string())).collect();
        names.sort();
        Ok(names)
    }
}
