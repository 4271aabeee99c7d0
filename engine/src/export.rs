//! JSONL export: every row of the snapshot in the loader's format, so that
//! `load --mode overwrite` of the output rebuilds an identical graph (same
//! ids, same values). Nodes first, then edges; nulls are left out. Values
//! are read and written as JSON by `query::Value`, the one Arrow reader.

use std::io::Write;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::schema::{TypeDef, TypeKind};
use crate::storage::columns::{DST, ID, SRC};

#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub manifest_version: u64,
    /// The commit exported.
    pub commit: String,
    pub rows: u64,
}

pub(crate) fn row_json(t: &TypeDef, b: &RecordBatch, i: usize) -> Value {
    let mut line = Map::new();
    let id = b.column_by_name(ID).expect("id").as_string::<i32>().value(i).to_string();
    let mut data = Map::new();
    for p in &t.properties {
        let v = crate::query::Value::from_array(b.column_by_name(&p.name).expect("property column").as_ref(), i).to_json();
        if !v.is_null() {
            data.insert(p.name.clone(), v);
        }
    }
    match t.kind {
        TypeKind::Node => {
            line.insert("type".into(), t.name.clone().into());
            if t.key.is_empty() {
                line.insert("id".into(), id.into());
            }
        }
        TypeKind::Edge => {
            line.insert("edge".into(), t.name.clone().into());
            line.insert("id".into(), id.into());
            line.insert("from".into(), b.column_by_name(SRC).expect("src").as_string::<i32>().value(i).into());
            line.insert("to".into(), b.column_by_name(DST).expect("dst").as_string::<i32>().value(i).into());
        }
    }
    line.insert("data".into(), Value::Object(data));
    Value::Object(line)
}

/// Writes the latest snapshot (or one type of it) as JSONL to `out`.
pub async fn export(graph: &Graph, only_type: Option<&str>, out: &mut dyn Write) -> Result<ExportReport> {
    export_at(graph, only_type, None, out).await
}

/// [`export`] of the graph as it was at `at` (now when `None`).
pub async fn export_at(graph: &Graph, only_type: Option<&str>, at: Option<&crate::graph::history::At>, out: &mut dyn Write) -> Result<ExportReport> {
    let snap = graph.snapshot_at(at).await?;
    // The types and properties of the commit read.
    let bound = graph.bound(&snap);
    let graph = &bound;
    let types: Vec<&TypeDef> = match only_type {
        Some(name) => vec![graph.type_named(name)?],
        None => graph.schema().types().collect(),
    };
    let mut rows = 0u64;
    for t in types {
        let ds = graph.open_table(&snap, t).await?;
        let key = t.table_key();
        let mut stream = ds.scan().scan_in_order(true).try_into_stream().await.map_err(|e| Error::lance(&key, e))?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| Error::lance(&key, e))?;
            for i in 0..batch.num_rows() {
                serde_json::to_writer(&mut *out, &row_json(t, &batch, i))
                    // A failed write (a reader gone or too slow) stays an I/O error.
                    .map_err(|e| if e.is_io() { Error::Io(e.into()) } else { Error::storage("output", e) })?;
                out.write_all(b"\n")?;
                rows += 1;
            }
        }
    }
    out.flush()?;
    Ok(ExportReport { manifest_version: snap.manifest_version, commit: snap.commit.id.clone(), rows })
}
