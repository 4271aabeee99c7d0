//! How a schema change changes one type's dataset, as one staged Lance
//! transaction: a `Project` (metadata only: renamed, dropped, added
//! nullable, reordered or loosened columns; no data file is written) or,
//! for steps that change stored values (a cast, a filled `@default`, enum
//! values no longer allowed), an overwrite with every row rewritten.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use futures::TryStreamExt;
use lance::Dataset;
use lance::dataset::transaction::{Operation, Transaction};
use lance::dataset::{InsertBuilder, WriteMode};

use crate::error::{Error, Result};
use crate::load::builder::TypeBatch;
use crate::load::value::convert_property;
use crate::schema::evolve::{TypeChange, default_of};
use crate::schema::{PropType, TypeDef, TypeKind};
use crate::session::Session;
use crate::storage::columns::{DST, ID, SRC, arrow_type, table_schema};

/// The storage columns every row has before its properties.
fn fixed_columns(t: &TypeDef) -> Vec<&'static str> {
    if t.kind == TypeKind::Edge { vec![ID, SRC, DST] } else { vec![ID] }
}

/// The metadata-only transaction taking `base` (the dataset of `c.old`) to
/// the columns of `c.new`.
pub(super) fn stage_project(base: &Dataset, c: &TypeChange) -> Result<Transaction> {
    let (old, new) = (c.old.as_ref().expect("an altered type"), c.new.as_ref().expect("an altered type"));
    let key = old.table_key();
    let lance_err = |e: lance::Error| Error::lance(&key, e);
    let mut schema = base.schema().clone();
    let mut tightened = false;
    // Renames and nullability, by the old column's field id.
    for np in &new.properties {
        let Some(src) = c.sources.get(&np.name) else { continue };
        let id = schema.field_id(src).map_err(lance_err)?;
        let f = schema.mut_field_by_id(id).ok_or_else(|| Error::lance(&key, format!("no column {src}")))?;
        f.name = np.name.clone();
        tightened |= f.nullable && !np.nullable;
        f.nullable = np.nullable;
    }
    // Added columns: nullable, read as null from every stored fragment.
    let added: Vec<arrow_schema::Field> =
        new.properties.iter().filter(|p| !c.sources.contains_key(&p.name)).map(|p| arrow_schema::Field::new(&p.name, arrow_type(&p.ty), true)).collect();
    if !added.is_empty() {
        let add = arrow_schema::Schema::new(added);
        schema = schema.merge(&add).map_err(lance_err)?;
        schema.try_set_field_id(Some(base.manifest().max_field_id())).map_err(lance_err)?;
    }
    // The new order, which also leaves dropped columns out.
    let order: Vec<&str> = fixed_columns(new).into_iter().chain(new.properties.iter().map(|p| p.name.as_str())).collect();
    let mut fields = Vec::with_capacity(order.len());
    for name in order {
        let f = schema.fields.iter().find(|f| f.name == name).cloned().ok_or_else(|| Error::lance(&key, format!("no column {name} after the change")))?;
        fields.push(f);
    }
    schema.fields = fields;
    Ok(Transaction::new(base.version().version, Operation::Project { schema, preserves_nullability: !tightened }, None))
}

/// A column of `n` copies of `p`'s `@default`.
fn default_column(t: &TypeDef, p: &crate::schema::Property, n: usize) -> Result<ArrayRef> {
    let json = default_of(p).unwrap_or(serde_json::Value::Null);
    let cell = convert_property(p, Some(json)).map_err(|e| Error::InvalidArgument(format!("{}.{}: @default: {}", t.name, p.name, e.message)))?;
    let one = TypeDef { kind: TypeKind::Node, properties: vec![p.clone()], ..t.clone() };
    let mut b = TypeBatch::new(&one);
    b.push("", None, &[cell]);
    let col = b.finish().column(1).clone();
    arrow_select::take::take(&col, &UInt32Array::from(vec![0u32; n]), None).map_err(|e| Error::InvalidArgument(e.to_string()))
}

/// What converting one batch gave: the rows in the new columns, or the
/// `(id, property)` of every value the change could not keep in a required
/// property.
type Converted = std::result::Result<RecordBatch, Vec<(String, String)>>;

