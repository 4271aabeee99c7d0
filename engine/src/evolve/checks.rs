//! A schema change's new constraints, checked against the stored rows of
//! the commit it starts from: each broken one is a lint naming the rows.

use std::collections::{BTreeMap, HashMap};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use futures::TryStreamExt;
use lance::Dataset;

use crate::codes;
use crate::error::{Error, Result};
use crate::schema::TypeDef;
use crate::schema::evolve::{Lint, NewConstraint, TypeChange};
use crate::storage::columns::{ID, SRC};

/// At most this many offending ids are named per lint.
pub const MAX_IDS: usize = 10;

/// What checking found.
#[derive(Default)]
pub(super) struct Found {
    pub lints: Vec<Lint>,
    /// Types whose rows hold enum values the new schema drops, nullable:
    /// they are set to null (a rewrite that loses data).
    pub enum_losses: BTreeMap<String, u64>,
}

fn name_ids(ids: &[String], total: usize) -> String {
    let shown: Vec<&str> = ids.iter().take(MAX_IDS).map(String::as_str).collect();
    if total > shown.len() { format!("{} and {} more", shown.join(", "), total - shown.len()) } else { shown.join(", ") }
}

async fn scan(ds: &Dataset, key: &str, cols: &[&str]) -> Result<Vec<RecordBatch>> {
    let mut sc = ds.scan();
    sc.project(cols).map_err(|e| Error::lance(key, e))?;
    sc.try_into_stream().await.map_err(|e| Error::lance(key, e))?.try_collect().await.map_err(|e| Error::lance(key, e))
}

