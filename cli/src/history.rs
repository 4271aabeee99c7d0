//! `omnigraph commit list|show`: a graph's commits, directly or through a
//! server; the same JSON either way (`--json`), or one line per commit.

use omnigraph::graph::history::MAX_PAGE;
use serde_json::Value as Json;

use crate::cli::CommitCommand;
use crate::commands::{Target, graph_path};
use crate::output::{self, CliError};
use crate::remote::encode;

pub async fn run(session: &omnigraph::Session, command: CommitCommand, json: bool) -> Result<(), CliError> {
    match command {
        CommitCommand::List { target, limit, before } => {
            if limit == 0 || limit > MAX_PAGE {
                return Err(CliError::invalid_argument(format!("--limit must be 1 to {MAX_PAGE}")));
            }
            let page = match target.resolve()? {
                Target::Store(store) => serde_json::to_value(store.open(session).await?.commits(limit, before.as_deref()).await?).expect("serializable"),
                Target::Remote(r, g) => {
                    let mut path = format!("{}?limit={limit}", graph_path(&g, "commits"));
                    if let Some(b) = &before {
                        path.push_str(&format!("&before={}", encode(b)));
                    }
                    r.get(&path).await?
                }
            };
            if json {
                output::print_json(&page);
            } else {
                for c in page["commits"].as_array().into_iter().flatten() {
                    println!("{}", line(c));
                }
                if let Some(next) = page["next"].as_str() {
                    println!("more: --before {next}");
                }
            }
        }
        CommitCommand::Show { target, id } => {
            let c = match target.resolve()? {
                Target::Store(store) => serde_json::to_value(store.open(session).await?.commit(&id).await?).expect("serializable"),
                Target::Remote(r, g) => r.get(&format!("{}/{}", graph_path(&g, "commits"), encode(&id))).await?,
            };
            if json {
                output::print_json(&c);
            } else {
                let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                println!("commit   {}", s("id"));
                let parents: Vec<&str> = c["parents"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).collect();
                println!("parents  {}", if parents.is_empty() { "(none)".to_string() } else { parents.join(" ") });
                println!("branch   {}", s("branch"));
                println!("actor    {}", s("actor"));
                println!("time     {}", s("time"));
                println!("kind     {}", s("kind"));
                if let Some(m) = c["message"].as_str() {
                    println!("message  {m}");
                }
                println!("manifest version {}", c["manifest_version"]);
                for (t, n) in c["changes"].as_object().into_iter().flatten() {
                    println!("  {t:<24} +{} ~{} -{}", n["inserted"], n["updated"], n["deleted"]);
                }
            }
        }
    }
    Ok(())
}

/// `omnigraph changes`: one JSON line per commit with `--json`, else a
/// line per commit and one per changed entity.
pub async fn changes(session: &omnigraph::Session, target: crate::cli::GraphTarget, from: String, to: Option<String>, json: bool) -> Result<(), CliError> {
    let target = target.resolve()?;
    // Written as they come; a reader that goes away (`| head`) ends the
    // command with an I/O error, not a panic.
    let mut print = |c: Json| -> omnigraph::Result<()> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if json {
            writeln!(out, "{c}")?;
            return Ok(());
        }
        let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
        writeln!(out, "{}  {}  {:<12} {}", s("commit"), s("time"), s("actor"), s("kind"))?;
        for (t, ch) in c["changes"].as_object().into_iter().flatten() {
            for row in ch["inserted"].as_array().into_iter().flatten() {
                writeln!(out, "  + {row}")?;
            }
            for u in ch["updated"].as_array().into_iter().flatten() {
                writeln!(out, "  ~ {t} {} {} -> {}", u["id"], u["old"], u["new"])?;
            }
            for id in ch["deleted"].as_array().into_iter().flatten() {
                writeln!(out, "  - {t} {id}")?;
            }
        }
        Ok(())
    };
    match target {
        Target::Store(store) => {
            let g = store.open(session).await?;
            omnigraph::changes::changes(&g, &from, to.as_deref(), &mut print).await?;
        }
        Target::Remote(r, g) => {
            let mut path = format!("{}?from={}", graph_path(&g, "changes"), encode(&from));
            if let Some(t) = &to {
                path.push_str(&format!("&to={}", encode(t)));
            }
            let mut body = Vec::new();
            r.get_into(&path, &mut body).await?;
            for line in String::from_utf8_lossy(&body).lines() {
                let c: Json = serde_json::from_str(line).map_err(|e| CliError::invalid_argument(format!("the server's changes are not JSON lines: {e}")))?;
                // The server's last line is its cursor; the commits say it too.
                if c.get("commit").is_some() {
                    print(c)?;
                }
            }
        }
    }
    Ok(())
}

/// One commit on one line: id, time, actor, kind, changes, message.
fn line(c: &Json) -> String {
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
    let changes: Vec<String> = c["changes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(t, n)| {
            let mut parts = Vec::new();
            for (sign, k) in [('+', "inserted"), ('~', "updated"), ('-', "deleted")] {
                if n[k].as_u64().unwrap_or(0) > 0 {
                    parts.push(format!("{sign}{}", n[k]));
                }
            }
            format!("{t} {}", parts.join(" "))
        })
        .collect();
    let mut out = format!("{}  {}  {:<12} {:<7}", s("id"), s("time"), s("actor"), s("kind"));
    if !changes.is_empty() {
        out.push_str(&format!("  {}", changes.join(", ")));
    }
    if let Some(m) = c["message"].as_str() {
        // One line per commit: the message's first line.
        out.push_str(&format!("  \"{}\"", m.lines().next().unwrap_or_default()));
    }
    out
}
