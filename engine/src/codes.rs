//! The code of every engine error, once: its code, kind, HTTP status and
//! meaning ([`Error::info`](crate::Error::info) picks one per variant). A
//! test checks the codes are distinct, and the docs test that each is listed
//! in the user docs' code tables.
//!
//! The codes of single problems inside an error (a schema or query
//! diagnostic, a line of a load, a refused mutation) follow in
//! [`PROBLEMS`]; the docs tables list them all.

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

/// A family: the error reports its first diagnostic's code.
pub const SCHEMA_INVALID: Code = code("OG-SCHEMA-*", "schema_invalid", 400, "the schema does not compile");
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
pub const WRITE_CONFLICT: Code = code(
    "OG-PUBLISH-003",
    "write_conflict",
    409,
    "another writer published first and its change breaks this write's checks (the entity is named); nothing was published",
);
pub const COMMIT_NOT_FOUND: Code =
    code("OG-HISTORY-001", "commit_not_found", 404, "no such commit in this graph (an unknown id, or a time before its first commit)");
pub const COMMIT_PRUNED: Code =
    code("OG-HISTORY-002", "commit_pruned", 410, "cleanup removed that commit; read a kept one (export at it, then follow from it)");
pub const HEAD_MOVED: Code =
    code("OG-HISTORY-003", "head_moved", 412, "the head is not the commit the write expected (`--if-commit`, `If-Match`); nothing was written");
pub const BRANCH_INVALID: Code = code("OG-BRANCH-001", "branch_invalid", 400, "a branch name that is not allowed (1-64 ASCII letters, digits, `-`, `_`, `.`)");
pub const BRANCH_NOT_FOUND: Code = code("OG-BRANCH-002", "branch_not_found", 404, "no such branch in this graph");
pub const BRANCH_EXISTS: Code = code("OG-BRANCH-003", "branch_exists", 409, "a branch of that name exists already");
pub const BRANCH_REFUSED: Code = code(
    "OG-BRANCH-004",
    "branch_refused",
    409,
    "the branch cannot be changed so (`main` cannot be deleted; a branch others were created from cannot be deleted)",
);
pub const MERGE_CONFLICT: Code = code("OG-MERGE-001", "merge_conflict", 409, "the merge found conflicts (listed in `conflicts`); nothing was written");
pub const MERGE_REFUSED: Code =
    code("OG-MERGE-002", "merge_refused", 409, "the merge cannot run (a branch into itself, no common commit, a version it needs removed by cleanup)");
pub const MERGE_SCHEMA_DIFFERS: Code = code(
    "OG-MERGE-003",
    "merge_schema_differs",
    409,
    "the two branches have different schemas; apply the source's schema to the target first (`schema apply --branch`)",
);
pub const SCHEMA_MOVED: Code =
    code("OG-HISTORY-004", "schema_moved", 409, "the schema changed since this query was compiled or this write began; nothing was written, run it again");
/// A family: the error reports its first lint's code.
pub const SCHEMA_CHANGE_REFUSED: Code =
    code("OG-LINT-*", "schema_change_refused", 409, "the schema change is refused (the lints in `details` say why); nothing changed");
pub const INVALID_DATA: Code = code("OG-LOAD-001", "invalid_data", 400, "a load's lines break the schema; the details name each line");
/// A family: the error reports its first diagnostic's code.
pub const QUERY_INVALID: Code = code("OG-QUERY-*", "query_invalid", 400, "the query does not compile");
pub const QUERY_KIND: Code = code("OG-QUERY-011", "query_kind", 400, "a mutation run with `query`, or a read run with `mutate`");
pub const QUERY_NOT_FOUND: Code = code("OG-QUERY-012", "query_not_found", 400, "no such query in the file, or a name is needed");
pub const STORED_QUERY_NOT_FOUND: Code =
    code("OG-QUERY-021", "stored_query_not_found", 404, "no stored query of that name in this graph (or none this actor may run)");
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
pub const EMBED_FAILED: Code =
    code("OG-EMBED-001", "embed_failed", 502, "the embedding provider failed or answered badly (after retries); nothing was written");
pub const EMBED_NOT_CONFIGURED: Code =
    code("OG-EMBED-002", "embed_not_configured", 503, "an embedding is needed but no provider is configured (`OMNIGRAPH_EMBED_URL`, `OMNIGRAPH_EMBED_MODEL`)");
