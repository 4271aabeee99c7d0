//! `omnigraph index status` and `omnigraph embed`: a graph's search indexes
//! and `@embed` vectors, directly or through a server; the same JSON either way.

use serde_json::{Value as Json, json};

use crate::cli::{GraphTarget, WriteArgs};
use crate::commands::{Target, graph_path};
use crate::output::{self, CliError};

pub async fn index_status(session: &omnigraph::Session, target: GraphTarget, json: bool) -> Result<(), CliError> {
    let report: Json = match target.resolve()? {
        Target::Store(store) => {
            let g = store.open(session).await?;
            json!({"indexes": omnigraph::graph::indexes::status(&g).await?})
        }
        Target::Remote(r, g) => r.get(&graph_path(&g, "indexes")).await?,
    };
    if json {
        output::print_json(&report);
        return Ok(());
    }
    let list = report["indexes"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!("no indexes: declare @key, @unique or @index properties in the schema");
        return Ok(());
    }
    println!("{:<16} {:<16} {:<7} {:<8} {:>10} {:>10}", "TYPE", "PROPERTY", "KIND", "STATE", "COVERED", "UNCOVERED");
    for i in &list {
        println!(
            "{:<16} {:<16} {:<7} {:<8} {:>10} {:>10}",
            i["type"].as_str().unwrap_or_default(),
            i["property"].as_str().unwrap_or_default(),
            i["kind"].as_str().unwrap_or_default(),
            i["state"].as_str().unwrap_or_default(),
            i["rows_covered"].as_u64().unwrap_or_default(),
            i["rows_uncovered"].as_u64().unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn embed(
    session: &omnigraph::Session,
    target: GraphTarget,
    type_name: Option<String>,
    all: bool,
    write: WriteArgs,
    json: bool,
) -> Result<(), CliError> {
    let report: Json = match target.resolve()? {
        Target::Store(store) => {
            let g = store.open_for_write(session).await?;
            let mut last = std::time::Instant::now();
            let quiet = json;
            let mut progress = move |p: omnigraph::embed::refresh::Progress| {
                if !quiet && p.total > 0 && (p.done == p.total || last.elapsed().as_millis() >= 500) {
                    eprintln!("{}.{}: {} of {} rows embedded", p.type_name, p.property, p.done, p.total);
                    last = std::time::Instant::now();
                }
            };
            serde_json::to_value(omnigraph::embed::refresh::refresh(&g, type_name.as_deref(), all, &write.options(), &mut progress).await?)
                .expect("serializable")
        }
        Target::Remote(r, g) => {
            write.check_remote()?;
            let mut body = json!({"all": all});
            if let Some(t) = &type_name {
                body["type"] = t.clone().into();
            }
            if let Some(m) = &write.message {
                body["message"] = m.clone().into();
            }
            r.post(&graph_path(&g, "embed"), &body).await?
        }
    };
    if json {
        output::print_json(&report);
        return Ok(());
    }
    let props = report["properties"].as_array().cloned().unwrap_or_default();
    if props.is_empty() {
        println!("no @embed properties");
    }
    for p in &props {
        println!(
            "{}.{}: {} row(s) embedded from `{}` by model {}",
            p["type"].as_str().unwrap_or_default(),
            p["property"].as_str().unwrap_or_default(),
            p["rows_embedded"],
            p["source"].as_str().unwrap_or_default(),
            report["model"].as_str().unwrap_or_default()
        );
    }
    println!("{} commit(s)", report["commits"].as_array().map_or(0, Vec::len));
    Ok(())
}
