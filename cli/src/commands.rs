//! One function per command; each calls the engine (or, with --server, the
//! server) and prints the result through the same printers.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};

use omnigraph::error::Error;
use omnigraph::graph::{self, Graph};
use omnigraph::load::{self, LoadMode, LoadOptions};
use omnigraph::schema::compile_schema;
use serde_json::Value as Json;

use crate::cli::{Cli, Command, Format, GraphTarget, LoadArgs, Mode, QueryArgs, SchemaCommand};
use crate::output::{self, CliError};
use crate::remote::{Remote, encode};

type Result<T, E = CliError> = std::result::Result<T, E>;

fn read_file(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| CliError::invalid_argument(format!("cannot read {}: {e}", path.display())))
}

/// Where a data command runs.
pub enum Target {
    Store(String),
    Remote(Remote, String),
}

impl GraphTarget {
    pub fn resolve(&self) -> Result<Target> {
        match (&self.store, &self.server, &self.graph) {
            (Some(_), Some(_), _) => Err(CliError::invalid_argument("give --store or --server, not both (is OMNIGRAPH_SERVER set?)")),
            (Some(store), None, None) => Ok(Target::Store(store.clone())),
            (Some(_), None, Some(_)) => Err(CliError::invalid_argument("--graph names a graph on --server; with --store, give only the path")),
            (None, Some(server), Some(graph)) => Ok(Target::Remote(Remote::new(server, self.token.clone())?, graph.clone())),
            (None, Some(_), None) => Err(CliError::invalid_argument("--server needs --graph ID")),
            (None, None, _) => Err(CliError::invalid_argument("give --store PATH, or --server URL --graph ID")),
        }
    }
}

