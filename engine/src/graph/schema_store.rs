//! Where a commit's schema lives. `init` writes the first schema to the
//! root (`_schema.pg`, `_schema.ir.json`, `__schema_state.json`). A schema
//! change writes the new one to `_schemas/<hash>.json` (source and IR,
//! put-if-absent: the name is its content) and publishes a manifest row
//! (`__schema`) pointing at it in the same commit as its table changes. So
//! the schema of any commit is the schema row its manifest version holds,
//! or the root files when it holds none; branches carry their own row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::layout;
use crate::error::{Error, Result};
use crate::schema::SchemaIr;
use crate::storage::manifest::ManifestState;
use crate::storage::{Created, Root};

/// One schema of a graph: what a snapshot reads and writes with.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphSchema {
    pub ir: SchemaIr,
    /// The `.pg` source it was applied from.
    pub source: String,
    /// The IR's content hash.
    pub hash: String,
    /// 0 for the schema `init` wrote, one more per schema change.
    pub generation: u64,
}

/// A stored schema file.
#[derive(Serialize, Deserialize)]
struct StoredSchema {
    source: String,
    ir: SchemaIr,
}

/// The file a schema of hash `hash` is stored in.
pub fn location_of(hash: &str) -> String {
    format!("{}/{hash}.json", layout::SCHEMAS_DIR)
}

/// Writes `ir` (applied from `source`) where a schema row can point at it;
/// returns that location. Writing the same schema twice is harmless.
pub(crate) async fn store(root: &Root, ir: &SchemaIr, source: &str) -> Result<String> {
    let location = location_of(&ir.content_hash());
    let bytes = serde_json::to_vec_pretty(&StoredSchema { source: source.to_string(), ir: ir.clone() }).expect("a schema serializes");
    match root.put_if_absent(&location, bytes).await? {
        Created::Yes | Created::AlreadyExists => Ok(location),
    }
}

/// The schemas a graph handle has read, by location ("" for the root
/// files): immutable, so read once.
#[derive(Debug, Default)]
pub(crate) struct SchemaCache {
    by_location: Mutex<HashMap<String, Arc<GraphSchema>>>,
}

impl SchemaCache {
    pub(crate) fn with_genesis(genesis: Arc<GraphSchema>) -> SchemaCache {
        let cache = SchemaCache::default();
        cache.by_location.lock().expect("schema cache lock").insert(String::new(), genesis);
        cache
    }

    fn get(&self, location: &str) -> Option<Arc<GraphSchema>> {
        self.by_location.lock().expect("schema cache lock").get(location).cloned()
    }

    /// The schema `state` reads with.
    pub(crate) async fn of(&self, root: &Root, state: &ManifestState) -> Result<Arc<GraphSchema>> {
        let (location, generation) = match &state.schema {
            None => (String::new(), 0),
            Some(row) => (row.location.clone(), row.version),
        };
        if let Some(s) = self.get(&location) {
            // One schema can come back at a later generation.
            return Ok(if s.generation == generation { s } else { Arc::new(GraphSchema { generation, ..(*s).clone() }) });
        }
        let bad = |why: String| Error::SchemaStateMismatch { root: root.uri().to_string(), reason: format!("{location}: {why}") };
        let bytes = root.get(&location).await?.ok_or_else(|| bad("the schema file of this commit is missing".into()))?;
        let stored: StoredSchema = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let hash = stored.ir.content_hash();
        if location != location_of(&hash) {
            return Err(bad(format!("the file holds a schema of hash {hash}")));
        }
        let schema = Arc::new(GraphSchema { ir: stored.ir, source: stored.source, hash, generation });
        self.by_location.lock().expect("schema cache lock").insert(location, schema.clone());
        Ok(schema)
    }
}