/// Checks `c`'s new constraints against `ds` (its type's table before the
/// change); `nodes` opens the table of a node type (for `@card` minimums).
pub(super) async fn check(ds: &Dataset, c: &TypeChange, source_ids: Option<Vec<String>>, found: &mut Found) -> Result<()> {
    let (old, new) = (c.old.as_ref().expect("an altered type"), c.new.as_ref().expect("an altered type"));
    let key = old.table_key();
    // The stored column a new property name reads.
    let col = |p: &str| c.sources.get(p).cloned().unwrap_or_else(|| p.to_string());
    // A property the change adds has no stored value yet: every row holds
    // null (or its `@default`, checked where it is converted), which no
    // constraint here refuses.
    let stored = |p: &str| c.sources.contains_key(p);
    for k in &c.checks {
        let reads_new = match k {
            NewConstraint::NotNull(p)
            | NewConstraint::Range { property: p, .. }
            | NewConstraint::Check { property: p, .. }
            | NewConstraint::EnumOnly { property: p, .. } => !stored(p),
            NewConstraint::Unique(ps) | NewConstraint::Key(ps) => ps.iter().any(|p| !stored(p)),
            NewConstraint::Card { .. } => false,
        };
        if reads_new {
            continue;
        }
        let mut bad: Vec<String> = Vec::new();
        let target;
        let what;
        match k {
            NewConstraint::NotNull(p) => {
                target = format!("{}.{p}", new.name);
                what = "hold null, and the property becomes required".to_string();
                for b in scan(ds, &key, &[ID, &col(p)]).await? {
                    let (ids, v) = (b.column(0).as_string::<i32>(), b.column(1));
                    bad.extend((0..b.num_rows()).filter(|i| v.is_null(*i)).map(|i| ids.value(i).to_string()));
                }
            }
            NewConstraint::Range { property, min, max } => {
                target = format!("{}.{property}", new.name);
                what = format!(
                    "hold a value outside @range({}..{})",
                    min.map(|m| m.to_string()).unwrap_or_default(),
                    max.map(|m| m.to_string()).unwrap_or_default()
                );
                for b in scan(ds, &key, &[ID, &col(property)]).await? {
                    let ids = b.column(0).as_string::<i32>();
                    let v = arrow_cast::cast::cast(b.column(1), &DataType::Float64).map_err(|e| Error::InvalidArgument(e.to_string()))?;
                    let v = v.as_primitive::<Float64Type>();
                    for i in 0..b.num_rows() {
                        if v.is_valid(i) && (min.is_some_and(|m| v.value(i) < m) || max.is_some_and(|m| v.value(i) > m)) {
                            bad.push(ids.value(i).to_string());
                        }
                    }
                }
            }
            NewConstraint::Check { property, pattern } => {
                target = format!("{}.{property}", new.name);
                what = format!("hold a value not matching @check({pattern:?})");
                let re = crate::schema::pattern::compile(pattern).map_err(|e| Error::InvalidArgument(e.to_string()))?;
                for b in scan(ds, &key, &[ID, &col(property)]).await? {
                    let (ids, v) = (b.column(0).as_string::<i32>(), b.column(1).as_string::<i32>());
                    bad.extend((0..b.num_rows()).filter(|i| v.is_valid(*i) && !re.is_match(v.value(*i))).map(|i| ids.value(i).to_string()));
                }
            }
            NewConstraint::Unique(props) => {
                target = format!("{}({})", new.name, props.join(", "));
                what = "share a value with another (shown as `id = first id`), and it becomes @unique".to_string();
                let cols: Vec<String> = props.iter().map(|p| col(p)).collect();
                let mut names: Vec<&str> = vec![ID];
                names.extend(cols.iter().map(String::as_str));
                let mut seen: HashMap<String, String> = HashMap::new();
                for b in scan(ds, &key, &names).await? {
                    let ids = b.column(0).as_string::<i32>();
                    let fmt: Vec<arrow_cast::display::ArrayFormatter> = (1..b.num_columns())
                        .map(|i| arrow_cast::display::ArrayFormatter::try_new(b.column(i).as_ref(), &Default::default()))
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                    for i in 0..b.num_rows() {
                        if (1..b.num_columns()).any(|c| b.column(c).is_null(i)) {
                            continue;
                        }
                        let value: Vec<String> = fmt.iter().map(|f| f.value(i).to_string()).collect();
                        let value = value.join("\u{1f}");
                        if let Some(first) = seen.get(&value) {
                            bad.push(format!("{} = {}", ids.value(i), first));
                        } else {
                            seen.insert(value, ids.value(i).to_string());
                        }
                    }
                }
            }
            NewConstraint::Key(props) => {
                target = format!("{}({})", new.name, props.join(", "));
                what = "have an id that is not their key value (ids are built from the key; load them again under the new type)".to_string();
                let cols: Vec<String> = props.iter().map(|p| col(p)).collect();
                let mut names: Vec<&str> = vec![ID];
                names.extend(cols.iter().map(String::as_str));
                for b in scan(ds, &key, &names).await? {
                    let ids = b.column(0).as_string::<i32>();
                    for i in 0..b.num_rows() {
                        let mut cells = Vec::with_capacity(props.len());
                        for (c, p) in props.iter().enumerate() {
                            let prop = new.property(p).expect("a key property");
                            let json = crate::query::Value::from_array(b.column(c + 1).as_ref(), i).to_json();
                            cells.push(crate::load::value::convert_property(prop, Some(json)).ok());
                        }
                        let id = ids.value(i);
                        let fits = cells.iter().all(Option::is_some) && {
                            let cells: Vec<&crate::load::value::Cell> = cells.iter().flatten().collect();
                            match cells[..] {
                                [crate::load::value::Cell::Str(s)] => s == id,
                                _ => crate::load::value::node_id(&cells) == id,
                            }
                        };
                        if !fits {
                            bad.push(id.to_string());
                        }
                    }
                }
            }
            NewConstraint::Card { min, max } => {
                target = new.name.clone();
                what = format!("sources with a number of edges outside @card({min}..{})", max.map(|m| m.to_string()).unwrap_or_default());
                let mut per_source: HashMap<String, u64> = HashMap::new();
                for b in scan(ds, &key, &[SRC]).await? {
                    let s = b.column(0).as_string::<i32>();
                    for i in 0..b.num_rows() {
                        *per_source.entry(s.value(i).to_string()).or_default() += 1;
                    }
                }
                let mut over: Vec<String> = per_source.iter().filter(|(_, n)| max.is_some_and(|m| **n > m)).map(|(s, _)| s.clone()).collect();
                if *min > 0 {
                    over.extend(source_ids.iter().flatten().filter(|id| per_source.get(*id).copied().unwrap_or(0) < *min).cloned());
                }
                over.sort();
                bad = over;
            }
            NewConstraint::EnumOnly { property, allowed, nullable } => {
                target = format!("{}.{property}", new.name);
                what = format!("hold a value outside enum({})", allowed.join(", "));
                for b in scan(ds, &key, &[ID, &col(property)]).await? {
                    let (ids, v) = (b.column(0).as_string::<i32>(), b.column(1).as_string::<i32>());
                    bad.extend((0..b.num_rows()).filter(|i| v.is_valid(*i) && !allowed.iter().any(|a| a == v.value(*i))).map(|i| ids.value(i).to_string()));
                }
                if *nullable && !bad.is_empty() {
                    *found.enum_losses.entry(new.name.clone()).or_default() += bad.len() as u64;
                    found.lints.push(Lint {
                        code: codes::LINT_DATA_LOSS.code,
                        target,
                        message: format!("{} row(s) {what}; it would become null ({}); pass --allow-data-loss", bad.len(), name_ids(&bad, bad.len())),
                    });
                    continue;
                }
            }
        }
        if !bad.is_empty() {
            found.lints.push(Lint {
                code: codes::LINT_CONSTRAINT_BROKEN.code,
                target,
                message: format!("{} stored row(s) {what}: {}", bad.len(), name_ids(&bad, bad.len())),
            });
        }
    }
    Ok(())
}

/// The ids of node type `t`'s rows in `ds`.
pub(super) async fn node_ids(ds: &Dataset, t: &TypeDef) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for b in scan(ds, &t.table_key(), &[ID]).await? {
        let ids = b.column(0).as_string::<i32>();
        out.extend((0..b.num_rows()).map(|i| ids.value(i).to_string()));
    }
    Ok(out)
}
