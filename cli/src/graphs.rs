//! `omnigraph graphs ...` and `omnigraph recover --catalog`: thin wrappers
//! over the catalog and recovery crates (the server calls the same code),
//! or, with --server, the same operations through a server.

use omnigraph_catalog::lifecycle::retention::parse_duration_ms;
use omnigraph_catalog::{Catalog, GraphEntry, GraphInfo, Result};
use omnigraph_recovery::Options;
use serde_json::Value as Json;

use crate::cli::{CatalogArg, GraphsCommand};
use crate::output::{self, CliError};
use crate::remote::Remote;

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
        let owner = g.operation.as_ref().map(|o| format!(", {} (actor {})", o.lease.owner, o.actor)).unwrap_or_default();
        println!("operation    {} {} in flight{owner}", op.kind, op.id);
    }
}

/// Where a `graphs` command runs.
enum Where {
    Catalog(String),
    Server(Remote),
}

fn resolve(arg: &CatalogArg) -> std::result::Result<Where, CliError> {
    match (&arg.catalog, &arg.server) {
        (Some(_), Some(_)) => Err(CliError::invalid_argument("give --catalog or --server, not both (check OMNIGRAPH_CATALOG and OMNIGRAPH_SERVER)")),
        (Some(c), None) => Ok(Where::Catalog(c.clone())),
        (None, Some(s)) => Ok(Where::Server(Remote::new(s, arg.token.clone())?)),
        (None, None) => Err(CliError::invalid_argument("give --catalog URI or --server URL (or set OMNIGRAPH_CATALOG / OMNIGRAPH_SERVER)")),
    }
}

/// A server's graph view as the catalog's `GraphInfo` (its `serving` field dropped).
fn info(v: Json) -> std::result::Result<GraphInfo, CliError> {
    serde_json::from_value(v).map_err(|e| CliError::invalid_argument(format!("the server answered a graph this CLI cannot read: {e}")))
}

fn print_list(catalog: &str, graphs: &[GraphInfo], json: bool) {
    if json {
        output::print_json(&serde_json::json!({"catalog": catalog, "graphs": graphs}));
    } else if graphs.is_empty() {
        println!("no graphs in {catalog}");
    } else {
        println!("{:<24} {:<13} {:<27} {:<14} location", "id", "state", "incarnation", "operation");
        for g in graphs {
            let e = &g.entry;
            let op = e.op.as_ref().map(|o| o.kind.to_string()).unwrap_or_else(|| "-".into());
            println!("{:<24} {:<13} {:<27} {:<14} {}", e.id, e.state.as_str(), e.incarnation, op, e.location);
        }
    }
}

fn print_done(e: &GraphEntry, json: bool, human: String) {
    if json {
        output::print_json(e);
    } else {
        println!("{human}");
    }
}

fn deleted_message(e: &GraphEntry) -> String {
    match &e.retained_until {
        Some(until) => format!("deleted graph `{}`; its data is kept until {until} (`graphs restore` or `graphs purge`)", e.id),
        None => format!("deleted graph `{}`; its data is removed", e.id),
    }
}

fn read_schema(schema: &std::path::Path) -> std::result::Result<String, CliError> {
    std::fs::read_to_string(schema).map_err(|e| CliError::invalid_argument(format!("cannot read {}: {e}", schema.display())))
}

fn parse_metadata(metadata: Option<String>) -> std::result::Result<Json, CliError> {
    match metadata {
        None => Ok(Json::Null),
        Some(m) => match serde_json::from_str::<Json>(&m) {
            Ok(v @ Json::Object(_)) => Ok(v),
            _ => Err(CliError::invalid_argument("--metadata must be a JSON object")),
        },
    }
}

fn id_path(id: &str) -> String {
    format!("/graphs/{}", crate::remote::encode(id))
}

