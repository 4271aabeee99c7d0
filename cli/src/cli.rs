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
        #[arg(long)]
        store: String,
    },
    /// Write the graph (or one type) as JSONL that `load` reads back.
    Export {
        #[arg(long)]
        store: String,
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
    /// Run a read query (.gq) against a graph.
    Query(QueryArgs),
    /// Run a mutation query (.gq): all its statements publish as one commit.
    Mutate(QueryArgs),
    /// Typecheck queries against a schema, without a graph.
    Lint {
        /// The .pg schema file.
        #[arg(long)]
        schema: PathBuf,
        /// The .gq query file.
        #[arg(long)]
        query: PathBuf,
    },
    /// Finish or undo writes that stopped mid-commit (a crash), and clear a
    /// leftover init claim. Dry run unless --apply.
    Recover {
        #[arg(long)]
        store: String,
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// JSONL file, or `-` for standard input.
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value_t = Mode::Append)]
    pub mode: Mode,
    #[arg(long)]
    pub store: String,
    /// How many line errors to list when the input is rejected.
    #[arg(long, default_value_t = 100)]
    pub max_errors: usize,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["exec", "query"]))]
pub struct QueryArgs {
    #[arg(long)]
    pub store: String,
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
    /// Output format; `table` on a terminal, `jsonl` otherwise (`json` with --json).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
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
pub enum SchemaCommand {
    /// Print the graph's schema (source; the compiled IR with --json).
    Show {
        #[arg(long)]
        store: String,
    },
    /// Compile a .pg file and report errors or its content hash.
    Check {
        /// The .pg schema file.
        schema: PathBuf,
    },
}
