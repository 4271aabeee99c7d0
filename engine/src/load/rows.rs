//! Checks across rows: ids and `@key`, `@unique`, `@range`, `@check`, edge
//! endpoints and `@card`, against the rows of this load and the stored rows
//! of the snapshot the load started from.

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use futures::TryStreamExt;
use lance::Dataset;

use super::LoadMode;
use super::ids::{IdKey, IdTable, id_key};
use super::rules::ValueRules;
use super::value::{Cell, node_id};
use crate::error::{Error, LineError, Result};
use crate::schema::{SchemaIr, TypeDef, TypeKind};
use crate::storage::columns::{ID, SRC};

/// Errors of one load, in the order found; listed up to a cap, all counted.
pub struct RowTracker {
    errors: Vec<LineError>,
    total: u64,
}

const KEEP_ERRORS: usize = 10_000;

impl Default for RowTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl RowTracker {
    pub fn new() -> Self {
        RowTracker { errors: Vec::new(), total: 0 }
    }

    pub fn error(&mut self, line: u64, code: &'static str, message: impl Into<String>) {
        self.total += 1;
        if self.errors.len() < KEEP_ERRORS {
            self.errors.push(LineError { line, code, message: message.into() });
        }
    }

    pub fn has_errors(&self) -> bool {
        self.total > 0
    }

    /// `(total, first `cap` errors by line)`.
    pub fn take_errors(&mut self, cap: usize) -> (u64, Vec<LineError>) {
        let mut errs = std::mem::take(&mut self.errors);
        errs.sort_by_key(|e| e.line);
        errs.truncate(cap);
        (self.total, errs)
    }
}

struct UniqueSet {
    props: Vec<usize>,
    label: String,
    /// Value tuple -> (row id, line) in this load.
    batch: HashMap<String, (String, u64)>,
    /// Value tuple -> row id, stored rows.
    stored: HashMap<String, String>,
    /// Merge: tuples that matched a stored row of another id, decided at the
    /// end (that row may be replaced later in the input).
    deferred: Vec<(u64, String, String)>,
}

/// Per-type state of one load.
pub struct TypeRows {
    base: Arc<Dataset>,
    key: String,
    mode: LoadMode,
    /// Ids seen in this load -> the line of their row (the first one; in
    /// merge mode the last, which wins). Edges keep
    /// only ids given in the input (generated ids cannot collide).
    batch_ids: IdTable<u64>,
    /// Ids as text, kept only for node types whose rows a `@card` minimum
    /// must name in its errors.
    id_strings: Option<Vec<(String, u64)>>,
    /// Merge: the line of each row staged, in order; a row's index here is
    /// its position in the scratch dataset.
    merge_lines: Vec<u64>,
    has_dups: bool,
    /// Stored ids, loaded on first need (see [`TypeRows::ensure_stored_ids`]).
    stored_ids: Option<IdTable<()>>,
    unique_names: Vec<Vec<String>>,
    uniques: Vec<UniqueSet>,
    /// Merge: current unique tuples of each id, to retire them on re-occurrence.
    id_tuples: HashMap<String, Vec<String>>,
    rules: ValueRules,
    /// Edges: endpoints not yet known when their line was read.
    pending: Vec<(u64, bool, String)>,
    /// Edges: per source id, (edges in this load, last line).
    src_counts: FxHashMap<String, (u64, u64)>,
    /// Edges, merge: given id -> source id, for last-wins counting.
    given_src: FxHashMap<String, String>,
}

async fn scan_strings(ds: &Dataset, cols: &[&str], key: &str) -> Result<Vec<arrow_array::RecordBatch>> {
    ds.scan()
        .project(cols)
        .map_err(|e| Error::lance(key, e))?
        .try_into_stream()
        .await
        .map_err(|e| Error::lance(key, e))?
        .try_collect()
        .await
        .map_err(|e| Error::lance(key, e))
}

fn cell_of(col: &dyn Array, i: usize) -> Cell {
    use arrow_array::types::*;
    use arrow_schema::DataType;
    if col.is_null(i) {
        return Cell::Null;
    }
    match col.data_type() {
        DataType::Utf8 => Cell::Str(col.as_string::<i32>().value(i).to_string()),
        DataType::Boolean => Cell::Bool(col.as_boolean().value(i)),
        DataType::Int32 => Cell::I64(col.as_primitive::<Int32Type>().value(i) as i64),
        DataType::Int64 => Cell::I64(col.as_primitive::<Int64Type>().value(i)),
        DataType::UInt32 => Cell::U64(col.as_primitive::<UInt32Type>().value(i) as u64),
        DataType::UInt64 => Cell::U64(col.as_primitive::<UInt64Type>().value(i)),
        DataType::Float32 => Cell::F64(col.as_primitive::<Float32Type>().value(i) as f64),
        DataType::Float64 => Cell::F64(col.as_primitive::<Float64Type>().value(i)),
        DataType::Date32 => Cell::Date(col.as_primitive::<Date32Type>().value(i)),
        DataType::Timestamp(_, _) => Cell::Ts(col.as_primitive::<TimestampMicrosecondType>().value(i)),
        _ => Cell::Null,
    }
}

