//! The pinned commit: a table commit lands at exactly one version or fails.
//!
//! Lance resolves concurrent commits by rebasing a transaction over the
//! versions committed since its read version. For omnigraph that is wrong:
//! a table's head may hold a version that `__manifest` never published (a
//! writer that lost its publish race, or crashed), and a rebase would fold
//! those invisible rows into ours. So every write to a table (and to
//! `__manifest` itself) goes through [`PinnedCommitHandler`], which wraps the
//! store's own handler and refuses to write any manifest version other than
//! the one the writer pinned (`read version + 1`). A refusal surfaces as
//! Lance's commit conflict, which the caller turns into
//! `ExpectedVersionMismatch`. The store's put-if-absent of
//! `_versions/N.manifest` still decides between two writers that pinned the
//! same version.

use std::sync::Arc;

use futures::stream::BoxStream;
use lance_io::object_store::ObjectStore;
use lance_table::format::{IndexMetadata, Manifest, Transaction};
use lance_table::io::commit::{CommitError, CommitHandler, ManifestLocation, ManifestNamingScheme, ManifestWriter, PredecessorIdentity};
use object_store::ObjectStore as OSObjectStore;
use object_store::path::Path;

#[derive(Debug)]
pub struct PinnedCommitHandler {
    inner: Arc<dyn CommitHandler>,
    version: u64,
}

impl PinnedCommitHandler {
    /// Wraps `inner`; only manifest version `version` may be committed.
    pub fn new(inner: Arc<dyn CommitHandler>, version: u64) -> Self {
        PinnedCommitHandler { inner, version }
    }
}

#[async_trait::async_trait]
impl CommitHandler for PinnedCommitHandler {
    fn is_version_not_found_definitive(&self) -> bool {
        self.inner.is_version_not_found_definitive()
    }

    fn propagate_commit_error_after_success(&self) -> bool {
        self.inner.propagate_commit_error_after_success()
    }

    async fn resolve_latest_location(&self, base_path: &Path, object_store: &ObjectStore) -> lance_core::Result<ManifestLocation> {
        self.inner.resolve_latest_location(base_path, object_store).await
    }

    async fn resolve_version_location(&self, base_path: &Path, version: u64, object_store: &dyn OSObjectStore) -> lance_core::Result<ManifestLocation> {
        self.inner.resolve_version_location(base_path, version, object_store).await
    }

    async fn version_exists(
        &self,
        base_path: &Path,
        version: u64,
        object_store: &dyn OSObjectStore,
        naming_scheme: ManifestNamingScheme,
    ) -> lance_core::Result<bool> {
        self.inner.version_exists(base_path, version, object_store, naming_scheme).await
    }

    fn list_detached_manifest_locations<'a>(&self, base_path: &Path, object_store: &'a ObjectStore) -> BoxStream<'a, lance_core::Result<ManifestLocation>> {
        self.inner.list_detached_manifest_locations(base_path, object_store)
    }

    fn list_manifest_locations<'a>(
        &self,
        base_path: &Path,
        object_store: &'a ObjectStore,
        sorted_descending: bool,
    ) -> BoxStream<'a, lance_core::Result<ManifestLocation>> {
        self.inner.list_manifest_locations(base_path, object_store, sorted_descending)
    }

    fn list_manifest_locations_since<'a>(
        &self,
        base_path: &Path,
        object_store: &'a ObjectStore,
        since_version: u64,
    ) -> BoxStream<'a, lance_core::Result<ManifestLocation>> {
        self.inner.list_manifest_locations_since(base_path, object_store, since_version)
    }

    async fn commit(
        &self,
        manifest: &mut Manifest,
        indices: Option<Vec<IndexMetadata>>,
        base_path: &Path,
        object_store: &ObjectStore,
        manifest_writer: ManifestWriter,
        naming_scheme: ManifestNamingScheme,
        transaction: Option<Transaction>,
    ) -> Result<ManifestLocation, CommitError> {
        if manifest.version != self.version {
            // Lance rebased us over a version we did not read: refuse.
            return Err(CommitError::CommitConflict);
        }
        self.inner.commit(manifest, indices, base_path, object_store, manifest_writer, naming_scheme, transaction).await
    }

    fn supports_predecessor_condition(&self) -> bool {
        false
    }

    async fn resolve_latest_identity(&self, base_path: &Path, object_store: &ObjectStore) -> lance_core::Result<Option<PredecessorIdentity>> {
        self.inner.resolve_latest_identity(base_path, object_store).await
    }

    async fn resolve_identity(&self, base_path: &Path, object_store: &ObjectStore, version: u64) -> lance_core::Result<Option<PredecessorIdentity>> {
        self.inner.resolve_identity(base_path, object_store, version).await
    }

    async fn forget_version(&self, base_path: &Path, version: u64, identity: &str) -> lance_core::Result<()> {
        self.inner.forget_version(base_path, version, identity).await
    }

    async fn delete(&self, base_path: &Path) -> lance_core::Result<()> {
        self.inner.delete(base_path).await
    }
}
