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
