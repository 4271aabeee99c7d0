//! Who runs an operation (host, pid, process start time) and whether that
//! process is still alive. Used by init claims and write sidecars so that
//! recovery acts only on operations whose owner is gone or whose lease ran out.

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

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {}", self.pid, self.host)
    }
}
