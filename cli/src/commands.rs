//! One function per command; each calls the engine (or, with --server, the
//! server) and prints the result through the same printers.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};

use omnigraph::error::Error;
use omnigraph::graph::{self, Graph};
use omnigraph::load::{self, LoadMode, LoadOptions};
use omnigraph::schema::compile_schema;
use serde_json::Value as Json;

use crate::cli::{Cli, Command, Format, GraphTarget, LoadArgs, Mode, QuerySource, WriteArgs};
use crate::output::{self, CliError};
use crate::remote::{Remote, encode};

type Result<T, E = CliError> = std::result::Result<T, E>;

pub(crate) fn read_file(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| CliError::invalid_argument(format!("cannot read {}: {e}", path.display())))
}

/// Where a data command runs.
pub enum Target {
    Store(Store),
    Remote(Remote, String),
}

/// A graph opened directly: its root, and the branch (`--branch`).
pub struct Store {
    pub uri: String,
    pub branch: Option<String>,
}

impl Store {
    /// The graph, read-only, on the branch.
    pub async fn open(&self, session: &omnigraph::Session) -> Result<Graph> {
        self.on_branch(Graph::open(&self.uri, session).await?).await
    }

    /// The graph, for writes, on the branch.
    pub async fn open_for_write(&self, session: &omnigraph::Session) -> Result<Graph> {
        self.on_branch(Graph::open_for_write(&self.uri, session).await?).await
    }

    async fn on_branch(&self, g: Graph) -> Result<Graph> {
        Ok(match &self.branch {
            Some(b) => g.on_branch(b).await?,
            None => g,
        })
    }
}

impl GraphTarget {
    pub fn resolve(&self) -> Result<Target> {
        if let Some(b) = &self.branch
            && b != omnigraph::storage::branch::MAIN_BRANCH
        {
            omnigraph::storage::branch::validate_name(b)?;
        }
        match (&self.store, &self.server, &self.graph) {
            (Some(_), Some(_), _) => Err(CliError::invalid_argument("give --store or --server, not both (is OMNIGRAPH_SERVER set?)")),
            (Some(store), None, None) => Ok(Target::Store(Store { uri: store.clone(), branch: self.branch.clone() })),
            (Some(_), None, Some(_)) => Err(CliError::invalid_argument("--graph names a graph on --server; with --store, give only the path")),
            (None, Some(server), Some(graph)) => Ok(Target::Remote(Remote::new(server, self.token.clone())?.on_branch(self.branch.clone()), graph.clone())),
            (None, Some(_), None) => Err(CliError::invalid_argument("--server needs --graph ID")),
            (None, None, _) => Err(CliError::invalid_argument("give --store PATH, or --server URL --graph ID")),
        }
    }
}

pub fn graph_path(graph: &str, route: &str) -> String {
    format!("/graphs/{}/{route}", encode(graph))
}

/// `?at=...` for a remote read (empty without `--at`).
pub(crate) fn at_query(at: &Option<String>, first: bool) -> String {
    at.as_ref().map(|a| format!("{}at={}", if first { '?' } else { '&' }, encode(a))).unwrap_or_default()
}

/// `--at` parsed for a direct read.
pub(crate) fn parse_at(at: &Option<String>) -> Result<Option<graph::history::At>> {
    Ok(at.as_deref().map(graph::history::At::parse).transpose()?)
}

impl WriteArgs {
    /// The engine's options for a direct write.
    pub(crate) fn options(&self) -> omnigraph::graph::WriteOptions {
        omnigraph::graph::WriteOptions { actor: self.actor.clone(), message: self.message.clone(), if_commit: self.if_commit.clone() }
    }

    /// Refuses `--as` for a write through a server, which takes the actor
    /// from the token (a value from OMNIGRAPH_ACTOR is not refused).
    pub(crate) fn check_remote(&self) -> Result<()> {
        match &self.actor {
            Some(a) if std::env::var("OMNIGRAPH_ACTOR").ok().as_deref() != Some(a.as_str()) => {
                Err(CliError::invalid_argument("--as names the actor of direct writes; a server takes the actor from the token"))
            }
            _ => Ok(()),
        }
    }
}

/// How `query_cmd` runs its query.
enum Run {
    Read { at: Option<String>, format: Option<Format> },
    Write(WriteArgs),
}

