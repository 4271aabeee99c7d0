//! Names of the artifacts under a graph root (see docs/dev/storage.md).

pub const SCHEMA_PG: &str = "_schema.pg";
pub const SCHEMA_IR: &str = "_schema.ir.json";
pub const SCHEMA_STATE: &str = "__schema_state.json";
/// Schemas applied after `init`, one file per schema (`graph::schema_store`).
pub const SCHEMAS_DIR: &str = "_schemas";
/// Stored-query catalogs, one file per catalog (`stored`).
pub const QUERIES_DIR: &str = "_queries";
/// The model each `@embed` property's vectors were made by (`embed`).
pub const EMBEDDINGS_DIR: &str = "_embeddings";
pub const MANIFEST: &str = "__manifest";
pub const RECOVERY_DIR: &str = "__recovery";
pub const INIT_CLAIM: &str = "__init_claim.json";
pub const STAGING_DIR: &str = "__staging";
/// Intents of handles that lost a publish race (`graph::intents`).
pub const INTENTS_DIR: &str = "__intents";
pub const NODES_DIR: &str = "nodes";
pub const EDGES_DIR: &str = "edges";

/// Every top-level name that belongs to a graph. A root holding any of them
/// is not empty for `init`.
pub const ARTIFACTS: &[&str] = &[
    SCHEMA_PG,
    SCHEMA_IR,
    SCHEMA_STATE,
    SCHEMAS_DIR,
    QUERIES_DIR,
    EMBEDDINGS_DIR,
    MANIFEST,
    RECOVERY_DIR,
    INIT_CLAIM,
    STAGING_DIR,
    INTENTS_DIR,
    NODES_DIR,
    EDGES_DIR,
];

pub fn sidecar_path(op_id: &str) -> String {
    format!("{RECOVERY_DIR}/{op_id}.json")
}
