//! The `__manifest` head a graph handle knows, so that a snapshot costs one
//! look at the store (where is the head?) and no scan while nothing changed.
//!
//! The cache holds the `__manifest` dataset last read or published, its
//! parsed state, and the e-tag of that manifest file. Asking whether the
//! head moved costs two `HEAD`s (is there a next version? is this one the
//! same file?), not a listing of every version ever published. A publish through
//! this handle fills it (a commit by rename does not report the new file's
//! e-tag, so it is asked for once, with one `HEAD`); a snapshot reuses it
//! when the store's head is that very file (same path, same e-tag: a
//! manifest replaced by a drop and re-create at the same path differs).
//! When the head moved (another process published), one reader scans the
//! new head while the others wait for its result instead of scanning it
//! too.

use std::sync::{Arc, Mutex};

use lance::Dataset;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use crate::error::Result;
use crate::storage::Root;
use crate::storage::manifest::{self, ManifestState};

#[derive(Clone)]
struct Known {
    ds: Arc<Dataset>,
    state: ManifestState,
    /// The manifest file's identity (see [`identity`]).
    id: String,
}

#[derive(Default)]
pub(crate) struct HeadCache {
    known: Mutex<Option<Arc<Known>>>,
    /// Held by the one reader that scans a moved head.
    scanning: tokio::sync::Mutex<()>,
    /// Full reads of `__manifest` so far (what the cache saves; for tests).
    scans: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for HeadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = self.known.lock().expect("head cache").as_ref().map(|k| k.state.version);
        f.debug_struct("HeadCache").field("version", &version).finish()
    }
}

impl HeadCache {
    fn get(&self) -> Option<Arc<Known>> {
        self.known.lock().expect("head cache").clone()
    }

    /// Takes `ds` (at `state`'s version), just read or published through
    /// this handle, as the head it knows. A slower reader may set an older
    /// head after a publish set a newer one: the next snapshot then sees the
    /// head moved and scans once.
    pub(crate) async fn remember(&self, root: &Root, ds: Arc<Dataset>, state: ManifestState) {
        let path = ds.manifest_location().path.clone();
        if let Probe::Found(id) = identity(root, &ds, &path).await {
            *self.known.lock().expect("head cache") = Some(Arc::new(Known { ds, state, id }));
        }
    }

    /// The cached read if the store's head is still that file: the next
    /// version does not exist (versions are contiguous: every commit adds
    /// the one after the head) and this one is the same object. Two
    /// `HEAD`s (two `stat`s on a local disk), however long the history.
    async fn current(&self, root: &Root) -> Option<(Arc<Dataset>, ManifestState)> {
        let known = self.get()?;
        let loc = known.ds.manifest_location();
        let parts: Vec<_> = loc.path.parts().collect();
        let base: Path = parts[..parts.len().checked_sub(2)?].iter().cloned().collect();
        let next = loc.naming_scheme.manifest_path(&base, loc.version + 1);
        if !matches!(identity(root, &known.ds, &next).await, Probe::Missing) {
            return None;
        }
        match identity(root, &known.ds, &loc.path).await {
            Probe::Found(id) if id == known.id => Some((known.ds.clone(), known.state.clone())),
            _ => None,
        }
    }

    /// The `__manifest` at its head and what it says.
    pub(crate) async fn read(&self, root: &Root) -> Result<(Arc<Dataset>, ManifestState)> {
        if let Some(hit) = self.current(root).await {
            return Ok(hit);
        }
        let _scan = self.scanning.lock().await;
        // Another reader may have scanned it while this one waited.
        if let Some(hit) = self.current(root).await {
            return Ok(hit);
        }
        let (ds, state) = manifest::read(root, None).await?;
        self.scans.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.remember(root, ds.clone(), state.clone()).await;
        Ok((ds, state))
    }

    pub(crate) fn scans(&self) -> u64 {
        self.scans.load(std::sync::atomic::Ordering::Relaxed)
    }
}

enum Probe {
    Missing,
    Found(String),
    /// The store gave no identity or failed: treat the head as unknown.
    Unknown,
}

/// What identifies one manifest file. On object storage its e-tag (one
/// `HEAD`). On a local disk its inode, modification time and size from
/// one `stat`, made right here: the object store would hand every `stat`
/// to a blocking thread, which under load costs far more than the `stat`.
async fn identity(root: &Root, ds: &Dataset, path: &Path) -> Probe {
    if root.is_local() {
        use std::os::unix::fs::MetadataExt;
        return match std::fs::metadata(format!("/{path}")) {
            Ok(m) => Probe::Found(format!("{:x}-{:x}.{:x}-{:x}", m.ino(), m.mtime(), m.mtime_nsec(), m.size())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Probe::Missing,
            Err(_) => Probe::Unknown,
        };
    }
    let Ok(store) = ds.object_store(None).await else { return Probe::Unknown };
    match store.inner.head(path).await {
        Ok(meta) => meta.e_tag.map_or(Probe::Unknown, Probe::Found),
        Err(object_store::Error::NotFound { .. }) => Probe::Missing,
        Err(_) => Probe::Unknown,
    }
}
