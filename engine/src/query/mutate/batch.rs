//! Group commit: the mutations waiting on one graph handle publish as one
//! write.
//!
//! A mutation joins the handle's queue and waits for the write turn (one
//! per handle, which loads take too). Whoever gets the turn leads: it takes
//! every waiting mutation (up to [`MAX_BATCH`]), runs them in arrival
//! order against one fresh snapshot, each on top of the ones before it and
//! checked on what it wrote; a mutation that fails is put back to where it
//! started and answered with its own error, alone. Then the batch publishes
//! once (`stage::commit`) and every mutation in it gets its own report with
//! the manifest version that holds it. The batch is equivalent to running
//! its mutations one after the other, in that order.
//!
//! The leader runs the batch in a task of its own, so a caller that goes
//! away (a dropped future) never leaves a batch half done. Once every
//! mutation of the batch is answered, the task, still holding the turn,
//! folds the small fragments the writes left when a tier is full
//! (`graph::fold`): the next batch waits for it, no answered caller does. A
//! process that exits after a write waits for the turn first
//! ([`crate::graph::WriteQueue::settle`]).
//!
//! A batch that loses the publish race to another handle (another server
//! or process on the graph) runs again, whole, on the new head
//! (`graph::retry`); a request that passed its checks before and fails
//! them now is told it conflicts with the other write
//! (`Error::WriteConflict`).

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use super::{MutationReport, Mutator};
use crate::error::{Error, Result};
use crate::graph::{Graph, WriteOptions, retry};
use crate::query::eval::Env;
use crate::query::plan::MutationPlan;
use crate::query::view::View;

/// The most mutations one publish carries. Larger batches would hold the
/// mutations at the front of the queue longer than they save.
pub const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<MutationReport>>;

struct Waiting {
    /// Which caller queued it (to know whether a batch carries it).
    ticket: u64,
    stmts: Vec<MutationPlan>,
    env: Env,
    /// The hash of the schema the mutation was compiled against: it runs
    /// only on a head of that schema.
    schema: String,
    opts: WriteOptions,
    reply: Reply,
}

/// Whether `next` may publish in one commit with `first`: same actor and
/// message (a commit has one of each), and neither is conditional (a write
/// with `if_commit` publishes alone, over the commit it named).
fn joins(first: &Waiting, next: &Waiting) -> bool {
    let (a, b) = (&first.opts, &next.opts);
    a.if_commit.is_none() && b.if_commit.is_none() && a.actor == b.actor && a.message == b.message
}

static TICKETS: AtomicU64 = AtomicU64::new(0);

/// One request of a batch: its statements, its parameters and clock, and
/// the hash of the schema it was compiled against.
type Work = (Vec<MutationPlan>, Env, String);

/// Queues one mutation and returns its own result once a batch ran it.
pub(super) async fn submit(graph: &Graph, stmts: Vec<MutationPlan>, env: Env, schema: String, opts: WriteOptions) -> Result<MutationReport> {
    let queue = graph.write_queue();
    let (reply, mut answer) = oneshot::channel();
    let ticket = TICKETS.fetch_add(1, Ordering::Relaxed);
    queue.push(Box::new(Waiting { ticket, stmts, env, schema, opts, reply }));
    loop {
        let turn = tokio::select! {
            biased;
            // A batch led by another caller ran this one (its maintenance
            // may still hold the turn: no need to wait for it).
            r = &mut answer => return r.unwrap_or_else(|_| Err(lost())),
            turn = queue.turn() => turn,
        };
        // Give way to another handle's retry first (`graph::intents`):
        // the requests that arrive meanwhile join this batch.
        retry::before_write(graph).await;
        // Only mutations wait in the queue.
        let same =
            |a: &crate::graph::write_queue::Waiting, b: &crate::graph::write_queue::Waiting| match (a.downcast_ref::<Waiting>(), b.downcast_ref::<Waiting>()) {
                (Some(a), Some(b)) => joins(a, b),
                _ => false,
            };
        let batch: Vec<Waiting> = queue.take(MAX_BATCH, same).into_iter().filter_map(|w| w.downcast::<Waiting>().ok().map(|w| *w)).collect();
        let mine = batch.iter().any(|w| w.ticket == ticket);
        let g = graph.clone();
        // On a blocking thread, as a query runs in the server: the batch's
        // computing (checks, encoding, a fold) must not hold one of the few
        // async workers every connection shares.
        let handle = tokio::runtime::Handle::current();
        let led = tokio::task::spawn_blocking(move || {
            handle.block_on(run_batch(&g, batch));
            drop(turn);
        });
        if mine {
            return answer.await.unwrap_or_else(|_| Err(lost()));
        }
        // Past the batch limit: wait for the next turn.
        if led.await.is_err() {
            return Err(lost());
        }
    }
}

/// Each request's report (or its error) in order, the outcome of the
/// publish (the manifest version and commit that hold it), the manifest
/// version and commit read, and the types written.
type Attempt = (Vec<Result<MutationReport>>, Result<(u64, String)>, (u64, String), Vec<String>);

