//! The bodies the data routes answer with, as types: each handler builds
//! one of these and the OpenAPI document describes the same type, so the
//! two cannot drift apart (`tests/server/openapi.rs` also checks real
//! answers against the document).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// How an engine enum is spelled in JSON (`"append"`, `"node"`).
fn serde_name(v: impl Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The `metadata` of a `/query` answer; the rows follow it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueryMetadata {
    /// Always `"metadata"` (the CLI's JSON lines format tells it from rows by it).
    pub kind: &'static str,
    /// The name of the query that ran.
    pub query: String,
    /// The `__manifest` version the query read.
    pub manifest_version: u64,
    /// The commit the query read.
    pub commit: String,
    /// The returned columns, in order.
    pub columns: Vec<String>,
    pub row_count: u64,
}

impl QueryMetadata {
    pub fn of(result: &omnigraph::query::QueryResult, name: &str) -> QueryMetadata {
        QueryMetadata {
            kind: "metadata",
            query: name.to_string(),
            manifest_version: result.manifest_version,
            commit: result.commit.clone(),
            columns: result.columns.clone(),
            row_count: result.rows.len() as u64,
        }
    }
}

/// A `/query` answer (streamed: the metadata first, then the rows).
#[derive(Debug, Serialize, ToSchema)]
pub struct QueryReply {
    pub metadata: QueryMetadata,
    /// One object per row, keyed by column name.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// What a mutation changed; all its statements published as one commit.
#[derive(Debug, Serialize, ToSchema)]
pub struct MutationReply {
    /// The `__manifest` version that publishes the change (unchanged when
    /// the mutation matched nothing).
    pub manifest_version: u64,
    /// The commit that holds the change (the head read when the mutation
    /// matched nothing).
    pub commit: String,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    /// Edges removed because a node they touched was deleted.
    pub cascaded: u64,
    /// How many times the write lost the publish race to another writer
    /// (another server on the same graph) and ran again on the new head.
    pub retries: u32,
}

impl From<omnigraph::query::MutationReport> for MutationReply {
    fn from(r: omnigraph::query::MutationReport) -> Self {
        MutationReply {
            manifest_version: r.manifest_version,
            commit: r.commit,
            inserted: r.inserted,
            updated: r.updated,
            deleted: r.deleted,
            cascaded: r.cascaded,
            retries: r.retries,
        }
    }
}

/// What a load did.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoadReply {
    /// `append`, `merge` or `overwrite`.
    pub mode: String,
    /// Lines read.
    pub lines: u64,
    /// Rows read per type name.
    pub rows: BTreeMap<String, u64>,
    /// The `__manifest` version after the load (and its index builds).
    pub manifest_version: u64,
    /// The commit that holds the load's rows.
    pub commit: String,
    /// Scalar indexes built or rebuilt after the data published.
    pub indexes_built: u64,
    /// Row counts per table after the load.
    pub tables: BTreeMap<String, u64>,
    /// Time the server spent on the load.
    pub elapsed_ms: u64,
    /// How many times the load lost the publish race to another writer and
    /// ran again (a JSON body only; an NDJSON stream is read once).
    pub retries: u32,
}

impl LoadReply {
    pub fn of(r: omnigraph::load::LoadReport, elapsed: std::time::Duration) -> LoadReply {
        LoadReply {
            mode: serde_name(r.mode),
            lines: r.lines,
            rows: r.rows,
            manifest_version: r.manifest_version,
            commit: r.commit,
            indexes_built: r.indexes_built as u64,
            tables: r.tables,
            elapsed_ms: elapsed.as_millis() as u64,
            retries: r.retries,
        }
    }
}

/// A graph's schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaReply {
    /// The content hash of the compiled schema.
    pub schema_hash: String,
    /// The `.pg` source.
    pub source: String,
    /// The compiled schema (types, properties, constraints).
    #[schema(value_type = Object)]
    pub ir: serde_json::Value,
}

/// One table as a snapshot publishes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TableReply {
    /// `node:Name` or `edge:Name`.
    pub key: String,
    /// `node` or `edge`.
    pub kind: String,
    pub name: String,
    /// The table's directory under the graph's root.
    pub location: String,
    /// The Lance version published.
    pub version: u64,
    pub row_count: u64,
}

/// The graph as last published.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotReply {
    /// Where the graph's files are.
    pub root: String,
    pub manifest_version: u64,
    /// The id of the graph's genesis commit.
    pub genesis_id: Option<String>,
    pub schema_hash: String,
    pub tables: Vec<TableReply>,
    /// The commit this snapshot is.
    pub commit: CommitReply,
}

/// What one type's rows did in a commit.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypeCountsReply {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
}

/// One commit of a graph.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitReply {
    /// A ULID: sorts by time.
    pub id: String,
    /// The commit before it (none for the first); a merge's second parent
    /// is the source branch's commit it merged.
    pub parents: Vec<String>,
    pub branch: String,
    /// Who wrote it: the token's actor, or `omnigraph` for maintenance.
    pub actor: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// `init`, `load`, `mutate`, `index`, `fold`, `optimize`, `recover`,
    /// `fence`, `branch` or `merge`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Per type, what changed (types that did not are left out).
    pub changes: BTreeMap<String, TypeCountsReply>,
    /// The `__manifest` version it published.
    pub manifest_version: u64,
}

impl From<omnigraph::storage::commit::Commit> for CommitReply {
    fn from(c: omnigraph::storage::commit::Commit) -> Self {
        CommitReply {
            id: c.id,
            parents: c.parents,
            branch: c.branch,
            actor: c.actor,
            time: c.time,
            kind: c.kind,
            message: c.message,
            changes: c.changes.into_iter().map(|(t, n)| (t, TypeCountsReply { inserted: n.inserted, updated: n.updated, deleted: n.deleted })).collect(),
            manifest_version: c.manifest_version,
        }
    }
}

/// A page of a graph's commits, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitsReply {
    pub commits: Vec<CommitReply>,
    /// Pass as `before` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl From<omnigraph::graph::history::CommitPage> for CommitsReply {
    fn from(p: omnigraph::graph::history::CommitPage) -> Self {
        CommitsReply { commits: p.commits.into_iter().map(CommitReply::from).collect(), next: p.next }
    }
}

impl From<omnigraph::Snapshot> for SnapshotReply {
    fn from(s: omnigraph::Snapshot) -> Self {
        let tables = s
            .tables
            .into_iter()
            .map(|t| TableReply { key: t.key, kind: serde_name(t.kind), name: t.name, location: t.location, version: t.version, row_count: t.row_count })
            .collect();
        SnapshotReply {
            root: s.root,
            manifest_version: s.manifest_version,
            genesis_id: s.genesis_id,
            schema_hash: s.schema_hash,
            tables,
            commit: s.commit.into(),
        }
    }
}
