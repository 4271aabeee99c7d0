//! Printing: human tables, JSON, and errors (one line with the code; the
//! itemized problems below it).

use omnigraph::error::Error;
use omnigraph::graph::Snapshot;
use serde::Serialize;

pub fn print_json<T: Serialize>(v: &T) {
    println!("{}", serde_json::to_string_pretty(v).expect("serializable"));
}

/// Prints a catalog error (engine errors inside it keep their own detail).
pub fn print_error(e: &omnigraph_catalog::CatalogError, json: bool) {
    match e {
        omnigraph_catalog::CatalogError::Engine(inner) => print_engine_error(inner, json),
        _ if json => println!("{}", serde_json::to_string_pretty(&e.to_json()).expect("serializable")),
        _ => eprintln!("error[{}]: {e}", e.code()),
    }
}

fn print_engine_error(e: &Error, json: bool) {
    if json {
        // Machine-readable errors go to stdout, where scripts read results.
        println!("{}", serde_json::to_string_pretty(&e.to_json()).expect("serializable"));
        return;
    }
    eprintln!("error[{}]: {e}", e.code());
    match e {
        Error::Schema(errs) | Error::Query(errs) => {
            for s in errs {
                eprintln!("  {s}");
            }
        }
        Error::InvalidData { errors, total, .. } => {
            for l in errors {
                eprintln!("  {l}");
            }
            if *total > errors.len() as u64 {
                eprintln!("  ... and {} more", total - errors.len() as u64);
            }
        }
        _ => {}
    }
}

pub fn print_snapshot(s: &Snapshot) {
    println!("graph      {}", s.root);
    println!("manifest   version {}", s.manifest_version);
    println!("genesis    {}", s.genesis_id.as_deref().unwrap_or("-"));
    println!("schema     {}", s.schema_hash);
    println!();
    println!("{:<6} {:<28} {:>8} {:>12}  location", "kind", "table", "version", "rows");
    for t in &s.tables {
        let kind = match t.kind {
            omnigraph::schema::TypeKind::Node => "node",
            omnigraph::schema::TypeKind::Edge => "edge",
        };
        println!("{:<6} {:<28} {:>8} {:>12}  {}", kind, t.name, t.version, t.row_count, t.location);
    }
}