pub const EMBED_MODEL_MISMATCH: Code =
    code("OG-EMBED-003", "embed_model_mismatch", 409, "the configured embedding model is not the one the property's vectors were made by");
/// The embedding codes.
pub const EMBED: &[Code] = &[EMBED_FAILED, EMBED_NOT_CONFIGURED, EMBED_MODEL_MISMATCH];
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
    WRITE_CONFLICT,
    COMMIT_NOT_FOUND,
    COMMIT_PRUNED,
    HEAD_MOVED,
    BRANCH_INVALID,
    BRANCH_NOT_FOUND,
    BRANCH_EXISTS,
    BRANCH_REFUSED,
    MERGE_CONFLICT,
    MERGE_REFUSED,
    MERGE_SCHEMA_DIFFERS,
    SCHEMA_MOVED,
    SCHEMA_CHANGE_REFUSED,
    INVALID_DATA,
    QUERY_INVALID,
    QUERY_KIND,
    QUERY_NOT_FOUND,
    STORED_QUERY_NOT_FOUND,
    PARAMETER_INVALID,
    QUERY_TOO_LARGE,
    RESULT_TOO_LARGE,
    QUERY_TIMEOUT,
    QUERY_CANCELLED,
    MUTATION_REJECTED,
    UNKNOWN_TYPE,
    INVALID_ARGUMENT,
    EMBED_FAILED,
    EMBED_NOT_CONFIGURED,
    EMBED_MODEL_MISMATCH,
    STORAGE,
    LANCE,
    UNREADABLE,
    IO,
];

// Problems inside an error: a schema or query diagnostic, a line of a load,
// a refused mutation. Each is reported in the `details` of the error that
// holds it (`OG-SCHEMA-*`, `OG-QUERY-*`, `OG-LOAD-001`, `OG-MUTATE-*`), whose
// HTTP status is that error's.

pub const SCHEMA_SYNTAX: Code = code("OG-SCHEMA-001", "schema_syntax", 400, "syntax error (unexpected token, unterminated string or comment)");
pub const SCHEMA_DUPLICATE_TYPE: Code = code("OG-SCHEMA-002", "duplicate_type", 400, "two types with one name");
pub const SCHEMA_DUPLICATE_PROPERTY: Code = code("OG-SCHEMA-003", "duplicate_property", 400, "two properties with one name in a type");
pub const SCHEMA_UNKNOWN_ENDPOINT: Code = code("OG-SCHEMA-004", "unknown_endpoint_type", 400, "an edge names an unknown endpoint type");
pub const SCHEMA_NULLABLE_KEY: Code = code("OG-SCHEMA-005", "nullable_key", 400, "`@key` on a nullable property");
pub const SCHEMA_BAD_CARD: Code = code("OG-SCHEMA-006", "bad_card", 400, "bad `@card` (min above max, not a range, on a node)");
pub const SCHEMA_UNKNOWN_INTERFACE: Code = code("OG-SCHEMA-007", "unknown_interface", 400, "`implements` names an unknown interface");
pub const SCHEMA_UNKNOWN_PROPERTY: Code = code("OG-SCHEMA-008", "constraint_unknown_property", 400, "a constraint names an unknown property");
pub const SCHEMA_BAD_ANNOTATION: Code = code(
    "OG-SCHEMA-009",
    "bad_annotation",
    400,
    "bad annotation arguments (or an invalid `@check` regex, or one longer than 4 KiB, nested deeper than 32, or compiling past 1 MiB)",
);
pub const SCHEMA_BAD_TYPE: Code = code("OG-SCHEMA-010", "bad_property_type", 400, "unknown type, bad `Vector(N)` or `enum(..)`");
pub const SCHEMA_INTERFACE_CONFLICT: Code = code("OG-SCHEMA-011", "interface_conflict", 400, "interface properties that disagree");
pub const SCHEMA_RESERVED_NAME: Code = code("OG-SCHEMA-012", "reserved_property_name", 400, "reserved property name (`id`, `src`, `dst`)");
pub const SCHEMA_BAD_KEY: Code = code("OG-SCHEMA-013", "bad_key", 400, "more than one `@key`, or `@key` on an edge");
pub const SCHEMA_CONSTRAINT_TYPE: Code = code("OG-SCHEMA-014", "constraint_wrong_type", 400, "constraint on a property of the wrong type");
pub const SCHEMA_BAD_TYPE_NAME: Code = code("OG-SCHEMA-015", "bad_type_name", 400, "type name with characters other than ASCII letters, digits, `_`");
pub const SCHEMA_NESTED_TOO_DEEP: Code = code("OG-SCHEMA-016", "schema_nested_too_deep", 400, "brackets (`(`, `[`, `{`) nested deeper than 64 levels");
pub const SCHEMA_TOO_LARGE: Code = code("OG-SCHEMA-017", "schema_too_large", 400, "a schema source larger than 1 MiB");
pub const QUERY_SYNTAX: Code = code("OG-QUERY-001", "query_syntax", 400, "syntax error");
pub const QUERY_UNKNOWN_TYPE: Code = code("OG-QUERY-002", "query_unknown_type", 400, "unknown type (or an edge type bound as a node)");
pub const QUERY_UNKNOWN_PROPERTY: Code = code("OG-QUERY-003", "query_unknown_property", 400, "unknown property; required property missing from an insert");
pub const QUERY_UNKNOWN_EDGE: Code = code("OG-QUERY-004", "unknown_edge", 400, "unknown edge name");
pub const QUERY_UNKNOWN_PARAMETER: Code = code("OG-QUERY-005", "unknown_parameter", 400, "unknown parameter or parameter type");
pub const QUERY_TYPE_MISMATCH: Code = code("OG-QUERY-006", "type_mismatch", 400, "incompatible types");
pub const QUERY_VARIABLE_TWO_TYPES: Code = code("OG-QUERY-007", "variable_two_types", 400, "a variable used as two node types");
pub const QUERY_BAD_TRAVERSAL: Code = code("OG-QUERY-008", "bad_traversal", 400, "bad traversal bounds, or a repeated edge between two types");
pub const QUERY_UNBOUND_VARIABLE: Code = code("OG-QUERY-009", "unbound_variable", 400, "variable not bound in `match`");
pub const QUERY_BAD_PROJECTION: Code = code("OG-QUERY-010", "bad_projection", 400, "bad return, order, aggregate or function");
pub const QUERY_DUPLICATE_NAME: Code = code("OG-QUERY-014", "duplicate_name", 400, "duplicate query, parameter, alias or assignment");
pub const QUERY_SEARCH_NEEDS_LIMIT: Code = code("OG-QUERY-022", "search_needs_limit", 400, "`nearest`, `bm25` or `rrf` in a query without `limit`");
pub const QUERY_SEARCH_NEEDS_INDEX: Code =
    code("OG-QUERY-023", "search_needs_index", 400, "a text search on a `String` property without `@index` (its text index)");
