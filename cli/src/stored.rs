//! `omnigraph queries add|list|show|remove|run`: a graph's stored queries,
//! directly or through a server; the same JSON either way (`--json`).

use omnigraph::Error;
use omnigraph::stored;
use serde_json::Value as Json;

use crate::cli::QueriesCommand;
use crate::commands::{Target, at_query, graph_path, parse_at, read_file};
use crate::output::{self, CliError};
use crate::remote::encode;

/// A stored query as the server's `GET /graphs/{id}/queries` describes it.
fn tool(snap: &omnigraph::graph::Snapshot, q: &stored::StoredQuery, with_source: bool) -> Result<Json, CliError> {
    let mut d = stored::tool::describe(&snap.schema.ir, q)?;
    if with_source {
        d["source"] = q.source.clone().into();
    }
    Ok(d)
}

pub async fn run(session: &omnigraph::Session, command: QueriesCommand, json: bool) -> Result<i32, CliError> {
    match command {
        QueriesCommand::Add { target, file, write } => {
            let src = read_file(&file)?;
            let doc = match target.resolve()? {
                Target::Store(store) => {
                    let g = store.open_for_write(session).await?;
                    serde_json::to_value(stored::add(&g, &src, &write.options()).await?).expect("serializable")
                }
                Target::Remote(r, g) => {
                    write.check_remote()?;
                    let body = serde_json::json!({"source": src, "message": write.message, "if_commit": write.if_commit});
                    r.post(&graph_path(&g, "queries"), &body).await?
                }
            };
            print_change(&doc, json);
        }
        QueriesCommand::Remove { target, names, write } => {
            let doc = match target.resolve()? {
                Target::Store(store) => {
                    let g = store.open_for_write(session).await?;
                    serde_json::to_value(stored::remove(&g, &names, &write.options()).await?).expect("serializable")
                }
                Target::Remote(r, g) => {
                    write.check_remote()?;
                    if write.message.is_some() || write.if_commit.is_some() {
                        return Err(CliError::invalid_argument("through a server, `queries remove` takes no --message or --if-commit"));
                    }
                    // One request per name (each its own commit).
                    let mut removed = Vec::new();
                    let mut commit = Json::Null;
                    for n in &names {
                        let d = r.delete(&graph_path(&g, &format!("queries/{}", encode(n)))).await?;
                        removed.extend(d["removed"].as_array().cloned().unwrap_or_default());
                        commit = d["commit"].clone();
                    }
                    serde_json::json!({"added": [], "replaced": [], "removed": removed, "unchanged": [], "commit": commit})
                }
            };
            print_change(&doc, json);
        }
        QueriesCommand::List { target, at } => {
            let doc = match target.resolve()? {
                Target::Store(store) => {
                    let g = store.open(session).await?;
                    let snap = g.snapshot_at(parse_at(&at.at)?.as_ref()).await?;
                    let catalog = stored::catalog(&g, &snap).await?;
                    let queries = catalog.queries.iter().map(|q| tool(&snap, q, false)).collect::<Result<Vec<_>, _>>()?;
                    serde_json::json!({"commit": snap.commit.id, "queries": queries})
                }
                Target::Remote(r, g) => r.get(&format!("{}{}", graph_path(&g, "queries"), at_query(&at.at, true))).await?,
            };
            if json {
                output::print_json(&doc);
            } else {
                let queries = doc["queries"].as_array().cloned().unwrap_or_default();
                if queries.is_empty() {
                    println!("no stored queries");
                }
                for q in &queries {
                    let params: Vec<String> = q["params"]["properties"]
                        .as_object()
                        .map(|p| {
                            p.keys()
                                .map(|k| {
                                    let required = q["params"]["required"].as_array().is_some_and(|r| r.iter().any(|x| x == k));
                                    format!("${k}{}", if required { "" } else { "?" })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    println!(
                        "{:<24} {:<9} ({}) {}",
                        q["name"].as_str().unwrap_or_default(),
                        q["kind"].as_str().unwrap_or_default(),
                        params.join(", "),
                        q["description"].as_str().unwrap_or_default()
                    );
                }
            }
        }
        QueriesCommand::Show { target, at, name } => {
            let doc = match target.resolve()? {
                Target::Store(store) => {
                    let g = store.open(session).await?;
                    let snap = g.snapshot_at(parse_at(&at.at)?.as_ref()).await?;
                    let catalog = stored::catalog(&g, &snap).await?;
                    let q = catalog.get(&name).ok_or_else(|| Error::StoredQueryNotFound { name: name.clone() })?;
                    tool(&snap, q, true)?
                }
                Target::Remote(r, g) => r.get(&format!("{}{}", graph_path(&g, &format!("queries/{}", encode(&name))), at_query(&at.at, true))).await?,
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
        QueriesCommand::Run { target, name, params, at, format, write } => {
            let params: Json = match &params {
                Some(p) => serde_json::from_str(p).map_err(|e| CliError::invalid_argument(format!("--params is not valid JSON: {e}")))?,
                None => Json::Null,
            };
            let (mutation, doc) = match target.resolve()? {
                Target::Store(store) => {
                    let g = store.open(session).await?;
                    let at = parse_at(&at.at)?;
                    let snap = g.snapshot_at(at.as_ref()).await?;
                    let plan = stored::find(&g, &snap, &name).await?;
                    if plan.is_mutation() {
                        if at.is_some() {
                            return Err(CliError::invalid_argument(format!("`{name}` is a mutation; a write lands on the head (--at is for reads)")));
                        }
                        let g = store.open_for_write(session).await?;
                        let (head, head_snap) = g.current().await?;
                        let plan = stored::find(&head, &head_snap, &name).await?;
                        let report = omnigraph::query::run_mutation_with(&head, &plan, &params, &write.options()).await?;
                        head.write_queue().settle().await;
                        (true, serde_json::to_value(&report).expect("serializable"))
                    } else {
                        let g = g.bound(&snap);
                        let deadline = omnigraph::query::limits::Deadline::start(g.query_limits().timeout);
                        let result = omnigraph::query::run_read_on(&g, snap, &plan, &params, deadline).await?;
                        (false, result.to_json_doc(&name))
                    }
                }
                Target::Remote(r, g) => {
                    write.check_remote()?;
                    let mut body = serde_json::json!({"params": params});
                    if let Some(a) = &at.at {
                        body["at"] = a.clone().into();
                    }
                    if let Some(m) = &write.message {
                        body["message"] = m.clone().into();
                    }
                    if let Some(c) = &write.if_commit {
                        body["if_commit"] = c.clone().into();
                    }
                    let doc = r.post(&graph_path(&g, &format!("queries/{}", encode(&name))), &body).await?;
                    (doc.get("metadata").is_none(), doc)
                }
            };
            crate::commands::print_answer(&doc, mutation, format, json)?;
        }
    }
    Ok(0)
}

/// What `add` or `remove` did, for people (or as JSON).
fn print_change(doc: &Json, json: bool) {
    if json {
        output::print_json(doc);
        return;
    }
    let list = |k: &str| doc[k].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    for (k, word) in [("added", "added"), ("replaced", "replaced"), ("removed", "removed"), ("unchanged", "unchanged")] {
        let l = list(k);
        if !l.is_empty() {
            println!("{word}: {l}");
        }
    }
    match doc["commit"].as_str() {
        Some(c) => println!("commit {c}"),
        None => println!("nothing to change"),
    }
}
