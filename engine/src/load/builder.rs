//! Column builders for one type's dataset: rows of [`Cell`]s in, an Arrow
//! `RecordBatch` out, in the column order of [`table_schema`].

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int32Builder, Int64Builder, LargeBinaryBuilder, StringBuilder, TimestampMicrosecondBuilder,
    UInt32Builder, UInt64Builder,
};
use arrow_array::{Array, ArrayRef, FixedSizeListArray, Float32Array, ListArray, RecordBatch};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, SchemaRef};

use super::value::Cell;
use crate::schema::{PropType, TypeDef};
use crate::storage::columns::{arrow_type, unembedded_schema};

enum Col {
    Str(StringBuilder),
    Bool(BooleanBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    U32(UInt32Builder),
    U64(UInt64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder),
    Blob(LargeBinaryBuilder),
    Vector { dim: i32, values: Vec<f32>, valid: Vec<bool> },
    List { item: DataType, offsets: Vec<i32>, valid: Vec<bool>, child: Box<Col> },
}

impl Col {
    fn new(ty: &PropType) -> Col {
        match ty {
            PropType::String | PropType::Enum(_) => Col::Str(StringBuilder::new()),
            PropType::Bool => Col::Bool(BooleanBuilder::new()),
            PropType::I32 => Col::I32(Int32Builder::new()),
            PropType::I64 => Col::I64(Int64Builder::new()),
            PropType::U32 => Col::U32(UInt32Builder::new()),
            PropType::U64 => Col::U64(UInt64Builder::new()),
            PropType::F32 => Col::F32(Float32Builder::new()),
            PropType::F64 => Col::F64(Float64Builder::new()),
            PropType::Date => Col::Date(Date32Builder::new()),
            PropType::DateTime => Col::Ts(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
            PropType::Blob => Col::Blob(LargeBinaryBuilder::new()),
            PropType::Vector(n) => Col::Vector { dim: *n as i32, values: Vec::new(), valid: Vec::new() },
            PropType::List(inner) => Col::List { item: arrow_type(inner), offsets: vec![0], valid: Vec::new(), child: Box::new(Col::new(inner)) },
        }
    }

    fn push(&mut self, c: &Cell) {
        match (self, c) {
            (Col::Str(b), Cell::Str(s)) => b.append_value(s),
            (Col::Str(b), _) => b.append_null(),
            (Col::Bool(b), Cell::Bool(v)) => b.append_value(*v),
            (Col::Bool(b), _) => b.append_null(),
            (Col::I32(b), Cell::I64(v)) => b.append_value(*v as i32),
            (Col::I32(b), _) => b.append_null(),
            (Col::I64(b), Cell::I64(v)) => b.append_value(*v),
            (Col::I64(b), _) => b.append_null(),
            (Col::U32(b), Cell::U64(v)) => b.append_value(*v as u32),
            (Col::U32(b), _) => b.append_null(),
            (Col::U64(b), Cell::U64(v)) => b.append_value(*v),
            (Col::U64(b), _) => b.append_null(),
            (Col::F32(b), Cell::F64(v)) => b.append_value(*v as f32),
            (Col::F32(b), _) => b.append_null(),
            (Col::F64(b), Cell::F64(v)) => b.append_value(*v),
            (Col::F64(b), _) => b.append_null(),
            (Col::Date(b), Cell::Date(v)) => b.append_value(*v),
            (Col::Date(b), _) => b.append_null(),
            (Col::Ts(b), Cell::Ts(v)) => b.append_value(*v),
            (Col::Ts(b), _) => b.append_null(),
            (Col::Blob(b), Cell::Bytes(v)) => b.append_value(v),
            (Col::Blob(b), _) => b.append_null(),
            (Col::Vector { values, valid, .. }, Cell::Vector(v)) => {
                values.extend_from_slice(v);
                valid.push(true);
            }
            (Col::Vector { dim, values, valid }, _) => {
                values.extend(std::iter::repeat_n(0.0, *dim as usize));
                valid.push(false);
            }
            (Col::List { offsets, valid, child, .. }, Cell::List(items)) => {
                for i in items {
                    child.push(i);
                }
                offsets.push(offsets.last().copied().unwrap_or(0) + items.len() as i32);
                valid.push(true);
            }
            (Col::List { offsets, valid, .. }, _) => {
                offsets.push(offsets.last().copied().unwrap_or(0));
                valid.push(false);
            }
        }
    }

    /// The column so far; the builder starts over with room for as many
    /// rows (and string bytes) as this chunk had, so the next chunk does
    /// not grow its buffers by doubling.
    fn finish(&mut self) -> ArrayRef {
        macro_rules! again {
            ($b:expr, $t:ty) => {{
                let a = $b.finish();
                *$b = <$t>::with_capacity(a.len());
                Arc::new(a)
            }};
        }
        match self {
            Col::Str(b) => Arc::new(finish_strings(b)),
            Col::Bool(b) => again!(b, BooleanBuilder),
            Col::I32(b) => again!(b, Int32Builder),
            Col::I64(b) => again!(b, Int64Builder),
            Col::U32(b) => again!(b, UInt32Builder),
            Col::U64(b) => again!(b, UInt64Builder),
            Col::F32(b) => again!(b, Float32Builder),
            Col::F64(b) => again!(b, Float64Builder),
            Col::Date(b) => again!(b, Date32Builder),
            Col::Ts(b) => {
                let a = b.finish();
                *b = TimestampMicrosecondBuilder::with_capacity(a.len()).with_timezone("UTC");
                Arc::new(a)
            }
            Col::Blob(b) => Arc::new(b.finish()),
            Col::Vector { dim, values, valid } => {
                let field = Arc::new(Field::new("item", DataType::Float32, true));
                let vals = Arc::new(Float32Array::from(std::mem::take(values)));
                let nulls = nulls_of(std::mem::take(valid));
                Arc::new(FixedSizeListArray::new(field, *dim, vals, nulls))
            }
            Col::List { item, offsets, valid, child } => {
                let field = Arc::new(Field::new("item", item.clone(), true));
                let o = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                let nulls = nulls_of(std::mem::take(valid));
                Arc::new(ListArray::new(field, o, child.finish(), nulls))
            }
        }
    }
}

fn finish_strings(b: &mut StringBuilder) -> arrow_array::StringArray {
    let a = b.finish();
    *b = StringBuilder::with_capacity(a.len(), a.value_data().len());
    a
}

fn nulls_of(valid: Vec<bool>) -> Option<NullBuffer> {
    if valid.iter().all(|v| *v) { None } else { Some(valid.into()) }
}

/// Rows of one type, buffered until [`TypeBatch::finish`].
pub struct TypeBatch {
    schema: SchemaRef,
    id: StringBuilder,
    src: Option<(StringBuilder, StringBuilder)>,
    props: Vec<Col>,
    rows: usize,
}

impl TypeBatch {
    pub fn new(t: &TypeDef) -> TypeBatch {
        // Vectors still to compute may be null until `embed::fill`.
        let schema = unembedded_schema(t);
        let src = (t.kind == crate::schema::TypeKind::Edge).then(|| (StringBuilder::new(), StringBuilder::new()));
        TypeBatch { schema, id: StringBuilder::new(), src, props: t.properties.iter().map(|p| Col::new(&p.ty)).collect(), rows: 0 }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row; `cells` follow the type's property order.
    pub fn push(&mut self, id: &str, endpoints: Option<(&str, &str)>, cells: &[Cell]) {
        self.id.append_value(id);
        if let (Some((s, d)), Some((src, dst))) = (self.src.as_mut(), endpoints) {
            s.append_value(src);
            d.append_value(dst);
        }
        for (col, cell) in self.props.iter_mut().zip(cells) {
            col.push(cell);
        }
        self.rows += 1;
    }

    pub fn finish(&mut self) -> RecordBatch {
        let mut cols: Vec<ArrayRef> = vec![Arc::new(finish_strings(&mut self.id))];
        if let Some((s, d)) = self.src.as_mut() {
            cols.push(Arc::new(finish_strings(s)));
            cols.push(Arc::new(finish_strings(d)));
        }
        for c in self.props.iter_mut() {
            cols.push(c.finish());
        }
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), cols).expect("builders follow the table schema")
    }
}