/// Runs the batch once against a fresh snapshot (one newer than `lost_on`,
/// the version a lost attempt read) and publishes it. `Err` only if no
/// snapshot could be read.
async fn attempt(graph: &Graph, work: &[Work], opts: &WriteOptions, lost_on: Option<u64>) -> Result<Attempt> {
    let snap = retry::snapshot_after(graph, lost_on).await?;
    let read_at = (snap.manifest_version, snap.commit.id.clone());
    // The batch runs with the schema of the head it read.
    let bound = graph.bound(&snap);
    let graph = &bound;
    let schema_hash = snap.schema_hash.clone();
    let view = View::new(graph, snap);
    let Some((_, first_env, _)) = work.first() else { return Ok((Vec::new(), Ok(read_at.clone()), read_at, Vec::new())) };
    if let Some(expected) = &opts.if_commit
        && *expected != read_at.1
    {
        let moved = Error::HeadMoved { expected: expected.clone(), head: read_at.1.clone() };
        return Ok((work.iter().map(|_| Err(moved.duplicate())).collect(), Err(moved), read_at, Vec::new()));
    }
    let mut m = Mutator::new(&view, first_env);
    let mut outcomes: Vec<Result<MutationReport>> = Vec::with_capacity(work.len());
    for (stmts, env, compiled_for) in work {
        if *compiled_for != schema_hash {
            outcomes.push(Err(Error::SchemaMoved { what: "this mutation was compiled".into(), hash: schema_hash.clone() }));
            continue;
        }
        let saved = m.savepoint();
        match m.request(stmts, env).await {
            Ok(report) => outcomes.push(Ok(report)),
            Err(e) => {
                m.restore(saved);
                outcomes.push(Err(e));
            }
        }
    }
    let written: Vec<String> = m.changes.values().filter(|c| !c.is_empty()).map(|c| c.t.name.clone()).collect();
    let published = m.commit(graph, opts).await;
    Ok((outcomes, published, read_at, written))
}

/// A batch that ended without answering (its task panicked): nothing of it
/// was published unless the publish itself ran, which recovery settles.
fn lost() -> Error {
    Error::Io(std::io::Error::other("the write batch carrying this mutation stopped without an answer; check the graph before retrying"))
}

async fn run_batch(graph: &Graph, batch: Vec<Waiting>) {
    let opts = batch.first().map(|w| w.opts.clone()).unwrap_or_default();
    let (work, replies): (Vec<Work>, Vec<Reply>) = batch.into_iter().map(|w| ((w.stmts, w.env, w.schema), w.reply)).unzip();
    let mut retries = 0u32;
    // Which requests passed their checks in an attempt that lost the race:
    // refused on a later one, it is the other writer's change that refuses
    // them (a write conflict, not a bad request).
    let mut passed = vec![false; work.len()];
    let mut lost_on = None;
    let began = std::time::Instant::now();
    let (outcomes, published, read_at, written) = loop {
        let mut attempt = match attempt(graph, &work, &opts, lost_on).await {
            Ok(a) => a,
            Err(e) => {
                for r in replies {
                    let _ = r.send(Err(e.duplicate()));
                }
                retry::after_write(graph).await;
                return;
            }
        };
        // A conditional write is never run again: the head it named is not
        // the head any more.
        if let (Some(expected), Err(Error::ExpectedVersionMismatch { .. })) = (&opts.if_commit, &attempt.1) {
            let head = retry::moved_head(graph, attempt.2.0).await;
            attempt.1 = Err(Error::HeadMoved { expected: expected.clone(), head });
        }
        // Lost the publish race to another handle or process: nothing of
        // this attempt is visible (the write protocol undid it, and no one
        // can publish it any more). Run the batch again on the new head.
        if retry::may_retry(&attempt.1, retries, began) {
            retries += 1;
            for (p, outcome) in passed.iter_mut().zip(&attempt.0) {
                *p |= outcome.is_ok();
            }
            lost_on = Some(attempt.2.0);
            retry::pause(graph, retries).await;
            continue;
        }
        break attempt;
    };
    for ((outcome, reply), passed) in outcomes.into_iter().zip(replies).zip(passed) {
        let outcome = match outcome {
            Err(Error::MutationRejected { code, message }) if passed => Err(Error::WriteConflict { cause: code, message }),
            other => other,
        };
        let answer = outcome.and_then(|mut report| {
            let changed = report.inserted + report.updated + report.deleted + report.cascaded > 0;
            report.retries = retries;
            (report.manifest_version, report.commit) = match &published {
                Ok(v) if changed => v.clone(),
                Ok(_) => read_at.clone(),
                Err(e) if changed => return Err(e.duplicate()),
                // A conditional write that changes nothing still names
                // the head it expected.
                Err(e @ Error::HeadMoved { .. }) => return Err(e.duplicate()),
                Err(_) => read_at.clone(),
            };
            Ok(report)
        });
        let _ = reply.send(answer);
    }
    retry::after_write(graph).await;
    // With the turn still held, but every caller answered: merge the small
    // fragments these writes left once there are enough of them. A fold
    // that fails publishes nothing (the write protocol undoes it) and the
    // next batch tries again.
    if published.is_ok() && !written.is_empty() {
        let _ = crate::graph::fold::fold(graph, Some(&written)).await;
    }
}
