//! The provider client: batched `POST {url}/embeddings` requests with a
//! timeout and retries, and a cache of vectors by content hash (model and
//! text), so a text already embedded is not sent again.

use std::collections::VecDeque;
use std::sync::Mutex;

use rustc_hash::FxHashMap;
use serde_json::{Value as Json, json};

use super::config::EmbedConfig;
use crate::codes;
use crate::error::{Error, Result};

/// Vectors kept by the cache.
pub const CACHE_ENTRIES: usize = 100_000;

/// Computes embeddings through one provider. Cheap to share (`Arc`).
pub struct Embedder {
    config: EmbedConfig,
    client: reqwest::Client,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    map: FxHashMap<u128, std::sync::Arc<[f32]>>,
    order: VecDeque<u128>,
}

impl Cache {
    fn put(&mut self, k: u128, v: std::sync::Arc<[f32]>) {
        if self.map.insert(k, v).is_none() {
            self.order.push_back(k);
            while self.order.len() > CACHE_ENTRIES {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

/// What one request came to.
enum Failure {
    /// Worth another try (network error, timeout, 429, 5xx).
    Retry(String),
    Fatal(String),
}

impl Embedder {
    pub fn new(config: EmbedConfig) -> Result<Embedder> {
        config.validate().map_err(|m| Error::Embed { code: codes::EMBED_NOT_CONFIGURED.code, provider: config.provider(), message: m })?;
        let client = reqwest::Client::builder().timeout(config.timeout()).build().map_err(|e| Error::Embed {
            code: codes::EMBED_NOT_CONFIGURED.code,
            provider: config.provider(),
            message: e.to_string(),
        })?;
        Ok(Embedder { config, client, cache: Mutex::new(Cache::default()) })
    }

    pub fn config(&self) -> &EmbedConfig {
        &self.config
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    fn failed(&self, message: String) -> Error {
        Error::Embed { code: codes::EMBED_FAILED.code, provider: self.config.provider(), message }
    }

    fn key(&self, text: &str) -> u128 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(self.config.model.as_bytes());
        h.update(&[0]);
        h.update(text.as_bytes());
        h.digest128()
    }

    /// The vectors of `texts`, each of `dim` numbers; cached ones are not
    /// sent. Fails whole (nothing partial) when the provider does.
    pub async fn embed(&self, texts: &[&str], dim: usize) -> Result<Vec<std::sync::Arc<[f32]>>> {
        let keys: Vec<u128> = texts.iter().map(|t| self.key(t)).collect();
        let mut out: Vec<Option<std::sync::Arc<[f32]>>> = {
            let cache = self.cache.lock().expect("embed cache");
            keys.iter().map(|k| cache.map.get(k).filter(|v| v.len() == dim).cloned()).collect()
        };
        // Each text not cached, once.
        let mut todo: Vec<usize> = Vec::new();
        let mut seen: FxHashMap<u128, usize> = FxHashMap::default();
        for (i, k) in keys.iter().enumerate() {
            if out[i].is_none() && seen.insert(*k, i).is_none() {
                todo.push(i);
            }
        }
        for chunk in todo.chunks(self.config.batch_size) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            let vectors = self.request(&batch, dim).await?;
            let mut cache = self.cache.lock().expect("embed cache");
            for (&i, v) in chunk.iter().zip(vectors) {
                let v: std::sync::Arc<[f32]> = v.into();
                cache.put(keys[i], v.clone());
                out[i] = Some(v);
            }
        }
        // A text given twice was sent once: the others take its vector.
        for i in 0..out.len() {
            if out[i].is_none() {
                out[i] = out[seen[&keys[i]]].clone();
            }
        }
        out.into_iter().map(|v| v.ok_or_else(|| self.failed("a text was left without a vector".into()))).collect()
    }

    /// One batch, with retries.
    async fn request(&self, texts: &[&str], dim: usize) -> Result<Vec<Vec<f32>>> {
        let mut wait = std::time::Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            match self.once(texts, dim).await {
                Ok(v) => return Ok(v),
                Err(Failure::Fatal(m)) => return Err(self.failed(m)),
                Err(Failure::Retry(m)) if attempt >= self.config.retries => {
                    return Err(self.failed(format!("{m} (after {} tries)", attempt + 1)));
                }
                Err(Failure::Retry(_)) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(std::time::Duration::from_secs(10));
                    attempt += 1;
                }
            }
        }
    }

    async fn once(&self, texts: &[&str], dim: usize) -> std::result::Result<Vec<Vec<f32>>, Failure> {
        let body = json!({"model": self.config.model, "input": texts, "encoding_format": "float"});
        let mut req = self.client.post(self.config.endpoint()).header("content-type", "application/json").body(body.to_string());
        if let Some(k) = &self.config.api_key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.map_err(|e| Failure::Retry(if e.is_timeout() { "timed out".into() } else { format!("request failed: {e}") }))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| Failure::Retry(format!("reading the answer failed: {e}")))?;
        if !status.is_success() {
            let detail = serde_json::from_slice::<Json>(&bytes)
                .ok()
                .and_then(|j| j.pointer("/error/message").and_then(Json::as_str).map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned());
            let m = format!("answered {status}: {detail}");
            return Err(if status.as_u16() == 429 || status.is_server_error() { Failure::Retry(m) } else { Failure::Fatal(m) });
        }
        let j: Json = serde_json::from_slice(&bytes).map_err(|e| Failure::Fatal(format!("answered something that is not JSON: {e}")))?;
        let data = j.get("data").and_then(Json::as_array).ok_or_else(|| Failure::Fatal("the answer has no `data` list".into()))?;
        if data.len() != texts.len() {
            return Err(Failure::Fatal(format!("sent {} texts, got {} vectors", texts.len(), data.len())));
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (n, item) in data.iter().enumerate() {
            let i = item.get("index").and_then(Json::as_u64).map_or(n, |i| i as usize);
            let nums = item.get("embedding").and_then(Json::as_array).ok_or_else(|| Failure::Fatal("an item has no `embedding` list".into()))?;
            if nums.len() != dim {
                return Err(Failure::Fatal(format!("model `{}` answered vectors of {} numbers; the property is Vector({dim})", self.config.model, nums.len())));
            }
            let v: Option<Vec<f32>> = nums.iter().map(|x| x.as_f64().map(|f| f as f32)).collect();
            let slot = out.get_mut(i).ok_or_else(|| Failure::Fatal(format!("an item's index {i} is out of range")))?;
            *slot = Some(v.ok_or_else(|| Failure::Fatal("an embedding holds something that is not a number".into()))?);
        }
        out.into_iter().collect::<Option<Vec<_>>>().ok_or_else(|| Failure::Fatal("the answer repeats an index and misses another".into()))
    }
}