pub const QUERY_BAD_MUTATION: Code = code("OG-QUERY-015", "bad_mutation", 400, "a mutation that cannot apply (key or endpoint update)");
pub const QUERY_NESTED_TOO_DEEP: Code =
    code("OG-QUERY-017", "query_nested_too_deep", 400, "brackets (`(`, `[`, `{`) nested deeper than 64 levels; `and`/`or` chains of any length are fine");
pub const LOAD_BAD_RECORD: Code = code("OG-LOAD-002", "bad_record", 400, "not a JSON object of the right shape");
pub const LOAD_UNKNOWN_TYPE: Code = code("OG-LOAD-003", "load_unknown_type", 400, "unknown node or edge type");
pub const LOAD_MISSING_PROPERTY: Code = code("OG-LOAD-004", "missing_property", 400, "required property missing or null");
pub const LOAD_UNKNOWN_PROPERTY: Code = code("OG-LOAD-005", "load_unknown_property", 400, "property not in the schema");
pub const LOAD_BAD_VALUE: Code = code("OG-LOAD-006", "bad_value", 400, "value of the wrong type or out of the type's range");
pub const LOAD_NOT_IN_ENUM: Code = code("OG-LOAD-007", "not_in_enum", 400, "value not in the enum");
pub const LOAD_OUT_OF_RANGE: Code = code("OG-LOAD-008", "out_of_range", 400, "outside `@range`");
pub const LOAD_CHECK_FAILED: Code = code("OG-LOAD-009", "check_failed", 400, "does not match `@check`");
pub const LOAD_REPEATED_KEY: Code = code("OG-LOAD-010", "repeated_key", 400, "key or id repeated in the input (append, overwrite)");
pub const LOAD_ALREADY_STORED: Code = code("OG-LOAD-011", "already_stored", 400, "key, id or `@unique` value already stored");
pub const LOAD_REPEATED_UNIQUE: Code = code("OG-LOAD-012", "repeated_unique", 400, "`@unique` value repeated in the input");
pub const LOAD_MISSING_ENDPOINT: Code = code("OG-LOAD-013", "load_missing_endpoint", 400, "edge endpoint does not exist");
pub const LOAD_CARD_BROKEN: Code = code("OG-LOAD-014", "load_card_broken", 400, "`@card` bounds broken");
pub const LOAD_LINE_TOO_LONG: Code = code(
    "OG-LOAD-015",
    "line_too_long",
    400,
    "a line longer than the line limit (16 MiB; the server's `--max-line-bytes`): the load stops there, since the loader's memory is bounded by one line",
);
pub const MUTATE_KEY_CLASH: Code = code("OG-MUTATE-001", "key_clash", 400, "`@key`/`@unique` clash");
pub const MUTATE_MISSING_ENDPOINT: Code = code("OG-MUTATE-002", "mutate_missing_endpoint", 400, "edge endpoint missing (or deleted by the same query)");
pub const MUTATE_CARD_BROKEN: Code = code("OG-MUTATE-003", "mutate_card_broken", 400, "`@card` violated");
pub const MUTATE_BAD_VALUE: Code = code("OG-MUTATE-004", "value_rejected", 400, "value rejected (type, width, enum, `@range`, `@check`)");

