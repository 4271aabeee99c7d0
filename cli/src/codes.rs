//! The error codes the CLI itself defines, once (the engine, catalog,
//! policy and server define theirs). Exit status 1 for both.

pub use omnigraph::codes::Code;

/// `--server` could not be reached (connection refused, DNS, TLS, timeout).
pub const SERVER_UNREACHABLE: Code = Code { code: "OG-REMOTE-001", kind: "server_unreachable", status: 502, meaning: "the server could not be reached" };
/// The server answered with something that is not an omnigraph error body.
pub const UNEXPECTED_ANSWER: Code =
    Code { code: "OG-REMOTE-002", kind: "unexpected_answer", status: 502, meaning: "an answer that is not omnigraph's (a proxy's error page)" };
