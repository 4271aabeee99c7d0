//! `omnigraph branch create|list|delete|merge`: a graph's branches, directly
//! or through a server; the same JSON either way (`--json`).

use serde_json::Value as Json;

use crate::cli::{BranchCommand, GraphTarget};
use crate::commands::{Target, graph_path};
use crate::output::{self, CliError};
use crate::remote::encode;

/// The target of a branch command: `--branch` has no meaning there (the
/// branch is an argument).
fn target_of(t: &GraphTarget) -> Result<Target, CliError> {
    if t.branch.is_some() {
        return Err(CliError::invalid_argument("branch commands name their branches as arguments; --branch is for data commands"));
    }
    t.resolve()
}

pub async fn run(session: &omnigraph::Session, command: BranchCommand, json: bool) -> Result<i32, CliError> {
    use omnigraph::graph::branches;
    match command {
        BranchCommand::Create { target, name, from, actor } => {
            let info = match target_of(&target)? {
                Target::Store(store) => {
                    let g = store.open_for_write(session).await?;
                    let opts = omnigraph::graph::WriteOptions { actor, ..Default::default() };
                    serde_json::to_value(branches::create(&g, &name, from.as_deref(), &opts).await?).expect("serializable")
                }
                Target::Remote(r, g) => {
                    crate::cli::WriteArgs { actor, message: None, if_commit: None }.check_remote()?;
                    r.post(&graph_path(&g, "branches"), &serde_json::json!({"name": name, "from": from})).await?
                }
            };
            if json {
                output::print_json(&info);
            } else {
                println!(
                    "created branch {} from {} at {}",
                    info["name"].as_str().unwrap_or_default(),
                    info["parent"].as_str().unwrap_or("main"),
                    info["created_from"].as_str().unwrap_or_default()
                );
            }
        }
        BranchCommand::List { target } => {
            let list = match target_of(&target)? {
                Target::Store(store) => {
                    let g = store.open(session).await?;
                    serde_json::json!({"branches": branches::list(&g).await?})
                }
                Target::Remote(r, g) => r.get(&graph_path(&g, "branches")).await?,
            };
            if json {
                output::print_json(&list);
            } else {
                println!("{:<24} {:<12} {:<28} time", "branch", "from", "head");
                for b in list["branches"].as_array().into_iter().flatten() {
                    let head = &b["head"];
                    println!(
                        "{:<24} {:<12} {:<28} {}",
                        b["name"].as_str().unwrap_or_default(),
                        b["parent"].as_str().unwrap_or("-"),
                        head["id"].as_str().unwrap_or_default(),
                        head["time"].as_str().unwrap_or_default()
                    );
                }
            }
        }
        BranchCommand::Delete { target, name } => {
            match target_of(&target)? {
                Target::Store(store) => {
                    let g = store.open_for_write(session).await?;
                    branches::delete(&g, &name).await?;
                }
                Target::Remote(r, g) => {
                    r.delete(&format!("{}/{}", graph_path(&g, "branches"), encode(&name))).await?;
                }
            }
            if json {
                output::print_json(&serde_json::json!({"deleted": name}));
            } else {
                println!("deleted branch {name}");
            }
        }
        BranchCommand::Merge { target, source, into, delete_source, dry_run, write } => {
            let report = match target_of(&target)? {
                Target::Store(store) => {
                    let g = store.open_for_write(session).await?;
                    let opts = omnigraph::merge::MergeOptions { into: Some(into), dry_run, delete_source };
                    let r = omnigraph::merge::merge(&g, &source, &opts, &write.options()).await?;
                    g.write_queue().settle().await;
                    serde_json::to_value(r).expect("serializable")
                }
                Target::Remote(r, g) => {
                    write.check_remote()?;
                    let body = serde_json::json!({"into": into, "dry_run": dry_run, "delete_source": delete_source, "message": write.message, "if_commit": write.if_commit});
                    r.post(&format!("{}/{}/merge", graph_path(&g, "branches"), encode(&source)), &body).await?
                }
            };
            if json {
                output::print_json(&report);
            } else {
                print_merge(&report);
            }
        }
    }
    Ok(0)
}

fn print_merge(r: &Json) {
    let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
    let verb = if r["dry_run"].as_bool() == Some(true) { "would merge" } else { "merged" };
    match s("outcome").as_str() {
        "up_to_date" => println!("{} is up to date with {}: nothing to merge", s("into"), s("source")),
        outcome => {
            let how = if outcome == "fast_forward" { " (fast-forward)" } else { "" };
            let commit = r["commit"]["id"].as_str().map(|c| format!("; commit {c}")).unwrap_or_default();
            println!("{verb} {} into {}{how}{commit}", s("source"), s("into"));
            for (t, n) in r["changes"].as_object().into_iter().flatten() {
                println!("  {t:<24} +{} ~{} -{}", n["inserted"], n["updated"], n["deleted"]);
            }
        }
    }
    if r["source_deleted"].as_bool() == Some(true) {
        println!("deleted branch {}", s("source"));
    }
}
