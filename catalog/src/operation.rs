//! Operation sidecars and their leases.
//!
//! Before a lifecycle operation touches anything it writes its intent,
//! `operations/<op-id>.json` (put-if-absent), naming the operation, graph,
//! incarnation, location, actor, owner (host, pid, process instance) and a
//! lease deadline. The entry it then publishes carries the same operation id
//! (and its first lease), so recovery can match the two either way round.
//! While the operation runs, a [`LeaseKeeper`] renews the lease; recovery
//! acts only on an operation whose lease ran out, or on one an operator
//! names with `--force`. The sidecar is retired (deleted) as the last step.
//! A lease never guards anything by itself: every decision is still a
//! conditional entry write, so a holder that outlived its lease finds its
//! next transition refused.

use std::sync::Arc;
use std::time::Duration;

use omnigraph::graph::owner::{Lease, Owner};
use serde::{Deserialize, Serialize};

use crate::entry::{OpKind, now_rfc3339};
use crate::error::{CatalogError, Result};
use crate::store::{CatalogStore, Put};

pub const OPERATIONS_DIR: &str = "operations";

/// Default lease: long enough for a slow init, short enough for an operator.
pub const DEFAULT_LEASE_MS: i64 = 30_000;

/// Lease length for operations this process starts: `OMNIGRAPH_LEASE_MS`
/// when set to 1 ms .. 1 day (tests and operators), else [`DEFAULT_LEASE_MS`].
pub fn lease_ms() -> i64 {
    std::env::var("OMNIGRAPH_LEASE_MS").ok().and_then(|v| v.parse().ok()).filter(|v| *v > 0 && *v <= 86_400_000).unwrap_or(DEFAULT_LEASE_MS)
}

/// One id per process, so two processes with a reused pid differ.
fn process_instance() -> &'static str {
    static INSTANCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    INSTANCE.get_or_init(|| ulid::Ulid::new().to_string())
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The intent record of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub op_id: String,
    pub kind: OpKind,
    pub graph_id: String,
    pub incarnation: String,
    pub location: String,
    /// Who asked (a user name, `cli`, `recovery`, ...).
    pub actor: String,
    pub started_at: String,
    /// The owning process and how long it holds the operation (renewed
    /// while it works; recovery leaves it alone until it runs out).
    #[serde(flatten)]
    pub lease: Lease,
    pub process_instance: String,
    /// The entry version this operation read before its first transition.
    #[serde(default)]
    pub base_version: u64,
    /// Delete only: how long to keep the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_ms: Option<i64>,
    /// Delete only: the fence generation when it began (see [`crate::entry::OpRef`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence_generation: Option<u64>,
}

pub fn sidecar_path(op_id: &str) -> String {
    format!("{OPERATIONS_DIR}/{op_id}.json")
}

impl Operation {
    #[allow(clippy::too_many_arguments)]
    pub fn new(kind: OpKind, graph_id: &str, incarnation: &str, location: &str, actor: &str, base_version: u64) -> Operation {
        Operation {
            op_id: ulid::Ulid::new().to_string(),
            kind,
            graph_id: graph_id.to_string(),
            incarnation: incarnation.to_string(),
            location: location.to_string(),
            actor: actor.to_string(),
            started_at: now_rfc3339(),
            lease: Lease::new(lease_ms()),
            process_instance: process_instance().to_string(),
            base_version,
            retain_ms: None,
            fence_generation: None,
        }
    }

    /// The operation as its entry records it, for when the sidecar is gone
    /// (a holder that outlived its lease can publish after recovery retired
    /// its sidecar; recovery still finishes it from the entry alone).
    pub fn from_entry(e: &crate::entry::GraphEntry, op: &crate::entry::OpRef) -> Operation {
        Operation {
            op_id: op.id.clone(),
            kind: op.kind,
            graph_id: e.id.clone(),
            incarnation: e.incarnation.clone(),
            location: e.location.clone(),
            actor: "unknown (sidecar missing)".into(),
            started_at: e.updated_at.clone(),
            lease: Lease { owner: Owner { host: "unknown".into(), pid: 0, pid_start: None }, until_ms: op.lease_until_ms },
            process_instance: String::new(),
            base_version: e.version.saturating_sub(1),
            retain_ms: op.retain_ms,
            fence_generation: op.fence_generation,
        }
    }

