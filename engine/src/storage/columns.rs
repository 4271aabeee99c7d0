//! Arrow columns of a type's dataset: nodes are `id` + properties, edges are
//! `id, src, dst` + properties. One mapping from schema types to Arrow types.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::schema::{PropType, TypeDef, TypeKind};

pub const ID: &str = "id";
pub const SRC: &str = "src";
pub const DST: &str = "dst";

pub fn arrow_type(t: &PropType) -> DataType {
    match t {
        PropType::String | PropType::Enum(_) => DataType::Utf8,
        PropType::Bool => DataType::Boolean,
        PropType::I32 => DataType::Int32,
        PropType::I64 => DataType::Int64,
        PropType::U32 => DataType::UInt32,
        PropType::U64 => DataType::UInt64,
        PropType::F32 => DataType::Float32,
        PropType::F64 => DataType::Float64,
        PropType::Date => DataType::Date32,
        PropType::DateTime => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        PropType::Blob => DataType::LargeBinary,
        PropType::Vector(n) => DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), *n as i32),
        PropType::List(inner) => DataType::List(Arc::new(Field::new("item", arrow_type(inner), true))),
    }
}

/// The dataset schema of a node or edge type.
pub fn table_schema(t: &TypeDef) -> SchemaRef {
    schema_with(t, false)
}

/// [`table_schema`] with every `@embed` target nullable: the rows of a
/// write before their missing vectors are computed (`embed::fill`).
pub fn unembedded_schema(t: &TypeDef) -> SchemaRef {
    schema_with(t, true)
}

fn schema_with(t: &TypeDef, pending_embeds: bool) -> SchemaRef {
    let mut fields = vec![Field::new(ID, DataType::Utf8, false)];
    if t.kind == TypeKind::Edge {
        fields.push(Field::new(SRC, DataType::Utf8, false));
        fields.push(Field::new(DST, DataType::Utf8, false));
    }
    for p in &t.properties {
        fields.push(Field::new(&p.name, arrow_type(&p.ty), p.nullable || (pending_embeds && p.embed.is_some())));
    }
    Arc::new(Schema::new(fields))
}
