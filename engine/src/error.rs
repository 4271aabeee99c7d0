//! Errors a user can see. Every variant has a stable code (`OG-<AREA>-<NNN>`)
//! and a one-line message naming the file, table, line or id involved.
//!
//! Lost races are values (`ExpectedVersionMismatch`, `InitInProgress`), not
//! strings: callers match on them.

use std::fmt;

use serde::Serialize;

use crate::codes::{self, Code};
use crate::schema::SchemaError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error a lower layer (Lance, object_store, the file system) returned,
/// kept whole so that callers and logs can walk its `source()` chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One problem found in a JSONL input, tied to its line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LineError {
    pub line: u64,
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} {}", self.line, self.code, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("schema has {} error(s); first: {}", .0.len(), .0.first().map(|e| e.to_string()).unwrap_or_default())]
    Schema(Vec<SchemaError>),

    #[error("{root} already holds a graph artifact ({artifact}); init touched nothing")]
    AlreadyInitialized { root: String, artifact: String },

    #[error("another init holds the claim on {root} (op {op_id}); init touched nothing")]
    InitInProgress { root: String, op_id: String },

    #[error("init of {root} (op {op_id}) ended with an unknown outcome: {reason}; everything was kept, including the init claim; run recovery before retrying")]
    InitOutcomeUnknown { root: String, op_id: String, reason: String },

    #[error("{root} is not an omnigraph graph (missing {missing})")]
    NotAGraph { root: String, missing: String },

    #[error("{root} has an unfinished init (claim {op_id}); the graph cannot be opened")]
    InitIncomplete { root: String, op_id: String },

    #[error("{root}: schema files disagree: {reason}")]
    SchemaStateMismatch { root: String, reason: String },

    #[error("table {table} moved: expected version {expected}, found {actual}; nothing was published")]
    ExpectedVersionMismatch { table: String, expected: u64, actual: u64 },

    /// The `__manifest` commit failed in a way that does not say whether it
    /// landed. The write's sidecar is kept: recovery settles it, all or nothing.
    #[error(
        "the publish of write {op_id} may or may not have landed ({source}); the write is either wholly visible or not at all: `omnigraph recover --store <graph> --apply` (or the next load) settles which, so check before retrying"
    )]
    PublishOutcomeUnknown {
        op_id: String,
        #[source]
        source: Box<Error>,
    },

    #[error("the graph at {root} was deleted (operation {op}); it accepts no reads or writes")]
    GraphRetired { root: String, op: String },

    #[error("the fence of {root} moved: {reason}; this operation was taken over and changed nothing")]
    FenceMoved { root: String, reason: String },

    #[error("{root} has pending write(s) {ops:?} that need recovery: run `omnigraph recover --store {root} --apply` (the next load repairs them too)")]
    RecoveryRequired { root: String, ops: Vec<String> },

    #[error("{source_name}: {} problem(s) in its lines{}; first: {}; the graph is unchanged", .total, if *.total > .errors.len() as u64 { format!(" (first {} listed)", .errors.len()) } else { String::new() }, .errors.first().map(|e| e.to_string()).unwrap_or_default())]
    InvalidData { source_name: String, total: u64, errors: Vec<LineError> },

    #[error("query has {} error(s); first: {}", .0.len(), .0.first().map(|e| e.to_string()).unwrap_or_default())]
    Query(Vec<SchemaError>),

    #[error("{0}")]
    QueryKind(String),

    #[error("{0}")]
    QueryNotFound(String),

    #[error("no stored query named `{name}` in this graph (`omnigraph queries list` shows them)")]
    StoredQueryNotFound { name: String },

    #[error(
        "the query's match grows past {limit} rows; bind a key or add a filter before the expansion, or raise the limit (OMNIGRAPH_MAX_QUERY_ROWS; omnigraph-server --max-query-rows)"
    )]
    QueryTooLarge { limit: u64 },

    #[error(
        "the query's result grows past {limit} bytes; add a limit, return fewer columns, or raise the bound (OMNIGRAPH_MAX_RESULT_BYTES; omnigraph-server --max-result-bytes); `export` streams whole tables"
    )]
    ResultTooLarge { limit: u64 },

    #[error(
        "the query ran past its deadline of {ms} ms and was stopped; narrow the match or raise the bound (OMNIGRAPH_QUERY_TIMEOUT_MS; omnigraph-server --query-timeout)"
    )]
    QueryTimeout { ms: u64 },

    #[error("the query was cancelled: its caller went away")]
    QueryCancelled,

    #[error("parameter `${name}`: {message}")]
    Param { name: String, message: String },

    #[error("mutation rejected: {message}; nothing was published")]
    MutationRejected { code: &'static str, message: String },

    /// A mutation that passed its checks, lost the publish race, and broke
    /// them when run again on the new head: the other writer's change (the
    /// entity `message` names) conflicts with it.
    #[error("write conflict: another writer published first, and on its change this mutation is refused ({cause}: {message}); nothing was published")]
    WriteConflict { cause: &'static str, message: String },

    #[error("no commit {what} in this graph")]
    CommitNotFound { what: String },

    #[error(
        "commit {id} was removed by cleanup; read a kept commit (`omnigraph commit list` shows them). A change-feed consumer whose cursor was removed re-baselines: export the graph at a kept commit (`omnigraph export --at <commit>`), then follow changes from that commit"
    )]
    CommitPruned { id: String },

    #[error("the head is commit {head}, not {expected} as the write expected; nothing was written")]
    HeadMoved { expected: String, head: String },

    #[error("branch name `{name}`: {reason}")]
    BranchInvalid { name: String, reason: String },

    #[error("no branch `{name}` in this graph (`omnigraph branch list` shows them)")]
    BranchNotFound { name: String },

    #[error("branch `{name}` exists already")]
    BranchExists { name: String },

    #[error("branch `{name}`: {reason}")]
    BranchRefused { name: String, reason: String },

    #[error("merge of `{source_branch}` into `{target}` has {} conflict(s); nothing was written", conflicts.len())]
    MergeConflict { source_branch: String, target: String, conflicts: Vec<crate::merge::Conflict> },

    #[error("merge of `{source_branch}` into `{target}` refused: {reason}")]
    MergeRefused { source_branch: String, target: String, reason: String },

    #[error(
        "merge of `{source_branch}` into `{target}` refused: the branches have different schemas ({source_hash} and {target_hash}); apply the source's schema to the target first (`omnigraph schema apply --branch {target}`); nothing was written"
    )]
    MergeSchemaDiffers { source_branch: String, target: String, source_hash: String, target_hash: String },

    #[error("the schema changed since {what} began (now {hash}); nothing was written: run it again")]
    SchemaMoved { what: String, hash: String },

    #[error("schema change refused: {} lint(s); first: {}; nothing changed", .lints.len(), .lints.first().map(|l| format!("{} {}: {}", l.code, l.target, l.message)).unwrap_or_default())]
    SchemaChangeRefused { lints: Vec<crate::schema::evolve::Lint> },

    #[error("unknown type {name}")]
    UnknownType { name: String },

    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// An embedding could not be computed: `code` says why (provider
    /// failed, not configured, another model), `provider` names the endpoint.
    #[error("embedding provider {provider}: {message}")]
    Embed { code: &'static str, provider: String, message: String },

    #[error("storage error at {path}: {source}")]
    Storage {
        path: String,
        /// What the store said (an `object_store`, Lance or I/O error).
        #[source]
        source: BoxError,
    },

    #[error("lance error on {table}: {source}")]
    Lance {
        table: String,
        #[source]
        source: BoxError,
    },

    /// The dataset's files are missing or corrupt: not a passing fault, so
    /// retrying will not help (unlike `Storage` or `Lance`).
    #[error("{path} does not read: its files are missing or corrupt ({message})")]
    Unreadable { path: String, message: String },

    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// This error's entry in the code table (`codes`): code, kind, HTTP
    /// status and meaning. The code is the first diagnostic's for schema and
    /// query errors, and the refusing check's for a rejected mutation.
    pub fn info(&self) -> Code {
        use Error::*;
        let entry = match self {
            Schema(_) => codes::SCHEMA_INVALID,
            AlreadyInitialized { .. } => codes::ALREADY_INITIALIZED,
            InitInProgress { .. } => codes::INIT_IN_PROGRESS,
            InitOutcomeUnknown { .. } => codes::INIT_OUTCOME_UNKNOWN,
            NotAGraph { .. } => codes::NOT_A_GRAPH,
            InitIncomplete { .. } => codes::INIT_INCOMPLETE,
            SchemaStateMismatch { .. } => codes::SCHEMA_STATE_MISMATCH,
            RecoveryRequired { .. } => codes::RECOVERY_REQUIRED,
            GraphRetired { .. } => codes::GRAPH_RETIRED,
            FenceMoved { .. } => codes::FENCE_MOVED,
            ExpectedVersionMismatch { .. } => codes::EXPECTED_VERSION_MISMATCH,
            PublishOutcomeUnknown { .. } => codes::PUBLISH_OUTCOME_UNKNOWN,
            InvalidData { .. } => codes::INVALID_DATA,
            Query(_) => codes::QUERY_INVALID,
            QueryKind(_) => codes::QUERY_KIND,
            QueryNotFound(_) => codes::QUERY_NOT_FOUND,
            StoredQueryNotFound { .. } => codes::STORED_QUERY_NOT_FOUND,
            QueryTooLarge { .. } => codes::QUERY_TOO_LARGE,
            ResultTooLarge { .. } => codes::RESULT_TOO_LARGE,
            QueryTimeout { .. } => codes::QUERY_TIMEOUT,
            QueryCancelled => codes::QUERY_CANCELLED,
            Param { .. } => codes::PARAMETER_INVALID,
            MutationRejected { .. } => codes::MUTATION_REJECTED,
            WriteConflict { .. } => codes::WRITE_CONFLICT,
            CommitNotFound { .. } => codes::COMMIT_NOT_FOUND,
            CommitPruned { .. } => codes::COMMIT_PRUNED,
            HeadMoved { .. } => codes::HEAD_MOVED,
            BranchInvalid { .. } => codes::BRANCH_INVALID,
            BranchNotFound { .. } => codes::BRANCH_NOT_FOUND,
            BranchExists { .. } => codes::BRANCH_EXISTS,
            BranchRefused { .. } => codes::BRANCH_REFUSED,
            MergeConflict { .. } => codes::MERGE_CONFLICT,
            MergeRefused { .. } => codes::MERGE_REFUSED,
            MergeSchemaDiffers { .. } => codes::MERGE_SCHEMA_DIFFERS,
            SchemaMoved { .. } => codes::SCHEMA_MOVED,
            SchemaChangeRefused { .. } => codes::SCHEMA_CHANGE_REFUSED,
            UnknownType { .. } => codes::UNKNOWN_TYPE,
            InvalidArgument(_) => codes::INVALID_ARGUMENT,
            Embed { code, .. } => codes::EMBED.iter().copied().find(|c| c.code == *code).unwrap_or(codes::EMBED_FAILED),
            Storage { .. } => codes::STORAGE,
            Lance { .. } => codes::LANCE,
            Unreadable { .. } => codes::UNREADABLE,
            Io(_) => codes::IO,
        };
        let code = match self {
            Schema(errs) => errs.first().map_or(codes::SCHEMA_SYNTAX.code, |e| e.code),
            Query(errs) => errs.first().map_or(codes::QUERY_SYNTAX.code, |e| e.code),
            MutationRejected { code, .. } => code,
            SchemaChangeRefused { lints } => lints.first().map_or(codes::LINT_UNSUPPORTED.code, |l| l.code),
            _ => entry.code,
        };
        Code { code, ..entry }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        self.info().code
    }

    /// The HTTP status the server answers this error with.
    pub fn http_status(&self) -> u16 {
        self.info().status
    }

    /// The same error again (same variant, code and message), for telling
    /// each write of a batch what happened to their shared publish. A lower
    /// layer's error is carried as its text.
    pub(crate) fn duplicate(&self) -> Error {
        use Error::*;
        let text = |e: &BoxError| -> BoxError { e.to_string().into() };
        match self {
            Schema(v) => Schema(v.clone()),
            AlreadyInitialized { root, artifact } => AlreadyInitialized { root: root.clone(), artifact: artifact.clone() },
            InitInProgress { root, op_id } => InitInProgress { root: root.clone(), op_id: op_id.clone() },
            InitOutcomeUnknown { root, op_id, reason } => InitOutcomeUnknown { root: root.clone(), op_id: op_id.clone(), reason: reason.clone() },
            NotAGraph { root, missing } => NotAGraph { root: root.clone(), missing: missing.clone() },
            InitIncomplete { root, op_id } => InitIncomplete { root: root.clone(), op_id: op_id.clone() },
            SchemaStateMismatch { root, reason } => SchemaStateMismatch { root: root.clone(), reason: reason.clone() },
            ExpectedVersionMismatch { table, expected, actual } => ExpectedVersionMismatch { table: table.clone(), expected: *expected, actual: *actual },
            PublishOutcomeUnknown { op_id, source } => PublishOutcomeUnknown { op_id: op_id.clone(), source: Box::new(source.duplicate()) },
            GraphRetired { root, op } => GraphRetired { root: root.clone(), op: op.clone() },
            FenceMoved { root, reason } => FenceMoved { root: root.clone(), reason: reason.clone() },
            RecoveryRequired { root, ops } => RecoveryRequired { root: root.clone(), ops: ops.clone() },
            InvalidData { source_name, total, errors } => InvalidData { source_name: source_name.clone(), total: *total, errors: errors.clone() },
            Query(v) => Query(v.clone()),
            QueryKind(m) => QueryKind(m.clone()),
            QueryNotFound(m) => QueryNotFound(m.clone()),
            StoredQueryNotFound { name } => StoredQueryNotFound { name: name.clone() },
            QueryTooLarge { limit } => QueryTooLarge { limit: *limit },
            ResultTooLarge { limit } => ResultTooLarge { limit: *limit },
            QueryTimeout { ms } => QueryTimeout { ms: *ms },
            QueryCancelled => QueryCancelled,
            Param { name, message } => Param { name: name.clone(), message: message.clone() },
            MutationRejected { code, message } => MutationRejected { code, message: message.clone() },
            WriteConflict { cause, message } => WriteConflict { cause, message: message.clone() },
            CommitNotFound { what } => CommitNotFound { what: what.clone() },
            CommitPruned { id } => CommitPruned { id: id.clone() },
            HeadMoved { expected, head } => HeadMoved { expected: expected.clone(), head: head.clone() },
            BranchInvalid { name, reason } => BranchInvalid { name: name.clone(), reason: reason.clone() },
            BranchNotFound { name } => BranchNotFound { name: name.clone() },
            BranchExists { name } => BranchExists { name: name.clone() },
            BranchRefused { name, reason } => BranchRefused { name: name.clone(), reason: reason.clone() },
            MergeConflict { source_branch, target, conflicts } => {
                MergeConflict { source_branch: source_branch.clone(), target: target.clone(), conflicts: conflicts.clone() }
            }
            MergeRefused { source_branch, target, reason } => {
                MergeRefused { source_branch: source_branch.clone(), target: target.clone(), reason: reason.clone() }
            }
            MergeSchemaDiffers { source_branch, target, source_hash, target_hash } => MergeSchemaDiffers {
                source_branch: source_branch.clone(),
                target: target.clone(),
                source_hash: source_hash.clone(),
                target_hash: target_hash.clone(),
            },
            SchemaMoved { what, hash } => SchemaMoved { what: what.clone(), hash: hash.clone() },
            SchemaChangeRefused { lints } => SchemaChangeRefused { lints: lints.clone() },
            UnknownType { name } => UnknownType { name: name.clone() },
            InvalidArgument(m) => InvalidArgument(m.clone()),
            Embed { code, provider, message } => Embed { code, provider: provider.clone(), message: message.clone() },
            Storage { path, source } => Storage { path: path.clone(), source: text(source) },
            Lance { table, source } => Lance { table: table.clone(), source: text(source) },
            Unreadable { path, message } => Unreadable { path: path.clone(), message: message.clone() },
            Io(e) => Io(std::io::Error::new(e.kind(), e.to_string())),
        }
    }

    /// Short snake_case name of the code, for people and logs.
    pub fn kind(&self) -> &'static str {
        self.info().kind
    }

    /// Machine-readable form: `{"error", "code", "kind", "details"?}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "error": self.to_string(),
            "code": self.code(),
            "kind": self.kind(),
        });
        match self {
            Error::Schema(errs) | Error::Query(errs) => {
                v["details"] = serde_json::to_value(errs).unwrap_or_default();
            }
            Error::InvalidData { errors, total, .. } => {
                v["details"] = serde_json::to_value(errors).unwrap_or_default();
                v["total"] = (*total).into();
            }
            Error::ExpectedVersionMismatch { table, expected, actual } => {
                v["details"] = serde_json::json!({"table": table, "expected": expected, "actual": actual});
            }
            Error::WriteConflict { cause, .. } => {
                v["details"] = serde_json::json!({"cause": cause});
            }
            Error::HeadMoved { expected, head } => {
                v["details"] = serde_json::json!({"expected": expected, "head": head});
            }
            Error::SchemaChangeRefused { lints } => {
                v["details"] = serde_json::to_value(lints).unwrap_or_default();
            }
            Error::MergeConflict { source_branch, target, conflicts } => {
                v["details"] = serde_json::json!({"source": source_branch, "into": target});
                v["conflicts"] = serde_json::to_value(conflicts).unwrap_or_default();
            }
            _ => {}
        }
        v
    }

    pub(crate) fn storage(path: impl Into<String>, e: impl Into<BoxError>) -> Self {
        Error::Storage { path: path.into(), source: e.into() }
    }

    /// A Lance error opening `path`: [`Error::Unreadable`] when Lance says
    /// the dataset or one of its files is missing or corrupt, else [`Error::Lance`].
    pub(crate) fn lance_open(path: &str, e: lance::Error) -> Self {
        match e {
            lance::Error::DatasetNotFound { .. } | lance::Error::NotFound { .. } | lance::Error::CorruptFile { .. } | lance::Error::VersionNotFound { .. } => {
                Error::Unreadable { path: path.to_string(), message: e.to_string() }
            }
            other => Error::lance(path, other),
        }
    }

    pub(crate) fn lance(table: impl Into<String>, e: impl Into<BoxError>) -> Self {
        Error::Lance { table: table.into(), source: e.into() }
    }
}