fn graph_path(graph: &str, route: &str) -> String {
    format!("/graphs/{}/{route}", encode(graph))
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
        Command::Snapshot(target) => {
            let snap = match target.resolve()? {
                Target::Store(store) => serde_json::to_value(Graph::open(&store, session).await?.snapshot().await?).expect("serializable"),
                Target::Remote(r, g) => r.get(&graph_path(&g, "snapshot")).await?,
            };
            if json {
                output::print_json(&snap);
            } else {
                output::print_snapshot(&snap);
            }
        }
        Command::Export { target, type_name, output } => export_cmd(session, target, type_name, output, json).await?,
        Command::Schema { command: SchemaCommand::Show(target) } => {
            let doc = match target.resolve()? {
                Target::Store(store) => {
                    let g = Graph::open(&store, session).await?;
                    serde_json::json!({"schema_hash": g.schema_hash(), "source": g.schema_source(), "ir": g.schema()})
                }
                Target::Remote(r, g) => r.get(&graph_path(&g, "schema")).await?,
            };
            if json {
                output::print_json(&doc);
            } else {
                let src = doc["source"].as_str().unwrap_or_default();
                print!("{src}");
                if !src.ends_with('\n') {
                    println!();
                }
            }
        }
        Command::Schema { command: SchemaCommand::Check { schema } } => {
            let src = read_file(&schema)?;
            let ir = compile_schema(&src).map_err(Error::Schema)?;
            if json {
                output::print_json(&serde_json::json!({"ok": true, "schema_hash": ir.content_hash(), "nodes": ir.nodes.len(), "edges": ir.edges.len()}));
            } else {
                println!("ok: {} node type(s), {} edge type(s), hash {}", ir.nodes.len(), ir.edges.len(), ir.content_hash());
            }
        }
        Command::Query(args) => query_cmd(session, args, json, false).await?,
        Command::Mutate(args) => query_cmd(session, args.into(), json, true).await?,
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

async fn query_cmd(session: &omnigraph::Session, args: QueryArgs, json: bool, mutation: bool) -> Result<()> {
    let src = match (&args.source.exec, &args.source.query) {
        (Some(s), _) => s.clone(),
        (None, Some(path)) => read_file(path)?,
        (None, None) => return Err(CliError::invalid_argument("give the query with -e '<source>' or --query FILE")),
    };
    let params: Json = match &args.source.params {
        Some(p) => serde_json::from_str(p).map_err(|e| CliError::invalid_argument(format!("--params is not valid JSON: {e}")))?,
        None => Json::Null,
    };
    let (name, doc) = match args.source.target.resolve()? {
        Target::Store(store) => {
            let g = if mutation { Graph::open_for_write(&store, session).await? } else { Graph::open(&store, session).await? };
            for r in g.recovered() {
                eprintln!("recovered an interrupted write {}: {}", r.op_id, r.decision.describe(&r.kind, r.tables, true));
            }
            let plans = omnigraph::query::compile(g.schema(), &src)?;
            let plan = omnigraph::query::select(&plans, args.source.name.as_deref())?;
            if mutation {
                let report = omnigraph::query::run_mutation(&g, plan, &params).await?;
                // Maintenance the write started (a fold) ends before the process does.
                g.write_queue().settle().await;
                (plan.name.clone(), serde_json::to_value(&report).expect("serializable"))
            } else {
                let result = omnigraph::query::run_read(&g, plan, &params).await?;
                (plan.name.clone(), result.to_json_doc(&plan.name))
            }
        }
        Target::Remote(r, g) => {
            let body = serde_json::json!({"query": src, "name": args.source.name, "params": params});
            let doc = r.post(&graph_path(&g, if mutation { "mutate" } else { "query" }), &body).await?;
            (String::new(), doc)
        }
    };
    let _ = name;
    if mutation {
        if json || matches!(args.format, Some(Format::Json | Format::Jsonl)) {
            println!("{}", serde_json::to_string(&doc).expect("serializable"));
        } else {
            println!(
                "inserted {}, updated {}, deleted {} ({} edges removed with their nodes); manifest version {}",
                doc["inserted"], doc["updated"], doc["deleted"], doc["cascaded"], doc["manifest_version"]
            );
        }
        return Ok(());
    }
    let format = args.format.unwrap_or(if json {
        Format::Json
    } else if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    crate::results::print(&doc, format, &mut out).map_err(Error::Io)?;
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
            let g = Graph::open_for_write(&store, session).await?;
            for r in g.recovered() {
                eprintln!("recovered an interrupted write {}: {}", r.op_id, r.decision.describe(&r.kind, r.tables, true));
            }
            let mut opts = LoadOptions::new(mode, args.data.display().to_string());
            opts.max_errors = args.max_errors;
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
            let path = format!("{}?mode={}&max_errors={}&source={}", graph_path(&g, "load"), mode_name(args.mode), args.max_errors, encode(&source));
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
            "loaded {total} rows from {} lines ({}) in {secs:.2}s ({:.0} rows/s); manifest version {}",
            report["lines"],
            report["mode"].as_str().unwrap_or_default(),
            total as f64 / secs.max(1e-9),
            report["manifest_version"]
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
    type_name: Option<String>,
    output: Option<std::path::PathBuf>,
    json: bool,
) -> Result<()> {
    let target = target.resolve()?;
    let mut sink: Box<dyn Write> = match &output {
        Some(path) => Box::new(BufWriter::new(File::create(path).map_err(|e| CliError::invalid_argument(format!("cannot write {}: {e}", path.display())))?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let report = match target {
        Target::Store(store) => {
            let g = Graph::open(&store, session).await?;
            let r = omnigraph::export::export(&g, type_name.as_deref(), &mut sink).await?;
            sink.flush().map_err(Error::Io)?;
            serde_json::json!({"manifest_version": r.manifest_version, "rows": r.rows})
        }
        Target::Remote(r, g) => {
            let mut path = graph_path(&g, "export");
            if let Some(t) = &type_name {
                path.push_str(&format!("?type={}", encode(t)));
            }
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
