//! One search call as a Lance query on the snapshot's table: full-text
//! (`Scanner::full_text_search`: BM25 through the inverted index, a flat
//! scan of the rows it does not cover) or nearest neighbours
//! (`Scanner::nearest`, cosine; through the vector index, the uncovered
//! rows searched exactly). Results come back as ids, mapped to dense rows.

use arrow_array::cast::AsArray;
use arrow_array::{Array, Float32Array};
use futures::TryStreamExt;
use lance_index::scalar::FullTextSearchQuery;
use lance_index::scalar::inverted::query::{FtsQuery, MatchQuery, Operator, PhraseQuery};
use lance_linalg::distance::MetricType;

use super::Scores;
use crate::error::{Error, Result};
use crate::query::eval::Env;
use crate::query::plan::{ReadPlan, SearchKind, SearchSpec};
use crate::query::value::Value;
use crate::query::view::View;
use crate::storage::columns::ID;

/// Vector search: candidates re-ranked by exact distance per result wanted
/// (see docs/dev/search.md, "Vector index").
pub const REFINE_FACTOR: u32 = 4;

/// Runs `spec` over the table (the best `limit` rows when given, among
/// those `prefilter` keeps; every match otherwise).
pub async fn run(
    view: &View<'_>,
    plan: &ReadPlan,
    spec: &SearchSpec,
    env: &Env,
    limit: Option<usize>,
    prefilter: Option<datafusion_expr::Expr>,
) -> Result<Scores> {
    let type_name = &plan.vars[spec.var].type_name;
    let t = view.type_def(type_name)?;
    let ids = view.node_ids(type_name).await?;
    let higher_first = spec.kind != SearchKind::Nearest;
    let empty = Scores { higher_first, ..Scores::default() };
    let live = ids.live_len();
    if live == 0 || limit == Some(0) {
        return Ok(empty);
    }
    let key = t.table_key();
    let lance_err = |e: lance::Error| Error::lance(&key, e);
    let ds = view.read_dataset(t).await?;
    let mut sc = ds.scan();
    sc.project(&[ID]).map_err(lance_err)?;
    let query = env.eval_with(&spec.query, &|_| Value::Null);
    let score_col = if spec.kind == SearchKind::Nearest {
        let vector: Vec<f32> = match query {
            Value::List(items) => items.iter().map(|x| x.as_f64().unwrap_or(f64::NAN) as f32).collect(),
            Value::Str(text) => crate::embed::query_vector(view.graph, t, &spec.prop, &text).await?,
            _ => return Ok(empty),
        };
        let k = limit.unwrap_or(live).min(live);
        sc.nearest(&spec.prop, &Float32Array::from(vector), k).map_err(lance_err)?;
        sc.distance_metric(MetricType::Cosine);
        if limit.is_none() {
            // Every row: an exact scan, no index.
            sc.use_index(false);
        } else {
            sc.refine(REFINE_FACTOR);
        }
        "_distance"
    } else {
        let Value::Str(text) = query else { return Ok(empty) };
        let col = Some(spec.prop.clone());
        let q: FtsQuery = match spec.kind {
            SearchKind::Phrase => PhraseQuery::new(text).with_column(col).into(),
            SearchKind::Bm25 => MatchQuery::new(text).with_column(col).into(),
            SearchKind::Fuzzy => {
                let edits = spec.max_edits.as_ref().map(|e| env.eval_with(e, &|_| Value::Null));
                let edits = match edits {
                    Some(Value::Int(n)) => Some(n.clamp(0, crate::query::check::search::MAX_EDITS) as u32),
                    _ => None,
                };
                MatchQuery::new(text).with_column(col).with_operator(Operator::And).with_fuzziness(edits).into()
            }
            _ => MatchQuery::new(text).with_column(col).with_operator(Operator::And).into(),
        };
        sc.full_text_search(FullTextSearchQuery::new_query(q).limit(limit.map(|l| l as i64))).map_err(lance_err)?;
        "_score"
    };
    if let Some(f) = prefilter {
        sc.filter_expr(f);
        sc.prefilter(true);
    }
    let batches: Vec<_> = sc.try_into_stream().await.map_err(lance_err)?.try_collect().await.map_err(lance_err)?;
    let mut out = Scores { higher_first, ..Scores::default() };
    let mut returned = 0usize;
    for b in &batches {
        env.deadline.check()?;
        let (Some(id), Some(score)) = (b.column_by_name(ID), b.column_by_name(score_col)) else { continue };
        let id = id.as_string::<i32>();
        let score = score.as_primitive::<arrow_array::types::Float32Type>();
        for r in 0..b.num_rows() {
            returned += 1;
            if score.is_null(r) {
                continue;
            }
            if let Some(d) = ids.dense(id.value(r)) {
                out.by_row.insert(d, score.value(r) as f64);
            }
        }
    }
    out.truncated = limit.is_some_and(|l| returned >= l && l < live);
    Ok(out)
}
