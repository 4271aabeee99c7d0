//! `omnigraph schema show|check|plan|apply`: a graph's schema, and changing
//! it, directly or through a server; the same JSON either way (`--json`).

use omnigraph::Error;
use omnigraph::evolve::{self, EvolveOptions};
use omnigraph::schema::compile_schema;
use serde_json::Value as Json;

use crate::cli::{SchemaChange, SchemaCommand};
use crate::commands::{Target, at_query, graph_path, parse_at, read_file};
use crate::output::{self, CliError};

pub async fn run(session: &omnigraph::Session, command: SchemaCommand, json: bool) -> Result<i32, CliError> {
    match command {
        SchemaCommand::Show { target, at } => {
            let doc = match target.resolve()? {
                Target::Store(store) => {
                    let g = store.open(session).await?.bound_at(parse_at(&at.at)?.as_ref()).await?;
                    serde_json::json!({"schema_hash": g.schema_hash(), "source": g.schema_source(), "ir": g.schema()})
                }
                Target::Remote(r, g) => r.get(&format!("{}{}", graph_path(&g, "schema"), at_query(&at.at, true))).await?,
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
        SchemaCommand::Check { schema } => {
            let src = read_file(&schema)?;
            let ir = compile_schema(&src).map_err(Error::Schema)?;
            if json {
                output::print_json(&serde_json::json!({"ok": true, "schema_hash": ir.content_hash(), "nodes": ir.nodes.len(), "edges": ir.edges.len()}));
            } else {
                println!("ok: {} node type(s), {} edge type(s), hash {}", ir.nodes.len(), ir.edges.len(), ir.content_hash());
            }
        }
        SchemaCommand::Plan { target, change } => {
            let (src, opts) = read_change(&change)?;
            let report = match target.resolve()? {
                Target::Store(store) => {
                    let g = store.open(session).await?;
                    serde_json::to_value(evolve::plan(&g, &src, &opts).await?).expect("serializable")
                }
                Target::Remote(r, g) => r.post(&graph_path(&g, "schema/plan"), &body(&src, &change, &opts)).await?,
            };
            if json {
                output::print_json(&report);
            } else {
                print_report(&report, false);
            }
            return Ok(if report["ok"].as_bool() == Some(true) { 0 } else { 1 });
        }
        SchemaCommand::Apply { target, change, write } => {
            let (src, mut opts) = read_change(&change)?;
            let report = match target.resolve()? {
                Target::Store(store) => {
                    let g = store.open_for_write(session).await?;
                    opts.write = write.options();
                    let r = evolve::apply(&g, &src, &opts).await?;
                    g.write_queue().settle().await;
                    serde_json::to_value(r).expect("serializable")
                }
                Target::Remote(r, g) => {
                    write.check_remote()?;
                    let mut b = body(&src, &change, &opts);
                    b["message"] = write.message.clone().into();
                    b["if_commit"] = write.if_commit.clone().into();
                    r.post(&graph_path(&g, "schema/apply"), &b).await?
                }
            };
            if json {
                output::print_json(&report);
            } else {
                print_report(&report, true);
            }
        }
    }
    Ok(0)
}

/// The new schema's source, and the options of the change.
fn read_change(change: &SchemaChange) -> Result<(String, EvolveOptions), CliError> {
    let src = read_file(&change.schema)?;
    let mut queries = Vec::new();
    for q in &change.queries {
        queries.push((q.display().to_string(), read_file(q)?));
    }
    let update_queries = change.update_queries.iter().map(|f| read_file(f)).collect::<Result<Vec<_>, _>>()?;
    Ok((
        src,
        EvolveOptions { allow_data_loss: change.allow_data_loss, queries, update_queries, drop_queries: change.drop_queries.clone(), ..Default::default() },
    ))
}

/// The request body of `/schema/plan` and `/schema/apply`.
fn body(src: &str, change: &SchemaChange, opts: &EvolveOptions) -> Json {
    let queries: Vec<Json> = opts.queries.iter().map(|(name, q)| serde_json::json!({"name": name, "source": q})).collect();
    serde_json::json!({
        "schema": src,
        "allow_data_loss": change.allow_data_loss,
        "queries": queries,
        "update_queries": opts.update_queries,
        "drop_queries": opts.drop_queries,
    })
}

/// A plan or an applied change, for people: one line per step, then the
/// lints.
fn print_report(r: &Json, applied: bool) {
    let s = |v: &Json| v.as_str().unwrap_or_default().to_string();
    let steps = r["steps"].as_array().cloned().unwrap_or_default();
    if steps.is_empty() {
        println!("nothing to change: the graph has this schema ({})", s(&r["from"]));
        return;
    }
    println!("{:<14} {:<20} {:<28} {:<9} detail", "code", "step", "target", "cost");
    for st in &steps {
        let cost = match (st["loses_data"].as_bool() == Some(true), st["rewrites"].as_bool() == Some(true)) {
            (true, _) => "loses",
            (false, true) => "rewrites",
            // Checked against the stored rows, then metadata only.
            _ if [omnigraph::codes::EVOLVE_REMOVE_ENUM_VALUE, omnigraph::codes::EVOLVE_ADD_CONSTRAINT].iter().any(|c| st["code"] == c.code) => "checks",
            _ => "metadata",
        };
        println!("{:<14} {:<20} {:<28} {:<9} {}", s(&st["code"]), s(&st["kind"]), s(&st["target"]), cost, s(&st["detail"]));
    }
    for l in r["lints"].as_array().into_iter().flatten() {
        println!("lint {} {}: {}", s(&l["code"]), s(&l["target"]), s(&l["message"]));
    }
    match (applied, r["commit"]["id"].as_str()) {
        (true, Some(c)) => println!("applied: schema {} -> {}; commit {c}", s(&r["from"]), s(&r["to"])),
        (true, None) => println!("nothing to change"),
        (false, _) if r["ok"].as_bool() == Some(true) => println!("would apply: schema {} -> {}", s(&r["from"]), s(&r["to"])),
        (false, _) => println!("refused: see the lints above (--allow-data-loss accepts OG-LINT-001 only)"),
    }
}
