//! The JSONL loader.
//!
//! One streaming pass over the input: each line is parsed ([`line`]),
//! checked value by value ([`value`]: types, enum, `@range`, `@check`),
//! tracked across rows ([`rows`]: keys, `@unique`, endpoints, `@card`) and
//! appended to its type's column builder ([`builder`]); full chunks are
//! staged as data files in the background ([`stage`]). Checks that need the
//! whole input (edge endpoints that appear later, `@card`) run at the end.
//! Only a load with no error at all reaches the write protocol
//! ([`crate::graph::write`]); a rejected load deletes what it staged and the
//! graph is unchanged. Memory holds the key sets and one chunk per type, not
//! the input.

pub mod builder;
pub mod line;
pub mod rows;
pub mod rules;
pub mod stage;
pub mod value;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{BooleanArray, RecordBatch};
use futures::{StreamExt, TryStreamExt};
use lance::dataset::transaction::{Operation, Transaction};
use lance::dataset::{MergeInsertBuilder, WhenMatched, WhenNotMatched};
use lance::deps::datafusion::physical_plan::SendableRecordBatchStream;
use lance::deps::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::graph::layout;
use crate::graph::write::{StagedWrite, commit_and_publish};
use crate::graph::{Graph, Snapshot};
use crate::schema::TypeKind;
use builder::TypeBatch;
use rows::{RowTracker, TypeRows};
use stage::Stager;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    /// The graph becomes exactly the input: every table is replaced.
    Overwrite,
    /// Rows are added; an id that already exists is an error.
    Append,
    /// Rows are upserted by id; within the input the last line wins.
    Merge,
}

