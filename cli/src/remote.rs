//! The remote side of the CLI: the same commands through an
//! `omnigraph-server` (`--server URL [--token T]`). Answers are the JSON the
//! direct commands print with `--json`, and go through the same printers.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value as Json;

use crate::output::CliError;

pub struct Remote {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
    /// `--branch`: sent as `?branch=` with every request.
    branch: Option<String>,
}

/// Percent-encodes one query-string value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Remote {
    pub fn new(server: &str, token: Option<String>) -> Result<Remote, CliError> {
        let base = server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(CliError::invalid_argument(format!("--server `{server}`: expected a URL like http://127.0.0.1:8080")));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::Connect { server: base.clone(), message: e.to_string() })?;
        Ok(Remote { base, token, http, branch: None })
    }

    /// This client, naming `branch` in every request.
    pub fn on_branch(mut self, branch: Option<String>) -> Remote {
        self.branch = branch;
        self
    }

    fn url(&self, path: &str) -> String {
        match &self.branch {
            Some(b) => format!("{}{path}{}branch={}", self.base, if path.contains('?') { '&' } else { '?' }, encode(b)),
            None => format!("{}{path}", self.base),
        }
    }

    fn connect_error(&self, e: reqwest::Error) -> CliError {
        CliError::Connect { server: self.base.clone(), message: e.to_string() }
    }

    /// Sends a request; a non-2xx answer becomes [`CliError::Remote`].
    pub async fn send(&self, mut rb: reqwest::RequestBuilder) -> Result<reqwest::Response, CliError> {
        if let Some(t) = &self.token {
            rb = rb.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        let resp = rb.send().await.map_err(|e| self.connect_error(e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let bytes = resp.bytes().await.map_err(|e| self.connect_error(e))?;
        let body = serde_json::from_slice::<Json>(&bytes).ok().filter(|b| b.get("code").is_some()).unwrap_or_else(|| {
            serde_json::json!({
                "error": format!("{} answered {status}: {}", self.base, String::from_utf8_lossy(&bytes).chars().take(200).collect::<String>()),
                "code": crate::codes::UNEXPECTED_ANSWER.code,
                "kind": crate::codes::UNEXPECTED_ANSWER.kind,
            })
        });
        Err(CliError::Remote { body })
    }

    async fn json_of(&self, resp: reqwest::Response) -> Result<Json, CliError> {
        let bytes = resp.bytes().await.map_err(|e| self.connect_error(e))?;
        serde_json::from_slice(&bytes).map_err(|e| CliError::Connect { server: self.base.clone(), message: format!("answer is not JSON: {e}") })
    }

    pub async fn get(&self, path: &str) -> Result<Json, CliError> {
        let r = self.send(self.http.get(self.url(path))).await?;
        self.json_of(r).await
    }

    pub async fn delete(&self, path: &str) -> Result<Json, CliError> {
        let r = self.send(self.http.delete(self.url(path))).await?;
        self.json_of(r).await
    }

    pub async fn post(&self, path: &str, body: &Json) -> Result<Json, CliError> {
        let rb = self.http.post(self.url(path)).header(CONTENT_TYPE, "application/json").body(serde_json::to_vec(body).expect("serializable"));
        let r = self.send(rb).await?;
        self.json_of(r).await
    }

    /// Posts a streamed body (NDJSON).
    pub async fn post_stream(&self, path: &str, body: reqwest::Body) -> Result<Json, CliError> {
        let rb = self.http.post(self.url(path)).header(CONTENT_TYPE, "application/x-ndjson").body(body);
        let r = self.send(rb).await?;
        self.json_of(r).await
    }

    /// Streams a GET answer into `out`; returns the bytes written.
    pub async fn get_into(&self, path: &str, out: &mut dyn std::io::Write) -> Result<u64, CliError> {
        let r = self.send(self.http.get(self.url(path))).await?;
        let mut stream = r.bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk: Bytes = chunk.map_err(|e| CliError::Connect { server: self.base.clone(), message: format!("the answer was cut off: {e}") })?;
            out.write_all(&chunk).map_err(omnigraph::Error::Io)?;
            n += chunk.len() as u64;
        }
        out.flush().map_err(omnigraph::Error::Io)?;
        Ok(n)
    }
}
