//! The Lance session every table open and write goes through, and why an
//! acknowledged write survives a power cut on local disk.
//!
//! Lance's own local store writes data files, deletion files, index files,
//! `_versions/N.manifest` and `_transactions/*.txn` straight to the file
//! system without fsync, so a commit it reports can still be in the page
//! cache. This process therefore gives Lance one [`Session`] whose object
//! store registry maps `file://` to [`DurableFileProvider`]: the same local
//! store, but writing through `object_store`'s `LocalFileSystem` with fsync
//! on. Every file Lance creates is then written to a staging name, synced,
//! renamed (or hard-linked, for a manifest's put-if-absent) into place, and
//! its directory synced, before the write returns. A table commit returns
//! only after its manifest is durable, and the `__manifest` publish only
//! after that, so an answer (HTTP `200`, exit `0`) names only durable state.
//! S3 needs none of this: a completed put is durable.
//!
//! One session per process also shares Lance's metadata and index caches and
//! its object-store clients between all the tables and graphs it opens.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use lance::dataset::{WriteMode, WriteParams};
use lance::session::Session;
use lance_io::object_store::providers::local::FileStoreProvider;
use lance_io::object_store::{ObjectStore, ObjectStoreParams, ObjectStoreProvider, ObjectStoreRegistry};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use url::Url;

/// The store prefix of durable local stores. It differs from the scheme, so
/// Lance sends every write through the `object_store` implementation (with
/// fsync) instead of its direct, unsynced local writer.
pub const DURABLE_PREFIX: &str = "file+durable";

/// Lance's local store with fsync on every write.
#[derive(Debug, Default)]
pub struct DurableFileProvider;

#[async_trait::async_trait]
impl ObjectStoreProvider for DurableFileProvider {
    async fn new_store(&self, base_path: Url, params: &ObjectStoreParams) -> lance_core::Result<ObjectStore> {
        let mut store = FileStoreProvider.new_store(base_path, params).await?;
        store.inner = Arc::new(LocalFileSystem::new().with_fsync(true));
        store.store_prefix = DURABLE_PREFIX.to_string();
        Ok(store)
    }

    fn extract_path(&self, url: &Url) -> lance_core::Result<Path> {
        FileStoreProvider.extract_path(url)
    }

    fn calculate_object_store_prefix(&self, _url: &Url, _options: Option<&HashMap<String, String>>) -> lance_core::Result<String> {
        Ok(DURABLE_PREFIX.to_string())
    }
}

/// The process's Lance session: Lance's default caches and providers, with
/// `file://` made durable.
pub fn lance_session() -> Arc<Session> {
    static SESSION: OnceLock<Arc<Session>> = OnceLock::new();
    SESSION
        .get_or_init(|| {
            let registry = ObjectStoreRegistry::default();
            registry.insert("file", Arc::new(DurableFileProvider));
            Arc::new(Session::new(lance::dataset::DEFAULT_INDEX_CACHE_SIZE, lance::dataset::DEFAULT_METADATA_CACHE_SIZE, Arc::new(registry)))
        })
        .clone()
}

/// Write parameters for every table write: this process's session, no
/// automatic cleanup (versions are kept for recovery and history).
pub fn write_params(mode: WriteMode) -> WriteParams {
    WriteParams { mode, skip_auto_cleanup: true, session: Some(lance_session()), ..Default::default() }
}
