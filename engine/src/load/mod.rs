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

pub(crate) mod builder;
pub mod ids;
pub mod line;
pub(crate) mod rows;
pub(crate) mod rules;
pub(crate) mod stage;
pub(crate) mod value;

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
use crate::graph::sidecar::WriteKind;
use crate::graph::write::{StagedWrite, commit_and_publish};
use crate::graph::{Graph, Snapshot};
use crate::graph::{layout, retry};
use crate::schema::TypeKind;
use crate::storage::commit::TypeCounts;
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
    /// The longest line accepted, in bytes: the loader's memory is bounded by
    /// it, however large the input ([`DEFAULT_MAX_LINE_BYTES`]).
    pub max_line_bytes: usize,
    /// The commit's actor and message, and the commit the head must be.
    pub write: crate::graph::WriteOptions,
}

/// The default of [`LoadOptions::max_line_bytes`]: 16 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

impl LoadOptions {
    pub fn new(mode: LoadMode, source_name: impl Into<String>) -> Self {
        LoadOptions {
            mode,
            source_name: source_name.into(),
            max_errors: 100,
            chunk_rows: 256 * 1024,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            write: Default::default(),
        }
    }
}

/// The error for line `line` of `source`, longer than `max` bytes.
fn line_too_long(source: &str, line: u64, max: usize) -> Error {
    Error::InvalidData {
        source_name: source.to_string(),
        total: 1,
        errors: vec![crate::error::LineError {
            line,
            code: crate::codes::LOAD_LINE_TOO_LONG.code,
            message: format!("the line is longer than {max} bytes (the loader's line limit); nothing was loaded"),
        }],
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
    /// The commit that holds the load's rows (the head read, if the input
    /// held none).
    pub commit: String,
    /// Scalar indexes built or rebuilt after the data published.
    pub indexes_built: usize,
    /// Row counts per table after the load.
    pub tables: BTreeMap<String, u64>,
    /// How many times the load lost the publish race to another writer and
    /// ran again, from its input read again ([`load_rereading`]).
    pub retries: u32,
}

struct TypeSlot {
    batch: TypeBatch,
    stager: Stager,
    rows: TypeRows,
    read: u64,
}

/// Loads JSONL from `input` into `graph` (opened for write). A load that
/// loses the publish race to another writer is answered with the lost race
/// (`ExpectedVersionMismatch`); nothing of it is visible.
pub async fn load(graph: &Graph, input: impl BufRead + Send + 'static, opts: &LoadOptions, progress: &mut (dyn FnMut(Progress) + Send)) -> Result<LoadReport> {
    graph.require_writable()?;
    opts.write.validate()?;
    // Writes through this handle take turns; a batch of mutations waits.
    let _turn = graph.write_queue().turn().await;
    retry::before_write(graph).await;
    let snap = graph.snapshot().await?;
    let result = load_at(graph, &snap, input, opts, progress).await;
    head_moved(graph, snap.manifest_version, opts, result).await
}

/// A conditional load that lost the publish race: the head it named is
/// not the head any more (`HeadMoved`, naming the new head).
async fn head_moved(graph: &Graph, read: u64, opts: &LoadOptions, result: Result<LoadReport>) -> Result<LoadReport> {
    match (&opts.write.if_commit, result) {
        (Some(expected), Err(Error::ExpectedVersionMismatch { .. })) => {
            let head = retry::moved_head(graph, read).await;
            Err(Error::HeadMoved { expected: expected.clone(), head })
        }
        (_, result) => result,
    }
}

/// [`load`] from an input that can be read again (`open` opens it): a load
/// that loses the publish race to another writer runs again, whole, on the
/// new head, from its input read again, and every check with it
/// (`graph::retry`).
pub async fn load_rereading<R: BufRead + Send + 'static>(
    graph: &Graph,
    open: impl FnMut() -> Result<R>,
    opts: &LoadOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<LoadReport> {
    graph.require_writable()?;
    opts.write.validate()?;
    let _turn = graph.write_queue().turn().await;
    retry::before_write(graph).await;
    let result = rerun_until_won(graph, open, opts, progress).await;
    retry::after_write(graph).await;
    result
}

/// The runs of [`load_rereading`].
async fn rerun_until_won<R: BufRead + Send + 'static>(
    graph: &Graph,
    mut open: impl FnMut() -> Result<R>,
    opts: &LoadOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<LoadReport> {
    let (mut retries, mut lost_on, began) = (0, None, std::time::Instant::now());
    loop {
        let snap = retry::snapshot_after(graph, lost_on).await?;
        // A conditional load is never run again: the head moved.
        let result = head_moved(graph, snap.manifest_version, opts, load_at(graph, &snap, open()?, opts, progress).await).await;
        if retry::may_retry(&result, retries, began) {
            retries += 1;
            lost_on = Some(snap.manifest_version);
            retry::pause(graph, retries).await;
            continue;
        }
        return result.map(|report| LoadReport { retries, ..report });
    }
}

/// One run of a load on `snap`, holding the write turn.
async fn load_at(
    graph: &Graph,
    snap: &Snapshot,
    input: impl BufRead + Send + 'static,
    opts: &LoadOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<LoadReport> {
    if let Some(expected) = &opts.write.if_commit
        && *expected != snap.commit.id
    {
        return Err(Error::HeadMoved { expected: expected.clone(), head: snap.commit.id.clone() });
    }
    // The load reads and writes with the schema of the commit it loads on.
    let bound = graph.bound(snap);
    let graph = &bound;
    let load_id = ulid::Ulid::new().to_string();
    let schema = graph.schema().clone();
    let mut tracker = RowTracker::new();

    // Open every table at the published version and set up its stager.
    let mut slots: Vec<TypeSlot> = Vec::new();
    let mut index: BTreeMap<(TypeKind, String), usize> = BTreeMap::new();
    for t in schema.types() {
        let ds = Arc::new(graph.open_table(snap, t).await?);
        let location = snap.table(&t.table_key()).expect("snapshot has every type").location.clone();
        let stager = match opts.mode {
            LoadMode::Merge => Stager::Scratch {
                key: t.table_key(),
                uri: graph.root().child_uri(&format!("{}/{load_id}/{}", layout::STAGING_DIR, location)),
                written: false,
                session: graph.session().clone(),
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
        Ok(lines) => finish(graph, snap, opts, &mut slots, &index, &mut tracker, lines).await,
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

/// One block of input lines, parsed and value-checked off the async path.
struct ParsedChunk {
    /// The block's text; lines and their spans point into it.
    text: String,
    lines: Vec<ParsedLine>,
    last_line: u64,
    bytes: u64,
}

struct ParsedLine {
    no: u64,
    /// The trimmed line within [`ParsedChunk::text`].
    start: usize,
    end: usize,
    parsed: std::result::Result<line::Parsed, line::LineErrors>,
}

/// Input is read in blocks of about this many bytes, cut at a line end.
const BLOCK_BYTES: usize = 1 << 20;

/// Appends what `input` has buffered to `buf`; 0 at the end of the input.
fn fill(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    loop {
        match input.fill_buf() {
            Ok(chunk) => {
                let n = chunk.len();
                buf.extend_from_slice(chunk);
                input.consume(n);
                return Ok(n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The block as text. Lines that are not valid UTF-8 are listed (by their
/// index in the block) and the block is decoded lossily, which keeps every
/// line end where it was.
fn block_text(bytes: Vec<u8>) -> (String, Vec<usize>) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, Vec::new()),
        Err(e) => {
            let bytes = e.into_bytes();
            let bad = bytes.split(|b| *b == b'\n').enumerate().filter(|(_, l)| std::str::from_utf8(l).is_err()).map(|(i, _)| i).collect();
            (String::from_utf8_lossy(&bytes).into_owned(), bad)
        }
    }
}

/// Reads the input on its own thread in blocks of whole lines and parses
/// each block's lines in parallel (rayon); blocks go to the loader in order.
/// A line is never copied out of its block. Blocks the loader is done with
/// come back on `spent` and their buffers are filled again, so a long load
/// does not keep touching fresh memory (page faults cost more than parsing
/// on some machines).
fn read_and_parse(
    mut input: impl BufRead,
    schema: Arc<crate::schema::SchemaIr>,
    tx: tokio::sync::mpsc::Sender<ParsedChunk>,
    spent: std::sync::mpsc::Receiver<ParsedChunk>,
    source: String,
    max_line: usize,
) -> Result<u64> {
    use rayon::prelude::*;
    let index = line::TypeIndex::new(&schema);
    let (mut line_no, mut bytes) = (0u64, 0u64);
    let mut carry: Vec<u8> = Vec::new();
    let mut spans = Vec::new();
    loop {
        let (mut buf, mut lines) = match spent.try_recv() {
            Ok(old) => {
                let (mut buf, mut lines) = (old.text.into_bytes(), old.lines);
                buf.clear();
                lines.clear();
                (buf, lines)
            }
            Err(_) => (Vec::with_capacity(BLOCK_BYTES + BLOCK_BYTES / 4), Vec::new()),
        };
        buf.extend_from_slice(&carry);
        carry.clear();
        let mut want = BLOCK_BYTES;
        let mut eof = false;
        let cut = loop {
            while buf.len() < want {
                if fill(&mut input, &mut buf).map_err(|e| Error::storage(&source, e))? == 0 {
                    eof = true;
                    break;
                }
            }
            if eof {
                let last = buf.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0);
                if buf.len() - last > max_line {
                    let newlines = buf[..last].iter().filter(|b| **b == b'\n').count() as u64;
                    return Err(line_too_long(&source, line_no + newlines + 1, max_line));
                }
                break buf.len();
            }
            match buf.iter().rposition(|b| *b == b'\n') {
                Some(i) => break i + 1,
                // A line longer than a block: read on, but never hold more
                // than one line's limit of it.
                None if buf.len() > max_line => return Err(line_too_long(&source, line_no + 1, max_line)),
                None => want = buf.len() + BLOCK_BYTES,
            }
        };
        carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        if buf.is_empty() {
            return Ok(line_no);
        }
        bytes += buf.len() as u64;
        let (text, bad) = block_text(buf);
        spans.clear();
        let mut at = 0;
        for (i, l) in text.split_inclusive('\n').enumerate() {
            line_no += 1;
            if l.trim_end_matches(['\n', '\r']).len() > max_line {
                return Err(line_too_long(&source, line_no, max_line));
            }
            let t = l.trim();
            if !t.is_empty() {
                let start = at + (t.as_ptr() as usize - l.as_ptr() as usize);
                spans.push((line_no, start, start + t.len(), bad.binary_search(&i).is_ok()));
            }
            at += l.len();
        }
        lines.par_extend(spans.par_iter().with_min_len(256).map(|&(no, start, end, bad)| {
            let parsed =
                if bad { Err(vec![(crate::codes::LOAD_BAD_RECORD.code, "not valid UTF-8".to_string())]) } else { line::parse(&index, &text[start..end]) };
            ParsedLine { no, start, end, parsed }
        }));
        if tx.blocking_send(ParsedChunk { text, lines, last_line: line_no, bytes }).is_err() {
            return Ok(line_no); // the loader stopped early; it reports why
        }
        if eof && carry.is_empty() {
            return Ok(line_no);
        }
    }
}

/// How many lines ahead the loader prefetches id-table slots.
const PREFETCH_AHEAD: usize = 16;

/// Starts fetching the id-table slots a line's checks will read.
fn prefetch(slots: &[TypeSlot], endpoint_slots: &[Option<(usize, usize)>], parsed: &std::result::Result<line::Parsed, line::LineErrors>) {
    let Ok(p) = parsed else { return };
    match (&p.endpoints, endpoint_slots[p.slot]) {
        (Some((from, to)), Some((fs, ts))) => {
            slots[fs].rows.prefetch(from.key);
            slots[ts].rows.prefetch(to.key);
        }
        _ => {
            if let Some(id) = &p.id {
                slots[p.slot].rows.prefetch(id.key);
            }
        }
    }
}

/// What the sequential side of a load needs besides the type slots.
struct Checker<'s> {
    types: Vec<&'s crate::schema::TypeDef>,
    /// Per type: for edges, the slots of their endpoint node types.
    endpoint_slots: Vec<Option<(usize, usize)>>,
    /// The last id generated for a row that has none. Ids count up from a
    /// fresh ULID taken per chunk (or from the last one, when that is
    /// later), so they never repeat within a load and cost no clock read
    /// or random draw per row.
    last_ulid: ulid::Ulid,
}

impl<'s> Checker<'s> {
    fn new(schema: &'s crate::schema::SchemaIr) -> Self {
        let types: Vec<&crate::schema::TypeDef> = schema.types().collect();
        let node_slot = |name: &Option<String>| {
            let name = name.as_deref().expect("edge endpoints");
            types.iter().position(|t| t.kind == TypeKind::Node && t.name == name).expect("compiled endpoints exist")
        };
        let endpoint_slots = types.iter().map(|t| (t.kind == TypeKind::Edge).then(|| (node_slot(&t.from), node_slot(&t.to)))).collect();
        Checker { types, endpoint_slots, last_ulid: ulid::Ulid::nil() }
    }

    /// The types whose stored ids this chunk's checks read: node types of
    /// its rows and of its edges' endpoints, and edge types only when an
    /// edge gives its own id or the type has `@unique` (a generated id
    /// cannot collide, so a big edge table is not scanned for nothing).
    fn touched(&self, chunk: &ParsedChunk) -> Vec<usize> {
        let mut touched = vec![false; self.types.len()];
        for l in &chunk.lines {
            if let Ok(p) = &l.parsed {
                if p.endpoints.is_none() || p.id.is_some() || self.types[p.slot].unique.iter().any(|u| !u.is_empty()) {
                    touched[p.slot] = true;
                }
                if let Some((f, t)) = self.endpoint_slots[p.slot] {
                    touched[f] = true;
                    touched[t] = true;
                }
            }
        }
        (0..touched.len()).filter(|i| touched[*i]).collect()
    }

    /// Checks and buffers one chunk's lines in input order (no I/O: the
    /// stored ids it needs are loaded already). Returns the batches that
    /// filled up, to be staged.
    fn chunk(&mut self, chunk: &ParsedChunk, slots: &mut [TypeSlot], tracker: &mut RowTracker, chunk_rows: usize) -> Vec<(usize, RecordBatch)> {
        let mut full = Vec::new();
        let mut ulid_text = [0u8; ulid::ULID_LEN];
        self.last_ulid = self.last_ulid.max(ulid::Ulid::new());
        for l in chunk.lines.iter().take(PREFETCH_AHEAD) {
            prefetch(slots, &self.endpoint_slots, &l.parsed);
        }
        for (i, l) in chunk.lines.iter().enumerate() {
            if let Some(ahead) = chunk.lines.get(i + PREFETCH_AHEAD) {
                prefetch(slots, &self.endpoint_slots, &ahead.parsed);
            }
            let line_no = l.no;
            let p = match &l.parsed {
                Ok(p) => p,
                Err(errs) => {
                    for (code, msg) in errs {
                        tracker.error(line_no, code, msg.clone());
                    }
                    continue;
                }
            };
            let text = &chunk.text[l.start..l.end];
            let def = self.types[p.slot];
            let known = match (&p.endpoints, self.endpoint_slots[p.slot]) {
                (Some((from, to)), Some((fs, ts))) => (slots[fs].rows.knows(from.key), slots[ts].rows.knows(to.key)),
                _ => (true, true),
            };
            let slot = &mut slots[p.slot];
            let (id, key) = match &p.id {
                Some(r) => (p.text(text, &r.text), Some(r.key)),
                None => {
                    self.last_ulid = self.last_ulid.increment().unwrap_or_default();
                    (&*self.last_ulid.array_to_str(&mut ulid_text), None)
                }
            };
            let endpoints = p.endpoints.as_ref().map(|(s, d)| (p.text(text, &s.text), p.text(text, &d.text)));
            let accepted = match endpoints {
                None => slot.rows.accept_node(line_no, def, id, key, &p.cells, tracker),
                Some(ends) => slot.rows.accept_edge(line_no, def, id, key, ends, known, &p.cells, tracker),
            };
            if !accepted {
                continue;
            }
            slot.read += 1;
            if tracker.has_errors() {
                continue; // keep checking, stop writing
            }
            slot.batch.push(id, endpoints, &p.cells);
            if slot.batch.len() >= chunk_rows {
                full.push((p.slot, slot.batch.finish()));
            }
        }
        full
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
    let (spent_tx, spent_rx) = std::sync::mpsc::channel::<ParsedChunk>();
    let reader = {
        let (schema, source, max_line) = (schema.clone(), opts.source_name.clone(), opts.max_line_bytes);
        std::thread::spawn(move || read_and_parse(input, schema, tx, spent_rx, source, max_line))
    };
    let mut checker = Checker::new(&schema);
    let mut last = Progress::default();
    while let Some(chunk) = rx.recv().await {
        if !slots.iter().all(|s| s.rows.stored_ids_ready()) {
            for t in checker.touched(&chunk) {
                slots[t].rows.ensure_stored_ids().await?;
            }
        }
        for (t, batch) in checker.chunk(&chunk, slots, tracker, opts.chunk_rows) {
            let batch = crate::embed::fill(graph, checker.types[t], batch).await?;
            slots[t].stager.push(batch).await?;
        }
        last = Progress { lines: chunk.last_line, bytes: chunk.bytes, done: false };
        progress(last);
        let _ = spent_tx.send(chunk); // its buffers go back to the reader
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
    let mut counts = BTreeMap::new();
    for (slot, t) in slots.iter_mut().zip(schema.types()) {
        if !slot.batch.is_empty() {
            let batch = crate::embed::fill(graph, t, slot.batch.finish()).await?;
            slot.stager.push(batch).await?;
        }
        let base = slot.rows.base();
        let location = snap.table(&t.table_key()).expect("every type").location.clone();
        let stored = snap.table(&t.table_key()).map_or(0, |e| e.row_count);
        let txn = match opts.mode {
            LoadMode::Overwrite => {
                let fragments = slot.stager.finish().await?;
                counts.insert(t.name.clone(), TypeCounts { inserted: slot.read, updated: 0, deleted: stored });
                Some(Transaction::new(
                    base.version().version,
                    Operation::Overwrite { fragments, schema: base.schema().clone(), config_upsert_values: None, initial_bases: None },
                    None,
                ))
            }
            LoadMode::Append => {
                let fragments = slot.stager.finish().await?;
                counts.insert(t.name.clone(), TypeCounts { inserted: slot.read, ..Default::default() });
                (!fragments.is_empty()).then(|| Transaction::new(base.version().version, Operation::Append { fragments }, None))
            }
            LoadMode::Merge => merge_transaction(&slot.stager, &slot.rows, base.clone()).await?.map(|(txn, c)| {
                counts.insert(t.name.clone(), c);
                txn
            }),
        };
        if let Some(txn) = txn {
            staged.push(StagedWrite::new(t.table_key(), location, base, txn));
        }
    }
    for slot in slots.iter_mut() {
        slot.stager.hand_off();
    }
    let rows: BTreeMap<String, u64> = schema.types().zip(slots.iter()).filter(|(_, s)| s.read > 0).map(|(t, s)| (t.name.clone(), s.read)).collect();
    let manifest_ds = snap.manifest_ds.clone().expect("snapshot carries its manifest");
    let kind = match opts.mode {
        LoadMode::Append => WriteKind::LoadAppend,
        LoadMode::Merge => WriteKind::LoadMerge,
        LoadMode::Overwrite => WriteKind::LoadOverwrite,
    };
    let state = if staged.is_empty() {
        snap.state.clone()
    } else {
        let reads: Vec<(String, u64)> = snap.tables.iter().map(|t| (t.key.clone(), t.version)).collect();
        let draft = opts.write.draft(kind.commit_kind(), counts);
        commit_and_publish(graph, manifest_ds, snap.state.clone(), kind, staged, &reads, draft).await?
    };
    // Indexes follow the data in their own publish (see graph::indexes).
    let published = state.version;
    let mut manifest_version = published;
    let mut indexes_built = 0;
    // The data is published: from here on the load has happened, whatever
    // the index step does. An index write that fails (or loses a race to
    // another writer) publishes nothing, and the next load builds it.
    if published != snap.state.version {
        indexes_built = crate::graph::indexes::ensure(graph).await.unwrap_or(0);
        if indexes_built > 0
            && let Ok(s) = graph.snapshot().await
        {
            manifest_version = s.manifest_version;
        }
    }
    Ok(LoadReport {
        mode: opts.mode,
        lines,
        rows,
        manifest_version,
        commit: state.commit.id.clone(),
        indexes_built,
        tables: state.tables.iter().map(|(k, e)| (k.clone(), e.row_count)).collect(),
        retries: 0,
    })
}

/// Merge: read the scratch dataset back in order, keep the last row per id,
/// and build Lance's merge-insert (update matched ids, insert new ones).
async fn merge_transaction(stager: &Stager, rows: &TypeRows, base: Arc<lance::Dataset>) -> Result<Option<(Transaction, TypeCounts)>> {
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
                    Some(keep.get(ids::id_key(ids.value(i))).is_none_or(|k| k == o))
                })
                .collect();
            ordinal += batch.num_rows() as u64;
            Ok::<RecordBatch, lance::deps::datafusion::error::DataFusionError>(arrow_select::filter::filter_record_batch(&batch, &mask)?)
        });
    let source: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(schema, stream));
    let job = MergeInsertBuilder::try_new(base, vec!["id".to_string()])
        .map_err(|e| Error::lance(&key, e))?
        .when_matched(WhenMatched::UpdateAll)
        .when_not_matched(WhenNotMatched::InsertAll)
        .try_build()
        .map_err(|e| Error::lance(&key, e))?;
    let out = job.execute_uncommitted(source).await.map_err(|e| Error::lance(&key, e))?;
    let counts = TypeCounts { inserted: out.stats.num_inserted_rows, updated: out.stats.num_updated_rows, deleted: out.stats.num_deleted_rows };
    Ok(Some((out.transaction, counts)))
}