/// One stored batch in the columns of `c.new`.
fn convert(b: &RecordBatch, c: &TypeChange, target: &arrow_schema::SchemaRef) -> Result<Converted> {
    let (old, new) = (c.old.as_ref().expect("an altered type"), c.new.as_ref().expect("an altered type"));
    let key = old.table_key();
    let mut cols: Vec<ArrayRef> = fixed_columns(new).iter().map(|n| b.column_by_name(n).expect("storage column").clone()).collect();
    let mut lost = Vec::new();
    for np in &new.properties {
        let col = match c.sources.get(&np.name) {
            // A new property with a `@default`: every row gets it.
            None => default_column(new, np, b.num_rows())?,
            Some(src) => {
                let stored = b.column_by_name(src).ok_or_else(|| Error::lance(&key, format!("no column {src}")))?;
                let mut col = if stored.data_type() == &arrow_type(&np.ty) {
                    stored.clone()
                } else {
                    arrow_cast::cast::cast(stored, &arrow_type(&np.ty)).map_err(|e| Error::InvalidArgument(format!("{}.{}: {e}", new.name, np.name)))?
                };
                if let PropType::Enum(allowed) = &np.ty {
                    col = only_allowed(&col, allowed);
                }
                // Values the change could not keep (a cast that did not
                // fit, an enum value no longer allowed).
                if !np.nullable && col.null_count() > stored.null_count() {
                    let ids = b.column_by_name(ID).expect("id column").as_string::<i32>();
                    lost.extend((0..b.num_rows()).filter(|i| col.is_null(*i) && !stored.is_null(*i)).map(|i| (ids.value(i).to_string(), np.name.clone())));
                }
                col
            }
        };
        cols.push(col);
    }
    if !lost.is_empty() {
        return Ok(Err(lost));
    }
    Ok(Ok(RecordBatch::try_new(target.clone(), cols).map_err(|e| Error::InvalidArgument(format!("{}: {e}", new.name)))?))
}

/// Whether converting can lose a value of a required property (a cast or
/// an enum set of a property that cannot hold null): then the rows are
/// checked in a first pass, before anything is written.
fn may_lose(c: &TypeChange) -> bool {
    let new = c.new.as_ref().expect("an altered type");
    let old = c.old.as_ref().expect("an altered type");
    new.properties.iter().any(|np| {
        !np.nullable && c.sources.get(&np.name).and_then(|src| old.property(src)).is_some_and(|op| op.ty != np.ty || matches!(np.ty, PropType::Enum(_)))
    })
}

/// The rows of `base` rewritten to the columns of `c.new` (casts, filled
/// defaults, values outside a narrowed enum set to null), streamed batch by
/// batch into an overwrite. Returns its transaction, or the ids of rows
/// whose value cannot be kept in a required property (nothing is written
/// then: a first pass finds them when that can happen).
pub(super) async fn stage_rewrite(session: &Session, base: &Arc<Dataset>, c: &TypeChange) -> Result<std::result::Result<Transaction, Vec<(String, String)>>> {
    use futures::StreamExt;
    use lance::deps::datafusion::error::DataFusionError;
    use lance::deps::datafusion::physical_plan::SendableRecordBatchStream;
    use lance::deps::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    let (old, new) = (c.old.as_ref().expect("an altered type"), c.new.as_ref().expect("an altered type"));
    let key = old.table_key();
    let lance_err = |e: lance::Error| Error::lance(&key, e);
    let target = table_schema(new);
    if may_lose(c) {
        let mut lost = Vec::new();
        let mut stream = base.scan().try_into_stream().await.map_err(lance_err)?;
        while let Some(b) = stream.try_next().await.map_err(lance_err)? {
            if let Err(mut l) = convert(&b, c, &target)? {
                lost.append(&mut l);
            }
        }
        if !lost.is_empty() {
            return Ok(Err(lost));
        }
    }
    let (change, schema) = (c.clone(), target.clone());
    let rows = base.scan().scan_in_order(true).try_into_stream().await.map_err(lance_err)?.map_err(|e| DataFusionError::External(Box::new(e))).map(move |b| {
        match convert(&b?, &change, &schema) {
            Ok(Ok(b)) => Ok(b),
            // The first pass found none: a value that cannot be kept.
            Ok(Err(lost)) => Err(DataFusionError::Execution(format!("{} value(s) do not fit a required property", lost.len()))),
            Err(e) => Err(DataFusionError::External(Box::new(e))),
        }
    });
    let source: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(target, rows));
    let params = session.write_params(WriteMode::Overwrite);
    let txn = InsertBuilder::new(base.clone()).with_params(&params).execute_uncommitted_stream(source).await.map_err(lance_err)?;
    Ok(Ok(txn))
}

/// `col` (strings) with every value not in `allowed` set to null.
fn only_allowed(col: &ArrayRef, allowed: &[String]) -> ArrayRef {
    let s = col.as_string::<i32>();
    let kept: arrow_array::StringArray = s.iter().map(|v| v.filter(|v| allowed.iter().any(|a| a == v))).collect();
    Arc::new(kept)
}
