//! Writes that lost the publish race, run again on the new head.
//!
//! Two graph handles (two servers, a server and a CLI process) publish to
//! one graph on their own; the pinned table commits and the `__manifest`
//! publish decide who was first, and the loser's write protocol undoes what
//! it committed (`write::commit_and_publish`), so nothing of it is visible
//! and nobody can publish it any more. A write that can be run again (a
//! batch of mutations; a load whose input can be read again) then runs,
//! whole, on a snapshot that shows the winner's write: its statements and
//! checks see the graph as the winner left it. Each run has its own op id,
//! so no op id is in two commits. See docs/dev/writes.md, "Lost publish
//! races".

use std::time::{Duration, Instant};

use super::{Graph, Snapshot};
use crate::error::{Error, Result};
use crate::failpoint;

/// How many times a write that lost the publish race runs again at least
/// before it is answered with the lost race; it goes on past this while it
/// is younger than [`RETRY_FOR`], up to [`RETRY_CAP`] runs. Each race has a
/// winner, so a write loses many in a row only while other writers keep
/// winning (see docs/dev/benchmarks.md, "Writes through two servers": under
/// a sustained load through two servers one of them can keep losing).
pub const MAX_RETRIES: u32 = 32;

/// How long a write keeps retrying past [`MAX_RETRIES`].
pub const RETRY_FOR: Duration = Duration::from_secs(10);

/// The most runs a write gets, however young.
pub const RETRY_CAP: u32 = 1024;

/// How long a retry waits for the head to move past the one it lost on (the
/// winner's table commit lands before its `__manifest` publish).
const HEAD_WAIT: Duration = Duration::from_secs(2);

/// Whether `result` is a lost publish race that retry number `retries + 1`
/// may run again, for a write that began at `began`.
pub(crate) fn may_retry<T>(result: &Result<T>, retries: u32, began: Instant) -> bool {
    let budget = retries < MAX_RETRIES || (retries < RETRY_CAP && began.elapsed() < RETRY_FOR);
    matches!(result, Err(Error::ExpectedVersionMismatch { .. })) && budget
}

/// Before a write's first run (not before a retry): gives way to another
/// handle that lost a race and runs its write again (`graph::intents`).
pub(crate) async fn before_write(graph: &Graph) {
    graph.write_queue().intents.give_way(graph.root(), graph.manifest_scans()).await;
}

/// Once a write is answered: withdraws the intent a lost race announced.
pub(crate) async fn after_write(graph: &Graph) {
    graph.write_queue().intents.withdraw(graph.root()).await;
}

/// Between a lost run (retry number `retries`, from 1) and the next:
/// counts the retry and announces the handle's intent to have the next turn
/// (`graph::intents`), so that other handles' new writes wait for it. From the fourth loss in a row, a random pause of up to
/// 2 ms, so that writers that lost to each other (each winning one table
/// of a two-table write) do not meet again at once. No pause before that:
/// the winner of one race is usually the next one's rival too (its clients
/// keep writing), and a loser that waits longer than the winner's next
/// write takes to stage loses again.
pub(crate) async fn pause(graph: &Graph, retries: u32) {
    graph.write_queue().count_retry();
    graph.write_queue().intents.announce(graph.root()).await;
    failpoint::hit("write.before_retry");
    if retries > 3 {
        tokio::time::sleep(jitter(2)).await;
    }
}

/// A fresh snapshot, newer than `lost_on` (the manifest version a lost run
/// read) if given: the head moves once the winner publishes, polled every
/// 0.2-0.5 ms, for at most [`HEAD_WAIT`].
pub(crate) async fn snapshot_after(graph: &Graph, lost_on: Option<u64>) -> Result<Snapshot> {
    let deadline = Instant::now() + HEAD_WAIT;
    loop {
        let snap = graph.snapshot().await?;
        match lost_on {
            Some(v) if snap.manifest_version <= v && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_micros(200) + jitter(1) / 3).await;
            }
            _ => return Ok(snap),
        }
    }
}

/// The head commit once it moved past manifest version `read` (a lost race:
/// the winner publishes right after its table commit), for the `HeadMoved`
/// of a conditional write.
pub(crate) async fn moved_head(graph: &Graph, read: u64) -> String {
    snapshot_after(graph, Some(read)).await.map(|s| s.commit.id).unwrap_or_default()
}

/// A random pause of up to `max_ms` ms.
fn jitter(max_ms: u64) -> Duration {
    let r = ulid::Ulid::new().random() as u64;
    Duration::from_micros(r % (max_ms.max(1) * 1000))
}
