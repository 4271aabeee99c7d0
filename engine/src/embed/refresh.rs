//! `omnigraph embed`: (re)computes the stored vectors of `@embed`
//! properties, a chunk of rows per commit. Without `all`, only rows with a
//! source text and no vector (a property given `@embed` after its rows were
//! written, a load that gave no provider...); a run that stops part way is
//! finished by running it again. With `all`, every row with a source text is
//! embedded again by the configured model (after a model change), and the
//! model is recorded first: a run cut short is run again with `all`.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::graph::{Graph, WriteOptions};
use crate::query::eval::Env;
use crate::query::plan::MutationPlan;
use crate::schema::TypeDef;
use crate::storage::columns::ID;

/// Rows per commit.
pub const CHUNK_ROWS: usize = 1000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct EmbedReport {
    pub model: String,
    pub properties: Vec<PropertyEmbedded>,
    /// The commits made, in order.
    pub commits: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PropertyEmbedded {
    #[serde(rename = "type")]
    pub type_name: String,
    pub property: String,
    pub source: String,
    /// Rows whose vector was computed.
    pub rows_embedded: u64,
}

/// Progress: rows done of rows to do, for one property.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub type_name: &'a str,
    pub property: &'a str,
    pub done: u64,
    pub total: u64,
}

/// Embeds what `only_type` (every type when `None`) lacks, or everything
/// with `all`.
pub async fn refresh(
    graph: &Graph,
    only_type: Option<&str>,
    all: bool,
    opts: &WriteOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<EmbedReport> {
    graph.require_writable()?;
    let (bound, _) = graph.current().await?;
    let types: Vec<TypeDef> = bound.schema().types().filter(|t| only_type.is_none_or(|n| t.name == n)).cloned().collect();
    if let Some(n) = only_type
        && types.is_empty()
    {
        return Err(Error::UnknownType { name: n.to_string() });
    }
    if types.iter().all(|t| super::targets(t).is_empty()) {
        // Nothing to embed: no provider needed.
        return Ok(EmbedReport::default());
    }
    let embedder = graph.session().embedder()?.clone();
    let mut report = EmbedReport { model: embedder.model().to_string(), ..Default::default() };
    for t in &types {
        for (p, src) in super::targets(t) {
            if all {
                super::rerecord(graph, t, p, embedder.model()).await?;
            }
            let ids = to_do(graph, t, &p.name, src, all).await?;
            let total = ids.len() as u64;
            let mut done = 0u64;
            progress(Progress { type_name: &t.name, property: &p.name, done, total });
            for chunk in ids.chunks(CHUNK_ROWS) {
                let stmt = MutationPlan::Reembed { type_name: t.name.clone(), ids: chunk.to_vec(), props: vec![p.name.clone()] };
                let (_, snap) = graph.current().await?;
                let mut o = opts.clone();
                if !report.commits.is_empty() {
                    // `if_commit` holds for the first chunk; the rest follow it.
                    o.if_commit = None;
                }
                if o.message.is_none() {
                    o.message = Some(format!("embed {}.{} ({} rows)", t.name, p.name, chunk.len()));
                }
                let r = crate::query::mutate::run(graph, &[stmt], Env::new(Vec::new()), &snap.schema_hash, &o).await?;
                report.commits.push(r.commit.clone());
                done += chunk.len() as u64;
                progress(Progress { type_name: &t.name, property: &p.name, done, total });
            }
            report.properties.push(PropertyEmbedded { type_name: t.name.clone(), property: p.name.clone(), source: src.to_string(), rows_embedded: total });
        }
    }
    Ok(report)
}

/// The ids of the rows to embed, in table order.
async fn to_do(graph: &Graph, t: &TypeDef, prop: &str, src: &str, all: bool) -> Result<Vec<String>> {
    use arrow_array::cast::AsArray;
    use datafusion_expr::ident;
    use futures::TryStreamExt;
    let (bound, snap) = graph.current().await?;
    let ds = bound.open_table(&snap, t).await?;
    let key = t.table_key();
    let mut filter = ident(src).is_not_null();
    if !all {
        filter = filter.and(ident(prop).is_null());
    }
    let mut sc = ds.scan();
    sc.project(&[ID]).map_err(|e| Error::lance(&key, e))?;
    sc.filter_expr(filter);
    let batches: Vec<_> = sc.try_into_stream().await.map_err(|e| Error::lance(&key, e))?.try_collect().await.map_err(|e| Error::lance(&key, e))?;
    Ok(batches.iter().flat_map(|b| b.column(0).as_string::<i32>().iter().flatten().map(str::to_string).collect::<Vec<_>>()).collect())
}