impl std::str::FromStr for LoadMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "overwrite" => Ok(LoadMode::Overwrite),
            "append" => Ok(LoadMode::Append),
            "merge" => Ok(LoadMode::Merge),
            other => Err(Error::InvalidArgument(format!("unknown load mode `{other}` (overwrite, append or merge)"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub mode: LoadMode,
    /// Name of the input in error messages (a file name, `stdin`).
    pub source_name: String,
    /// How many line errors to list (all are counted).
    pub max_errors: usize,
    /// Rows buffered per type before a chunk is staged.
    pub chunk_rows: usize,
}

impl LoadOptions {
    pub fn new(mode: LoadMode, source_name: impl Into<String>) -> Self {
        LoadOptions { mode, source_name: source_name.into(), max_errors: 100, chunk_rows: 256 * 1024 }
    }
}

/// Reported to the caller every few thousand lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub lines: u64,
    pub bytes: u64,
    /// True once the whole input has been read (commit follows).
    pub done: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub mode: LoadMode,
    pub lines: u64,
    /// Rows read per type name.
    pub rows: BTreeMap<String, u64>,
    /// The manifest version after the load (and its index builds).
    pub manifest_version: u64,
    /// Scalar indexes built or rebuilt after the data published.
    pub indexes_built: usize,
    /// Row counts per table after the load.
    pub tables: BTreeMap<String, u64>,
}

struct TypeSlot {
    batch: TypeBatch,
    stager: Stager,
    rows: TypeRows,
    read: u64,
}

/// Loads JSONL from `input` into `graph` (opened for write).
pub async fn load(
    graph: &Graph,
    input: impl BufRead + Send + 'static,
    opts: &LoadOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<LoadReport> {
    graph.require_writable()?;
    let snap = graph.snapshot().await?;
    let load_id = ulid::Ulid::new().to_string();
    let schema = graph.schema().clone();
    let mut tracker = RowTracker::new();

    // Open every table at the published version and set up its stager.
    let mut slots: Vec<TypeSlot> = Vec::new();
    let mut index: BTreeMap<(TypeKind, String), usize> = BTreeMap::new();
    for t in schema.types() {
        let ds = Arc::new(graph.open_table(&snap, t).await?);
        let location = snap.table(&t.table_key()).expect("snapshot has every type").location.clone();
        let stager = match opts.mode {
            LoadMode::Merge => Stager::Scratch {
                key: t.table_key(),
                location: location.clone(),
                uri: graph.root().child_uri(&format!("{}/{load_id}/{}", layout::STAGING_DIR, location)),
                written: false,
            },
            _ => Stager::Direct { key: t.table_key(), location: location.clone(), ds: ds.clone(), pending: vec![], fragments: vec![] },
        };
        // A `@card` minimum names the offending nodes, so their ids are kept as text.
        let card_min_source = schema.edges.iter().any(|e| e.from.as_deref() == Some(&t.name) && e.card.as_ref().is_some_and(|c| c.min > 0));
        let rows = TypeRows::new(t, ds, opts.mode, t.kind == TypeKind::Node && card_min_source);
        index.insert((t.kind, t.name.clone()), slots.len());
        slots.push(TypeSlot { batch: TypeBatch::new(t), stager, rows, read: 0 });
    }

    let result = read_input(graph, input, opts, progress, &mut slots, &mut tracker).await;
    let outcome = match result {
        Ok(lines) => finish(graph, &snap, opts, &mut slots, &index, &mut tracker, lines).await,
        Err(e) => Err(e),
    };
    if outcome.is_err() {
        for s in slots.iter_mut() {
            s.stager.discard(graph.root()).await;
        }
    }
    if opts.mode == LoadMode::Merge {
        let _ = graph.root().delete_prefix(&format!("{}/{load_id}", layout::STAGING_DIR)).await;
    }
    outcome
}

/// Lines parsed and value-checked off the async path, in input order.
struct ParsedChunk {
    lines: Vec<(u64, std::result::Result<line::Parsed, line::LineErrors>)>,
    last_line: u64,
    bytes: u64,
}

const PARSE_CHUNK: usize = 8 * 1024;

/// Reads the input on its own thread and parses each chunk of lines in
/// parallel (rayon); chunks go to the loader in order.
fn read_and_parse(
    mut input: impl BufRead,
    schema: Arc<crate::schema::SchemaIr>,
    tx: tokio::sync::mpsc::Sender<ParsedChunk>,
    source: String,
) -> Result<u64> {
    use rayon::prelude::*;
    let index = line::TypeIndex::new(&schema);
    let (mut line_no, mut bytes) = (0u64, 0u64);
    loop {
        let mut texts = Vec::with_capacity(PARSE_CHUNK);
        for _ in 0..PARSE_CHUNK {
            let mut s = String::new();
            let n = input.read_line(&mut s).map_err(|e| Error::storage(&source, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            bytes += n as u64;
            texts.push((line_no, s));
        }
        if texts.is_empty() {
            return Ok(line_no);
        }
        let lines = texts
            .par_iter()
            .filter_map(|(no, s)| {
                let t = s.trim();
                (!t.is_empty()).then(|| (*no, line::parse(&index, t)))
            })
            .collect();
        if tx.blocking_send(ParsedChunk { lines, last_line: line_no, bytes }).is_err() {
            return Ok(line_no); // the loader stopped early; it reports why
        }
    }
}

async fn read_input(
    graph: &Graph,
    input: impl BufRead + Send + 'static,
    opts: &LoadOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
    slots: &mut [TypeSlot],
    tracker: &mut RowTracker,
) -> Result<u64> {
    let schema = Arc::new(graph.schema().clone());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ParsedChunk>(4);
    let reader = {
        let (schema, source) = (schema.clone(), opts.source_name.clone());
        std::thread::spawn(move || read_and_parse(input, schema, tx, source))
    };
    let types: Vec<&crate::schema::TypeDef> = schema.types().collect();
    let node_slot = |name: &Option<String>| {
        let name = name.as_deref().expect("edge endpoints");
        types.iter().position(|t| t.kind == TypeKind::Node && t.name == name).expect("compiled endpoints exist")
    };
    let endpoint_slots: Vec<Option<(usize, usize)>> =
        types.iter().map(|t| (t.kind == TypeKind::Edge).then(|| (node_slot(&t.from), node_slot(&t.to)))).collect();
    let mut last = Progress::default();
    while let Some(chunk) = rx.recv().await {
        for (line_no, parsed) in chunk.lines {
            let p = match parsed {
                Ok(p) => p,
                Err(errs) => {
                    for (code, msg) in errs {
                        tracker.error(line_no, code, msg);
                    }
                    continue;
                }
            };
            let def = types[p.slot];
            let known = match (&p.endpoints, endpoint_slots[p.slot]) {
                (Some((from, to)), Some((fs, ts))) => {
                    slots[fs].rows.ensure_stored_ids().await?;
                    slots[ts].rows.ensure_stored_ids().await?;
                    (slots[fs].rows.knows(from), slots[ts].rows.knows(to))
                }
                _ => (true, true),
            };
            let slot = &mut slots[p.slot];
            if p.endpoints.is_none() || p.id_from_input || def.unique.iter().any(|u| !u.is_empty()) {
                slot.rows.ensure_stored_ids().await?;
            }
            let accepted = match &p.endpoints {
                None => slot.rows.accept_node(line_no, def, &p.id, p.id_from_input, &p.cells, tracker),
                Some((from, to)) => slot.rows.accept_edge(line_no, def, &p.id, p.id_from_input, (from, to), known, &p.cells, tracker),
            };
            if !accepted {
                continue;
            }
            slot.read += 1;
            if tracker.has_errors() {
                continue; // keep checking, stop writing
            }
            slot.batch.push(&p.id, p.endpoints.as_ref().map(|(s, d)| (s.as_str(), d.as_str())), &p.cells);
            if slot.batch.len() >= opts.chunk_rows {
                let batch = slot.batch.finish();
                slot.stager.push(batch).await?;
            }
        }
        last = Progress { lines: chunk.last_line, bytes: chunk.bytes, done: false };
        progress(last);
    }
    let lines = reader.join().map_err(|_| Error::storage(&opts.source_name, "the input reader thread panicked"))??;
    progress(Progress { lines, bytes: last.bytes, done: true });
    Ok(lines)
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    graph: &Graph,
    snap: &Snapshot,
    opts: &LoadOptions,
    slots: &mut [TypeSlot],
    index: &BTreeMap<(TypeKind, String), usize>,
    tracker: &mut RowTracker,
    lines: u64,
) -> Result<LoadReport> {
    let schema = graph.schema().clone();
    // Whole-input checks: endpoints and cardinality.
    rows::check_endpoints(&schema, slots.iter().map(|s| &s.rows).collect::<Vec<_>>().as_slice(), index, tracker);
    for (i, t) in schema.types().enumerate() {
        if t.kind == TypeKind::Edge && t.card.is_some() {
            let from_idx = index[&(TypeKind::Node, t.from.clone().expect("edge has from"))];
            slots[from_idx].rows.ensure_stored_ids().await?;
            let (edges, nodes) = if from_idx < i {
                let (a, b) = slots.split_at_mut(i);
                (&mut b[0].rows, &a[from_idx].rows)
            } else {
                unreachable!("node types come before edge types")
            };
            edges.check_card(t, nodes, tracker).await?;
        }
    }
    if tracker.has_errors() {
        let (total, errors) = tracker.take_errors(opts.max_errors);
        return Err(Error::InvalidData { source_name: opts.source_name.clone(), total, errors });
    }

    let mut staged = Vec::new();
    for (slot, t) in slots.iter_mut().zip(schema.types()) {
        if !slot.batch.is_empty() {
            let batch = slot.batch.finish();
            slot.stager.push(batch).await?;
        }
        let base = slot.rows.base();
        let location = snap.table(&t.table_key()).expect("every type").location.clone();
        let txn = match opts.mode {
            LoadMode::Overwrite => {
                let fragments = slot.stager.finish().await?;
                Some(Transaction::new(
                    base.version().version,
                    Operation::Overwrite { fragments, schema: base.schema().clone(), config_upsert_values: None, initial_bases: None },
                    None,
                ))
            }
            LoadMode::Append => {
                let fragments = slot.stager.finish().await?;
                (!fragments.is_empty()).then(|| Transaction::new(base.version().version, Operation::Append { fragments }, None))
            }
            LoadMode::Merge => merge_transaction(&slot.stager, &slot.rows, base.clone()).await?,
        };
        if let Some(txn) = txn {
            staged.push(StagedWrite { key: t.table_key(), location, base, txn });
        }
    }
    for slot in slots.iter_mut() {
        slot.stager.hand_off();
    }
    let rows: BTreeMap<String, u64> = schema.types().zip(slots.iter()).filter(|(_, s)| s.read > 0).map(|(t, s)| (t.name.clone(), s.read)).collect();
    let manifest_ds = snap.manifest_ds.clone().expect("snapshot carries its manifest");
    let kind = format!("load:{}", serde_json::to_value(opts.mode).expect("mode").as_str().unwrap_or("load"));
    let state = if staged.is_empty() {
        snap.state.clone()
    } else {
        let reads: Vec<(String, u64)> = snap.tables.iter().map(|t| (t.key.clone(), t.version)).collect();
        commit_and_publish(graph.root(), manifest_ds, snap.state.clone(), &kind, staged, &reads).await?
    };
    // Indexes follow the data in their own publish (see graph::indexes).
    let published = state.version;
    let mut manifest_version = published;
    let mut indexes_built = 0;
    if published != snap.state.version {
        indexes_built = crate::graph::indexes::ensure(graph).await?;
        if indexes_built > 0 {
            manifest_version = graph.snapshot().await?.manifest_version;
        }
    }
    Ok(LoadReport {
        mode: opts.mode,
        lines,
        rows,
        manifest_version,
        indexes_built,
        tables: state.tables.iter().map(|(k, e)| (k.clone(), e.row_count)).collect(),
    })
}

/// Merge: read the scratch dataset back in order, keep the last row per id,
/// and build Lance's merge-insert (update matched ids, insert new ones).
async fn merge_transaction(stager: &Stager, rows: &TypeRows, base: Arc<lance::Dataset>) -> Result<Option<Transaction>> {
    let Some(scratch) = stager.scratch().await? else { return Ok(None) };
    let key = rows.key().to_string();
    let keep = rows.last_ordinals();
    let schema: arrow_schema::SchemaRef = Arc::new(arrow_schema::Schema::from(scratch.schema()));
    let mut ordinal = 0u64;
    let stream = scratch
        .scan()
        .scan_in_order(true)
        .try_into_stream()
        .await
        .map_err(|e| Error::lance(&key, e))?
        .map_err(|e| lance::deps::datafusion::error::DataFusionError::External(Box::new(e)))
        .map(move |batch| {
            let batch = batch?;
            let Some(keep) = keep.as_ref() else { return Ok(batch) };
            let ids = batch.column(0).as_string::<i32>();
            let mask: BooleanArray = (0..batch.num_rows())
                .map(|i| {
                    let o = ordinal + i as u64;
                    Some(keep.get(&rows::id_key(ids.value(i))).is_none_or(|k| *k == o))
                })
                .collect();
            ordinal += batch.num_rows() as u64;
            Ok::<RecordBatch, lance::deps::datafusion::error::DataFusionError>(
                arrow_select::filter::filter_record_batch(&batch, &mask)?,
            )
        });
    let source: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(schema, stream));
    let job = MergeInsertBuilder::try_new(base, vec!["id".to_string()])
        .map_err(|e| Error::lance(&key, e))?
        .when_matched(WhenMatched::UpdateAll)
        .when_not_matched(WhenNotMatched::InsertAll)
        .try_build()
        .map_err(|e| Error::lance(&key, e))?;
    let out = job.execute_uncommitted(source).await.map_err(|e| Error::lance(&key, e))?;
    Ok(Some(out.transaction))
}
