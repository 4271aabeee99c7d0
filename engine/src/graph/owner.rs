//! Who runs a piece of work (host, pid, process start time), whether that
//! process is still alive, and the [`Lease`] it holds: the one type behind
//! init claims, write sidecars and catalog operations, so that recovery acts
//! only on work whose owner is gone or whose lease ran out.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    /// Start time of the process in clock ticks since boot (Linux), to tell a
    /// reused pid from the original process.
    #[serde(default)]
    pub pid_start: Option<u64>,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown-host".into())
}

fn pid_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

impl Owner {
    pub fn current() -> Owner {
        let pid = std::process::id();
        Owner { host: hostname(), pid, pid_start: pid_start(pid) }
    }

    /// `Some(alive)` when the owner ran on this host, `None` when it is
    /// another host's process (only its lease can tell).
    pub fn alive_here(&self) -> Option<bool> {
        if self.host != hostname() {
            return None;
        }
        match (pid_start(self.pid), self.pid_start) {
            (None, _) => Some(false),
            (Some(now), Some(then)) => Some(now == then),
            (Some(_), None) => Some(true),
        }
    }
}

/// Who holds a piece of work, and until when (ms since the epoch) the
/// holder promises to be at it. Stored flat in its record, as `owner` and
/// `lease_until_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub owner: Owner,
    #[serde(rename = "lease_until_ms", default)]
    pub until_ms: i64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Lease {
    /// This process, for `ms` from now.
    pub fn new(ms: i64) -> Lease {
        Lease { owner: Owner::current(), until_ms: now_ms() + ms }
    }

    /// The lease ran out.
    pub fn expired(&self) -> bool {
        now_ms() > self.until_ms
    }

    /// Nobody is at the work any more: its owner died (on this host, where
    /// that is known exactly) or, for an owner on another host, its lease
    /// ran out.
    pub fn abandoned(&self) -> bool {
        match self.owner.alive_here() {
            Some(alive) => !alive,
            None => self.expired(),
        }
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {}", self.pid, self.host)
    }
}
