//! The browser guard: what keeps a web page the operator visits from using
//! a server that has no tokens.
//!
//! Without tokens, anything that reaches the port may act, which on a
//! loopback bind means "anything on this machine", including the operator's
//! browser. Two browser tricks would get through:
//! - a cross-site request: a page posts to `http://127.0.0.1:8080/...`.
//!   Browsers send an `Origin` header on every such POST, and they cannot
//!   send `application/json` or a bearer token without a CORS preflight,
//!   which this server never grants ([`crate::body::require_json`] refuses
//!   the other types).
//! - DNS rebinding: a page on `evil.example` re-points that name to
//!   127.0.0.1 and then reads answers as same-origin. Its requests carry
//!   `Host: evil.example`.
//!
//! So, when no tokens are configured, a request is admitted only if its
//! `Host` names a loopback address on this server's port (on a loopback
//! bind), and any `Origin` it carries is this server itself. With tokens a
//! browser cannot attach the credential cross-site, so neither check runs.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::Shared;

/// What the guard checks; `None` in [`crate::state::AppState`] when tokens
/// are configured.
#[derive(Debug, Clone)]
pub struct BrowserGuard {
    /// The port the server listens on.
    pub port: u16,
    /// Check `Host` (a loopback bind); a non-loopback bind without tokens
    /// (`--unauthenticated`) cannot know its names, so only `Origin` is checked.
    pub loopback_only: bool,
}

/// `host[:port]` split, with IPv6 brackets removed.
fn split_host(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').unwrap_or((rest, ""));
        return (h, tail.strip_prefix(':'));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (authority, None),
    }
}

fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl BrowserGuard {
    /// Whether `authority` (a `Host` value or an origin's authority) names
    /// this server on a loopback address.
    fn names_this_server(&self, authority: &str, default_port: u16) -> bool {
        let (host, port) = split_host(authority.trim());
        let port_ok = match port {
            Some(p) => p.parse::<u16>().is_ok_and(|p| p == self.port),
            None => default_port == self.port,
        };
        port_ok && is_loopback_name(host)
    }

    fn check(&self, req: &Request) -> Result<(), ApiError> {
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| req.uri().authority().map(|a| a.as_str()));
        if self.loopback_only {
            match host {
                Some(h) if self.names_this_server(h, 80) => {}
                Some(h) => {
                    return Err(ApiError::host_not_allowed(format!(
                        "`Host: {}` does not name this server on a loopback address; without tokens it answers only requests to localhost:{}",
                        h.chars().take(100).collect::<String>(),
                        self.port
                    )));
                }
                None => return Err(ApiError::host_not_allowed("the request has no `Host` header")),
            }
        }
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let text = origin.to_str().unwrap_or("");
            let same = match text.split_once("://") {
                Some(("http", authority)) if self.loopback_only => self.names_this_server(authority, 80),
                Some(("http", authority)) => host.is_some_and(|h| authority.eq_ignore_ascii_case(h)),
                _ => false,
            };
            if !same {
                return Err(ApiError::cross_origin(format!(
                    "a request from the web page at `{}` is refused: this server has no tokens, so it accepts no requests from browsers on other origins",
                    text.chars().take(100).collect::<String>()
                )));
            }
        }
        Ok(())
    }
}

/// The middleware: refuses what [`BrowserGuard::check`] refuses.
pub async fn guard(State(state): State<Shared>, req: Request, next: Next) -> Response {
    if let Some(g) = &state.browser_guard
        && let Err(e) = g.check(&req)
    {
        return e.into_response();
    }
    next.run(req).await
}
