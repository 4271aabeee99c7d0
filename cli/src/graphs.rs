//! `omnigraph graphs ...` and `omnigraph recover --catalog`: thin wrappers
//! over the catalog and recovery crates (the server calls the same code).

use omnigraph_catalog::{Catalog, CatalogError, GraphEntry, GraphInfo, Result, State};
use omnigraph_recovery::Options;

use crate::cli::GraphsCommand;
use crate::output;

/// `30s`, `15m`, `12h`, `7d` (or plain seconds) as milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64> {
    let bad = || CatalogError::Engine(omnigraph::Error::InvalidArgument(format!("--retain `{s}`: expected a duration like 30s, 15m, 12h or 7d")));
    let s = s.trim();
    let (num, unit) = s.find(|c: char| !c.is_ascii_digit()).map(|i| s.split_at(i)).unwrap_or((s, "s"));
    let n: i64 = num.parse().map_err(|_| bad())?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    n.checked_mul(ms).filter(|v| *v > 0).ok_or_else(bad)
}

fn print_entry(e: &GraphEntry) {
    println!("graph        {}", e.id);
    println!("state        {}", e.state);
    println!("location     {}", e.location);
    println!("incarnation  {}", e.incarnation);
    println!("schema       {}", e.schema_hash.as_deref().unwrap_or("-"));
    println!("genesis      {}", e.genesis_id.as_deref().unwrap_or("-"));
    println!("created      {}", e.created_at);
    if let Some(d) = &e.deleted_at {
        println!("deleted      {d}");
    }
    if let Some(r) = &e.retained_until {
        println!("retained     until {r}");
    }
    if e.imported {
        println!("imported     yes");
    }
    if let Some(f) = &e.failure {
        println!("failure      {f}");
    }
    println!("version      {}", e.version);
}

fn print_info(g: &GraphInfo) {
    print_entry(&g.entry);
    if let Some(op) = &g.entry.op {
        let owner = g.operation.as_ref().map(|o| format!(", {} (actor {})", o.owner, o.actor)).unwrap_or_default();
        println!("operation    {} {} in flight{owner}", op.kind, op.id);
    }
}

pub async fn run(cmd: GraphsCommand, json: bool) -> Result<i32> {
    match cmd {
        GraphsCommand::List { catalog, all } => {
            let c = Catalog::open_existing(&catalog.catalog).await?;
            let graphs: Vec<GraphInfo> = c
                .list()
                .await?
                .into_iter()
                .filter(|g| all || !(matches!(g.entry.state, State::Failed | State::Deleted) && !g.entry.retained() && g.entry.op.is_none()))
                .collect();
            if json {
                output::print_json(&serde_json::json!({"catalog": c.uri(), "graphs": graphs}));
            } else if graphs.is_empty() {
                println!("no graphs in {}", c.uri());
            } else {
                println!("{:<24} {:<13} {:<27} {:<14} location", "id", "state", "incarnation", "operation");
                for g in &graphs {
                    let e = &g.entry;
                    let op = e.op.as_ref().map(|o| o.kind.to_string()).unwrap_or_else(|| "-".into());
                    println!("{:<24} {:<13} {:<27} {:<14} {}", e.id, e.state.as_str(), e.incarnation, op, e.location);
                }
            }
        }
        GraphsCommand::Show { catalog, id } => {
            let c = Catalog::open_existing(&catalog.catalog).await?;
            let g = c.show(&id).await?;
            if json {
                output::print_json(&g);
            } else {
                print_info(&g);
            }
        }
        GraphsCommand::Create { catalog, id, schema, metadata } => {
            let src = std::fs::read_to_string(&schema).map_err(|e| {
                CatalogError::Engine(omnigraph::Error::InvalidArgument(format!("cannot read {}: {e}", schema.display())))
            })?;
            let metadata = match metadata {
                None => serde_json::Value::Null,
                Some(m) => match serde_json::from_str::<serde_json::Value>(&m) {
                    Ok(v @ serde_json::Value::Object(_)) => v,
                    _ => {
                        return Err(CatalogError::Engine(omnigraph::Error::InvalidArgument(
                            "--metadata must be a JSON object".into(),
                        )));
                    }
                },
            };
            let c = Catalog::open(&catalog.catalog).await?;
            let e = c.create(&id, &src, metadata).await?;
            if json {
                output::print_json(&e);
            } else {
                println!("created graph `{}` at {}", e.id, e.location);
            }
        }
        GraphsCommand::Delete { catalog, id, retain } => {
            let retain_ms = retain.as_deref().map(parse_duration_ms).transpose()?;
            let c = Catalog::open_existing(&catalog.catalog).await?;
            let e = c.delete(&id, retain_ms).await?;
            if json {
                output::print_json(&e);
            } else if let Some(until) = &e.retained_until {
                println!("deleted graph `{}`; its data is kept until {until} (`graphs restore` or `graphs purge`)", e.id);
            } else {
                println!("deleted graph `{}`; its data is removed", e.id);
            }
        }
        GraphsCommand::Restore { catalog, id } => {
            let c = Catalog::open_existing(&catalog.catalog).await?;
            let e = c.restore(&id).await?;
            if json {
                output::print_json(&e);
            } else {
                println!("restored graph `{}` at {}", e.id, e.location);
            }
        }
        GraphsCommand::Purge { catalog, id } => {
            let c = Catalog::open_existing(&catalog.catalog).await?;
            let e = c.purge(&id).await?;
            if json {
                output::print_json(&e);
            } else {
                println!("purged graph `{}`: its data is removed", e.id);
            }
        }
        GraphsCommand::Import { catalog, id, path } => {
            let c = Catalog::open(&catalog.catalog).await?;
            let e = c.import(&id, &path).await?;
            if json {
                output::print_json(&e);
            } else {
                println!("imported graph `{}` from {}", e.id, e.location);
            }
        }
    }
    Ok(0)
}

/// `omnigraph recover --catalog`: 0 clean, 1 problems found or left, 2 error.
pub async fn recover(uri: &str, apply: bool, force: Option<String>, json: bool) -> Result<i32> {
    let c = Catalog::open_existing(uri).await?.with_actor("recovery");
    let plan = omnigraph_recovery::run(&c, &Options { apply, force }).await?;
    if json {
        output::print_json(&plan);
    } else {
        print!("{}", plan.render());
    }
    Ok(if plan.clean() { 0 } else { 1 })
}