pub async fn run(session: &omnigraph::Session, cmd: GraphsCommand, json: bool) -> std::result::Result<i32, CliError> {
    match cmd {
        GraphsCommand::List { catalog, all } => match resolve(&catalog)? {
            Where::Catalog(uri) => {
                let c = Catalog::open_existing(&uri, session).await?;
                let graphs: Vec<GraphInfo> = c.list().await?.into_iter().filter(|g| all || g.listed()).collect();
                print_list(c.uri(), &graphs, json);
            }
            Where::Server(r) => {
                let v = r.get(if all { "/graphs?all=true" } else { "/graphs" }).await?;
                let graphs = v["graphs"].as_array().cloned().unwrap_or_default().into_iter().map(info).collect::<std::result::Result<Vec<_>, _>>()?;
                print_list(v["catalog"].as_str().unwrap_or_default(), &graphs, json);
            }
        },
        GraphsCommand::Show { catalog, id } => {
            let g = match resolve(&catalog)? {
                Where::Catalog(uri) => Catalog::open_existing(&uri, session).await?.show(&id).await?,
                Where::Server(r) => info(r.get(&id_path(&id)).await?)?,
            };
            if json {
                output::print_json(&g);
            } else {
                print_info(&g);
            }
        }
        GraphsCommand::Create { catalog, id, schema, metadata } => {
            let src = read_schema(&schema)?;
            let metadata = parse_metadata(metadata)?;
            let e = match resolve(&catalog)? {
                Where::Catalog(uri) => Catalog::open(&uri, session).await?.create(&id, &src, metadata).await?,
                Where::Server(r) => {
                    let mut body = serde_json::json!({"id": id, "schema": src});
                    if !metadata.is_null() {
                        body["metadata"] = metadata;
                    }
                    info(r.post("/graphs", &body).await?)?.entry
                }
            };
            print_done(&e, json, format!("created graph `{}` at {}", e.id, e.location));
        }
        GraphsCommand::Delete { catalog, id, retain, remove_data } => {
            let retain_ms = retain.as_deref().map(parse_duration_ms).transpose()?;
            let opts = omnigraph_catalog::lifecycle::delete::DeleteOptions { retain_ms, remove_imported_data: remove_data };
            let e = match resolve(&catalog)? {
                Where::Catalog(uri) => Catalog::open_existing(&uri, session).await?.delete(&id, opts).await?,
                Where::Server(r) => {
                    let q = match (retain, remove_data) {
                        (Some(d), _) => format!("?retain={}", crate::remote::encode(&d)),
                        (None, true) => "?remove_data=true".to_string(),
                        (None, false) => String::new(),
                    };
                    info(r.delete(&format!("{}{q}", id_path(&id))).await?)?.entry
                }
            };
            print_done(&e, json, deleted_message(&e));
        }
        GraphsCommand::Restore { catalog, id } => {
            let e = match resolve(&catalog)? {
                Where::Catalog(uri) => Catalog::open_existing(&uri, session).await?.restore(&id).await?,
                Where::Server(r) => info(r.post(&format!("{}/restore", id_path(&id)), &Json::Null).await?)?.entry,
            };
            print_done(&e, json, format!("restored graph `{}` at {}", e.id, e.location));
        }
        GraphsCommand::Purge { catalog, id } => {
            let e = match resolve(&catalog)? {
                Where::Catalog(uri) => Catalog::open_existing(&uri, session).await?.purge(&id).await?,
                Where::Server(r) => info(r.post(&format!("{}/purge", id_path(&id)), &Json::Null).await?)?.entry,
            };
            print_done(&e, json, format!("purged graph `{}`: its data is removed", e.id));
        }
        GraphsCommand::Import { catalog, id, path } => match resolve(&catalog)? {
            Where::Catalog(uri) => {
                let e = Catalog::open(&uri, session).await?.import(&id, &path).await?;
                print_done(&e, json, format!("imported graph `{}` from {}", e.id, e.location));
            }
            Where::Server(_) => {
                return Err(CliError::invalid_argument("import registers a directory on the catalog's storage: run it with --catalog"));
            }
        },
    }
    Ok(0)
}

/// `omnigraph recover --catalog`: 0 clean, 1 problems found or left, 2 error.
pub async fn recover(session: &omnigraph::Session, uri: &str, apply: bool, force: Option<String>, json: bool) -> Result<i32> {
    let c = Catalog::open_existing(uri, session).await?.with_actor("recovery");
    let plan = omnigraph_recovery::run(&c, &Options { apply, force }).await?;
    if json {
        output::print_json(&plan);
    } else {
        print!("{}", plan.render());
    }
    Ok(if plan.clean() { 0 } else { 1 })
}