/// Runs one command; returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32> {
    let json = cli.json;
    // One engine session for everything this command opens.
    let session = omnigraph::Session::default();
    let session = &session;
    match cli.command {
        Command::Init { schema, uri } => {
            let src = read_file(&schema)?;
            let report = graph::init(&uri, session, &src).await?;
            if json {
                output::print_json(&report);
            } else {
                println!("initialized graph at {}", report.root);
                println!("  genesis   {}", report.genesis_id);
                println!("  schema    {}", report.schema_hash);
                println!("  tables    {}", report.tables.join(", "));
            }
        }
        Command::Load(args) => load_cmd(session, args, json).await?,
        Command::Snapshot { target, at } => {
            let snap = match target.resolve()? {
                Target::Store(store) => {
                    let at = parse_at(&at.at)?;
                    serde_json::to_value(store.open(session).await?.snapshot_at(at.as_ref()).await?).expect("serializable")
                }
                Target::Remote(r, g) => r.get(&format!("{}{}", graph_path(&g, "snapshot"), at_query(&at.at, true))).await?,
            };
            if json {
                output::print_json(&snap);
            } else {
                output::print_snapshot(&snap);
            }
        }
        Command::Export { target, at, type_name, output } => export_cmd(session, target, at.at, type_name, output, json).await?,
        Command::Commit { command } => crate::history::run(session, command, json).await?,
        Command::Branch { command } => return crate::branches::run(session, command, json).await,
        Command::Changes { target, from, to } => crate::history::changes(session, target, from, to, json).await?,
        Command::Optimize { target, actor, message } => {
            let write = WriteArgs { actor, message, if_commit: None };
            crate::maintenance::optimize(session, target, write, json).await?
        }
        Command::Index { command: crate::cli::IndexCommand::Status { target } } => crate::search::index_status(session, target, json).await?,
        Command::Embed { target, type_name, all, actor, message } => {
            let write = WriteArgs { actor, message, if_commit: None };
            crate::search::embed(session, target, type_name, all, write, json).await?
        }
        Command::Cleanup { target, keep_days, keep_commits, dry_run } => {
            let opts = omnigraph::graph::cleanup::CleanupOptions { keep_days, keep_commits, dry_run };
            crate::maintenance::cleanup(session, target, opts, json).await?
        }
        Command::Schema { command } => return crate::schema::run(session, command, json).await,
        Command::Queries { command } => return crate::stored::run(session, command, json).await,
        Command::Query(args) => query_cmd(session, args.source, Run::Read { at: args.at.at, format: args.format }, json).await?,
        Command::Mutate(args) => query_cmd(session, args.source, Run::Write(args.write), json).await?,
        Command::Lint { schema, query } => {
            let ir = compile_schema(&read_file(&schema)?).map_err(Error::Schema)?;
            let plans = omnigraph::query::compile(&ir, &read_file(&query)?)?;
            if json {
                let items: Vec<_> = plans
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "name": p.name,
                            "kind": if p.is_mutation() { "mutation" } else { "read" },
                            "description": p.description,
                            "instruction": p.instruction,
                            "params": p.params.iter().map(|s| serde_json::json!({"name": s.name, "type": s.ty.to_string(), "nullable": s.nullable})).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                output::print_json(&serde_json::json!({"ok": true, "queries": items}));
            } else {
                println!("ok: {} quer{} typecheck against {}", plans.len(), if plans.len() == 1 { "y" } else { "ies" }, schema.display());
                for p in &plans {
                    println!("  {:<9} {}", if p.is_mutation() { "mutation" } else { "read" }, p.name);
                }
            }
        }
        Command::Recover { store: Some(store), apply, .. } => {
            let items = graph::recovery::repair(&store, session, apply).await?;
            if json {
                output::print_json(&serde_json::json!({"applied": apply, "items": items}));
            } else if items.is_empty() {
                println!("nothing to recover");
            } else {
                for i in &items {
                    let state = if i.applied {
                        "done"
                    } else if i.actionable {
                        "pending"
                    } else {
                        "left alone"
                    };
                    println!("{:<10} {:<28} {:<10} {}", i.kind, i.id, state, i.action);
                }
                if !apply && items.iter().any(|i| i.actionable) {
                    println!("dry run: re-run with --apply to carry this out");
                }
            }
            if !apply && items.iter().any(|i| i.actionable) {
                return Ok(1);
            }
        }
        Command::Recover { catalog: Some(uri), apply, force, .. } => return Ok(crate::graphs::recover(session, &uri, apply, force, json).await?),
        Command::Recover { .. } => unreachable!("clap requires --store or --catalog"),
        Command::Graphs { command } => return crate::graphs::run(session, command, json).await,
        Command::Policy { command } => return crate::policy::run(command, json),
    }
    Ok(0)
}

