//! The code of every engine error, once: its code, kind, HTTP status and
//! meaning ([`Error::info`](crate::Error::info) picks one per variant). A
//! test checks the codes are distinct, and the docs test that each is listed
//! in the user docs' code tables.
//!
//! The codes of single problems inside an error (a schema or query
//! diagnostic, a line of a load, a refused mutation: `OG-SCHEMA-0NN`,
//! `OG-QUERY-0NN`, `OG-LOAD-0NN`) are given where each problem is found,
//! and are listed in the same docs tables.

/// One error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    /// A short snake_case name, for people and logs.
    pub kind: &'static str,
    /// The HTTP status the server answers it with.
    pub status: u16,
    pub meaning: &'static str,
}

const fn code(code: &'static str, kind: &'static str, status: u16, meaning: &'static str) -> Code {
    Code { code, kind, status, meaning }
}

pub const SCHEMA_INVALID: Code = code("OG-SCHEMA-001", "schema_invalid", 400, "the schema does not compile (the first diagnostic's code is reported)");
pub const ALREADY_INITIALIZED: Code = code("OG-INIT-001", "already_initialized", 409, "the directory already holds a graph artifact");
pub const INIT_IN_PROGRESS: Code = code("OG-INIT-002", "init_in_progress", 409, "another init holds the claim");
pub const INIT_OUTCOME_UNKNOWN: Code = code("OG-INIT-003", "init_outcome_unknown", 500, "init outcome unknown; everything kept");
pub const NOT_A_GRAPH: Code = code("OG-OPEN-001", "not_a_graph", 404, "not a graph (missing manifest or schema files)");
pub const INIT_INCOMPLETE: Code = code("OG-OPEN-002", "init_incomplete", 503, "an init never finished here");
pub const SCHEMA_STATE_MISMATCH: Code = code("OG-OPEN-003", "schema_state_mismatch", 500, "schema files disagree with each other");
pub const RECOVERY_REQUIRED: Code = code("OG-OPEN-004", "recovery_required", 503, "a crashed write needs recovery");
pub const GRAPH_RETIRED: Code = code("OG-OPEN-005", "graph_retired", 404, "the graph was deleted through its catalog (fenced): no reads, no writes");
pub const FENCE_MOVED: Code = code("OG-OPEN-006", "fence_moved", 409, "a delete or restore found the fence moved since it began; nothing changed");
pub const EXPECTED_VERSION_MISMATCH: Code =
    code("OG-PUBLISH-001", "expected_version_mismatch", 409, "another write changed a table first; nothing was published, retry");
pub const PUBLISH_OUTCOME_UNKNOWN: Code =
    code("OG-PUBLISH-002", "publish_outcome_unknown", 503, "the publish may or may not have landed; recovery settles which, all or nothing");
pub const INVALID_DATA: Code = code("OG-LOAD-001", "invalid_data", 400, "a load's lines break the schema; the details name each line");
pub const QUERY_INVALID: Code = code("OG-QUERY-001", "query_invalid", 400, "the query does not compile (the first diagnostic's code is reported)");
pub const QUERY_KIND: Code = code("OG-QUERY-011", "query_kind", 400, "a mutation run with `query`, or a read run with `mutate`");
pub const QUERY_NOT_FOUND: Code = code("OG-QUERY-012", "query_not_found", 400, "no such query in the file, or a name is needed");
pub const PARAMETER_INVALID: Code = code("OG-QUERY-013", "parameter_invalid", 400, "bad parameter value");
pub const QUERY_TOO_LARGE: Code = code("OG-QUERY-016", "query_too_large", 422, "the match grew past the row limit");
pub const RESULT_TOO_LARGE: Code = code("OG-QUERY-018", "result_too_large", 422, "the result grew past its byte bound");
pub const QUERY_TIMEOUT: Code = code("OG-QUERY-019", "query_timeout", 504, "the query ran past its deadline");
/// Nobody reads this answer: the client went away.
pub const QUERY_CANCELLED: Code = code("OG-QUERY-020", "query_cancelled", 503, "the query was cancelled: its client went away");
/// A family: the error reports the code of the check that refused it
/// (`OG-MUTATE-001` ...), which the docs list one by one.
pub const MUTATION_REJECTED: Code = code("OG-MUTATE-*", "mutation_rejected", 400, "a mutation broke the schema or a constraint; nothing was published");
pub const UNKNOWN_TYPE: Code = code("OG-ARG-002", "unknown_type", 400, "unknown node or edge type");
pub const INVALID_ARGUMENT: Code = code("OG-ARG-001", "invalid_argument", 400, "bad argument");
pub const STORAGE: Code = code("OG-STORAGE-001", "storage", 503, "the storage failed (may pass; retry)");
pub const LANCE: Code = code("OG-STORAGE-002", "lance", 500, "Lance failed reading or writing a table (may pass; retry)");
pub const UNREADABLE: Code = code("OG-STORAGE-003", "unreadable", 500, "a dataset's files are missing or corrupt (will not pass by retrying)");
pub const IO: Code = code("OG-IO-001", "io", 500, "a local file could not be read or written");

/// Every code above.
pub const ALL: &[Code] = &[
    SCHEMA_INVALID,
    ALREADY_INITIALIZED,
    INIT_IN_PROGRESS,
    INIT_OUTCOME_UNKNOWN,
    NOT_A_GRAPH,
    INIT_INCOMPLETE,
    SCHEMA_STATE_MISMATCH,
    RECOVERY_REQUIRED,
    GRAPH_RETIRED,
    FENCE_MOVED,
    EXPECTED_VERSION_MISMATCH,
    PUBLISH_OUTCOME_UNKNOWN,
    INVALID_DATA,
    QUERY_INVALID,
    QUERY_KIND,
    QUERY_NOT_FOUND,
    PARAMETER_INVALID,
    QUERY_TOO_LARGE,
    RESULT_TOO_LARGE,
    QUERY_TIMEOUT,
    QUERY_CANCELLED,
    MUTATION_REJECTED,
    UNKNOWN_TYPE,
    INVALID_ARGUMENT,
    STORAGE,
    LANCE,
    UNREADABLE,
    IO,
];
