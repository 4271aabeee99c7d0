//! One JSON value to one typed cell, checked against its property: type,
//! enum values, `@range` and `@check`. Also renders key values to node ids.

use base64::Engine;
use serde_json::Value;

use crate::schema::{PropType, Property};

/// A checked value, ready for a column builder.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Str(String),
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    /// Days since the Unix epoch.
    Date(i32),
    /// Microseconds since the Unix epoch, UTC.
    Ts(i64),
    Bytes(Vec<u8>),
    Vector(Vec<f32>),
    List(Vec<Cell>),
}

/// Why a value does not fit, with its stable code.
#[derive(Debug)]
pub struct ValueError {
    pub code: &'static str,
    pub message: String,
}

fn wrong(prop: &str, ty: &PropType, v: &Value) -> ValueError {
    let shown = match v {
        Value::String(s) if s.len() > 40 => format!("\"{}...\"", &s[..s.floor_char_boundary(40)]),
        other => {
            let s = other.to_string();
            if s.len() > 40 { format!("{}...", &s[..s.floor_char_boundary(40)]) } else { s }
        }
    };
    ValueError { code: crate::codes::LOAD_BAD_VALUE.code, message: format!("property `{prop}` expects {ty}, got {shown}") }
}

pub fn parse_date(s: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some((d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32)
}

pub fn parse_datetime(s: &str) -> Option<i64> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_micros());
    }
    // A date-time without an offset is taken as UTC.
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|n| n.and_utc().timestamp_micros())
}

pub fn format_date(days: i32) -> String {
    (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Days::new(0))
        .checked_add_signed(chrono::TimeDelta::days(days as i64))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn format_datetime(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)).unwrap_or_default()
}

/// Converts `v` for `ty` (no nullability or constraints). Takes the value
/// by value so strings move into their cell without a copy.
pub fn convert(prop: &str, ty: &PropType, v: Value) -> Result<Cell, ValueError> {
    let err = |v: &Value| wrong(prop, ty, v);
    Ok(match ty {
        PropType::String => match v {
            Value::String(s) => Cell::Str(s),
            other => return Err(err(&other)),
        },
        PropType::Enum(values) => match v {
            Value::String(s) if values.contains(&s) => Cell::Str(s),
            Value::String(s) => {
                return Err(ValueError {
                    code: crate::codes::LOAD_NOT_IN_ENUM.code,
                    message: format!("property `{prop}` value {s:?} is not one of {}", values.join(", ")),
                });
            }
            other => return Err(err(&other)),
        },
        PropType::Bool => Cell::Bool(v.as_bool().ok_or_else(|| err(&v))?),
        PropType::I32 => {
            let i = v.as_i64().filter(|i| i32::try_from(*i).is_ok()).ok_or_else(|| err(&v))?;
            Cell::I64(i)
        }
        PropType::I64 => Cell::I64(v.as_i64().ok_or_else(|| err(&v))?),
        PropType::U32 => {
            let u = v.as_u64().filter(|u| u32::try_from(*u).is_ok()).ok_or_else(|| err(&v))?;
            Cell::U64(u)
        }
        PropType::U64 => Cell::U64(v.as_u64().ok_or_else(|| err(&v))?),
        PropType::F32 | PropType::F64 => Cell::F64(v.as_f64().ok_or_else(|| err(&v))?),
        PropType::Date => Cell::Date(v.as_str().and_then(parse_date).ok_or_else(|| err(&v))?),
        PropType::DateTime => Cell::Ts(v.as_str().and_then(parse_datetime).ok_or_else(|| err(&v))?),
        PropType::Blob => Cell::Bytes(
            v.as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| ValueError { code: crate::codes::LOAD_BAD_VALUE.code, message: format!("property `{prop}` expects Blob as a base64 string") })?,
        ),
        PropType::Vector(n) => {
            let Value::Array(arr) = v else { return Err(err(&v)) };
            if arr.len() != *n as usize {
                return Err(ValueError {
                    code: crate::codes::LOAD_BAD_VALUE.code,
                    message: format!("property `{prop}` expects Vector({n}), got {} values", arr.len()),
                });
            }
            let mut out = Vec::with_capacity(arr.len());
            for x in &arr {
                out.push(x.as_f64().ok_or_else(|| err(x))? as f32);
            }
            Cell::Vector(out)
        }
        PropType::List(inner) => {
            let Value::Array(arr) = v else { return Err(err(&v)) };
            let mut out = Vec::with_capacity(arr.len());
            for x in arr {
                out.push(if x.is_null() { Cell::Null } else { convert(prop, inner, x)? });
            }
            Cell::List(out)
        }
    })
}

/// Converts a property value, checking nullability.
pub fn convert_property(p: &Property, v: Option<Value>) -> Result<Cell, ValueError> {
    match v {
        None | Some(Value::Null) => {
            if p.nullable {
                Ok(Cell::Null)
            } else {
                Err(ValueError { code: crate::codes::LOAD_MISSING_PROPERTY.code, message: format!("required property `{}` is missing", p.name) })
            }
        }
        Some(v) => convert(&p.name, &p.ty, v),
    }
}

/// The id text of one key value.
pub fn render_key(c: &Cell) -> String {
    match c {
        Cell::Str(s) => s.clone(),
        Cell::Bool(b) => b.to_string(),
        Cell::I64(i) => i.to_string(),
        Cell::U64(u) => u.to_string(),
        Cell::F64(f) => f.to_string(),
        Cell::Date(d) => format_date(*d),
        Cell::Ts(t) => format_datetime(*t),
        Cell::Null | Cell::Bytes(_) | Cell::Vector(_) | Cell::List(_) => String::new(),
    }
}

/// Node id from its key cells: the value itself for a one-property key, a
/// JSON array of the values for a composite key.
pub fn node_id(cells: &[&Cell]) -> String {
    if cells.len() == 1 {
        render_key(cells[0])
    } else {
        serde_json::to_string(&cells.iter().map(|c| render_key(c)).collect::<Vec<_>>()).expect("strings serialize")
    }
}

/// Edge endpoint reference (`from`/`to`) to a node id.
pub fn endpoint_id(v: Value) -> Option<String> {
    let scalar = |v: Value| match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.into_iter().map(scalar).collect();
            Some(serde_json::to_string(&parts?).expect("strings serialize"))
        }
        other => scalar(other),
    }
}
