//! Removing a graph location's data (delete, purge, a rolled-back create).
//! Object by object, so an interruption leaves a prefix that the next run
//! (recovery rolls these operations forward) finishes.

use omnigraph::storage::Root;

use crate::error::Result;

/// True if anything is stored under `location`.
pub async fn exists(location: &str) -> Result<bool> {
    let root = match Root::new(location, false) {
        Ok(r) => r,
        Err(omnigraph::Error::NotAGraph { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(!root.list("").await?.is_empty())
}

/// True if `location` holds a `__manifest` (something a fence can be written to).
pub async fn has_manifest(location: &str) -> Result<bool> {
    let root = match Root::new(location, false) {
        Ok(r) => r,
        Err(omnigraph::Error::NotAGraph { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(!root.list(omnigraph::graph::layout::MANIFEST).await?.is_empty())
}

/// Deletes every object under `location`, then (local disk) its directory.
/// Idempotent.
pub async fn remove(location: &str) -> Result<()> {
    let root = match Root::new(location, false) {
        Ok(r) => r,
        Err(omnigraph::Error::NotAGraph { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let objects = root.list("").await?;
    for (i, obj) in objects.iter().enumerate() {
        root.delete(obj).await?;
        if i == 0 {
            omnigraph::failpoint::hit("delete.mid_data_removal");
        }
    }
    if !location.contains("://") {
        let path = std::path::Path::new(root.uri());
        if path.is_dir() {
            std::fs::remove_dir_all(path).map_err(|e| crate::error::CatalogError::storage(root.uri(), e))?;
        }
    }
    Ok(())
}
