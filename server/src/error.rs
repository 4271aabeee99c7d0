//! [`ApiError`]: every error the server sends, as
//! `{"error": "...", "code": "OG-...", "kind": "..."}` (plus `details` for
//! schema, query and data errors) with the HTTP status its code maps to.
//! Engine and catalog errors keep their own codes; the server's own are
//! `OG-HTTP-NNN` and `OG-AUTH-NNN`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use omnigraph::Error as EngineError;
use omnigraph_catalog::CatalogError;
use omnigraph_policy::PolicyError;

use crate::codes;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: serde_json::Value,
    pub retry_after_s: Option<u64>,
    /// What the handlers need to know about the error beyond its answer.
    pub cause: Cause,
}

/// The few facts about an error that change what a handler does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cause {
    /// The graph this handle serves is gone: fenced by a delete, or its
    /// root no longer holds a graph.
    GraphGone,
    #[default]
    Other,
}

/// The status an engine or catalog error names (they define it with the code).
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn engine_cause(e: &EngineError) -> Cause {
    match e {
        EngineError::GraphRetired { .. } | EngineError::NotAGraph { .. } => Cause::GraphGone,
        _ => Cause::Other,
    }
}

impl ApiError {
    /// An error with one of the server's own codes ([`codes`]).
    pub fn coded(code: &codes::Code, message: impl Into<String>) -> ApiError {
        let status = code.status.expect("an HTTP code");
        ApiError { status, body: serde_json::json!({"error": message.into(), "code": code.code, "kind": code.kind}), retry_after_s: None, cause: Cause::Other }
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn bad_body(message: impl Into<String>) -> ApiError {
        ApiError::coded(&codes::BAD_BODY, message)
    }

    pub fn too_large(limit: usize) -> ApiError {
        ApiError::coded(&codes::TOO_LARGE, format!("request body is larger than the server's limit of {limit} bytes"))
    }

    pub fn too_many_in_flight(actor: &str, limit: usize) -> ApiError {
        let mut e = ApiError::coded(&codes::TOO_MANY, format!("actor `{actor}` already has {limit} requests in flight; retry shortly"));
        e.retry_after_s = Some(1);
        e
    }

    pub fn quarantined(id: &str, reason: &str) -> ApiError {
        ApiError::coded(&codes::QUARANTINED, format!("graph `{id}` is not served: {reason}; `omnigraph recover --catalog` explains and repairs it"))
    }

    pub fn no_route(method: &str, path: &str) -> ApiError {
        ApiError::coded(&codes::NO_ROUTE, format!("no route {method} {path} (GET /openapi.json lists them)"))
    }

    pub fn wrong_query_kind(message: impl Into<String>) -> ApiError {
        ApiError::coded(&codes::WRONG_QUERY_KIND, message)
    }

    pub fn method_not_allowed(method: &str, path: &str) -> ApiError {
        ApiError::coded(&codes::METHOD_NOT_ALLOWED, format!("{method} is not allowed on {path}"))
    }

    pub fn unsupported_media(message: impl Into<String>) -> ApiError {
        ApiError::coded(&codes::UNSUPPORTED_MEDIA, message)
    }

    pub fn body_idle(idle: std::time::Duration) -> ApiError {
        ApiError::coded(&codes::BODY_IDLE, format!("the request body sent nothing for {} s (--idle-timeout); nothing was loaded", idle.as_secs()))
    }

    pub fn host_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::coded(&codes::HOST_NOT_ALLOWED, message)
    }

    pub fn cross_origin(message: impl Into<String>) -> ApiError {
        ApiError::coded(&codes::CROSS_ORIGIN, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::coded(&codes::INTERNAL, message)
    }

    pub fn missing_token() -> ApiError {
        ApiError::coded(&codes::MISSING_TOKEN, "this server needs a bearer token: `Authorization: Bearer <token>`")
    }

    pub fn bad_token() -> ApiError {
        ApiError::coded(&codes::BAD_TOKEN, "the bearer token is not one this server knows")
    }

    pub fn forbidden(actor: &str, action: &str, target: &str) -> ApiError {
        ApiError::forbidden_because(actor, action, target, None)
    }

    /// A policy refusal; with `why`, the message and `details.reason` say
    /// which (a deny rule, a protected branch, no rule).
    pub fn forbidden_because(actor: &str, action: &str, target: &str, why: Option<&omnigraph_policy::Denial>) -> ApiError {
        let message = match why {
            Some(d) => format!("actor `{actor}` may not `{action}` {target}: {}", d.explain()),
            None => format!("actor `{actor}` may not `{action}` {target} (policy)"),
        };
        let mut e = ApiError::coded(&codes::FORBIDDEN, message);
        if let Some(d) = why {
            e.body["details"] = serde_json::to_value(d).expect("serializable");
        }
        e
    }

    /// A query-string parameter that does not parse.
    pub fn bad_param(message: impl Into<String>) -> ApiError {
        ApiError::coded(&codes::BAD_PARAM, message)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        ApiError { status: status(e.http_status()), body: e.to_json(), retry_after_s: None, cause: engine_cause(&e) }
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> ApiError {
        let cause = if let CatalogError::Engine(inner) = &e { engine_cause(inner) } else { Cause::Other };
        ApiError { status: status(e.http_status()), body: e.to_json(), retry_after_s: None, cause }
    }
}

impl From<PolicyError> for ApiError {
    fn from(e: PolicyError) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, body: e.to_json(), retry_after_s: None, cause: Cause::Other }
    }
}

/// `message` with every absolute path or storage URI replaced by `<path>`.
pub fn redact_paths(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, word) in message.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let bare = word.trim_start_matches(['(', '"', '\'', '`', '[']);
        if bare.starts_with('/') || bare.contains("://") || bare.starts_with("~/") {
            out.push_str(&word[..word.len() - bare.len()]);
            out.push_str("<path>");
        } else {
            out.push_str(word);
        }
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        // A server-side failure is logged whole; the client gets its code and
        // a message without the server's paths or storage URIs.
        if self.status.is_server_error() {
            let message = self.body["error"].as_str().unwrap_or_default().to_string();
            let id = ulid::Ulid::new().to_string();
            crate::log!("error {id}: {} {} {message}", self.status.as_u16(), self.code());
            self.body["error"] = format!("{} (error id {id} in the server log)", redact_paths(&message)).into();
            if let Some(obj) = self.body.as_object_mut() {
                obj.remove("details");
            }
        }
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if unauthorized {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(s) = self.retry_after_s {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        // A body refused as too large is not read to its end: the client
        // must not send its next request on this connection (it would find
        // it closed under the rest of this body).
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