fn tuple_of(cells: &[&Cell]) -> Option<String> {
    if cells.iter().any(|c| matches!(c, Cell::Null)) {
        return None;
    }
    Some(node_id(cells))
}

impl TypeRows {
    pub fn new(t: &TypeDef, base: Arc<Dataset>, mode: LoadMode, keep_id_strings: bool) -> TypeRows {
        let key = t.table_key();
        let idx = |name: &str| t.properties.iter().position(|p| p.name == name).expect("compiled constraint names a property");
        let uniques: Vec<UniqueSet> = t
            .unique
            .iter()
            .map(|u| UniqueSet {
                props: u.iter().map(|n| idx(n)).collect(),
                label: u.join(", "),
                batch: HashMap::new(),
                stored: HashMap::new(),
                deferred: Vec::new(),
            })
            .collect();
        TypeRows {
            base,
            key,
            mode,
            batch_ids: IdTable::new(),
            id_strings: keep_id_strings.then(Vec::new),
            merge_lines: Vec::new(),
            has_dups: false,
            stored_ids: None,
            unique_names: t.unique.clone(),
            uniques,
            id_tuples: HashMap::new(),
            rules: ValueRules::new(t),
            pending: Vec::new(),
            src_counts: FxHashMap::default(),
            given_src: FxHashMap::default(),
        }
    }

