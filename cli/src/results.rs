//! Query results in the four output formats: `table` (for people), `json`
//! (one object), `jsonl` (a metadata line, then one object per row) and
//! `csv`. Direct and remote queries print through the same code, from the
//! same JSON document (`QueryResult::to_json_doc`, which the server's
//! `/query` returns), so their output is identical. JSON keeps integers
//! exact, whatever their size.

use std::io::Write;

use serde_json::Value as Json;

use crate::cli::Format;

fn columns(doc: &Json) -> Vec<String> {
    doc["metadata"]["columns"].as_array().map(|c| c.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default()
}

fn rows(doc: &Json) -> &[Json] {
    doc["rows"].as_array().map(|r| r.as_slice()).unwrap_or_default()
}

/// Prints a `{"metadata": ..., "rows": [...]}` document.
pub fn print(doc: &Json, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    let cols = columns(doc);
    let cells = |row: &Json| -> Vec<Json> { cols.iter().map(|c| row.get(c).cloned().unwrap_or(Json::Null)).collect() };
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(doc).expect("serializable")),
        Format::Jsonl => {
            writeln!(out, "{}", doc["metadata"])?;
            for row in rows(doc) {
                writeln!(out, "{row}")?;
            }
            Ok(())
        }
        Format::Csv => {
            writeln!(out, "{}", cols.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","))?;
            for row in rows(doc) {
                writeln!(out, "{}", cells(row).iter().map(|v| csv_field(&display(v))).collect::<Vec<_>>().join(","))?;
            }
            Ok(())
        }
        Format::Table => {
            let all: Vec<Vec<String>> = rows(doc).iter().map(|r| cells(r).iter().map(shown).collect()).collect();
            table(&cols, &all, out)
        }
    }
}

/// Text of a value for CSV: strings bare, null empty, the rest as JSON.
fn display(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn table(cols: &[String], cells: &[Vec<String>], out: &mut dyn Write) -> std::io::Result<()> {
    let widths: Vec<usize> =
        cols.iter().enumerate().map(|(i, c)| cells.iter().map(|row| row[i].chars().count()).chain([c.chars().count()]).max().unwrap_or(0)).collect();
    let line =
        |vals: Vec<&str>| -> String { vals.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}", w = *w)).collect::<Vec<_>>().join("  ").trim_end().to_string() };
    writeln!(out, "{}", line(cols.iter().map(|s| s.as_str()).collect()))?;
    writeln!(out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "))?;
    for row in cells {
        writeln!(out, "{}", line(row.iter().map(|s| s.as_str()).collect()))?;
    }
    writeln!(out, "({} row{})", cells.len(), if cells.len() == 1 { "" } else { "s" })
}

/// Text of a value in a table cell (null shown, long values cut).
fn shown(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        other => {
            let s = display(other);
            if s.chars().count() > 60 { format!("{}...", s.chars().take(57).collect::<String>()) } else { s }
        }
    }
}
