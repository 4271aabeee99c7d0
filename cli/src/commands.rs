//! One function per command; each calls the engine and prints the result.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};

use omnigraph::error::{Error, Result};
use omnigraph::graph::{self, Graph};
use omnigraph::load::{self, LoadMode, LoadOptions};
use omnigraph::schema::compile_schema;

use crate::cli::{Cli, Command, Format, LoadArgs, Mode, QueryArgs, SchemaCommand};
use crate::output;
use omnigraph_catalog::CatalogError;

fn read_file(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::InvalidArgument(format!("cannot read {}: {e}", path.display())))
}

/// Runs one command; returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32, CatalogError> {
    let json = cli.json;
    match cli.command {
        Command::Init { schema, uri } => {
            let src = read_file(&schema)?;
            let report = graph::init(&uri, &src).await?;
            if json {
                output::print_json(&report);
            } else {
                println!("initialized graph at {}", report.root);
                println!("  genesis   {}", report.genesis_id);
                println!("  schema    {}", report.schema_hash);
                println!("  tables    {}", report.tables.join(", "));
            }
        }
        Command::Load(args) => load_cmd(args, json).await?,
        Command::Snapshot { store } => {
            let g = Graph::open(&store).await?;
            let snap = g.snapshot().await?;
            if json {
                output::print_json(&snap);
            } else {
                output::print_snapshot(&snap);
            }
        }
        Command::Export { store, type_name, output } => {
            let g = Graph::open(&store).await?;
            match output {
                Some(path) => {
                    let file = File::create(&path).map_err(|e| Error::InvalidArgument(format!("cannot write {}: {e}", path.display())))?;
                    let report = omnigraph::export::export(&g, type_name.as_deref(), &mut BufWriter::new(file)).await?;
                    if json {
                        output::print_json(&report);
                    } else {
                        eprintln!("exported {} rows (manifest version {}) to {}", report.rows, report.manifest_version, path.display());
                    }
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = BufWriter::new(stdout.lock());
                    omnigraph::export::export(&g, type_name.as_deref(), &mut out).await?;
                }
            }
        }
        Command::Schema { command: SchemaCommand::Show { store } } => {
            let g = Graph::open(&store).await?;
            if json {
                output::print_json(&serde_json::json!({"schema_hash": g.schema_hash(), "source": g.schema_source(), "ir": g.schema()}));
            } else {
                print!("{}", g.schema_source());
                if !g.schema_source().ends_with('\n') {
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
        Command::Query(args) => query_cmd(args, json, false).await?,
        Command::Mutate(args) => query_cmd(args, json, true).await?,
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
            let items = graph::recovery::repair(&store, apply).await?;
            if json {
                output::print_json(&serde_json::json!({"applied": apply, "items": items}));
            } else if items.is_empty() {
                println!("nothing to recover");
            } else {
                for i in &items {
                    let state = if i.applied { "done" } else if i.actionable { "pending" } else { "left alone" };
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
        Command::Recover { catalog: Some(uri), apply, force, .. } => return crate::graphs::recover(&uri, apply, force, json).await,
        Command::Recover { .. } => unreachable!("clap requires --store or --catalog"),
        Command::Graphs { command } => return crate::graphs::run(command, json).await,
    }
    Ok(0)
}

async fn query_cmd(args: QueryArgs, json: bool, mutation: bool) -> Result<()> {
    let src = match (&args.exec, &args.query) {
        (Some(s), _) => s.clone(),
        (None, Some(path)) => read_file(path)?,
        (None, None) => return Err(Error::InvalidArgument("give the query with -e '<source>' or --query FILE".into())),
    };
    let params: serde_json::Value = match &args.params {
        Some(p) => serde_json::from_str(p).map_err(|e| Error::InvalidArgument(format!("--params is not valid JSON: {e}")))?,
        None => serde_json::Value::Null,
    };
    let g = if mutation { Graph::open_for_write(&args.store).await? } else { Graph::open(&args.store).await? };
    for r in g.recovered() {
        eprintln!("recovered an interrupted write {} ({}): {:?}", r.op_id, r.kind, r.decision);
    }
    let plans = omnigraph::query::compile(g.schema(), &src)?;
    let plan = omnigraph::query::select(&plans, args.name.as_deref())?;
    if mutation {
        let report = omnigraph::query::run_mutation(&g, plan, &params).await?;
        if json || matches!(args.format, Some(Format::Json | Format::Jsonl)) {
            println!("{}", serde_json::to_string(&report).expect("serializable"));
        } else {
            println!(
                "inserted {}, updated {}, deleted {} ({} edges removed with their nodes); manifest version {}",
                report.inserted, report.updated, report.deleted, report.cascaded, report.manifest_version
            );
        }
        return Ok(());
    }
    let result = omnigraph::query::run_read(&g, plan, &params).await?;
    let format = args.format.unwrap_or(if json {
        Format::Json
    } else if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    crate::results::print(&plan.name, &result, format, &mut out).map_err(Error::Io)?;
    out.flush().map_err(Error::Io)
}

async fn load_cmd(args: LoadArgs, json: bool) -> Result<()> {
    let mode = match args.mode {
        Mode::Overwrite => LoadMode::Overwrite,
        Mode::Append => LoadMode::Append,
        Mode::Merge => LoadMode::Merge,
    };
    let g = Graph::open_for_write(&args.store).await?;
    for r in g.recovered() {
        eprintln!("recovered an interrupted write {} ({}): {:?}", r.op_id, r.kind, r.decision);
    }
    let mut opts = LoadOptions::new(mode, args.data.display().to_string());
    opts.max_errors = args.max_errors;
    let started = std::time::Instant::now();
    let report = if args.data.as_os_str() == "-" {
        opts.source_name = "stdin".into();
        let mut bar = crate::progress::LoadBar::new(None, std::io::stderr().is_terminal() && !json);
        let stdin = BufReader::with_capacity(1 << 20, std::io::stdin());
        let r = load::load(&g, stdin, &opts, &mut |p| bar.update(p)).await;
        bar.finish();
        r?
    } else {
        let file = File::open(&args.data).map_err(|e| Error::InvalidArgument(format!("cannot read {}: {e}", args.data.display())))?;
        let size = file.metadata().map(|m| m.len()).ok();
        let mut bar = crate::progress::LoadBar::new(size, std::io::stderr().is_terminal() && !json);
        let r = load::load(&g, BufReader::with_capacity(1 << 20, file), &opts, &mut |p| bar.update(p)).await;
        bar.finish();
        r?
    };
    if json {
        output::print_json(&report);
    } else {
        let total: u64 = report.rows.values().sum();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "loaded {total} rows from {} lines ({}) in {secs:.2}s ({:.0} rows/s); manifest version {}",
            report.lines,
            serde_json::to_value(report.mode).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            total as f64 / secs.max(1e-9),
            report.manifest_version
        );
        for (name, n) in &report.rows {
            println!("  {name:<24} {n}");
        }
    }
    Ok(())
}
