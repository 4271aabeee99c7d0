//! Embeddings (placeholder until the provider client lands).

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::schema::TypeDef;

/// The vector of `text` for a query on `t.prop`.
pub async fn query_vector(_graph: &Graph, _t: &TypeDef, _prop: &str, _text: &str) -> Result<Vec<f32>> {
    Err(Error::Embed { code: crate::codes::EMBED_NOT_CONFIGURED.code, provider: "none".into(), message: "not configured".into() })
}
