//! Per-actor in-flight limit: an actor with `limit` requests running gets
//! `429` with `Retry-After` for the next one. A [`Permit`] gives its slot
//! back when dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct InFlight {
    limit: usize,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

#[derive(Debug)]
pub struct Permit {
    actor: String,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl InFlight {
    pub fn new(limit: usize) -> InFlight {
        InFlight { limit: limit.max(1), counts: Default::default() }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Requests admitted and not yet answered, over all actors.
    pub fn total(&self) -> usize {
        self.counts.lock().expect("in-flight counts").values().sum()
    }

    /// A slot for `actor`, or `None` when it has `limit` in flight.
    pub fn try_acquire(&self, actor: &str) -> Option<Permit> {
        let mut counts = self.counts.lock().expect("in-flight counts");
        let n = counts.entry(actor.to_string()).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Permit { actor: actor.to_string(), counts: self.counts.clone() })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().expect("in-flight counts");
        if let Some(n) = counts.get_mut(&self.actor) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.actor);
            }
        }
    }
}