    pub fn base(&self) -> Arc<Dataset> {
        self.base.clone()
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Merge: id -> ordinal of the row that wins, when some id repeated.
    pub fn last_ordinals(&self) -> Option<IdTable<u64>> {
        self.has_dups.then(|| {
            let mut t = IdTable::new();
            for (k, line) in self.batch_ids.iter() {
                let ordinal = self.merge_lines.binary_search(&line).expect("every id's line staged a row");
                t.insert(k, ordinal as u64);
            }
            t
        })
    }

    /// Is the id with key `k` a node of this type, in this load or stored?
    pub fn knows(&self, k: IdKey) -> bool {
        self.batch_ids.contains(k) || self.stored_ids.as_ref().is_some_and(|s| s.contains(k))
    }

    /// Starts fetching what [`TypeRows::knows`] or [`TypeRows::accept_node`]
    /// will read for key `k` (see [`IdTable::prefetch`]).
    pub fn prefetch(&self, k: IdKey) {
        self.batch_ids.prefetch(k);
        if let Some(s) = &self.stored_ids {
            s.prefetch(k);
        }
    }

    fn value_checks(&self, line: u64, t: &TypeDef, cells: &[Cell], tracker: &mut RowTracker) -> bool {
        self.rules.check(t, cells, &mut |code, msg| tracker.error(line, code, msg))
    }

    /// Unique tuples of a row; errors for clashes. Returns false on a clash.
    fn unique_checks(&mut self, line: u64, t: &TypeDef, id: &str, cells: &[Cell], tracker: &mut RowTracker) -> bool {
        if self.uniques.is_empty() {
            return true;
        }
        if self.mode == LoadMode::Merge
            && let Some(old) = self.id_tuples.remove(id)
        {
            for (u, tup) in self.uniques.iter_mut().zip(old) {
                if u.batch.get(&tup).is_some_and(|(owner, _)| owner == id) {
                    u.batch.remove(&tup);
                }
            }
        }
        let mut ok = true;
        let mut mine = Vec::new();
        for u in self.uniques.iter_mut() {
            let cells_u: Vec<&Cell> = u.props.iter().map(|i| &cells[*i]).collect();
            let Some(tup) = tuple_of(&cells_u) else {
                mine.push(String::new());
                continue;
            };
            if let Some((owner, first)) = u.batch.get(&tup)
                && owner != id
            {
                tracker.error(line, crate::codes::LOAD_REPEATED_UNIQUE.code, format!("`{}` @unique({}) value {tup} repeats line {first}", t.name, u.label));
                ok = false;
            }
            if let Some(owner) = u.stored.get(&tup)
                && owner != id
            {
                if self.mode == LoadMode::Append {
                    tracker.error(
                        line,
                        crate::codes::LOAD_ALREADY_STORED.code,
                        format!("`{}` @unique({}) value {tup} is already used by stored `{owner}`", t.name, u.label),
                    );
                    ok = false;
                } else {
                    u.deferred.push((line, tup.clone(), owner.clone()));
                }
            }
            u.batch.insert(tup.clone(), (id.to_string(), line));
            mine.push(tup);
        }
        if self.mode == LoadMode::Merge {
            self.id_tuples.insert(id.to_string(), mine);
        }
        ok
    }

    fn staged(&mut self, line: u64) {
        if self.mode == LoadMode::Merge {
            self.merge_lines.push(line);
        }
    }

    /// Records an id; errors for duplicates where the mode forbids them.
    fn record_id(&mut self, line: u64, t: &TypeDef, id: &str, k: IdKey, tracker: &mut RowTracker) -> bool {
        if let Some(first) = self.batch_ids.get(k) {
            if self.mode != LoadMode::Merge {
                let what = if t.key.is_empty() { "id" } else { "key" };
                tracker.error(line, crate::codes::LOAD_REPEATED_KEY.code, format!("`{}` {what} `{id}` repeats line {first}", t.name));
                return false;
            }
            self.has_dups = true;
        }
        if self.mode == LoadMode::Append && self.stored_ids.as_ref().is_some_and(|s| s.contains(k)) {
            tracker.error(
                line,
                crate::codes::LOAD_ALREADY_STORED.code,
                format!("`{}` `{id}` already exists in the graph (use --mode merge to update it)", t.name),
            );
            return false;
        }
        self.batch_ids.insert(k, line);
        if let Some(v) = self.id_strings.as_mut() {
            v.push((id.to_string(), line));
        }
        self.staged(line);
        true
    }

    /// Checks a node row; `key` is `Some` for an id from the input (see
    /// [`super::line::Parsed::id`]), `None` for a generated one. True when
    /// accepted.
    pub fn accept_node(&mut self, line: u64, t: &TypeDef, id: &str, key: Option<IdKey>, cells: &[Cell], tracker: &mut RowTracker) -> bool {
        let values_ok = self.value_checks(line, t, cells, tracker);
        let unique_ok = self.unique_checks(line, t, id, cells, tracker);
        if !(values_ok && unique_ok) {
            return false;
        }
        if let Some(k) = key {
            return self.record_id(line, t, id, k, tracker);
        }
        self.staged(line); // a generated id cannot collide
        true
    }

    /// Whether [`TypeRows::ensure_stored_ids`] has nothing (more) to do.
    pub fn stored_ids_ready(&self) -> bool {
        self.stored_ids.is_some() || self.mode == LoadMode::Overwrite
    }

    /// Loads the stored ids (and stored `@unique` values) of this table,
    /// once, when the load first needs them: a row of this type, an edge
    /// pointing at this node type, or an edge with an id from the input.
    /// Types the input never touches are never scanned. No-op for overwrite.
    pub async fn ensure_stored_ids(&mut self) -> Result<()> {
        if self.stored_ids_ready() {
            return Ok(());
        }
        let mut cols = vec![ID.to_string()];
        for u in &self.unique_names {
            cols.extend(u.iter().cloned());
        }
        cols.sort();
        cols.dedup();
        let col_refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
        let mut ids = IdTable::new();
        for b in scan_strings(&self.base, &col_refs, &self.key).await? {
            let id_col = b.column_by_name(ID).expect("id column").as_string::<i32>();
            for i in 0..b.num_rows() {
                let id = id_col.value(i).to_string();
                for (u, names) in self.uniques.iter_mut().zip(&self.unique_names) {
                    let cells: Vec<Cell> = names.iter().map(|n| cell_of(b.column_by_name(n).expect("unique column").as_ref(), i)).collect();
                    if let Some(tup) = tuple_of(&cells.iter().collect::<Vec<_>>()) {
                        u.stored.insert(tup, id.clone());
                    }
                }
                ids.insert(id_key(&id), ());
            }
        }
        self.stored_ids = Some(ids);
        Ok(())
    }

    /// Checks an edge row; `known` says whether its endpoints are already
    /// known nodes (unknown ones are checked once the whole input is read).
    #[allow(clippy::too_many_arguments)]
    pub fn accept_edge(
        &mut self,
        line: u64,
        t: &TypeDef,
        id: &str,
        key: Option<IdKey>,
        (src, dst): (&str, &str),
        known: (bool, bool),
        cells: &[Cell],
        tracker: &mut RowTracker,
    ) -> bool {
        let values_ok = self.value_checks(line, t, cells, tracker);
        let unique_ok = self.unique_checks(line, t, id, cells, tracker);
        if !(values_ok && unique_ok) {
            return false;
        }
        if let Some(k) = key {
            if !self.record_id(line, t, id, k, tracker) {
                return false;
            }
            if self.mode == LoadMode::Merge
                && let Some(prev_src) = self.given_src.insert(id.to_string(), src.to_string())
                && let Some(c) = self.src_counts.get_mut(&prev_src)
            {
                c.0 -= 1;
            }
        } else {
            self.staged(line);
        }
        if !known.0 {
            self.pending.push((line, true, src.to_string()));
        }
        if !known.1 {
            self.pending.push((line, false, dst.to_string()));
        }
        if t.card.is_some() {
            let c = self.src_counts.entry(src.to_string()).or_insert((0, line));
            c.0 += 1;
            c.1 = line;
        }
        true
    }

    /// Merge-mode unique clashes with stored rows that this load did not replace.
    pub fn check_deferred_unique(&self, t: &TypeDef, tracker: &mut RowTracker) {
        for u in &self.uniques {
            for (line, tup, owner) in &u.deferred {
                if !self.batch_ids.contains(id_key(owner)) {
                    tracker.error(
                        *line,
                        crate::codes::LOAD_ALREADY_STORED.code,
                        format!("`{}` @unique({}) value {tup} is already used by stored `{owner}`", t.name, u.label),
                    );
                }
            }
        }
    }

    /// `@card(min..max)`: edges per source node over the graph after the load.
    pub async fn check_card(&mut self, t: &TypeDef, from_nodes: &TypeRows, tracker: &mut RowTracker) -> Result<()> {
        let Some(card) = t.card.clone() else { return Ok(()) };
        let mut counts: FxHashMap<String, (u64, u64)> = std::mem::take(&mut self.src_counts);
        if self.mode != LoadMode::Overwrite {
            for b in scan_strings(&self.base, &[ID, SRC], &self.key).await? {
                let ids = b.column_by_name(ID).expect("id").as_string::<i32>();
                let srcs = b.column_by_name(SRC).expect("src").as_string::<i32>();
                for i in 0..b.num_rows() {
                    if self.mode == LoadMode::Merge && self.batch_ids.contains(id_key(ids.value(i))) {
                        continue; // replaced by this load
                    }
                    counts.entry(srcs.value(i).to_string()).or_insert((0, 0)).0 += 1;
                }
            }
        }
        let range = match card.max {
            Some(m) => format!("{}..{m}", card.min),
            None => format!("{}..", card.min),
        };
        if let Some(max) = card.max {
            for (src, (n, line)) in &counts {
                if *n > max {
                    tracker.error(
                        *line,
                        crate::codes::LOAD_CARD_BROKEN.code,
                        format!("`{src}` would have {n} `{}` edges; @card({range}) allows at most {max}", t.name),
                    );
                }
            }
        }
        if card.min > 0 {
            let from = t.from.as_deref().unwrap_or_default();
            let mut check = |id: &str, line: u64| {
                let n = counts.get(id).map(|c| c.0).unwrap_or(0);
                if n < card.min {
                    let which = if line == 0 { "stored node" } else { "node" };
                    tracker.error(
                        line,
                        crate::codes::LOAD_CARD_BROKEN.code,
                        format!("{which} `{from}` `{id}` has {n} `{}` edges; @card({range}) needs at least {}", t.name, card.min),
                    );
                }
            };
            let mut seen = FxHashSet::default();
            for (id, line) in from_nodes.id_strings.iter().flatten().rev() {
                if seen.insert(id_key(id)) {
                    check(id, *line);
                }
            }
            if self.mode != LoadMode::Overwrite {
                for b in scan_strings(&from_nodes.base, &[ID], &from_nodes.key).await? {
                    let ids = b.column(0).as_string::<i32>();
                    for i in 0..b.num_rows() {
                        if !from_nodes.batch_ids.contains(id_key(ids.value(i))) {
                            check(ids.value(i), 0);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Edge endpoints that were unknown when read: they must exist now.
pub fn check_endpoints(schema: &SchemaIr, rows: &[&TypeRows], index: &std::collections::BTreeMap<(TypeKind, String), usize>, tracker: &mut RowTracker) {
    for (t, r) in schema.types().zip(rows) {
        if t.kind != TypeKind::Edge {
            continue;
        }
        for (line, is_from, id) in &r.pending {
            let node_type = if *is_from { t.from.as_ref() } else { t.to.as_ref() }.expect("edge endpoints");
            let node_rows = rows[index[&(TypeKind::Node, node_type.clone())]];
            if !node_rows.knows(id_key(id)) {
                let side = if *is_from { "from" } else { "to" };
                tracker.error(*line, crate::codes::LOAD_MISSING_ENDPOINT.code, format!("edge `{}` `{side}` node `{node_type}` `{id}` does not exist", t.name));
            }
        }
    }
    for (t, r) in schema.types().zip(rows) {
        if t.kind == TypeKind::Node {
            r.check_deferred_unique(t, tracker);
        }
    }
}