    pub fn lease_expired(&self) -> bool {
        self.lease.expired()
    }

    /// Writes the sidecar; it must not exist (operation ids are fresh).
    pub async fn write(&self, store: &CatalogStore) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("operation serializes");
        match store.put_if_absent(&sidecar_path(&self.op_id), bytes).await? {
            Put::Created => Ok(()),
            Put::AlreadyExists => Err(CatalogError::storage(store.child_uri(&sidecar_path(&self.op_id)), "operation id collision")),
        }
    }

    /// Removes the operation's sidecar: the operation is finished. (Not
    /// to be confused with `fence::retire`, which fences a graph.)
    pub async fn remove_sidecar(store: &CatalogStore, op_id: &str) -> Result<()> {
        store.delete(&sidecar_path(op_id)).await
    }

    pub async fn read(store: &CatalogStore, op_id: &str) -> Result<Option<Operation>> {
        let path = sidecar_path(op_id);
        match store.get(&path).await? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| CatalogError::Corrupt { path: store.child_uri(&path), reason: e.to_string() }),
        }
    }

    /// Every sidecar in the catalog (unfinished operations); sidecars that
    /// do not parse are left out ([`Operation::list_all`] reports them).
    pub async fn list(store: &CatalogStore) -> Result<Vec<Operation>> {
        Ok(Operation::list_all(store).await?.0)
    }

    /// Every sidecar that parses, and (op id, error) for each that does not.
    pub async fn list_all(store: &CatalogStore) -> Result<(Vec<Operation>, Vec<(String, CatalogError)>)> {
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for path in store.list(OPERATIONS_DIR).await? {
            let Some(op_id) = path.rsplit('/').next().and_then(|n| n.strip_suffix(".json")) else { continue };
            match Operation::read(store, op_id).await {
                Ok(Some(op)) => out.push(op),
                Ok(None) => {}
                Err(e @ CatalogError::Corrupt { .. }) => bad.push((op_id.to_string(), e)),
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.op_id.cmp(&b.op_id));
        Ok((out, bad))
    }
}

/// Renews an operation's lease in the background until [`LeaseKeeper::stop`]
/// (or drop). A renewal happens only while the lease it extends is still
/// live: recovery acts only on an expired lease (or one an operator forces),
/// so a live lease means nobody has taken the operation over, and the
/// renewal cannot bring back a sidecar recovery retired. Once the lease has
/// run out (the process was stopped, storage was slow), the keeper stops
/// for good: the operation's next step finds the catalog moved and fails
/// harmlessly. A failed renewal is retried at the next tick, while the
/// lease lasts. `stop` waits out a renewal in flight, so a sidecar retired
/// after `stop` stays retired.
pub struct LeaseKeeper {
    stopped: Arc<tokio::sync::Mutex<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl LeaseKeeper {
    pub fn start(store: &CatalogStore, op: &Operation) -> LeaseKeeper {
        let store = store.clone();
        let mut current = op.clone();
        let stopped = Arc::new(tokio::sync::Mutex::new(false));
        let flag = stopped.clone();
        let period = Duration::from_millis((lease_ms() / 3).max(50) as u64);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let guard = flag.lock().await;
                if *guard {
                    return;
                }
                // The margin keeps a renewal from landing just as the lease
                // ends, when recovery may already be reading it as expired.
                let margin = (lease_ms() / 10).max(10);
                if now_ms() + margin >= current.lease.until_ms {
                    return;
                }
                match Operation::read(&store, &current.op_id).await {
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(_) => continue,
                }
                if now_ms() + margin >= current.lease.until_ms {
                    return;
                }
                let mut next = current.clone();
                next.lease.until_ms = now_ms() + lease_ms();
                let bytes = serde_json::to_vec_pretty(&next).expect("operation serializes");
                if store.put(&sidecar_path(&current.op_id), bytes).await.is_ok() {
                    current = next;
                }
                drop(guard);
            }
        });
        LeaseKeeper { stopped, task: Some(task) }
    }

    /// Stops renewing; returns once no renewal is in flight.
    pub async fn stop(mut self) {
        *self.stopped.lock().await = true;
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
