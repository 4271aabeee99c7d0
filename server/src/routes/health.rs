//! Liveness and the API description.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::Shared;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// Graphs served by this process now.
    pub graphs_serving: usize,
    /// Active graphs this process does not serve (storage missing, pending recovery).
    pub graphs_quarantined: usize,
    /// Requests admitted (past authentication) and not yet answered.
    pub requests_in_flight: usize,
    /// Mutations queued for their graph's next write turn (group commit),
    /// over every served graph.
    pub writes_waiting: usize,
    /// Writes that lost the publish race to another writer (another server
    /// on the same graph) and ran again on the new head, over every served
    /// graph since it was opened (docs/user/server.md, "Concurrent writes").
    pub write_retries: u64,
    /// Writes that waited (at most 1 s) for another server's turn before
    /// they ran: how the servers writing to one graph take turns (docs/user/server.md, "Concurrent writes").
    pub write_waits: u64,
    /// The query cache all served graphs share.
    pub query_cache: CacheHealth,
    /// Scheduled `optimize` + `cleanup` (`--maintenance-interval`).
    pub maintenance: MaintenanceHealth,
}

/// Scheduled maintenance: its interval and its last round.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MaintenanceHealth {
    /// `--maintenance-interval` in ms; absent when scheduled maintenance is off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    /// Rounds finished since start.
    pub runs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_finished_at: Option<String>,
    /// Graphs the last round went through.
    pub last_graphs: usize,
    /// Graphs the last round optimized (made an `optimize` commit on).
    pub last_optimized: usize,
    /// Commits the last round's cleanups removed, over all graphs.
    pub last_commits_removed: u64,
    pub last_bytes_freed: u64,
    /// The last round's failures, one per graph (at most 10).
    pub last_errors: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CacheHealth {
    /// The query data's share of `--cache-bytes`: what is left after Lance's
    /// index and metadata caches took theirs (below).
    pub limit_bytes: u64,
    /// Bytes of cached node ids, property columns and adjacency now.
    pub used_bytes: u64,
    /// Entries dropped to stay within the budget since start.
    pub evictions: u64,
    /// The capacity of Lance's index cache: an eighth of `--cache-bytes`, at most 6 GiB.
    pub lance_index_limit_bytes: u64,
    /// The capacity of Lance's metadata cache: an eighth of `--cache-bytes`, at most 1 GiB.
    pub lance_metadata_limit_bytes: u64,
}

/// Liveness: answers without a token, so it names no catalog, path or graph.
#[utoipa::path(get, path = "/healthz", tag = "server", responses((status = 200, description = "The server is up", body = Health)))]
pub async fn healthz(State(state): State<Shared>) -> Json<Health> {
    let (serving, quarantined) = state.registry.counts();
    Json(Health {
        status: "ok".into(),
        graphs_serving: serving,
        graphs_quarantined: quarantined,
        requests_in_flight: state.in_flight.total(),
        writes_waiting: state.registry.writes_waiting(),
        write_retries: state.registry.write_retries(),
        write_waits: state.registry.write_waits(),
        query_cache: {
            let session = state.registry.session();
            let u = session.cache_budget().map(|b| b.usage()).unwrap_or_default();
            let shares = session.cache_shares();
            CacheHealth {
                limit_bytes: u.limit_bytes,
                used_bytes: u.used_bytes,
                evictions: u.evictions,
                lance_index_limit_bytes: shares.map_or(0, |s| s.lance_index),
                lance_metadata_limit_bytes: shares.map_or(0, |s| s.lance_metadata),
            }
        },
        maintenance: state.maintenance.health(),
    })
}

/// This API's OpenAPI 3.1 description (the same as `openapi.json` in the repository).
#[utoipa::path(get, path = "/openapi.json", tag = "server", responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::openapi())
}
