//! Catalog errors. Every variant has a stable code (`OG-CATALOG-NNN`) and
//! names the graph id, operation or path involved. Engine errors keep their
//! own codes. A lost conditional write is not an error here: the transition
//! code re-reads and re-checks; only its outcome (`AlreadyExists`,
//! `InProgress`, ...) reaches the caller.

use crate::codes::{self, Code};

pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid graph id `{id}`: {reason}")]
    InvalidId { id: String, reason: String },

    #[error("graph `{id}` already exists (incarnation {incarnation})")]
    AlreadyExists { id: String, incarnation: String },

    #[error("graph `{id}` has operation {op} ({kind}) in progress; try again when it finishes")]
    InProgress { id: String, op: String, kind: String },

    #[error("no graph `{id}` in the catalog")]
    NotFound { id: String },

    #[error("graph `{id}` is {state}; {action} needs it {needs}")]
    WrongState { id: String, state: String, action: String, needs: String },

    #[error("graph `{id}` was deleted and its data is retained until {until}; restore or purge it before creating `{id}` again")]
    Retained { id: String, until: String },

    #[error("{location} is already registered as graph `{owner}`")]
    LocationTaken { location: String, owner: String },

    #[error("operation {op} on graph `{id}` was taken over (recovery or a forced resolution moved the catalog entry); it did not complete")]
    Superseded { id: String, op: String },

    #[error("operation {op} on graph `{id}` stopped with an unknown outcome: {reason}; its sidecar is kept; run `omnigraph recover`")]
    OutcomeUnknown { id: String, op: String, reason: String },

    #[error("{uri} is not an omnigraph catalog (no {marker}); creating or importing a graph starts one")]
    NotACatalog { uri: String, marker: String },

    #[error("unreadable catalog record {path}: {reason}")]
    Corrupt { path: String, reason: String },

    #[error("operation {op} renewed its lease (until {until_ms} ms since the epoch) since recovery looked; it is left to its owner")]
    LeaseLive { op: String, until_ms: i64 },

    #[error(
        "graph `{id}` was imported from {location}, a directory the catalog did not create; deleting it removes that directory. Pass --remove-data (HTTP: ?remove_data=true) to delete it with its data, or --retain DURATION to keep the data for a while"
    )]
    ImportedData { id: String, location: String },

    #[error("no unfinished operation {op} in the catalog")]
    UnknownOperation { op: String },

    #[error("catalog storage error at {path}: {source}")]
    Storage {
        path: String,
        /// What the store said, kept whole.
        #[source]
        source: omnigraph::error::BoxError,
    },

    #[error(
        "the store at {uri} does not honour conditional writes ({detail}); every guarantee of the catalog depends on them, so it cannot be used (on S3-compatible stores, enable conditional puts)"
    )]
    NotConditional { uri: String, detail: String },

    #[error(transparent)]
    Engine(#[from] omnigraph::Error),
}

impl CatalogError {
    /// This error's entry in the code table (`codes`); an engine error's own.
    pub fn info(&self) -> Code {
        use CatalogError::*;
        match self {
            InvalidId { .. } => codes::INVALID_ID,
            AlreadyExists { .. } => codes::ALREADY_EXISTS,
            InProgress { .. } => codes::IN_PROGRESS,
            NotFound { .. } => codes::NOT_FOUND,
            WrongState { .. } => codes::WRONG_STATE,
            Retained { .. } => codes::RETAINED,
            LocationTaken { .. } => codes::LOCATION_TAKEN,
            Superseded { .. } => codes::SUPERSEDED,
            OutcomeUnknown { .. } => codes::OUTCOME_UNKNOWN,
            NotACatalog { .. } => codes::NOT_A_CATALOG,
            Corrupt { .. } => codes::CORRUPT_RECORD,
            UnknownOperation { .. } => codes::UNKNOWN_OPERATION,
            Storage { .. } => codes::STORAGE,
            NotConditional { .. } => codes::NOT_CONDITIONAL,
            LeaseLive { .. } => codes::LEASE_LIVE,
            ImportedData { .. } => codes::IMPORTED_DATA,
            Engine(e) => e.info(),
        }
    }

    pub fn code(&self) -> &'static str {
        self.info().code
    }

    /// The HTTP status the server answers this error with.
    pub fn http_status(&self) -> u16 {
        self.info().status
    }

    pub fn kind(&self) -> &'static str {
        self.info().kind
    }

    /// `{"error", "code", "kind"}` plus the engine's details when it has any.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            CatalogError::Engine(e) => e.to_json(),
            _ => serde_json::json!({"error": self.to_string(), "code": self.code(), "kind": self.kind()}),
        }
    }

    pub(crate) fn storage(path: impl Into<String>, e: impl Into<omnigraph::error::BoxError>) -> Self {
        CatalogError::Storage { path: path.into(), source: e.into() }
    }
}
