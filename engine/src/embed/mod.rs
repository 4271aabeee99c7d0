//! Embeddings for `@embed("source")` properties: a `Vector(N)` property
//! whose value, when a write does not give it, is computed from the source
//! text by an embedding provider ([`client`], configured by [`config`]).
//!
//! - Writes (the loader, mutations, `omnigraph embed`) pass their rows
//!   through [`fill`] before staging: every row with a source text and no
//!   vector gets one, in batched requests; a failure fails the whole write.
//! - The model is recorded per property under `_embeddings/` the first time
//!   it embeds; a provider configured with another model is refused
//!   (`OG-EMBED-003`) for writes and for `nearest` with a text.
//! - `nearest($d.embedding, $text)` embeds the text with the same model
//!   ([`query_vector`]).

pub mod client;
pub mod config;
pub mod refresh;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, FixedSizeListArray, Float32Array, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field};
use serde::{Deserialize, Serialize};

pub use client::Embedder;
pub use config::EmbedConfig;

use crate::codes;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::graph::layout::EMBEDDINGS_DIR;
use crate::schema::{PropType, Property, TypeDef};
use crate::storage::columns::{ID, table_schema};

/// What `_embeddings/<Type>.<property>.json` records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModelRecord {
    pub model: String,
    pub dim: u32,
    pub source: String,
}

fn record_path(t: &TypeDef, prop: &str) -> String {
    format!("{EMBEDDINGS_DIR}/{}.{prop}.json", t.name)
}

/// The model recorded for `t.prop`, if it was ever embedded.
pub async fn recorded(graph: &Graph, t: &TypeDef, prop: &str) -> Result<Option<ModelRecord>> {
    let path = record_path(t, prop);
    match graph.root().get(&path).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Unreadable { path, message: e.to_string() }),
    }
}

/// Records `model` for `t.prop`, or refuses when another one is recorded.
async fn check_model(graph: &Graph, t: &TypeDef, p: &Property, embedder: &Embedder) -> Result<()> {
    match recorded(graph, t, &p.name).await? {
        Some(r) if r.model == embedder.model() => Ok(()),
        Some(r) => Err(mismatch(t, &p.name, &r.model, embedder)),
        None => {
            let rec = ModelRecord { model: embedder.model().to_string(), dim: dim_of(p), source: p.embed.clone().unwrap_or_default() };
            let bytes = serde_json::to_vec_pretty(&rec).expect("a record serializes");
            graph.root().put_if_absent(&record_path(t, &p.name), bytes).await?;
            // Two first writers at once: the one that landed decides.
            match recorded(graph, t, &p.name).await? {
                Some(r) if r.model != embedder.model() => Err(mismatch(t, &p.name, &r.model, embedder)),
                _ => Ok(()),
            }
        }
    }
}

/// Replaces the record of `t.prop` (after `omnigraph embed --all` made
/// every vector with the configured model).
pub async fn rerecord(graph: &Graph, t: &TypeDef, p: &Property, model: &str) -> Result<()> {
    let path = record_path(t, &p.name);
    let rec = ModelRecord { model: model.to_string(), dim: dim_of(p), source: p.embed.clone().unwrap_or_default() };
    graph.root().delete(&path).await?;
    graph.root().put_if_absent(&path, serde_json::to_vec_pretty(&rec).expect("a record serializes")).await?;
    Ok(())
}

fn mismatch(t: &TypeDef, prop: &str, recorded: &str, embedder: &Embedder) -> Error {
    Error::Embed {
        code: codes::EMBED_MODEL_MISMATCH.code,
        provider: embedder.config().provider(),
        message: format!(
            "`{}.{prop}` holds vectors of model `{recorded}`, but the configured model is `{}`; configure `{recorded}`, or re-embed every row with `omnigraph embed --all`",
            t.name,
            embedder.model()
        ),
    }
}

fn dim_of(p: &Property) -> u32 {
    match p.ty {
        PropType::Vector(n) => n,
        _ => 0,
    }
}