// The steps of a schema change (`schema plan`): not errors (their status is
// 200, a plan's answer), listed in [`STEPS`]; then the lints that refuse one,
// which are problems like the others.
pub const EVOLVE_ADD_TYPE: Code = code("OG-EVOLVE-001", "add_type", 200, "add a node or edge type (a new empty table)");
pub const EVOLVE_DROP_TYPE: Code = code("OG-EVOLVE-002", "drop_type", 200, "drop a type and its rows (loses data)");
pub const EVOLVE_RENAME_TYPE: Code = code("OG-EVOLVE-003", "rename_type", 200, "rename a type (`@rename_from`), keeping rows and ids (metadata only)");
pub const EVOLVE_ADD_PROPERTY: Code = code("OG-EVOLVE-004", "add_property", 200, "add a nullable property (metadata only)");
pub const EVOLVE_ADD_PROPERTY_DEFAULT: Code =
    code("OG-EVOLVE-005", "add_property_default", 200, "add a required property with `@default(..)` (rewrites the type's rows)");
pub const EVOLVE_DROP_PROPERTY: Code = code("OG-EVOLVE-006", "drop_property", 200, "drop a property (metadata only; loses data)");
pub const EVOLVE_RENAME_PROPERTY: Code =
    code("OG-EVOLVE-007", "rename_property", 200, "rename a property (`@rename_from`), keeping its values (metadata only)");
pub const EVOLVE_WIDEN_TYPE: Code = code("OG-EVOLVE-008", "widen_type", 200, "widen a property's type (`I32` to `I64`, `T` to `T?`, enum to `String`)");
pub const EVOLVE_NARROW_TYPE: Code = code("OG-EVOLVE-009", "narrow_type", 200, "narrow a property's type (values that do not fit become null; loses data)");
pub const EVOLVE_ADD_ENUM_VALUE: Code = code("OG-EVOLVE-010", "add_enum_value", 200, "allow more enum values (metadata only)");
pub const EVOLVE_REMOVE_ENUM_VALUE: Code =
    code("OG-EVOLVE-011", "remove_enum_value", 200, "allow fewer enum values (rows holding one lose it: loses data if any)");
pub const EVOLVE_ADD_CONSTRAINT: Code =
    code("OG-EVOLVE-012", "add_constraint", 200, "add a constraint (`@unique`, `@range`, `@check`, `@card`, not null), checked against stored rows");
pub const EVOLVE_DROP_CONSTRAINT: Code = code("OG-EVOLVE-013", "drop_constraint", 200, "remove or loosen a constraint (metadata only)");
pub const EVOLVE_ADD_INDEX: Code = code("OG-EVOLVE-014", "add_index", 200, "build an index (`@index`)");
pub const EVOLVE_DROP_INDEX: Code = code("OG-EVOLVE-015", "drop_index", 200, "drop an index");
pub const EVOLVE_METADATA: Code = code("OG-EVOLVE-016", "change_metadata", 200, "descriptions, annotations, interfaces, property order (metadata only)");
pub const LINT_DATA_LOSS: Code = code("OG-LINT-001", "data_loss", 409, "the step loses data: pass `--allow-data-loss` to apply it");
pub const LINT_CONSTRAINT_BROKEN: Code = code("OG-LINT-002", "constraint_broken", 409, "stored rows break a new constraint (their ids are listed)");
pub const LINT_UNSUPPORTED: Code = code(
    "OG-LINT-003",
    "unsupported_change",
    409,
    "a change no step can make (a new key, new edge endpoints, an incompatible type, a required property without `@default`)",
);
pub const LINT_QUERY_BREAKS: Code = code("OG-LINT-004", "query_breaks", 409, "a stored query (`--query FILE`) no longer compiles against the new schema");
pub const LINT_RENAME_UNKNOWN: Code = code("OG-LINT-005", "rename_unknown", 409, "`@rename_from` names a type or property the current schema does not have");

