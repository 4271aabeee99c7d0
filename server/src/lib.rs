//! `omnigraph-server`: one HTTP server for every graph in a catalog.
//!
//! Module map:
//! - [`config`]: flags, environment, settings file; the loopback rule.
//! - [`auth`]: bearer tokens (SHA-256 digests, constant-time compare).
//! - [`guard`]: the browser guard of a server without tokens (`Host`, `Origin`).
//! - [`limits`]: the per-actor in-flight limit.
//! - [`state`]: shared state and the admission middleware (token, limit).
//! - [`access`]: the policy check of a graph route, before any lookup.
//! - [`registry`]: the live set of served graphs, following the catalog.
//! - [`background`]: the catalog refresh and the recovery sweep.
//! - [`routes`]: the handlers ([`routes::graphs`] lifecycle, [`routes::data`] per graph).
//! - [`body`]: JSON bodies, the streamed load body, the streamed export.
//! - [`error`]: [`error::ApiError`], codes to HTTP statuses.
//! - [`codes`]: the server's own error codes, each once, with status and meaning.
//! - [`openapi`]: the generated OpenAPI document.
//!
//! docs/user/server.md documents every route; docs/dev/server.md the design.

pub mod access;
pub mod auth;
pub mod background;
pub mod body;
pub mod codes;
pub mod config;
pub mod error;
pub mod guard;
pub mod limits;
pub mod log;
pub mod openapi;
pub mod registry;
pub mod routes;
pub mod state;

use std::sync::Arc;

use omnigraph_catalog::Catalog;

use crate::config::{AuthMode, Config};
use crate::limits::InFlight;
use crate::registry::Registry;
use crate::state::AppState;

/// A future that resolves on SIGTERM or SIGINT (Ctrl-C). The handlers are
/// installed when this is called, so a signal that arrives before the
/// future is first polled is not lost.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        crate::log!("shutting down: no new connections; finishing requests in flight");
    })
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight
/// (and with them any lifecycle operation they started) and returns.
pub async fn run(config: Config) -> Result<(), String> {
    let session = omnigraph::Session::new(omnigraph::SessionOptions {
        cache_bytes: Some(config.cache_bytes),
        limits: config.limits,
        embed: Ok(config.embed.clone()),
        ..Default::default()
    });
    let catalog = Catalog::open(&config.catalog, &session).await.map_err(|e| format!("error[{}]: {e}", e.code()))?.with_actor("server");
    catalog.store().probe_conditional_writes().await.map_err(|e| format!("error[{}]: {e}", e.code()))?;
    let policy = Arc::new(config.policy);
    let registry = Arc::new(Registry::new(catalog.clone(), policy.clone()));
    if let Err(e) = registry.refresh(true).await {
        return Err(format!("error[{}]: reading the catalog at {}: {e}", e.code(), catalog.uri()));
    }
    let stop = shutdown_signal().map_err(|e| format!("error[{}]: cannot install signal handlers: {e}", codes::BAD_BIND.code))?;
    let listener =
        tokio::net::TcpListener::bind(config.bind).await.map_err(|e| format!("error[{}]: cannot listen on {}: {e}", codes::BAD_BIND.code, config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let maintenance = Arc::new(background::MaintenanceStatus::new(config.maintenance.map(|(every, _)| every)));
    let state = Arc::new(AppState {
        catalog: catalog.clone(),
        registry: registry.clone(),
        tokens: config.tokens.clone(),
        policy: policy.clone(),
        in_flight: InFlight::new(config.max_in_flight),
        max_body_bytes: config.max_body_bytes,
        max_load_bytes: config.max_load_bytes,
        max_line_bytes: config.max_line_bytes,
        max_query_bytes: config.max_query_bytes,
        idle_timeout: config.idle_timeout,
        browser_guard: match config.auth {
            AuthMode::Tokens => None,
            mode => Some(guard::BrowserGuard { port: addr.port(), loopback_only: mode == AuthMode::LoopbackOnly }),
        },
        maintenance: maintenance.clone(),
    });
    let (serving, quarantined) = registry.counts();
    let auth = match config.auth {
        AuthMode::Tokens => format!("bearer tokens for {} actor(s)", config.tokens.len()),
        AuthMode::LoopbackOnly => "none: no tokens configured, so the server listens on loopback only".to_string(),
        AuthMode::Unauthenticated => "none (--unauthenticated)".to_string(),
    };
    crate::say!("omnigraph-server listening on http://{addr}");
    crate::say!("  catalog  {}", catalog.uri());
    crate::say!("  graphs   {serving} served, {quarantined} quarantined");
    crate::say!("  auth     {auth}");
    let shares = omnigraph::session::CacheShares::of(config.cache_bytes);
    crate::say!(
        "  cache    {} MiB shared by all graphs: {} MiB query data, {} MiB Lance indexes, {} MiB Lance metadata",
        shares.total >> 20,
        shares.query >> 20,
        shares.lance_index >> 20,
        shares.lance_metadata >> 20
    );
    match &config.maintenance {
        Some((every, r)) => {
            crate::say!("  maintenance every {} s: optimize, then cleanup keeping {} day(s) and {} commit(s)", every.as_secs_f64(), r.keep_days, r.keep_commits)
        }
        None => crate::say!("  maintenance off (--maintenance-interval)"),
    }
    crate::say!("  policy   {:?}, {} Cedar polic{}", policy.origin(), policy.policy_count(), if policy.policy_count() == 1 { "y" } else { "ies" });

    let refresh = background::spawn_refresh(registry.clone(), config.refresh_ms);
    let sweep = background::spawn_sweep(catalog, registry.clone(), config.sweep_ms);
    let scheduled = config.maintenance.map(|(every, retention)| background::spawn_maintenance(registry.clone(), every, retention, maintenance.clone()));
    let app = routes::router(state);
    let served = axum::serve(listener, app).with_graceful_shutdown(stop).await;
    refresh.abort();
    sweep.abort();
    if let Some(m) = scheduled {
        m.abort();
    }
    // Answered writes may have left maintenance running (a fold).
    registry.settle().await;
    served.map_err(|e| format!("server error: {e}"))?;
    crate::log!("stopped");
    Ok(())
}