/// The vector of `text` for a `nearest` on `t.prop`, by the model its
/// vectors were made by.
pub async fn query_vector(graph: &Graph, t: &TypeDef, prop: &str, text: &str) -> Result<Vec<f32>> {
    let p = t.property(prop).ok_or_else(|| Error::InvalidArgument(format!("{} has no property `{prop}`", t.name)))?;
    let embedder = graph.session().embedder()?;
    if let Some(r) = recorded(graph, t, prop).await?
        && r.model != embedder.model()
    {
        return Err(mismatch(t, prop, &r.model, embedder));
    }
    let v = embedder.embed(&[text], dim_of(p) as usize).await?;
    Ok(v[0].to_vec())
}

/// The `@embed` properties of `t`, with their source property.
pub fn targets(t: &TypeDef) -> Vec<(&Property, &str)> {
    t.properties.iter().filter_map(|p| p.embed.as_deref().map(|s| (p, s))).collect()
}

/// `batch` (rows of `t` in [`unembedded_schema`](crate::storage::columns::unembedded_schema)
/// order) with every missing `@embed` vector computed from its source
/// text, in the table's schema. A row of a required vector without a
/// source text is refused, naming its id.
pub async fn fill(graph: &Graph, t: &TypeDef, batch: RecordBatch) -> Result<RecordBatch> {
    let targets = targets(t);
    if targets.is_empty() || batch.num_rows() == 0 {
        return Ok(batch);
    }
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    let schema = batch.schema();
    for (p, src) in targets {
        let (Ok(ci), Some(source)) = (schema.index_of(&p.name), batch.column_by_name(src)) else { continue };
        let source = source.as_string::<i32>();
        let vectors = cols[ci].as_fixed_size_list();
        let need: Vec<usize> = (0..batch.num_rows()).filter(|&r| vectors.is_null(r) && source.is_valid(r)).collect();
        if !p.nullable
            && let Some(r) = (0..batch.num_rows()).find(|&r| vectors.is_null(r) && source.is_null(r))
        {
            let id = batch.column_by_name(ID).map(|c| c.as_string::<i32>().value(r).to_string()).unwrap_or_default();
            return Err(Error::MutationRejected {
                code: codes::MUTATE_BAD_VALUE.code,
                message: format!("{} `{id}`: `{}` is required and its @embed source `{src}` is null: give one of them", t.name, p.name),
            });
        }
        if need.is_empty() {
            continue;
        }
        let embedder = graph.session().embedder()?;
        check_model(graph, t, p, embedder).await?;
        let dim = dim_of(p) as usize;
        let texts: Vec<&str> = need.iter().map(|&r| source.value(r)).collect();
        let made = embedder.embed(&texts, dim).await?;
        cols[ci] = Arc::new(merged(vectors, &need, &made, dim));
    }
    RecordBatch::try_new(table_schema(t), cols).map_err(|e| Error::lance(t.table_key(), e))
}

/// `old` with rows `rows` set to `made` (same order).
fn merged(old: &FixedSizeListArray, rows: &[usize], made: &[Arc<[f32]>], dim: usize) -> FixedSizeListArray {
    let n = old.len();
    let inner = old.values().as_primitive::<arrow_array::types::Float32Type>();
    let mut values: Vec<f32> = Vec::with_capacity(n * dim);
    let mut valid: Vec<bool> = Vec::with_capacity(n);
    let mut next = rows.iter().zip(made).peekable();
    for r in 0..n {
        if let Some((_, v)) = next.next_if(|(i, _)| **i == r) {
            values.extend_from_slice(v);
            valid.push(true);
        } else if old.is_valid(r) {
            let start = (old.value_offset(r)) as usize;
            values.extend_from_slice(&inner.values()[start..start + dim]);
            valid.push(true);
        } else {
            values.extend(std::iter::repeat_n(0.0, dim));
            valid.push(false);
        }
    }
    let nulls = if valid.iter().all(|v| *v) { None } else { Some(NullBuffer::from(valid)) };
    FixedSizeListArray::new(Arc::new(Field::new("item", DataType::Float32, true)), dim as i32, Arc::new(Float32Array::from(values)), nulls)
}
