//! Settings: command-line flags, then `OMNIGRAPH_*` variables, then a
//! YAML settings file (`--config`), then defaults. Graphs never come from
//! settings: they live in the catalog and come and go through the API.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use clap::Parser;
use omnigraph_policy::Policy;
use serde::Deserialize;

use crate::auth::Tokens;

pub const DEFAULT_DATA: &str = "./omnigraph-data";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_QUERY_BYTES: usize = 1 << 20;
pub const DEFAULT_QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
pub const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A duration flag (`500ms`, `30s`, `5m`), from 1 ms to 24 h.
fn duration_flag(flag: &str, text: Option<String>, default: std::time::Duration) -> Result<std::time::Duration, ConfigError> {
    let Some(text) = text else { return Ok(default) };
    omnigraph_catalog::lifecycle::retention::parse_duration_ms(&text)
        .ok()
        .filter(|ms| *ms <= 86_400_000)
        .map(|ms| std::time::Duration::from_millis(ms as u64))
        .ok_or_else(|| err(crate::codes::BAD_DURATION.code, format!("{flag} `{text}`: expected a duration from 1ms to 24h, like 500ms, 30s or 5m")))
}

#[derive(Parser, Debug, Default)]
#[command(name = "omnigraph-server", version, about = "Serve the graphs of one omnigraph catalog over HTTP")]
pub struct Args {
    /// A YAML settings file (keys as the long flags, with `_`).
    #[arg(long, env = "OMNIGRAPH_SERVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// A local catalog directory (default ./omnigraph-data, created on first start).
    #[arg(long, env = "OMNIGRAPH_DATA", conflicts_with = "catalog")]
    pub data: Option<PathBuf>,
    /// The catalog URI: a directory or s3://bucket/prefix (AWS_* variables configure S3).
    #[arg(long, env = "OMNIGRAPH_CATALOG")]
    pub catalog: Option<String>,
    /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free port).
    #[arg(long, env = "OMNIGRAPH_BIND")]
    pub bind: Option<String>,
    /// `{actor: token}` as YAML or JSON. `OMNIGRAPH_TOKENS` may hold the same mapping inline.
    #[arg(long, env = "OMNIGRAPH_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// The policy file (groups, rules, protected branches).
    #[arg(long, env = "OMNIGRAPH_POLICY_FILE")]
    pub policy_file: Option<PathBuf>,
    /// Allow a non-loopback bind without tokens (everyone may do everything the policy allows).
    #[arg(long)]
    pub unauthenticated: bool,
    /// Largest JSON-form `/load` body (`{"data": [...]}`) in bytes
    /// (default 64 MiB); larger ones get 413. NDJSON loads stream and have
    /// no total limit unless `--max-load-bytes` sets one.
    #[arg(long, env = "OMNIGRAPH_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// An optional total limit on a streamed NDJSON `/load` body, in bytes
    /// (default: none; memory stays bounded by the line limit whatever the size).
    #[arg(long, env = "OMNIGRAPH_MAX_LOAD_BYTES")]
    pub max_load_bytes: Option<u64>,
    /// The longest line of a load, in bytes (default 16 MiB); a longer one
    /// fails the load with `OG-LOAD-015` and its line number.
    #[arg(long, env = "OMNIGRAPH_MAX_LINE_BYTES")]
    pub max_line_bytes: Option<usize>,
    /// Largest JSON body of the other routes (queries, mutations, a new
    /// graph's schema) in bytes (default 1 MiB); larger ones get 413.
    #[arg(long, env = "OMNIGRAPH_MAX_QUERY_BYTES")]
    pub max_query_bytes: Option<usize>,
    /// Requests one actor may have in flight (default 32); more get 429.
    #[arg(long, env = "OMNIGRAPH_MAX_IN_FLIGHT")]
    pub max_in_flight: Option<usize>,
    /// Memory for cached query data (node ids, property columns, adjacency)
    /// of all graphs together, in bytes (default a quarter of the machine's memory).
    #[arg(long, env = "OMNIGRAPH_CACHE_BYTES")]
    pub cache_bytes: Option<u64>,
    /// Rows a query's match may grow to before it is refused with 422
    /// OG-QUERY-016 (default 50,000,000; the CLI reads the same variable).
    #[arg(long, env = "OMNIGRAPH_MAX_QUERY_ROWS")]
    pub max_query_rows: Option<u64>,
    /// Bytes a query's result rows and sort keys may take before it is
    /// refused with 422 OG-QUERY-018 (default 256 MiB).
    #[arg(long, env = "OMNIGRAPH_MAX_RESULT_BYTES")]
    pub max_result_bytes: Option<u64>,
    /// How long one query or mutation may run before it is stopped with
    /// 504 OG-QUERY-019, as a duration (`500ms`, `30s`, `2m`; default 30s).
    #[arg(long, env = "OMNIGRAPH_QUERY_TIMEOUT")]
    pub query_timeout: Option<String>,
    /// How long a streamed request or answer may stall (a load body that
    /// sends nothing, an export the client does not read) before it is
    /// cut off, as a duration (default 60s).
    #[arg(long, env = "OMNIGRAPH_IDLE_TIMEOUT")]
    pub idle_timeout: Option<String>,
    /// How often to re-read the catalog, in ms (default 500).
    #[arg(long, env = "OMNIGRAPH_REFRESH_MS")]
    pub refresh_ms: Option<u64>,
    /// How often to run the recovery sweep, in ms (default 10000).
    #[arg(long, env = "OMNIGRAPH_SWEEP_MS")]
    pub sweep_ms: Option<u64>,
    /// Run `optimize` and then `cleanup` on every served graph this often, as
    /// a duration (`30m`, `6h`; at most 24h). Off when not given.
    #[arg(long, env = "OMNIGRAPH_MAINTENANCE_INTERVAL")]
    pub maintenance_interval: Option<String>,
    /// Scheduled cleanup keeps commits younger than this many days (default 7).
    #[arg(long, env = "OMNIGRAPH_MAINTENANCE_KEEP_DAYS")]
    pub maintenance_keep_days: Option<f64>,
    /// Scheduled cleanup keeps the last this many commits (default 100).
    #[arg(long, env = "OMNIGRAPH_MAINTENANCE_KEEP_COMMITS")]
    pub maintenance_keep_commits: Option<u64>,
    /// Print the OpenAPI document and exit.
    #[arg(long)]
    pub print_openapi: bool,
}

