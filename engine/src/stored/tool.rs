//! A stored query as a typed tool: its name, description and instruction,
//! whether it reads or writes, and JSON Schemas of its parameters and of
//! one row of its result, so a client or an AI agent can call it without
//! reading its source.

use serde_json::{Value as Json, json};

use super::StoredQuery;
use crate::error::Result;
use crate::query::Plan;
use crate::query::check::Ty;
use crate::schema::{PropType, SchemaIr};

/// The JSON Schema of one value of a parameter or property type.
pub fn prop_schema(t: &PropType) -> Json {
    match t {
        PropType::String => json!({"type": "string"}),
        PropType::Enum(values) => json!({"type": "string", "enum": values}),
        PropType::Bool => json!({"type": "boolean"}),
        PropType::I32 => json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX}),
        PropType::I64 => json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX}),
        PropType::U32 => json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}),
        PropType::U64 => json!({"type": "integer", "minimum": 0, "maximum": u64::MAX}),
        PropType::F32 | PropType::F64 => json!({"type": "number"}),
        PropType::Date => json!({"type": "string", "format": "date"}),
        PropType::DateTime => json!({"type": "string", "format": "date-time"}),
        PropType::Blob => json!({"type": "string", "contentEncoding": "base64"}),
        PropType::Vector(n) => json!({"type": "array", "items": {"type": "number"}, "minItems": n, "maxItems": n}),
        PropType::List(inner) => json!({"type": "array", "items": prop_schema(inner)}),
    }
}

/// `schema`, or null.
fn nullable(schema: Json) -> Json {
    match schema.get("type").and_then(Json::as_str) {
        Some(t) => {
            let mut s = schema.clone();
            s["type"] = json!([t, "null"]);
            s
        }
        None => json!({"anyOf": [schema, {"type": "null"}]}),
    }
}

/// The JSON Schema of a result column of static type `ty`.
fn column_schema(schema: &SchemaIr, ty: &Ty) -> Json {
    match ty {
        Ty::Null | Ty::Any => json!({}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Int => json!({"type": "integer"}),
        Ty::Float => json!({"type": "number"}),
        Ty::Str => json!({"type": "string"}),
        Ty::Date => json!({"type": "string", "format": "date"}),
        Ty::DateTime => json!({"type": "string", "format": "date-time"}),
        Ty::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
        Ty::List(inner) => json!({"type": "array", "items": column_schema(schema, inner)}),
        Ty::Node(name) => {
            let Some(t) = schema.node(name).or_else(|| schema.edge(name)) else { return json!({"type": "object"}) };
            let mut props = serde_json::Map::new();
            props.insert("id".into(), json!({"type": "string"}));
            if t.from.is_some() {
                props.insert("from".into(), json!({"type": "string"}));
                props.insert("to".into(), json!({"type": "string"}));
            }
            for p in &t.properties {
                let s = prop_schema(&p.ty);
                props.insert(p.name.clone(), if p.nullable { nullable(s) } else { s });
            }
            json!({"type": "object", "description": format!("a whole {name}"), "properties": props})
        }
    }
}

/// The JSON Schema of the parameters object of `plan`.
pub fn params_schema(plan: &Plan) -> Json {
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for p in &plan.params {
        let s = prop_schema(&p.ty);
        if p.nullable {
            props.insert(p.name.clone(), nullable(s));
        } else {
            props.insert(p.name.clone(), s);
            required.push(p.name.clone());
        }
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

/// The JSON Schema of one result row of `plan` (a read), or of the report
/// of a mutation.
pub fn result_schema(schema: &SchemaIr, plan: &Plan) -> Json {
    match &plan.body {
        crate::query::plan::PlanBody::Read(read) => {
            let mut props = serde_json::Map::new();
            for it in &read.items {
                let s = column_schema(schema, &it.ty);
                // A count is never null; any other column may be.
                let s = if matches!(it.expr, crate::query::plan::PExpr::Agg { func: crate::query::plan::AggFn::Count, .. }) { s } else { nullable(s) };
                props.insert(it.name.clone(), s);
            }
            let names: Vec<&str> = read.items.iter().map(|i| i.name.as_str()).collect();
            json!({"type": "object", "properties": props, "required": names})
        }
        crate::query::plan::PlanBody::Mutate(_) => json!({
            "type": "object",
            "properties": {
                "manifest_version": {"type": "integer"},
                "commit": {"type": "string"},
                "inserted": {"type": "integer"},
                "updated": {"type": "integer"},
                "deleted": {"type": "integer"},
                "cascaded": {"type": "integer"},
                "retries": {"type": "integer"},
            },
        }),
    }
}

/// `q` as a tool: `{name, description, instruction, kind, params,
/// result, columns}` (`kind` is `read` or `mutation`; `columns` the result
/// columns of a read, in order).
pub fn describe(schema: &SchemaIr, q: &StoredQuery) -> Result<Json> {
    let plan = super::compile(schema, q)?;
    let columns: Vec<String> = match &plan.body {
        crate::query::plan::PlanBody::Read(r) => r.items.iter().map(|i| i.name.clone()).collect(),
        crate::query::plan::PlanBody::Mutate(_) => Vec::new(),
    };
    Ok(json!({
        "name": q.name,
        "description": plan.description,
        "instruction": plan.instruction,
        "kind": if plan.is_mutation() { "mutation" } else { "read" },
        "params": params_schema(&plan),
        "result": result_schema(schema, &plan),
        "columns": columns,
    }))
}
