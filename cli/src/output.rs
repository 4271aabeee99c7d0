//! Printing: human tables, JSON, and errors (one line with the code; the
//! itemized problems below it). Errors from a server arrive as the same
//! JSON the direct commands print with `--json`, and print the same way.

use serde::Serialize;
use serde_json::Value as Json;

pub fn print_json<T: Serialize>(v: &T) {
    println!("{}", serde_json::to_string_pretty(v).expect("serializable"));
}

/// Any error a command can end with.
#[derive(Debug)]
pub enum CliError {
    Catalog(omnigraph_catalog::CatalogError),
    Policy(omnigraph_policy::PolicyError),
    /// An error answer from a server: its status and `{"error", "code", ...}` body.
    Remote {
        body: Json,
    },
    /// The server could not be reached, or answered something that is not omnigraph's.
    Connect {
        server: String,
        message: String,
    },
}

impl From<omnigraph_catalog::CatalogError> for CliError {
    fn from(e: omnigraph_catalog::CatalogError) -> Self {
        CliError::Catalog(e)
    }
}

impl From<omnigraph::Error> for CliError {
    fn from(e: omnigraph::Error) -> Self {
        CliError::Catalog(e.into())
    }
}

impl From<omnigraph_policy::PolicyError> for CliError {
    fn from(e: omnigraph_policy::PolicyError) -> Self {
        CliError::Policy(e)
    }
}

impl CliError {
    pub fn invalid_argument(message: impl Into<String>) -> CliError {
        omnigraph::Error::InvalidArgument(message.into()).into()
    }

    /// The error as `{"error", "code", "kind", "details"?}`.
    pub fn to_json(&self) -> Json {
        match self {
            CliError::Catalog(e) => e.to_json(),
            CliError::Policy(e) => e.to_json(),
            CliError::Remote { body } => body.clone(),
            CliError::Connect { server, message } => {
                serde_json::json!({"error": format!("cannot reach {server}: {message}"), "code": crate::codes::SERVER_UNREACHABLE.code, "kind": crate::codes::SERVER_UNREACHABLE.kind})
            }
        }
    }
}

/// One detail line of an error (a schema/query position or a JSONL line).
fn detail_line(d: &Json) -> String {
    let code = d["code"].as_str().unwrap_or_default();
    let message = d["message"].as_str().unwrap_or_default();
    if let Some(target) = d["target"].as_str() {
        // A schema change's lint: what it is about, and why.
        return format!("{code} {target}: {message}");
    }
    match (d["line"].as_u64(), d["col"].as_u64()) {
        (Some(l), Some(c)) => format!("{l}:{c}: {code} {message}"),
        (Some(l), None) => format!("line {l}: {code} {message}"),
        _ => d.to_string(),
    }
}

pub fn print_error(e: &CliError, json: bool) {
    let v = e.to_json();
    if json {
        // Machine-readable errors go to stdout, where scripts read results.
        println!("{}", serde_json::to_string_pretty(&v).expect("serializable"));
        return;
    }
    eprintln!("error[{}]: {}", v["code"].as_str().unwrap_or(crate::codes::UNEXPECTED_ANSWER.code), v["error"].as_str().unwrap_or_default());
    // A merge's conflicts, one per line: kind, type, id, what.
    if let Some(conflicts) = v["conflicts"].as_array() {
        for c in conflicts {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            eprintln!("  {:<18} {:<16} {:<24} {}", s("kind"), s("type"), s("id"), s("message"));
        }
    }
    if let Some(details) = v["details"].as_array() {
        for d in details {
            eprintln!("  {}", detail_line(d));
        }
        if let Some(total) = v["total"].as_u64()
            && total > details.len() as u64
        {
            eprintln!("  ... and {} more", total - details.len() as u64);
        }
    }
}

/// A snapshot (as its JSON) for people.
pub fn print_snapshot(s: &Json) {
    let text = |v: &Json| v.as_str().map(String::from).unwrap_or_else(|| "-".into());
    println!("graph      {}", text(&s["root"]));
    println!("manifest   version {}", s["manifest_version"]);
    println!("genesis    {}", text(&s["genesis_id"]));
    println!("schema     {}", text(&s["schema_hash"]));
    println!();
    println!("{:<6} {:<28} {:>8} {:>12}  location", "kind", "table", "version", "rows");
    for t in s["tables"].as_array().into_iter().flatten() {
        println!(
            "{:<6} {:<28} {:>8} {:>12}  {}",
            text(&t["kind"]),
            text(&t["name"]),
            t["version"].to_string(),
            t["row_count"].to_string(),
            text(&t["location"])
        );
    }
}
