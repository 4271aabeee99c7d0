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
//! When the head moved (another process published), one reader reads what
//! was appended since the cached read (`manifest::read_after`; all of it
//! after a checkpoint) while the others wait for its result instead of
//! reading it too.

use std::sync::{Arc, Mutex};

use lance::Dataset;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use crate::error::Result;
use crate::storage::Root;
use crate::storage::branch::BranchPath;
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

    /// Where the store's head is against the cached read: the next version
    /// does not exist (versions are contiguous: every commit adds the one
    /// after the head) and this one is the same object, or newer versions
    /// followed this very file. Two `HEAD`s (two `stat`s on a local disk)
    /// when nothing moved, however long the history; one more per version
    /// published since.
    async fn look(&self, root: &Root) -> Look {
        let Some(known) = self.get() else { return Look::Unknown };
        let loc = known.ds.manifest_location();
        let parts: Vec<_> = loc.path.parts().collect();
        let Some(n) = parts.len().checked_sub(2) else { return Look::Unknown };
        let base: Path = parts[..n].iter().cloned().collect();
        let mut newest = loc.version;
        loop {
            let next = loc.naming_scheme.manifest_path(&base, newest + 1);
            match identity(root, &known.ds, &next).await {
                Probe::Missing => break,
                Probe::Found(_) if newest - loc.version < MAX_FOLLOW => newest += 1,
                _ => return Look::Unknown,
            }
        }
        match identity(root, &known.ds, &loc.path).await {
            Probe::Found(id) if id == known.id && newest == loc.version => Look::Same(known),
            Probe::Found(id) if id == known.id => Look::Moved(known, newest),
            _ => Look::Unknown,
        }
    }

    /// The `__manifest` at its head and what it says.
    pub(crate) async fn read(&self, root: &Root, branch: &BranchPath) -> Result<(Arc<Dataset>, ManifestState)> {
        if let Look::Same(k) = self.look(root).await {
            return Ok((k.ds.clone(), k.state.clone()));
        }
        let _scan = self.scanning.lock().await;
        // Another reader may have scanned it while this one waited.
        let (ds, state) = match self.look(root).await {
            Look::Same(k) => return Ok((k.ds.clone(), k.state.clone())),
            // Followed from the known read: only what was appended since.
            Look::Moved(k, newest) => {
                let ds = Arc::new(k.ds.checkout_version(newest).await.map_err(|e| crate::error::Error::lance_open(manifest::MANIFEST_TABLE, e))?);
                let state = manifest::read_after(&k.ds, &k.state, &ds).await?;
                (ds, state)
            }
            Look::Unknown => manifest::read(root, branch, None).await?,
        };
        self.scans.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.remember(root, ds.clone(), state.clone()).await;
        Ok((ds, state))
    }

    /// The state of the head last read or published through this cache,
    /// without looking at the store (it may have moved since).
    pub(crate) fn known_state(&self) -> Option<ManifestState> {
        self.get().map(|k| k.state.clone())
    }

    pub(crate) fn scans(&self) -> u64 {
        self.scans.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// How many versions a handle follows one by one from its cached head;
/// past that it reads the head afresh.
const MAX_FOLLOW: u64 = 64;

enum Look {
    /// The head is the cached read.
    Same(Arc<Known>),
    /// Versions up to this one followed the cached read.
    Moved(Arc<Known>, u64),
    /// No cached read, or the store's files are not the ones it read.
    Unknown,
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
