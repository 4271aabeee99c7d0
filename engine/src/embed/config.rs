//! Where embeddings come from: an OpenAI-compatible `/v1/embeddings`
//! endpoint (OpenAI, Ollama, vLLM, LM Studio, ...), from the environment
//! (`OMNIGRAPH_EMBED_URL`, `OMNIGRAPH_EMBED_MODEL`, `OMNIGRAPH_EMBED_API_KEY`,
//! and the tuning variables below) or the server's config file.

use std::time::Duration;

use serde::Deserialize;

/// How to reach the embedding provider.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedConfig {
    /// The API's base URL (`http://localhost:11434/v1`), or the full
    /// `.../embeddings` endpoint.
    pub url: String,
    /// The model name sent with every request, and recorded with the vectors.
    pub model: String,
    /// Sent as `Authorization: Bearer <key>` when set.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Texts per request.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// One request's time bound, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Further tries after a failed request (a network error, 429 or 5xx),
    /// waiting 200 ms, 400 ms, ... between them.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_batch() -> usize {
    64
}

fn default_timeout_ms() -> u64 {
    30_000
}

fn default_retries() -> u32 {
    3
}

/// The most texts per request a config may ask for.
pub const MAX_BATCH: usize = 2048;
/// The longest request timeout a config may set (10 minutes).
pub const MAX_TIMEOUT_MS: u64 = 600_000;
/// The most retries a config may ask for.
pub const MAX_RETRIES: u32 = 10;

impl EmbedConfig {
    pub fn new(url: impl Into<String>, model: impl Into<String>) -> EmbedConfig {
        EmbedConfig {
            url: url.into(),
            model: model.into(),
            api_key: None,
            batch_size: default_batch(),
            timeout_ms: default_timeout_ms(),
            retries: default_retries(),
        }
    }

    /// From `OMNIGRAPH_EMBED_URL` and `OMNIGRAPH_EMBED_MODEL` (both, or
    /// neither: `None`), `OMNIGRAPH_EMBED_API_KEY`, `OMNIGRAPH_EMBED_BATCH`,
    /// `OMNIGRAPH_EMBED_TIMEOUT_MS`, `OMNIGRAPH_EMBED_RETRIES`.
    pub fn from_env() -> Result<Option<EmbedConfig>, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (url, model) = match (var("OMNIGRAPH_EMBED_URL"), var("OMNIGRAPH_EMBED_MODEL")) {
            (None, None) => return Ok(None),
            (Some(u), Some(m)) => (u, m),
            (Some(_), None) => return Err("OMNIGRAPH_EMBED_URL is set but OMNIGRAPH_EMBED_MODEL is not".into()),
            (None, Some(_)) => return Err("OMNIGRAPH_EMBED_MODEL is set but OMNIGRAPH_EMBED_URL is not".into()),
        };
        let mut c = EmbedConfig::new(url, model);
        c.api_key = var("OMNIGRAPH_EMBED_API_KEY");
        let num = |k: &str| -> Result<Option<u64>, String> {
            var(k).map(|v| v.trim().parse::<u64>().map_err(|_| format!("{k} must be a whole number, got `{v}`"))).transpose()
        };
        if let Some(n) = num("OMNIGRAPH_EMBED_BATCH")? {
            c.batch_size = n as usize;
        }
        if let Some(n) = num("OMNIGRAPH_EMBED_TIMEOUT_MS")? {
            c.timeout_ms = n;
        }
        if let Some(n) = num("OMNIGRAPH_EMBED_RETRIES")? {
            c.retries = u32::try_from(n).unwrap_or(u32::MAX);
        }
        c.validate()?;
        Ok(Some(c))
    }

    /// Checks the bounds and the URL.
    pub fn validate(&self) -> Result<(), String> {
        let u = url::Url::parse(&self.url).map_err(|e| format!("embedding URL `{}` does not parse: {e}", self.url))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("embedding URL `{}` must be http or https", self.url));
        }
        if self.model.trim().is_empty() || self.model.len() > 256 {
            return Err("the embedding model name must be 1 to 256 characters".into());
        }
        if !(1..=MAX_BATCH).contains(&self.batch_size) {
            return Err(format!("embedding batch size must be 1 to {MAX_BATCH}, got {}", self.batch_size));
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&self.timeout_ms) {
            return Err(format!("embedding timeout must be 1 to {MAX_TIMEOUT_MS} ms, got {}", self.timeout_ms));
        }
        if self.retries > MAX_RETRIES {
            return Err(format!("embedding retries must be at most {MAX_RETRIES}, got {}", self.retries));
        }
        Ok(())
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> String {
        let base = self.url.trim_end_matches('/');
        if base.ends_with("/embeddings") { base.to_string() } else { format!("{base}/embeddings") }
    }

    /// The endpoint as errors name it (no query string or credentials).
    pub fn provider(&self) -> String {
        match url::Url::parse(&self.endpoint()) {
            Ok(u) => format!("{}://{}{}", u.scheme(), u.host_str().unwrap_or(""), u.port().map(|p| format!(":{p}")).unwrap_or_default()) + u.path(),
            Err(_) => self.endpoint(),
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}
