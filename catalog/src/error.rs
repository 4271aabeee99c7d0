//! Catalog errors. Every variant has a stable code (`OG-CATALOG-NNN`) and
//! names the graph id, operation or path involved. Engine errors keep their
//! own codes. A lost conditional write is not an error here: the transition
//! code re-reads and re-checks; only its outcome (`AlreadyExists`,
//! `InProgress`, ...) reaches the caller.

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
    pub fn code(&self) -> &'static str {
        match self {
            CatalogError::InvalidId { .. } => "OG-CATALOG-001",
            CatalogError::AlreadyExists { .. } => "OG-CATALOG-002",
            CatalogError::InProgress { .. } => "OG-CATALOG-003",
            CatalogError::NotFound { .. } => "OG-CATALOG-004",
            CatalogError::WrongState { .. } => "OG-CATALOG-005",
            CatalogError::Retained { .. } => "OG-CATALOG-006",
            CatalogError::LocationTaken { .. } => "OG-CATALOG-007",
            CatalogError::Superseded { .. } => "OG-CATALOG-008",
            CatalogError::OutcomeUnknown { .. } => "OG-CATALOG-009",
            CatalogError::NotACatalog { .. } => "OG-CATALOG-010",
            CatalogError::Corrupt { .. } => "OG-CATALOG-011",
            CatalogError::UnknownOperation { .. } => "OG-CATALOG-012",
            CatalogError::Storage { .. } => "OG-CATALOG-013",
            CatalogError::NotConditional { .. } => "OG-CATALOG-014",
            CatalogError::LeaseLive { .. } => "OG-CATALOG-015",
            CatalogError::ImportedData { .. } => "OG-CATALOG-016",
            CatalogError::Engine(e) => e.code(),
        }
    }

    /// The HTTP status the server answers this error with.
    pub fn http_status(&self) -> u16 {
        use CatalogError::*;
        match self {
            Engine(inner) => inner.http_status(),
            InvalidId { .. } => 400,
            AlreadyExists { .. }
            | InProgress { .. }
            | WrongState { .. }
            | Retained { .. }
            | LocationTaken { .. }
            | Superseded { .. }
            | LeaseLive { .. }
            | ImportedData { .. } => 409,
            NotFound { .. } | UnknownOperation { .. } => 404,
            Storage { .. } => 503,
            OutcomeUnknown { .. } | NotACatalog { .. } | Corrupt { .. } | NotConditional { .. } => 500,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            CatalogError::InvalidId { .. } => "invalid_graph_id",
            CatalogError::AlreadyExists { .. } => "already_exists",
            CatalogError::InProgress { .. } => "in_progress",
            CatalogError::NotFound { .. } => "not_found",
            CatalogError::WrongState { .. } => "wrong_state",
            CatalogError::Retained { .. } => "retained",
            CatalogError::LocationTaken { .. } => "location_taken",
            CatalogError::Superseded { .. } => "superseded",
            CatalogError::OutcomeUnknown { .. } => "outcome_unknown",
            CatalogError::NotACatalog { .. } => "not_a_catalog",
            CatalogError::Corrupt { .. } => "corrupt_record",
            CatalogError::UnknownOperation { .. } => "unknown_operation",
            CatalogError::Storage { .. } => "storage",
            CatalogError::NotConditional { .. } => "store_not_conditional",
            CatalogError::LeaseLive { .. } => "lease_live",
            CatalogError::ImportedData { .. } => "imported_data",
            CatalogError::Engine(e) => e.kind(),
        }
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