async fn query_cmd(session: &omnigraph::Session, source: QuerySource, run: Run, json: bool) -> Result<()> {
    let mutation = matches!(run, Run::Write(_));
    let src = match (&source.exec, &source.query) {
        (Some(s), _) => s.clone(),
        (None, Some(path)) => read_file(path)?,
        (None, None) => return Err(CliError::invalid_argument("give the query with -e '<source>' or --query FILE")),
    };
    let params: Json = match &source.params {
        Some(p) => serde_json::from_str(p).map_err(|e| CliError::invalid_argument(format!("--params is not valid JSON: {e}")))?,
        None => Json::Null,
    };
    let (name, doc) = match source.target.resolve()? {
        Target::Store(store) => {
            let g = if mutation { store.open_for_write(session).await? } else { store.open(session).await? };
            for r in g.recovered() {
                eprintln!("recovered an interrupted write {}: {}", r.op_id, r.decision.describe(&r.kind, r.tables, true));
            }
            // Compiled against the schema of the commit it runs on.
            let g = match &run {
                Run::Read { at, .. } => g.bound_at(parse_at(at)?.as_ref()).await?,
                Run::Write(_) => g.current().await?.0,
            };
            let plans = omnigraph::query::compile(g.schema(), &src)?;
            let plan = omnigraph::query::select(&plans, source.name.as_deref())?;
            match &run {
                Run::Write(w) => {
                    let report = omnigraph::query::run_mutation_with(&g, plan, &params, &w.options()).await?;
                    // Maintenance the write started (a fold) ends before the process does.
                    g.write_queue().settle().await;
                    (plan.name.clone(), serde_json::to_value(&report).expect("serializable"))
                }
                Run::Read { at, .. } => {
                    let at = parse_at(at)?;
                    let deadline = omnigraph::query::limits::Deadline::start(g.query_limits().timeout);
                    let result = omnigraph::query::run_read_at(&g, plan, &params, deadline, at.as_ref()).await?;
                    (plan.name.clone(), result.to_json_doc(&plan.name))
                }
            }
        }
        Target::Remote(r, g) => {
            let mut body = serde_json::json!({"query": src, "name": source.name, "params": params});
            match &run {
                Run::Write(w) => {
                    w.check_remote()?;
                    if let Some(m) = &w.message {
                        body["message"] = m.clone().into();
                    }
                    if let Some(c) = &w.if_commit {
                        body["if_commit"] = c.clone().into();
                    }
                }
                Run::Read { at: Some(a), .. } => body["at"] = a.clone().into(),
                Run::Read { .. } => {}
            }
            let doc = r.post(&graph_path(&g, if mutation { "mutate" } else { "query" }), &body).await?;
            (String::new(), doc)
        }
    };
    let _ = name;
    let format = match run {
        Run::Read { format, .. } => format,
        Run::Write(_) => None,
    };
    print_answer(&doc, mutation, format, json)
}

/// A query's answer: a mutation's report (one line, or its JSON), or a
/// read's rows in `format` (`table` on a terminal, `jsonl` otherwise,
/// `json` with `--json`). Direct and remote answers print through here.
pub(crate) fn print_answer(doc: &Json, mutation: bool, format: Option<Format>, json: bool) -> Result<()> {
    if mutation {
        if json {
            println!("{}", serde_json::to_string(doc).expect("serializable"));
        } else {
            println!(
                "inserted {}, updated {}, deleted {} ({} edges removed with their nodes); commit {}",
                doc["inserted"],
                doc["updated"],
                doc["deleted"],
                doc["cascaded"],
                doc["commit"].as_str().unwrap_or_default()
            );
        }
        return Ok(());
    }
    let format = format.unwrap_or(if json {
        Format::Json
    } else if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    crate::results::print(doc, format, &mut out).map_err(Error::Io)?;
    out.flush().map_err(Error::Io)?;
    Ok(())
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Overwrite => "overwrite",
        Mode::Append => "append",
        Mode::Merge => "merge",
    }
}

