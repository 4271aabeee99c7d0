//! JSONL export: every row of the snapshot in the loader's format, so that
//! `load --mode overwrite` of the output rebuilds an identical graph (same
//! ids, same values). Nodes first, then edges; nulls are left out.

use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use base64::Engine;
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::load::value::{format_date, format_datetime};
use crate::schema::{TypeDef, TypeKind};
use crate::storage::columns::{DST, ID, SRC};

#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub manifest_version: u64,
    pub rows: u64,
}

fn f32_json(v: f32) -> Value {
    // Shortest text that reads back to the same f32.
    format!("{v}").parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null)
}

/// One Arrow value as JSON (the loader's input form for its type).
pub fn json_value(col: &dyn Array, i: usize) -> Value {
    if col.is_null(i) {
        return Value::Null;
    }
    match col.data_type() {
        DataType::Utf8 => Value::String(col.as_string::<i32>().value(i).to_string()),
        DataType::Boolean => Value::Bool(col.as_boolean().value(i)),
        DataType::Int32 => col.as_primitive::<Int32Type>().value(i).into(),
        DataType::Int64 => col.as_primitive::<Int64Type>().value(i).into(),
        DataType::UInt32 => col.as_primitive::<UInt32Type>().value(i).into(),
        DataType::UInt64 => col.as_primitive::<UInt64Type>().value(i).into(),
        DataType::Float32 => f32_json(col.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => serde_json::Number::from_f64(col.as_primitive::<Float64Type>().value(i)).map(Value::Number).unwrap_or(Value::Null),
        DataType::Date32 => Value::String(format_date(col.as_primitive::<Date32Type>().value(i))),
        DataType::Timestamp(_, _) => Value::String(format_datetime(col.as_primitive::<TimestampMicrosecondType>().value(i))),
        DataType::LargeBinary => Value::String(base64::engine::general_purpose::STANDARD.encode(col.as_binary::<i64>().value(i))),
        DataType::FixedSizeList(_, _) => {
            let l = col.as_fixed_size_list();
            let v = l.value(i);
            Value::Array((0..v.len()).map(|j| json_value(v.as_ref(), j)).collect())
        }
        DataType::List(_) => {
            let v = col.as_list::<i32>().value(i);
            Value::Array((0..v.len()).map(|j| json_value(v.as_ref(), j)).collect())
        }
        other => Value::String(format!("<unsupported {other}>")),
    }
}

fn row_json(t: &TypeDef, b: &RecordBatch, i: usize) -> Value {
    let mut line = Map::new();
    let id = b.column_by_name(ID).expect("id").as_string::<i32>().value(i).to_string();
    let mut data = Map::new();
    for p in &t.properties {
        let v = json_value(b.column_by_name(&p.name).expect("property column").as_ref(), i);
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
    let snap = graph.snapshot().await?;
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
                serde_json::to_writer(&mut *out, &row_json(t, &batch, i)).map_err(|e| Error::storage("output", e))?;
                out.write_all(b"\n")?;
                rows += 1;
            }
        }
    }
    out.flush()?;
    Ok(ExportReport { manifest_version: snap.manifest_version, rows })
}
