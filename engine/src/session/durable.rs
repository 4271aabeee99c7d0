//! Why an acknowledged write survives a power cut on local disk.
//!
//! Lance's own local store writes data files, deletion files, index files,
//! `_versions/N.manifest` and `_transactions/*.txn` straight to the file
//! system without fsync, so a commit it reports can still be in the page
//! cache. The engine [`Session`](super::Session) therefore gives Lance an
//! object store registry that maps `file://` to [`DurableFileProvider`]: the same local
//! store, but writing through `object_store`'s `LocalFileSystem` with fsync
//! on. Every file Lance creates is then written to a staging name, synced,
//! renamed (or hard-linked, for a manifest's put-if-absent) into place, and
//! its directory synced, before the write returns. A table commit returns
//! only after its manifest is durable, and the `__manifest` publish only
//! after that, so an answer (HTTP `200`, exit `0`) names only durable state.
//! S3 needs none of this: a completed put is durable.

use std::collections::HashMap;
use std::sync::Arc;

use lance_io::object_store::providers::local::FileStoreProvider;
use lance_io::object_store::{ObjectStore, ObjectStoreParams, ObjectStoreProvider};
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