async fn load_cmd(session: &omnigraph::Session, args: LoadArgs, json: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let size = if args.data.as_os_str() == "-" {
        None
    } else {
        Some(std::fs::metadata(&args.data).map_err(|e| CliError::invalid_argument(format!("cannot read {}: {e}", args.data.display())))?.len())
    };
    let mut bar = crate::progress::LoadBar::new(size, std::io::stderr().is_terminal() && !json);
    let report = match args.target.resolve()? {
        Target::Store(store) => {
            let mode = match args.mode {
                Mode::Overwrite => LoadMode::Overwrite,
                Mode::Append => LoadMode::Append,
                Mode::Merge => LoadMode::Merge,
            };
            let g = store.open_for_write(session).await?;
            for r in g.recovered() {
                eprintln!("recovered an interrupted write {}: {}", r.op_id, r.decision.describe(&r.kind, r.tables, true));
            }
            let mut opts = LoadOptions::new(mode, args.data.display().to_string());
            opts.max_errors = args.max_errors;
            opts.write = args.write.options();
            let r = if args.data.as_os_str() == "-" {
                opts.source_name = "stdin".into();
                let stdin = BufReader::with_capacity(1 << 20, std::io::stdin());
                load::load(&g, stdin, &opts, &mut |p| bar.update(p)).await
            } else {
                // A file can be read again: a load that loses the publish
                // race to another writer runs again from it.
                File::open(&args.data).map_err(|e| CliError::invalid_argument(format!("cannot read {}: {e}", args.data.display())))?;
                let open = || File::open(&args.data).map(|f| BufReader::with_capacity(1 << 20, f)).map_err(omnigraph::Error::Io);
                load::load_rereading(&g, open, &opts, &mut |p| bar.update(p)).await
            };
            bar.finish();
            serde_json::to_value(r?).expect("serializable")
        }
        Target::Remote(r, g) => {
            let body = crate::upload::body(&args.data, bar)?;
            let source = if args.data.as_os_str() == "-" { "stdin".to_string() } else { args.data.display().to_string() };
            args.write.check_remote()?;
            let mut path = format!("{}?mode={}&max_errors={}&source={}", graph_path(&g, "load"), mode_name(args.mode), args.max_errors, encode(&source));
            for (k, v) in [("message", &args.write.message), ("if_commit", &args.write.if_commit)] {
                if let Some(v) = v {
                    path.push_str(&format!("&{k}={}", encode(v)));
                }
            }
            r.post_stream(&path, body).await?
        }
    };
    if json {
        output::print_json(&report);
    } else {
        let rows = report["rows"].as_object().cloned().unwrap_or_default();
        let total: u64 = rows.values().filter_map(|v| v.as_u64()).sum();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "loaded {total} rows from {} lines ({}) in {secs:.2}s ({:.0} rows/s); commit {}",
            report["lines"],
            report["mode"].as_str().unwrap_or_default(),
            total as f64 / secs.max(1e-9),
            report["commit"].as_str().unwrap_or_default()
        );
        for (name, n) in &rows {
            println!("  {name:<24} {n}");
        }
    }
    Ok(())
}

async fn export_cmd(
    session: &omnigraph::Session,
    target: GraphTarget,
    at: Option<String>,
    type_name: Option<String>,
    output: Option<std::path::PathBuf>,
    json: bool,
) -> Result<()> {
    let target = target.resolve()?;
    let at_parsed = parse_at(&at)?;
    let mut sink: Box<dyn Write> = match &output {
        Some(path) => Box::new(BufWriter::new(File::create(path).map_err(|e| CliError::invalid_argument(format!("cannot write {}: {e}", path.display())))?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let report = match target {
        Target::Store(store) => {
            let g = store.open(session).await?;
            let r = omnigraph::export::export_at(&g, type_name.as_deref(), at_parsed.as_ref(), &mut sink).await?;
            sink.flush().map_err(Error::Io)?;
            serde_json::json!({"manifest_version": r.manifest_version, "commit": r.commit, "rows": r.rows})
        }
        Target::Remote(r, g) => {
            let mut path = graph_path(&g, "export");
            if let Some(t) = &type_name {
                path.push_str(&format!("?type={}", encode(t)));
            }
            path.push_str(&at_query(&at, type_name.is_none()));
            let mut counter = crate::upload::LineCounter::new(&mut sink);
            r.get_into(&path, &mut counter).await?;
            serde_json::json!({"rows": counter.lines})
        }
    };
    if let Some(path) = output {
        if json {
            output::print_json(&report);
        } else {
            eprintln!("exported {} rows to {}", report["rows"], path.display());
        }
    }
    Ok(())
}