/// The settings file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data: Option<PathBuf>,
    catalog: Option<String>,
    bind: Option<String>,
    tokens_file: Option<PathBuf>,
    policy_file: Option<PathBuf>,
    #[serde(default)]
    unauthenticated: bool,
    max_body_bytes: Option<usize>,
    max_load_bytes: Option<u64>,
    max_line_bytes: Option<usize>,
    max_query_bytes: Option<usize>,
    max_in_flight: Option<usize>,
    cache_bytes: Option<u64>,
    max_query_rows: Option<u64>,
    max_result_bytes: Option<u64>,
    query_timeout: Option<String>,
    idle_timeout: Option<String>,
    refresh_ms: Option<u64>,
    sweep_ms: Option<u64>,
    maintenance_interval: Option<String>,
    maintenance_keep_days: Option<f64>,
    maintenance_keep_commits: Option<u64>,
    /// The embedding provider (`url`, `model`, `api_key`, `batch_size`,
    /// `timeout_ms`, `retries`); the `OMNIGRAPH_EMBED_*` variables otherwise.
    embed: Option<omnigraph::embed::EmbedConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Tokens configured.
    Tokens,
    /// No tokens, loopback bind.
    LoopbackOnly,
    /// No tokens, non-loopback bind, `--unauthenticated`.
    Unauthenticated,
}

#[derive(Debug)]
pub struct Config {
    pub catalog: String,
    pub bind: SocketAddr,
    pub tokens: Tokens,
    pub policy: Policy,
    pub auth: AuthMode,
    pub max_body_bytes: usize,
    pub max_load_bytes: Option<u64>,
    pub max_line_bytes: usize,
    pub max_query_bytes: usize,
    pub max_in_flight: usize,
    pub cache_bytes: u64,
    pub limits: omnigraph::session::QueryLimits,
    pub idle_timeout: std::time::Duration,
    pub refresh_ms: u64,
    pub sweep_ms: u64,
    /// Scheduled maintenance: how often, and the cleanup's retention.
    pub maintenance: Option<(std::time::Duration, omnigraph::graph::cleanup::CleanupOptions)>,
    /// The embedding provider, if any.
    pub embed: Option<omnigraph::embed::EmbedConfig>,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub code: &'static str,
    pub message: String,
}

fn err(code: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { code, message: message.into() }
}