/// Every problem code above.
pub const PROBLEMS: &[Code] = &[
    SCHEMA_SYNTAX,
    SCHEMA_DUPLICATE_TYPE,
    SCHEMA_DUPLICATE_PROPERTY,
    SCHEMA_UNKNOWN_ENDPOINT,
    SCHEMA_NULLABLE_KEY,
    SCHEMA_BAD_CARD,
    SCHEMA_UNKNOWN_INTERFACE,
    SCHEMA_UNKNOWN_PROPERTY,
    SCHEMA_BAD_ANNOTATION,
    SCHEMA_BAD_TYPE,
    SCHEMA_INTERFACE_CONFLICT,
    SCHEMA_RESERVED_NAME,
    SCHEMA_BAD_KEY,
    SCHEMA_CONSTRAINT_TYPE,
    SCHEMA_BAD_TYPE_NAME,
    SCHEMA_NESTED_TOO_DEEP,
    SCHEMA_TOO_LARGE,
    QUERY_SYNTAX,
    QUERY_UNKNOWN_TYPE,
    QUERY_UNKNOWN_PROPERTY,
    QUERY_UNKNOWN_EDGE,
    QUERY_UNKNOWN_PARAMETER,
    QUERY_TYPE_MISMATCH,
    QUERY_VARIABLE_TWO_TYPES,
    QUERY_BAD_TRAVERSAL,
    QUERY_UNBOUND_VARIABLE,
    QUERY_BAD_PROJECTION,
    QUERY_DUPLICATE_NAME,
    QUERY_BAD_MUTATION,
    QUERY_NESTED_TOO_DEEP,
    QUERY_SEARCH_NEEDS_LIMIT,
    QUERY_SEARCH_NEEDS_INDEX,
    LOAD_BAD_RECORD,
    LOAD_UNKNOWN_TYPE,
    LOAD_MISSING_PROPERTY,
    LOAD_UNKNOWN_PROPERTY,
    LOAD_BAD_VALUE,
    LOAD_NOT_IN_ENUM,
    LOAD_OUT_OF_RANGE,
    LOAD_CHECK_FAILED,
    LOAD_REPEATED_KEY,
    LOAD_ALREADY_STORED,
    LOAD_REPEATED_UNIQUE,
    LOAD_MISSING_ENDPOINT,
    LOAD_CARD_BROKEN,
    LOAD_LINE_TOO_LONG,
    MUTATE_KEY_CLASH,
    MUTATE_MISSING_ENDPOINT,
    MUTATE_CARD_BROKEN,
    MUTATE_BAD_VALUE,
    LINT_DATA_LOSS,
    LINT_CONSTRAINT_BROKEN,
    LINT_UNSUPPORTED,
    LINT_QUERY_BREAKS,
    LINT_RENAME_UNKNOWN,
];

/// Every step code of a schema change (`schema plan`).
pub const STEPS: &[Code] = &[
    EVOLVE_ADD_TYPE,
    EVOLVE_DROP_TYPE,
    EVOLVE_RENAME_TYPE,
    EVOLVE_ADD_PROPERTY,
    EVOLVE_ADD_PROPERTY_DEFAULT,
    EVOLVE_DROP_PROPERTY,
    EVOLVE_RENAME_PROPERTY,
    EVOLVE_WIDEN_TYPE,
    EVOLVE_NARROW_TYPE,
    EVOLVE_ADD_ENUM_VALUE,
    EVOLVE_REMOVE_ENUM_VALUE,
    EVOLVE_ADD_CONSTRAINT,
    EVOLVE_DROP_CONSTRAINT,
    EVOLVE_ADD_INDEX,
    EVOLVE_DROP_INDEX,
    EVOLVE_METADATA,
];
