//! What one query may use: rows in its match, bytes in its result, and
//! time. Each bound is checked where the cost grows, before the memory or
//! time is spent, and ends the query with a coded error:
//! - match rows (`OG-QUERY-016`): where bindings multiply (`Bindings::extend`);
//! - result bytes (`OG-QUERY-018`): as result rows and sort keys are built;
//! - time (`OG-QUERY-019`): between match steps and every few thousand rows
//!   of every loop over bindings, so a query stops soon after its deadline
//!   even while it only computes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The default match-row bound: 50 million binding rows, about 1-2 GB for a
/// match of a few variables.
pub const DEFAULT_MAX_QUERY_ROWS: u64 = 50_000_000;
/// The default result bound: 256 MiB of result rows and sort keys.
pub const DEFAULT_MAX_RESULT_BYTES: u64 = 256 << 20;
/// Rows between two looks at the clock in a loop over bindings.
pub const CLOCK_EVERY: usize = 4096;

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

/// When a running query must stop: at its deadline, or once the flag its
/// caller holds is set (the server sets it when the client went away).
#[derive(Debug, Clone)]
pub struct Deadline {
    at: Option<Instant>,
    timeout: Duration,
    cancel: Option<Arc<AtomicBool>>,
}

impl Deadline {
    /// Starts the clock of a query that may run `timeout` (`None`: forever).
    pub fn start(timeout: Option<Duration>) -> Deadline {
        Deadline { at: timeout.and_then(|t| Instant::now().checked_add(t)), timeout: timeout.unwrap_or_default(), cancel: None }
    }

    pub fn none() -> Deadline {
        Deadline { at: None, timeout: Duration::ZERO, cancel: None }
    }

    /// Also stop once `flag` is set.
    pub fn with_cancel(mut self, flag: Arc<AtomicBool>) -> Deadline {
        self.cancel = Some(flag);
        self
    }

    /// `OG-QUERY-019` once the deadline passed, `OG-QUERY-020` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::QueryCancelled);
        }
        match self.at {
            Some(at) if Instant::now() >= at => Err(Error::QueryTimeout { ms: self.timeout.as_millis() as u64 }),
            _ => Ok(()),
        }
    }

    /// [`Deadline::check`] on every [`CLOCK_EVERY`]th `row`.
    #[inline]
    pub fn tick(&self, row: usize) -> Result<()> {
        if row.is_multiple_of(CLOCK_EVERY) { self.check() } else { Ok(()) }
    }
}

/// Bytes a query's result has taken so far, against its bound.
#[derive(Debug)]
pub struct Meter {
    limit: u64,
    used: u64,
}

impl Meter {
    pub fn new(limit: u64) -> Meter {
        Meter { limit, used: 0 }
    }

    /// Charges `bytes`; `OG-QUERY-018` once the total passes the bound.
    pub fn charge(&mut self, bytes: usize) -> Result<()> {
        self.used = self.used.saturating_add(bytes as u64);
        if self.used > self.limit { Err(Error::ResultTooLarge { limit: self.limit }) } else { Ok(()) }
    }
}