impl Config {
    pub fn from_args(args: Args) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => {
                let src = std::fs::read_to_string(path).map_err(|e| err(crate::codes::BAD_SETTINGS.code, format!("cannot read {}: {e}", path.display())))?;
                if serde_norway::from_str::<serde_json::Value>(&src).ok().and_then(|v| v.get("graphs").cloned()).is_some() {
                    return Err(err(
                        crate::codes::BAD_SETTINGS.code,
                        format!(
                            "{}: `graphs` cannot be configured in a file; graphs live in the catalog (POST /graphs, omnigraph graphs create)",
                            path.display()
                        ),
                    ));
                }
                serde_norway::from_str::<FileSettings>(&src).map_err(|e| err(crate::codes::BAD_SETTINGS.code, format!("{}: {e}", path.display())))?
            }
            None => FileSettings::default(),
        };
        let catalog = match (args.catalog.or(file.catalog), args.data.or(file.data)) {
            (Some(c), _) => c,
            (None, Some(d)) => d.display().to_string(),
            (None, None) => DEFAULT_DATA.to_string(),
        };
        let bind_text = args.bind.or(file.bind).unwrap_or_else(|| DEFAULT_BIND.to_string());
        let bind = bind_text
            .to_socket_addrs()
            .map_err(|e| err(crate::codes::BAD_BIND.code, format!("--bind {bind_text}: {e}")))?
            .next()
            .ok_or_else(|| err(crate::codes::BAD_BIND.code, format!("--bind {bind_text}: no address")))?;

        let tokens = match (args.tokens_file.or(file.tokens_file), std::env::var("OMNIGRAPH_TOKENS").ok().filter(|s| !s.trim().is_empty())) {
            (Some(path), _) => {
                let src = std::fs::read_to_string(&path).map_err(|e| err(crate::codes::BAD_TOKENS.code, format!("cannot read {}: {e}", path.display())))?;
                Tokens::parse(&src, &path.display().to_string()).map_err(|e| err(crate::codes::BAD_TOKENS.code, e.to_string()))?
            }
            (None, Some(inline)) => Tokens::parse(&inline, "OMNIGRAPH_TOKENS").map_err(|e| err(crate::codes::BAD_TOKENS.code, e.to_string()))?,
            (None, None) => Tokens::default(),
        };
        let unauthenticated = args.unauthenticated || file.unauthenticated;
        let auth = if !tokens.is_empty() {
            AuthMode::Tokens
        } else if bind.ip().is_loopback() {
            AuthMode::LoopbackOnly
        } else if unauthenticated {
            AuthMode::Unauthenticated
        } else {
            return Err(err(
                crate::codes::PUBLIC_WITHOUT_TOKENS.code,
                format!(
                    "refusing to listen on {bind} without tokens: give --tokens-file (or OMNIGRAPH_TOKENS), bind a loopback address, or pass --unauthenticated"
                ),
            ));
        };
        let query_timeout = duration_flag("--query-timeout", args.query_timeout.or(file.query_timeout), DEFAULT_QUERY_TIMEOUT)?;
        let idle_timeout = duration_flag("--idle-timeout", args.idle_timeout.or(file.idle_timeout), DEFAULT_IDLE_TIMEOUT)?;
        let maintenance = match args.maintenance_interval.or(file.maintenance_interval) {
            None => None,
            Some(text) => {
                let every = duration_flag("--maintenance-interval", Some(text), DEFAULT_QUERY_TIMEOUT)?;
                let d = omnigraph::graph::cleanup::CleanupOptions::default();
                let retention = omnigraph::graph::cleanup::CleanupOptions {
                    keep_days: args.maintenance_keep_days.or(file.maintenance_keep_days).unwrap_or(d.keep_days),
                    keep_commits: args.maintenance_keep_commits.or(file.maintenance_keep_commits).unwrap_or(d.keep_commits),
                    dry_run: false,
                };
                retention.validate().map_err(|e| err(crate::codes::BAD_RETENTION.code, format!("scheduled maintenance: {e}")))?;
                Some((every, retention))
            }
        };
        let embed = match file.embed {
            Some(c) => {
                c.validate().map_err(|m| err(crate::codes::BAD_SETTINGS.code, format!("embed: {m}")))?;
                Some(c)
            }
            None => omnigraph::embed::EmbedConfig::from_env().map_err(|m| err(crate::codes::BAD_SETTINGS.code, m))?,
        };
        let policy = match args.policy_file.or(file.policy_file) {
            Some(path) => Policy::load(&path).map_err(|e| err(e.code(), e.to_string()))?,
            None if auth == AuthMode::Tokens => Policy::read_only(),
            None => Policy::allow_all(),
        };
        Ok(Config {
            catalog,
            bind,
            tokens,
            policy,
            auth,
            max_body_bytes: args.max_body_bytes.or(file.max_body_bytes).unwrap_or(64 << 20),
            max_load_bytes: args.max_load_bytes.or(file.max_load_bytes),
            max_line_bytes: args.max_line_bytes.or(file.max_line_bytes).unwrap_or(omnigraph::load::DEFAULT_MAX_LINE_BYTES).max(1024),
            max_query_bytes: args.max_query_bytes.or(file.max_query_bytes).unwrap_or(DEFAULT_MAX_QUERY_BYTES).max(1024),
            max_in_flight: args.max_in_flight.or(file.max_in_flight).unwrap_or(32),
            cache_bytes: args.cache_bytes.or(file.cache_bytes).unwrap_or_else(default_cache_bytes),
            limits: omnigraph::session::QueryLimits {
                max_rows: args.max_query_rows.or(file.max_query_rows).unwrap_or(omnigraph::session::DEFAULT_MAX_QUERY_ROWS),
                max_result_bytes: args.max_result_bytes.or(file.max_result_bytes).unwrap_or(omnigraph::session::DEFAULT_MAX_RESULT_BYTES),
                timeout: Some(query_timeout),
            },
            idle_timeout,
            refresh_ms: args.refresh_ms.or(file.refresh_ms).unwrap_or(500).max(50),
            sweep_ms: args.sweep_ms.or(file.sweep_ms).unwrap_or(10_000).max(100),
            maintenance,
            embed,
        })
    }
}

/// A quarter of the machine's memory (`MemTotal` in /proc/meminfo), or 1 GiB
/// where that cannot be read.
fn default_cache_bytes() -> u64 {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())));
    match total_kib {
        Some(kib) => kib * 1024 / 4,
        None => 1 << 30,
    }
}
