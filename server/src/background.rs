//! Background work: the registry refresh (follows the catalog) and the
//! recovery sweep (resolves operations whose lease expired, repairs
//! abandoned writes, purges expired retention), then a retry of
//! quarantined graphs. The sweep is the same code as `omnigraph recover
//! --catalog --apply` and never touches an operation with a live lease.

use std::sync::Arc;
use std::time::Duration;

use omnigraph_catalog::Catalog;
use omnigraph_recovery::Options;

use crate::registry::Registry;

pub fn spawn_refresh(registry: Arc<Registry>, every_ms: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(every_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = registry.refresh(false).await {
                crate::log!("catalog refresh failed: {} {e}", e.code());
            }
        }
    })
}

pub fn spawn_sweep(catalog: Catalog, registry: Arc<Registry>, every_ms: u64) -> tokio::task::JoinHandle<()> {
    let catalog = catalog.with_actor("server-sweep");
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(every_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            // A sweep that panics (a defect) is logged and the next tick
            // runs again: the task itself never dies.
            let run = std::panic::AssertUnwindSafe(omnigraph_recovery::run(&catalog, &Options { apply: true, force: None }));
            match futures::FutureExt::catch_unwind(run).await {
                Err(panic) => crate::log!("recovery sweep failed unexpectedly: {}", omnigraph_recovery::apply::panic_message(&*panic)),
                Ok(Ok(plan)) => {
                    for i in plan.items.iter().filter(|i| i.decision.actionable()) {
                        let what = i.op_id.as_deref().or(i.graph_id.as_deref()).or(i.location.as_deref()).unwrap_or("-");
                        let outcome = match (&i.error, i.applied) {
                            (Some(e), _) => format!("failed: {e}"),
                            (None, true) => "done".to_string(),
                            (None, false) => "left for an operator".to_string(),
                        };
                        crate::log!("recovery sweep: {} {what}: {} ({outcome})", i.decision.as_str(), i.reason);
                    }
                }
                Ok(Err(e)) => crate::log!("recovery sweep failed: {} {e}", e.code()),
            }
            if let Err(e) = registry.refresh(true).await {
                crate::log!("catalog refresh failed: {} {e}", e.code());
            }
        }
    })
}

/// What scheduled maintenance did, for `/healthz`.
#[derive(Debug, Default)]
pub struct MaintenanceStatus(std::sync::Mutex<crate::routes::health::MaintenanceHealth>);

impl MaintenanceStatus {
    pub fn new(every: Option<Duration>) -> MaintenanceStatus {
        MaintenanceStatus(std::sync::Mutex::new(crate::routes::health::MaintenanceHealth {
            interval_ms: every.map(|d| d.as_millis() as u64),
            ..Default::default()
        }))
    }

    pub fn health(&self) -> crate::routes::health::MaintenanceHealth {
        self.0.lock().expect("maintenance lock").clone()
    }
}

/// The most errors one round keeps for `/healthz`.
const MAX_REPORTED_ERRORS: usize = 10;

/// Runs `optimize`, then `cleanup` with `retention`, on every served graph
/// every `every` (the first round one interval after start). A failure on
/// one graph is logged and reported; the others go on.
pub fn spawn_maintenance(
    registry: Arc<Registry>,
    every: Duration,
    retention: omnigraph::graph::cleanup::CleanupOptions,
    status: Arc<MaintenanceStatus>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let started = chrono::Utc::now();
            let (mut commits_removed, mut bytes_freed, mut optimized, mut errors) = (0, 0, 0, Vec::new());
            let graphs = registry.served();
            for (id, served) in &graphs {
                let opts = omnigraph::graph::WriteOptions { actor: Some("server-maintenance".into()), ..Default::default() };
                // `main`, then every branch, each on its own.
                let round = async {
                    let mut done = Vec::new();
                    let names = std::iter::once(omnigraph::storage::branch::MAIN_BRANCH.to_string())
                        .chain(omnigraph::storage::branch::list(served.graph.root()).await?.into_iter().map(|r| r.name));
                    for name in names {
                        let g = match served.graph.on_branch(&name).await {
                            Ok(g) => g,
                            Err(omnigraph::Error::BranchNotFound { .. }) => continue,
                            Err(e) => return Err(e),
                        };
                        let o = match omnigraph::graph::optimize::optimize(&g, &opts).await {
                            Ok(o) => o,
                            // Deleted meanwhile, or a create that did not finish.
                            Err(omnigraph::Error::BranchNotFound { .. } | omnigraph::Error::BranchRefused { .. }) => continue,
                            Err(e) => return Err(e),
                        };
                        let c = omnigraph::graph::cleanup::cleanup(&g, &retention).await?;
                        done.push((name, o, c));
                    }
                    Ok::<_, omnigraph::Error>(done)
                };
                match futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(round)).await {
                    Ok(Ok(done)) => {
                        for (branch, o, c) in done {
                            optimized += o.commit.is_some() as usize;
                            commits_removed += c.commits_removed;
                            bytes_freed += c.bytes_freed;
                            if o.commit.is_some() || c.commits_removed > 0 {
                                crate::log!(
                                    "maintenance: {id} ({branch}): optimized {} table(s), removed {} commit(s), freed {} bytes",
                                    o.tables.len(),
                                    c.commits_removed,
                                    c.bytes_freed
                                );
                            }
                        }
                    }
                    Ok(Err(e)) => {
                        crate::log!("maintenance: {id}: {} {e}", e.code());
                        errors.push(format!("{id}: {} {e}", e.code()));
                    }
                    Err(panic) => {
                        let m = omnigraph_recovery::apply::panic_message(&*panic);
                        crate::log!("maintenance: {id}: failed unexpectedly: {m}");
                        errors.push(format!("{id}: failed unexpectedly: {m}"));
                    }
                }
            }
            let mut h = status.0.lock().expect("maintenance lock");
            h.runs += 1;
            h.last_started_at = Some(started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            h.last_finished_at = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            h.last_graphs = graphs.len();
            h.last_optimized = optimized;
            h.last_commits_removed = commits_removed;
            h.last_bytes_freed = bytes_freed;
            errors.truncate(MAX_REPORTED_ERRORS);
            h.last_errors = errors;
        }
    })
}
