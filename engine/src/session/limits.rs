//! The bounds every query of a session runs under (enforced in
//! `query::limits`): rows in its match, bytes in its result, and time.

use std::time::Duration;

/// The default match-row bound: 50 million binding rows, about 1-2 GB for a
/// match of a few variables.
pub const DEFAULT_MAX_QUERY_ROWS: u64 = 50_000_000;
/// The default result bound: 256 MiB of result rows and sort keys.
pub const DEFAULT_MAX_RESULT_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    pub max_rows: u64,
    pub max_result_bytes: u64,
    /// `None`: no deadline.
    pub timeout: Option<Duration>,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits { max_rows: DEFAULT_MAX_QUERY_ROWS, max_result_bytes: DEFAULT_MAX_RESULT_BYTES, timeout: None }
    }
}

impl QueryLimits {
    /// The defaults, overridden by `OMNIGRAPH_MAX_QUERY_ROWS`,
    /// `OMNIGRAPH_MAX_RESULT_BYTES` and `OMNIGRAPH_QUERY_TIMEOUT_MS` when
    /// they hold numbers (the CLI and embedded use; the server has flags).
    pub fn from_env() -> QueryLimits {
        let num = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok());
        let d = QueryLimits::default();
        QueryLimits {
            max_rows: num("OMNIGRAPH_MAX_QUERY_ROWS").unwrap_or(d.max_rows),
            max_result_bytes: num("OMNIGRAPH_MAX_RESULT_BYTES").unwrap_or(d.max_result_bytes),
            timeout: num("OMNIGRAPH_QUERY_TIMEOUT_MS").filter(|ms| *ms > 0).map(Duration::from_millis).or(d.timeout),
        }
    }
}
