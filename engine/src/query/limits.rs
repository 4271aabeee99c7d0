//! Enforcing what one query may use (the bounds are
//! [`QueryLimits`](crate::session::QueryLimits), set per session): rows in
//! its match, bytes in its result, and time. Each bound is checked where the cost grows, before the memory or
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

/// Rows between two looks at the clock in a loop over bindings.
pub const CLOCK_EVERY: usize = 4096;

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
