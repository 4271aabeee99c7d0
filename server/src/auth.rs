//! Bearer tokens. Tokens come from a file or the `OMNIGRAPH_TOKENS`
//! variable as `{actor: token}`; only their SHA-256 digests are kept, and a
//! presented token is hashed and compared with every digest in constant
//! time. The actor of a request comes from its token and nothing else: a
//! header or body field naming an actor is never read.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The actor of requests on a server without tokens.
pub const ANONYMOUS: &str = "anonymous";

#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// (digest, actor), in file order.
    digests: Vec<([u8; 32], String)>,
}

#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct TokensError {
    pub source_name: String,
    pub message: String,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares two digests without an early exit.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for i in 0..32 {
        diff |= a[i] ^ b[i];
    }
    std::hint::black_box(diff) == 0
}

impl Tokens {
    /// Parses `{actor: token}` (JSON or YAML).
    pub fn parse(src: &str, source_name: &str) -> Result<Tokens, TokensError> {
        let err = |message: String| TokensError { source_name: source_name.to_string(), message };
        // An actor given twice is an error, not "the second token wins".
        let map: BTreeMap<String, String> = serde_norway::from_str::<omnigraph_policy::unique::UniqueMap<String>>(src)
            .map_err(|e| err(format!("expected a mapping of actor to token, each actor once: {e}")))?
            .0;
        let mut digests: Vec<([u8; 32], String)> = Vec::new();
        for (actor, token) in map {
            if actor.is_empty() || !actor.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@')) {
                return Err(err(format!("actor `{actor}`: use letters, digits and `_ - . @`")));
            }
            if token.trim() != token {
                return Err(err(format!("actor `{actor}`: token has leading or trailing spaces, which no request could send back")));
            }
            if token.len() < 16 {
                return Err(err(format!("actor `{actor}`: token is shorter than 16 characters")));
            }
            let d = digest(&token);
            if let Some((_, other)) = digests.iter().find(|(x, _)| same(x, &d)) {
                return Err(err(format!("actors `{other}` and `{actor}` have the same token")));
            }
            digests.push((d, actor));
        }
        if digests.is_empty() {
            return Err(err("no tokens".into()));
        }
        Ok(Tokens { digests })
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// The actor whose token this is. Every digest is compared, so the time
    /// taken does not depend on which one matches.
    pub fn actor_of(&self, token: &str) -> Option<&str> {
        let d = digest(token);
        let mut found = None;
        for (x, actor) in &self.digests {
            if same(x, &d) {
                found = Some(actor.as_str());
            }
        }
        found
    }

    /// The actor of a request: from its bearer token, or `anonymous` when
    /// the server has no tokens.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        if self.is_empty() {
            return Ok(ANONYMOUS.to_string());
        }
        let value = headers.get(header::AUTHORIZATION).ok_or_else(ApiError::missing_token)?;
        let value = value.to_str().map_err(|_| ApiError::bad_token())?;
        // The scheme name is case-insensitive (RFC 9110).
        let token = match value.trim_start().split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => return Err(ApiError::missing_token()),
        };
        self.actor_of(token).map(str::to_string).ok_or_else(ApiError::bad_token)
    }
}
