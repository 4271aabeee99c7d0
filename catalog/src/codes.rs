//! The code of every catalog error, once: code, kind, HTTP status and
//! meaning ([`CatalogError::info`](crate::CatalogError::info) picks one per
//! variant). Engine errors that pass through keep the engine's codes.

pub use omnigraph::codes::Code;

const fn code(code: &'static str, kind: &'static str, status: u16, meaning: &'static str) -> Code {
    Code { code, kind, status, meaning }
}

pub const INVALID_ID: Code = code("OG-CATALOG-001", "invalid_graph_id", 400, "the id does not match the pattern");
pub const ALREADY_EXISTS: Code = code("OG-CATALOG-002", "already_exists", 409, "create or import of an active id");
pub const IN_PROGRESS: Code = code("OG-CATALOG-003", "in_progress", 409, "another operation holds the id; retry later");
pub const NOT_FOUND: Code = code("OG-CATALOG-004", "not_found", 404, "no such graph (or it is deleted)");
pub const WRONG_STATE: Code = code("OG-CATALOG-005", "wrong_state", 409, "the graph is not in the state the action needs");
pub const RETAINED: Code = code("OG-CATALOG-006", "retained", 409, "create of an id whose deleted data is still retained");
pub const LOCATION_TAKEN: Code = code("OG-CATALOG-007", "location_taken", 409, "import of a directory already registered");
pub const SUPERSEDED: Code = code("OG-CATALOG-008", "superseded", 409, "recovery took the operation over (its lease had expired)");
pub const OUTCOME_UNKNOWN: Code = code("OG-CATALOG-009", "outcome_unknown", 500, "storage did not say whether a step landed; run `recover`");
pub const NOT_A_CATALOG: Code = code("OG-CATALOG-010", "not_a_catalog", 500, "the URI holds no catalog yet");
pub const CORRUPT_RECORD: Code = code("OG-CATALOG-011", "corrupt_record", 500, "a catalog file does not parse");
pub const UNKNOWN_OPERATION: Code = code("OG-CATALOG-012", "unknown_operation", 404, "`recover --force` named no unfinished operation");
pub const STORAGE: Code = code("OG-CATALOG-013", "storage", 503, "the object store failed");
pub const NOT_CONDITIONAL: Code = code("OG-CATALOG-014", "store_not_conditional", 500, "the store does not honour conditional writes");
pub const LEASE_LIVE: Code = code("OG-CATALOG-015", "lease_live", 409, "an operation renewed its lease since the recovery plan was made");
pub const IMPORTED_DATA: Code = code("OG-CATALOG-016", "imported_data", 409, "delete of an imported graph without `--remove-data` or `--retain`");

/// Every code above.
pub const ALL: &[Code] = &[
    INVALID_ID,
    ALREADY_EXISTS,
    IN_PROGRESS,
    NOT_FOUND,
    WRONG_STATE,
    RETAINED,
    LOCATION_TAKEN,
    SUPERSEDED,
    OUTCOME_UNKNOWN,
    NOT_A_CATALOG,
    CORRUPT_RECORD,
    UNKNOWN_OPERATION,
    STORAGE,
    NOT_CONDITIONAL,
    LEASE_LIVE,
    IMPORTED_DATA,
];
