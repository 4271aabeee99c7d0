//! Retention: deleted graphs whose retention period ended.

use crate::catalog::Catalog;
use crate::entry::GraphEntry;
use crate::operation::now_ms;

/// True when `e` is a retained tombstone whose retention period is over.
pub fn expired(e: &GraphEntry) -> bool {
    e.retained()
        && e.op.is_none()
        && e.retained_until
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| t.timestamp_millis() <= now_ms())
}

impl Catalog {
    /// Tombstones whose retained data is due for purging.
    pub async fn expired_retentions(&self) -> crate::error::Result<Vec<GraphEntry>> {
        Ok(self.list().await?.into_iter().map(|g| g.entry).filter(expired).collect())
    }
}
