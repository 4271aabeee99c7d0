//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "omnigraph", version, about = "Omnigraph: property graphs on Lance")]
pub struct Cli {
    /// Print results and errors as JSON (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new graph at URI from a .pg schema.
    Init {
        /// The .pg schema file.
        #[arg(long)]
        schema: PathBuf,
        /// Where the graph lives (a local directory).
        uri: String,
    },
    /// Load JSONL records into a graph.
    Load(LoadArgs),
    /// Show the published snapshot: tables, versions, row counts.
    Snapshot {
        #[command(flatten)]
        target: GraphTarget,
        #[command(flatten)]
        at: AtArg,
    },
    /// Write the graph (or one type) as JSONL that `load` reads back.
    Export {
        #[command(flatten)]
        target: GraphTarget,
        #[command(flatten)]
        at: AtArg,
        /// Only this node or edge type.
        #[arg(long = "type")]
        type_name: Option<String>,
        /// Write to a file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Schema commands.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
    /// A graph's stored queries: named, typechecked, kept per commit, run
    /// by name (through a server, as typed tools).
    Queries {
        #[command(subcommand)]
        command: QueriesCommand,
    },
    /// Run a read query (.gq) against a graph.
    Query(QueryArgs),
    /// Run a mutation query (.gq): all its statements publish as one commit.
    Mutate(MutateArgs),
    /// A graph's commits: who wrote what, when.
    Commit {
        #[command(subcommand)]
        command: CommitCommand,
    },
    /// Entity-level changes after a commit, commit by commit (JSON lines with
    /// --json): rows inserted, properties updated (old and new), ids deleted.
    Changes {
        #[command(flatten)]
        target: GraphTarget,
        /// The commit to start after.
        #[arg(long, value_name = "COMMIT")]
        from: String,
        /// The last commit to include (default: the head).
        #[arg(long, value_name = "COMMIT")]
        to: Option<String>,
    },
    /// A graph's branches: create, list, delete, merge.
    Branch {
        #[command(subcommand)]
        command: BranchCommand,
    },
    /// Compact a graph's tables and rebuild their indexes, as one commit that
    /// changes no entity.
    Optimize {
        #[command(flatten)]
        target: GraphTarget,
        /// The commit's actor (direct only; a server takes the token's).
        #[arg(long = "as", value_name = "NAME", env = "OMNIGRAPH_ACTOR")]
        actor: Option<String>,
        /// The commit's message.
        #[arg(long, short = 'm', value_name = "TEXT")]
        message: Option<String>,
    },
    /// A graph's indexes: `index status` lists each one, the rows it
    /// covers and whether it is behind the data.
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Compute the vectors of `@embed` properties that rows lack (or every
    /// row's, with --all) through the embedding provider
    /// (OMNIGRAPH_EMBED_URL, OMNIGRAPH_EMBED_MODEL), a commit per 1,000
    /// rows. Run it again to finish a run that stopped.
    Embed {
        #[command(flatten)]
        target: GraphTarget,
        /// Only this type.
        #[arg(long = "type", value_name = "TYPE")]
        type_name: Option<String>,
        /// Embed every row again with the configured model (after a model
        /// change); a run cut short is run again with --all.
        #[arg(long)]
        all: bool,
        /// The commits' actor (direct only; a server takes the token's).
        #[arg(long = "as", value_name = "NAME", env = "OMNIGRAPH_ACTOR")]
        actor: Option<String>,
        /// The commits' message.
        #[arg(long, short = 'm', value_name = "TEXT")]
        message: Option<String>,
    },
    /// Remove the table and manifest versions no kept commit needs; print
    /// what goes and the bytes freed.
    Cleanup {
        #[command(flatten)]
        target: GraphTarget,
        /// Keep every commit younger than this many days.
        #[arg(long, default_value_t = 7.0, value_name = "DAYS", allow_negative_numbers = true)]
        keep_days: f64,
        /// Keep the last this many commits.
        #[arg(long, default_value_t = 100, value_name = "N")]
        keep_commits: u64,
        /// Say what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Typecheck queries against a schema, without a graph.
    Lint {
        /// The .pg schema file.
        #[arg(long)]
        schema: PathBuf,
        /// The .gq query file.
        #[arg(long)]
        query: PathBuf,
    },
    /// Graph lifecycle through a catalog (--catalog) or a server
    /// (--server): list, show, create, delete, restore, purge, import.
    Graphs {
        #[command(subcommand)]
        command: GraphsCommand,
    },
    /// Check a policy file, or run test cases against it.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Explain and repair what a crash left behind. With --catalog: every
    /// unfinished lifecycle operation, orphan location and broken active
    /// graph in the catalog. With --store: one graph's unfinished writes and
    /// init claim. Dry run unless --apply; exit 0 clean, 1 problems found
    /// (or left), 2 error.
    #[command(group = clap::ArgGroup::new("target").required(true).args(["store", "catalog"]))]
    Recover {
        /// One graph's directory or URI: its unfinished writes and init claim.
        #[arg(long)]
        store: Option<String>,
        /// The catalog URI (a directory or s3://bucket/prefix).
        #[arg(long, env = "OMNIGRAPH_CATALOG")]
        catalog: Option<String>,
        /// Carry the plan out.
        #[arg(long)]
        apply: bool,
        /// Resolve this operation now even though its lease is live (with --catalog).
        #[arg(long, value_name = "OP_ID", requires = "catalog")]
        force: Option<String>,
    },
}

/// Where a `graphs` command works: a catalog directly, or a server.
#[derive(Args, Debug)]
pub struct CatalogArg {
    /// The catalog URI: a local directory or s3://bucket/prefix (S3 is
    /// configured from the AWS_* environment variables).
    #[arg(long, env = "OMNIGRAPH_CATALOG")]
    pub catalog: Option<String>,
    /// An omnigraph-server URL (instead of --catalog).
    #[arg(long, env = "OMNIGRAPH_SERVER")]
    pub server: Option<String>,
    /// Bearer token for --server.
    #[arg(long, env = "OMNIGRAPH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// The graph a data command works on: a graph root directly (--store), or
/// a graph on a server (--server URL --graph ID).
#[derive(Args, Debug)]
pub struct GraphTarget {
    /// The graph's root: a directory or s3://bucket/prefix.
    #[arg(long)]
    pub store: Option<String>,
    /// An omnigraph-server URL (with --graph).
    #[arg(long, env = "OMNIGRAPH_SERVER")]
    pub server: Option<String>,
    /// The graph id on --server.
    #[arg(long)]
    pub graph: Option<String>,
    /// Bearer token for --server.
    #[arg(long, env = "OMNIGRAPH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The branch to read or write (default `main`).
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum BranchCommand {
    /// Create a branch from a branch's head or a commit: nothing is copied.
    Create {
        #[command(flatten)]
        target: GraphTarget,
        /// The new branch's name: 1-64 ASCII letters, digits, `-`, `_`, `.`.
        name: String,
        /// A branch (its head) or a commit id (default: main's head).
        #[arg(long, value_name = "BRANCH|COMMIT")]
        from: Option<String>,
        /// The actor of its first commit (direct only; a server takes the token's).
        #[arg(long = "as", value_name = "NAME", env = "OMNIGRAPH_ACTOR")]
        actor: Option<String>,
    },
    /// The graph's branches, `main` first, with their head commits.
    List {
        #[command(flatten)]
        target: GraphTarget,
    },
    /// Delete a branch (not `main`, nor one others were created from).
    Delete {
        #[command(flatten)]
        target: GraphTarget,
        /// The branch.
        name: String,
    },
    /// Merge a branch into another (default `main`): three-way by entity.
    /// Any conflict writes nothing, lists every conflict and exits 1.
    Merge {
        #[command(flatten)]
        target: GraphTarget,
        /// The branch to merge.
        source: String,
        /// The branch to merge into.
        #[arg(long, default_value = "main", value_name = "BRANCH")]
        into: String,
        /// Delete the source branch after the merge.
        #[arg(long)]
        delete_source: bool,
        /// Say what the merge would do; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        write: WriteArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Parse and check a policy file and compile it to Cedar.
    Validate {
        /// The policy file (YAML).
        file: PathBuf,
        /// Print the compiled Cedar policies.
        #[arg(long)]
        cedar: bool,
    },
    /// Run test cases (`cases: [{actor, action, graph?, expect}]`) against a policy file.
    Test {
        /// The policy file (YAML).
        file: PathBuf,
        /// The cases file (YAML).
        #[arg(long)]
        cases: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum GraphsCommand {
    /// Every graph in the catalog with its state (--all adds tombstones and failed creates).
    List {
        #[command(flatten)]
        catalog: CatalogArg,
        /// Also list failed creates and tombstones whose data is gone.
        #[arg(long)]
        all: bool,
    },
    /// One graph: state, location, incarnation, schema hash, times, operation in flight.
    Show {
        #[command(flatten)]
        catalog: CatalogArg,
        /// The graph id.
        id: String,
    },
    /// Create a graph: reserve the id, init fresh storage, publish it active.
    Create {
        #[command(flatten)]
        catalog: CatalogArg,
        /// Graph id: [a-z0-9][a-z0-9_-]{0,62}.
        #[arg(long)]
        id: String,
        /// The .pg schema file.
        #[arg(long)]
        schema: PathBuf,
        /// Metadata to keep on the entry, as a JSON object (for example an initial policy).
        #[arg(long, value_name = "JSON")]
        metadata: Option<String>,
    },
    /// Delete a graph: it stops being served at once; its data is removed,
    /// or kept for --retain (then `restore` or `purge`).
    Delete {
        #[command(flatten)]
        catalog: CatalogArg,
        /// The graph id.
        id: String,
        /// Keep the data this long, e.g. 30m, 12h, 7d.
        #[arg(long, value_name = "DURATION")]
        retain: Option<String>,
        /// Delete an imported graph with its data: its directory, which the
        /// catalog did not create, is removed (refused without this flag).
        #[arg(long, conflicts_with = "retain")]
        remove_data: bool,
    },
    /// Bring back a deleted graph whose data is still retained.
    Restore {
        #[command(flatten)]
        catalog: CatalogArg,
        /// The graph id.
        id: String,
    },
    /// Remove a retained deleted graph's data now.
    Purge {
        #[command(flatten)]
        catalog: CatalogArg,
        /// The graph id.
        id: String,
    },
    /// Register a graph made by `omnigraph init` (its directory is not moved or rewritten).
    Import {
        #[command(flatten)]
        catalog: CatalogArg,
        /// The id to register it under: [a-z0-9][a-z0-9_-]{0,62}.
        #[arg(long)]
        id: String,
        /// The graph's root directory (or URI on the catalog's storage).
        path: String,
    },
}

/// A schema change: the new schema and what may be given up for it.
#[derive(Args, Debug)]
pub struct SchemaChange {
    /// The new .pg schema file.
    #[arg(long, value_name = "FILE")]
    pub schema: PathBuf,
    /// Apply steps that lose data (dropping a type or property, narrowing a
    /// type, removing enum values in use).
    #[arg(long)]
    pub allow_data_loss: bool,
    /// A .gq file of other queries to re-check against the new schema
    /// (repeatable); the plan lists each query that would break. The
    /// graph's stored queries are always re-checked.
    #[arg(long = "query", value_name = "FILE")]
    pub queries: Vec<PathBuf>,
    /// A .gq file whose queries replace the stored ones of the same names
    /// (or are added) in the same commit (repeatable): how a change fixes a
    /// stored query it would break.
    #[arg(long = "update-queries", value_name = "FILE")]
    pub update_queries: Vec<PathBuf>,
    /// A stored query to remove in the same commit (repeatable).
    #[arg(long = "drop-query", value_name = "NAME")]
    pub drop_queries: Vec<String>,
}

/// Where a read looks in the graph's history.
#[derive(Args, Debug)]
pub struct AtArg {
    /// Read the graph as it was at this commit, or at the last commit at or
    /// before this RFC 3339 time (e.g. 2026-12-06T10:00:00Z).
    #[arg(long, value_name = "COMMIT|TIME")]
    pub at: Option<String>,
}

/// Who a write is by, why, and on what condition.
#[derive(Args, Debug)]
pub struct WriteArgs {
    /// The commit's actor (direct writes; a server takes the token's).
    /// Default: OMNIGRAPH_ACTOR, else the OS user.
    #[arg(long = "as", value_name = "NAME", env = "OMNIGRAPH_ACTOR")]
    pub actor: Option<String>,
    /// The commit's message.
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub message: Option<String>,
    /// Write only if the head is this commit; otherwise write nothing and
    /// exit 4.
    #[arg(long, value_name = "COMMIT")]
    pub if_commit: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Each index: its type, property, kind (scalar, text, vector), state
    /// (current, stale, missing, exact) and the rows it covers.
    Status {
        #[command(flatten)]
        target: GraphTarget,
    },
}

#[derive(Subcommand, Debug)]
pub enum CommitCommand {
    /// The graph's commits, newest first.
    List {
        #[command(flatten)]
        target: GraphTarget,
        /// How many (at most 1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Start just before this commit (the `next` of the previous page).
        #[arg(long, value_name = "COMMIT")]
        before: Option<String>,
    },
    /// One commit: actor, time, kind, message, and what it changed.
    Show {
        #[command(flatten)]
        target: GraphTarget,
        /// The commit id.
        id: String,
    },
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// JSONL file, or `-` for standard input.
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value_t = Mode::Append)]
    pub mode: Mode,
    #[command(flatten)]
    pub target: GraphTarget,
    /// How many line errors to list when the input is rejected.
    #[arg(long, default_value_t = 100)]
    pub max_errors: usize,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// What `query` and `mutate` both take: the graph, the query and its parameters.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["exec", "query"]))]
pub struct QuerySource {
    #[command(flatten)]
    pub target: GraphTarget,
    /// Query source given inline.
    #[arg(short = 'e', long = "exec", value_name = "SOURCE")]
    pub exec: Option<String>,
    /// A .gq file.
    #[arg(long, value_name = "FILE")]
    pub query: Option<PathBuf>,
    /// Which query of the file to run (needed when it declares several).
    pub name: Option<String>,
    /// Parameter values as a JSON object, e.g. '{"name": "Alice"}'.
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    #[command(flatten)]
    pub source: QuerySource,
    #[command(flatten)]
    pub at: AtArg,
    /// Output format; `table` on a terminal, `jsonl` otherwise (`json` with --json).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// A mutation prints its report (rows inserted, updated, deleted), so it
/// takes no `--format`.
#[derive(Args, Debug)]
pub struct MutateArgs {
    #[command(flatten)]
    pub source: QuerySource,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Mode {
    Overwrite,
    Append,
    Merge,
}

#[derive(Subcommand, Debug)]
pub enum QueriesCommand {
    /// Store every query of a .gq file (in place of stored ones of the same
    /// names) as one commit; a query that does not typecheck refuses the file.
    Add {
        #[command(flatten)]
        target: GraphTarget,
        /// The .gq file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// The stored queries: name, kind, parameters, description.
    List {
        #[command(flatten)]
        target: GraphTarget,
        #[command(flatten)]
        at: AtArg,
    },
    /// One stored query: its source (its typed description with --json).
    Show {
        #[command(flatten)]
        target: GraphTarget,
        #[command(flatten)]
        at: AtArg,
        name: String,
    },
    /// Remove stored queries: one commit (through a server, one per name).
    Remove {
        #[command(flatten)]
        target: GraphTarget,
        /// The names.
        #[arg(required = true)]
        names: Vec<String>,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Run a stored query by name (a read prints rows, a mutation its report).
    Run {
        #[command(flatten)]
        target: GraphTarget,
        name: String,
        /// Parameter values as a JSON object.
        #[arg(long, value_name = "JSON")]
        params: Option<String>,
        #[command(flatten)]
        at: AtArg,
        /// Output format of a read; `table` on a terminal, `jsonl` otherwise.
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[command(flatten)]
        write: WriteArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum SchemaCommand {
    /// Print the graph's schema (source; the compiled IR with --json).
    Show {
        #[command(flatten)]
        target: GraphTarget,
        #[command(flatten)]
        at: AtArg,
    },
    /// Say what applying a new schema would do, step by step (each with a
    /// code, and whether it rewrites or loses data); changes nothing. Exit 1
    /// when it would be refused.
    Plan {
        #[command(flatten)]
        target: GraphTarget,
        #[command(flatten)]
        change: SchemaChange,
    },
    /// Apply a new schema as one commit (then build the indexes it asks for).
    Apply {
        #[command(flatten)]
        target: GraphTarget,
        #[command(flatten)]
        change: SchemaChange,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Compile a .pg file and report errors or its content hash.
    Check {
        /// The .pg schema file.
        schema: PathBuf,
    },
}
