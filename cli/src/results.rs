//! Query results in the four output formats: `table` (for people), `json`
//! (one object), `jsonl` (a metadata line, then one object per row) and
//! `csv`. JSON keeps integers exact, whatever their size.

use std::io::Write;

use omnigraph::query::{QueryResult, Value};
use serde_json::json;

use crate::cli::Format;

fn metadata(query: &str, r: &QueryResult) -> serde_json::Value {
    json!({
        "kind": "metadata",
        "query": query,
        "manifest_version": r.manifest_version,
        "columns": r.columns,
        "row_count": r.rows.len(),
    })
}

pub fn print(query: &str, r: &QueryResult, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let doc = json!({"metadata": metadata(query, r), "rows": r.json_rows().collect::<Vec<_>>()});
            writeln!(out, "{}", serde_json::to_string_pretty(&doc).expect("serializable"))
        }
        Format::Jsonl => {
            writeln!(out, "{}", metadata(query, r))?;
            for row in r.json_rows() {
                writeln!(out, "{row}")?;
            }
            Ok(())
        }
        Format::Csv => {
            writeln!(out, "{}", r.columns.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","))?;
            for row in &r.rows {
                writeln!(out, "{}", row.iter().map(|v| csv_field(&v.display())).collect::<Vec<_>>().join(","))?;
            }
            Ok(())
        }
        Format::Table => table(r, out),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn table(r: &QueryResult, out: &mut dyn Write) -> std::io::Result<()> {
    let cells: Vec<Vec<String>> = r.rows.iter().map(|row| row.iter().map(shown).collect()).collect();
    let widths: Vec<usize> = r
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|row| row[i].chars().count()).chain([c.chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |vals: Vec<&str>| -> String {
        vals.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}", w = *w)).collect::<Vec<_>>().join("  ").trim_end().to_string()
    };
    writeln!(out, "{}", line(r.columns.iter().map(|s| s.as_str()).collect()))?;
    writeln!(out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "))?;
    for row in &cells {
        writeln!(out, "{}", line(row.iter().map(|s| s.as_str()).collect()))?;
    }
    writeln!(out, "({} row{})", r.rows.len(), if r.rows.len() == 1 { "" } else { "s" })
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        other => {
            let s = other.display();
            if s.chars().count() > 60 { format!("{}...", s.chars().take(57).collect::<String>()) } else { s }
        }
    }
}
