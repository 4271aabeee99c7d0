//! Retention: deleted graphs whose retention period ended.

use crate::catalog::Catalog;
use crate::entry::GraphEntry;
use crate::error::{CatalogError, Result};
use crate::operation::now_ms;

/// True when `e` is a retained tombstone whose retention period is over.
pub fn expired(e: &GraphEntry) -> bool {
    e.retained()
        && e.op.is_none()
        && e.retained_until.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).is_some_and(|t| t.timestamp_millis() <= now_ms())
}

impl Catalog {
    /// Tombstones whose retained data is due for purging.
    pub async fn expired_retentions(&self) -> Result<Vec<GraphEntry>> {
        Ok(self.list().await?.into_iter().map(|g| g.entry).filter(expired).collect())
    }
}

/// The longest retention period: ten years. Longer periods are refused when
/// parsed, so no date computed from one can overflow.
pub const MAX_RETAIN_MS: i64 = 3650 * 86_400_000;

/// The moment a retention of `ms` that starts now ends, as RFC 3339.
/// Periods past [`MAX_RETAIN_MS`] (written by an older version) count as
/// the maximum, so finishing an old delete cannot overflow.
pub fn retained_until(ms: i64) -> String {
    let period = chrono::TimeDelta::try_milliseconds(ms.clamp(0, MAX_RETAIN_MS)).unwrap_or_default();
    let until = chrono::Utc::now().checked_add_signed(period).unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A retention period: `30s`, `15m`, `12h`, `7d`, `500ms` (or plain
/// seconds), as milliseconds; more than ten years is refused.
pub fn parse_duration_ms(s: &str) -> Result<i64> {
    let bad = || {
        CatalogError::Engine(omnigraph::Error::InvalidArgument(format!(
            "retain `{}`: expected a duration from 1ms to 3650d, like 30s, 15m, 12h or 7d",
            s.chars().take(40).collect::<String>()
        )))
    };
    let s = s.trim();
    let (num, unit) = s.find(|c: char| !c.is_ascii_digit()).map(|i| s.split_at(i)).unwrap_or((s, "s"));
    let n: i64 = num.parse().map_err(|_| bad())?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    n.checked_mul(ms).filter(|v| *v > 0 && *v <= MAX_RETAIN_MS).ok_or_else(bad)
}
