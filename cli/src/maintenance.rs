//! `omnigraph optimize` and `omnigraph cleanup`: a graph's maintenance,
//! directly or through a server (`admin`); the same JSON either way.

use omnigraph::graph::cleanup::CleanupOptions;
use serde_json::{Value as Json, json};

use crate::cli::{GraphTarget, WriteArgs};
use crate::commands::{Target, graph_path};
use crate::output::{self, CliError};

pub async fn optimize(session: &omnigraph::Session, target: GraphTarget, write: WriteArgs, json: bool) -> Result<(), CliError> {
    let report = match target.resolve()? {
        Target::Store(store) => {
            let g = store.open_for_write(session).await?;
            serde_json::to_value(omnigraph::graph::optimize::optimize(&g, &write.options()).await?).expect("serializable")
        }
        Target::Remote(r, g) => {
            write.check_remote()?;
            let mut body = json!({});
            if let Some(m) = &write.message {
                body["message"] = m.clone().into();
            }
            r.post(&graph_path(&g, "optimize"), &body).await?
        }
    };
    if json {
        output::print_json(&report);
        return Ok(());
    }
    match report["commit"]["id"].as_str() {
        None => println!("nothing to optimize: every table is compact and indexed"),
        Some(id) => {
            println!("optimized in commit {id}");
            for t in report["tables"].as_array().into_iter().flatten() {
                println!(
                    "  {:<24} {} -> {} fragments, {} rows rewritten, {} deleted rows dropped, {} index(es) rebuilt",
                    t["table"].as_str().unwrap_or_default(),
                    t["fragments_before"],
                    t["fragments_after"],
                    t["rows_rewritten"],
                    t["deleted_rows_dropped"],
                    t["indexes_rebuilt"]
                );
            }
        }
    }
    Ok(())
}

pub async fn cleanup(session: &omnigraph::Session, target: GraphTarget, opts: CleanupOptions, json: bool) -> Result<(), CliError> {
    opts.validate()?;
    let report: Json = match target.resolve()? {
        Target::Store(store) => {
            let g = store.open_for_write(session).await?;
            serde_json::to_value(omnigraph::graph::cleanup::cleanup(&g, &opts).await?).expect("serializable")
        }
        Target::Remote(r, g) => {
            let body = json!({"keep_days": opts.keep_days, "keep_commits": opts.keep_commits, "dry_run": opts.dry_run});
            r.post(&graph_path(&g, "cleanup"), &body).await?
        }
    };
    if json {
        output::print_json(&report);
        return Ok(());
    }
    let verb = if opts.dry_run { "would remove" } else { "removed" };
    println!(
        "{verb} {} commit(s) and {} file(s), {} bytes; oldest kept commit {} ({})",
        report["commits_removed"],
        report["files_removed"],
        report["bytes_freed"],
        report["oldest_kept"]["id"].as_str().unwrap_or_default(),
        report["oldest_kept"]["time"].as_str().unwrap_or_default()
    );
    for t in report["tables"].as_array().into_iter().flatten() {
        println!(
            "  {:<24} {} version(s), {} file(s), {} bytes",
            t["table"].as_str().unwrap_or_default(),
            t["versions_removed"],
            t["files_removed"],
            t["bytes_freed"]
        );
    }
    Ok(())
}
