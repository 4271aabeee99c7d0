//! Removing a graph location's data (delete, purge, a rolled-back create).
//! Object by object, so an interruption leaves a prefix that the next run
//! (recovery rolls these operations forward) finishes.

use omnigraph::Session;
use omnigraph::storage::Root;

use crate::error::Result;

/// True if anything is stored under `location`.
pub async fn exists(session: &Session, location: &str) -> Result<bool> {
    let root = match Root::new(session, location, false) {
        Ok(r) => r,
        Err(omnigraph::Error::NotAGraph { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(!root.list("").await?.is_empty())
}

/// True if `location` holds a `__manifest` (something a fence can be written to).
pub async fn has_manifest(session: &Session, location: &str) -> Result<bool> {
    let root = match Root::new(session, location, false) {
        Ok(r) => r,
        Err(omnigraph::Error::NotAGraph { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(!root.list(omnigraph::graph::layout::MANIFEST).await?.is_empty())
}

/// Written into a location before its data removal starts and removed
/// last: while it exists, a half-removed graph is known to be one (its
/// fence landed before the marker), not a graph a storage fault hides.
pub const REMOVAL_MARKER: &str = "__removing.json";

/// True if a data removal started at `location` and did not finish.
pub async fn removal_started(session: &Session, location: &str) -> Result<bool> {
    match Root::new(session, location, false) {
        Ok(root) => Ok(root.get(REMOVAL_MARKER).await?.is_some()),
        Err(omnigraph::Error::NotAGraph { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Deletes every object under `location`, then (local disk) its directory.
/// Idempotent.
pub async fn remove(session: &Session, location: &str) -> Result<()> {
    let root = match Root::new(session, location, false) {
        Ok(r) => r,
        Err(omnigraph::Error::NotAGraph { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let objects = root.list("").await?;
    if objects.is_empty() {
        return Ok(());
    }
    root.put_if_absent(REMOVAL_MARKER, b"{}".to_vec()).await?;
    for (i, obj) in objects.iter().filter(|o| o.as_str() != REMOVAL_MARKER).enumerate() {
        root.delete(obj).await?;
        if i == 0 {
            omnigraph::failpoint::hit("delete.mid_data_removal");
        }
    }
    root.delete(REMOVAL_MARKER).await?;
    if !location.contains("://") {
        let path = std::path::Path::new(root.uri());
        if path.is_dir() {
            std::fs::remove_dir_all(path).map_err(|e| crate::error::CatalogError::storage(root.uri(), e))?;
        }
    }
    Ok(())
}
