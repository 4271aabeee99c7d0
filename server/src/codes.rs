//! Every error code the server itself defines, once: its code, kind, HTTP
//! status and meaning. Engine, catalog and policy errors carry their own
//! codes (their crates define them); `docs/user/server.md` lists them all,
//! and the docs test keeps that list and the code in step.

use axum::http::StatusCode;

/// One server error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub kind: &'static str,
    /// The HTTP status it is answered with (`None`: a start-up error, which
    /// stops the process with exit status 2 instead).
    pub status: Option<StatusCode>,
    pub meaning: &'static str,
}

const fn http(code: &'static str, kind: &'static str, status: StatusCode, meaning: &'static str) -> Code {
    Code { code, kind, status: Some(status), meaning }
}

const fn start(code: &'static str, kind: &'static str, meaning: &'static str) -> Code {
    Code { code, kind, status: None, meaning }
}

pub const BAD_BODY: Code = http("OG-HTTP-001", "bad_request_body", StatusCode::BAD_REQUEST, "the request body does not read as the route's JSON");
pub const TOO_LARGE: Code = http("OG-HTTP-002", "payload_too_large", StatusCode::PAYLOAD_TOO_LARGE, "the body is over the route's size limit");
pub const TOO_MANY: Code = http("OG-HTTP-003", "too_many_requests", StatusCode::TOO_MANY_REQUESTS, "the actor's in-flight limit");
pub const QUARANTINED: Code = http("OG-HTTP-004", "graph_quarantined", StatusCode::SERVICE_UNAVAILABLE, "the graph is not served; the reason says why");
pub const NO_ROUTE: Code = http("OG-HTTP-005", "no_such_route", StatusCode::NOT_FOUND, "no such route");
pub const WRONG_QUERY_KIND: Code = http("OG-HTTP-006", "wrong_query_kind", StatusCode::BAD_REQUEST, "a mutation sent to /query, or a read to /mutate");
pub const METHOD_NOT_ALLOWED: Code = http("OG-HTTP-007", "method_not_allowed", StatusCode::METHOD_NOT_ALLOWED, "the route does not take this method");
pub const UNSUPPORTED_MEDIA: Code = http("OG-HTTP-008", "unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE, "a body of the wrong content type");
pub const INTERNAL: Code =
    http("OG-HTTP-009", "internal", StatusCode::INTERNAL_SERVER_ERROR, "an unexpected failure; the server log has it under the error id");
pub const GENESIS_MISMATCH: Code =
    http("OG-HTTP-010", "genesis_mismatch", StatusCode::SERVICE_UNAVAILABLE, "a quarantine reason: the location holds another graph than the catalog names");
pub const HOST_NOT_ALLOWED: Code = http("OG-HTTP-011", "host_not_allowed", StatusCode::FORBIDDEN, "without tokens: a Host that is not this server on loopback");
pub const CROSS_ORIGIN: Code = http("OG-HTTP-012", "cross_origin_refused", StatusCode::FORBIDDEN, "without tokens: a request from a page on another origin");
pub const BODY_IDLE: Code = http("OG-HTTP-013", "request_body_idle", StatusCode::REQUEST_TIMEOUT, "a streamed body that sent nothing for --idle-timeout");
pub const BAD_PARAM: Code = http("OG-HTTP-014", "bad_query_parameter", StatusCode::BAD_REQUEST, "a query-string parameter that does not parse");
pub const MISSING_TOKEN: Code = http("OG-AUTH-001", "missing_token", StatusCode::UNAUTHORIZED, "no bearer token");
pub const BAD_TOKEN: Code = http("OG-AUTH-002", "invalid_token", StatusCode::UNAUTHORIZED, "a token this server does not know");
pub const FORBIDDEN: Code = http("OG-AUTH-003", "forbidden", StatusCode::FORBIDDEN, "the policy refuses the action");
pub const BAD_SETTINGS: Code = start("OG-SERVER-001", "bad_settings_file", "the settings file does not read");
pub const BAD_BIND: Code = start("OG-SERVER-002", "bad_bind", "the bind address is invalid, or the server cannot listen on it");
pub const BAD_TOKENS: Code = start("OG-SERVER-003", "bad_tokens", "the tokens file or OMNIGRAPH_TOKENS is invalid");
pub const PUBLIC_WITHOUT_TOKENS: Code = start("OG-SERVER-004", "public_bind_without_tokens", "a non-loopback bind without tokens (and no --unauthenticated)");
pub const BAD_DURATION: Code = start("OG-SERVER-005", "bad_duration", "a duration flag out of range or unreadable");
pub const BAD_RETENTION: Code = start("OG-SERVER-006", "bad_retention", "--maintenance-keep-days or --maintenance-keep-commits out of range");

/// Every code above.
pub const ALL: &[Code] = &[
    BAD_BODY,
    TOO_LARGE,
    TOO_MANY,
    QUARANTINED,
    NO_ROUTE,
    WRONG_QUERY_KIND,
    METHOD_NOT_ALLOWED,
    UNSUPPORTED_MEDIA,
    INTERNAL,
    GENESIS_MISMATCH,
    HOST_NOT_ALLOWED,
    CROSS_ORIGIN,
    BODY_IDLE,
    BAD_PARAM,
    MISSING_TOKEN,
    BAD_TOKEN,
    FORBIDDEN,
    BAD_SETTINGS,
    BAD_BIND,
    BAD_TOKENS,
    PUBLIC_WITHOUT_TOKENS,
    BAD_DURATION,
    BAD_RETENTION,
];
