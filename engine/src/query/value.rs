//! Runtime values of the query language: read from Arrow columns, compared
//! (numbers across widths, nulls ordered), hashed for grouping, and written
//! as JSON with integers kept exact.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use base64::Engine;
use serde_json::Value as Json;

use crate::load::value::{format_date, format_datetime};

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    /// Days since the Unix epoch.
    Date(i32),
    /// Microseconds since the Unix epoch, UTC.
    DateTime(i64),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// A whole node or edge (`return { $p }`): `id` then its properties.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// Memory this value takes, roughly: its own size plus what it owns.
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Value>()
            + match self {
                Value::Str(s) => s.len(),
                Value::Bytes(b) => b.len(),
                Value::List(items) => items.iter().map(Value::approx_bytes).sum(),
                Value::Map(fields) => fields.iter().map(|(k, v)| k.len() + std::mem::size_of::<String>() + v.approx_bytes()).sum(),
                _ => 0,
            }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Reads row `i` of an Arrow column.
    pub fn from_array(col: &dyn Array, i: usize) -> Value {
        if col.is_null(i) {
            return Value::Null;
        }
        match col.data_type() {
            DataType::Utf8 => Value::Str(col.as_string::<i32>().value(i).to_string()),
            DataType::LargeUtf8 => Value::Str(col.as_string::<i64>().value(i).to_string()),
            DataType::Boolean => Value::Bool(col.as_boolean().value(i)),
            DataType::Int32 => Value::Int(col.as_primitive::<Int32Type>().value(i) as i64),
            DataType::Int64 => Value::Int(col.as_primitive::<Int64Type>().value(i)),
            DataType::UInt32 => Value::UInt(col.as_primitive::<UInt32Type>().value(i) as u64),
            DataType::UInt64 => Value::UInt(col.as_primitive::<UInt64Type>().value(i)),
            // The shortest decimal that reads back to the same f32 (0.1, not 0.10000000149).
            DataType::Float32 => Value::Float(format!("{}", col.as_primitive::<Float32Type>().value(i)).parse().unwrap_or(f64::NAN)),
            DataType::Float64 => Value::Float(col.as_primitive::<Float64Type>().value(i)),
            DataType::Date32 => Value::Date(col.as_primitive::<Date32Type>().value(i)),
            DataType::Timestamp(TimeUnit::Microsecond, _) => Value::DateTime(col.as_primitive::<TimestampMicrosecondType>().value(i)),
            DataType::Binary => Value::Bytes(col.as_binary::<i32>().value(i).to_vec()),
            DataType::LargeBinary => Value::Bytes(col.as_binary::<i64>().value(i).to_vec()),
            DataType::FixedSizeList(_, _) => list_values(col.as_fixed_size_list().value(i)),
            DataType::List(_) => list_values(col.as_list::<i32>().value(i)),
            DataType::LargeList(_) => list_values(col.as_list::<i64>().value(i)),
            other => Value::Str(format!("<unsupported {other}>")),
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::UInt(u) => Json::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
            Value::Str(s) => Json::String(s.clone()),
            Value::Date(d) => Json::String(format_date(*d)),
            Value::DateTime(t) => Json::String(format_datetime(*t)),
            Value::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// Text for table and CSV output.
    pub fn display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Str(s) => s.clone(),
            other => match other.to_json() {
                Json::String(s) => s,
                j => j.to_string(),
            },
        }
    }

    /// Compares two non-null values of comparable kinds; `None` when the
    /// kinds differ (the typechecker rules that out for user queries).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        Some(match (self, other) {
            (Int(a), Int(b)) => a.cmp(b),
            (UInt(a), UInt(b)) => a.cmp(b),
            (Int(a), UInt(b)) => (*a as i128).cmp(&(*b as i128)),
            (UInt(a), Int(b)) => (*a as i128).cmp(&(*b as i128)),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Float(a), Int(b)) => cmp_float_int(*a, *b as i128),
            (Float(a), UInt(b)) => cmp_float_int(*a, *b as i128),
            (Int(a), Float(b)) => cmp_float_int(*b, *a as i128).reverse(),
            (UInt(a), Float(b)) => cmp_float_int(*b, *a as i128).reverse(),
            (Str(a), Str(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (DateTime(a), DateTime(b)) => a.cmp(b),
            (Date(a), DateTime(b)) => (*a as i64 * 86_400_000_000).cmp(b),
            (DateTime(a), Date(b)) => a.cmp(&(*b as i64 * 86_400_000_000)),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (List(a), List(b)) => {
                for (x, y) in a.iter().zip(b) {
                    match total_order(x, y) {
                        Ordering::Equal => continue,
                        o => return Some(o),
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => return None,
        })
    }

    /// Equality as the query language means it (`1 = 1.0` holds).
    pub fn equals(&self, other: &Value) -> bool {
        self.compare(other) == Some(Ordering::Equal)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

fn cmp_float_int(f: f64, i: i128) -> Ordering {
    if f.is_nan() {
        return Ordering::Greater;
    }
    let t = f.trunc();
    if t < i128::MIN as f64 {
        return Ordering::Less;
    }
    if t > i128::MAX as f64 {
        return Ordering::Greater;
    }
    match (t as i128).cmp(&i) {
        Ordering::Equal => f.fract().partial_cmp(&0.0).unwrap_or(Ordering::Equal),
        o => o,
    }
}

/// A total order for sorting: nulls first, then by kind, then by value.
pub fn total_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => a.compare(b).unwrap_or_else(|| rank(a).cmp(&rank(b))),
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => 2,
        Value::Str(_) => 3,
        Value::Date(_) | Value::DateTime(_) => 4,
        Value::Bytes(_) => 5,
        Value::List(_) => 6,
        Value::Map(_) => 7,
    }
}

fn list_values(arr: ArrayRef) -> Value {
    Value::List((0..arr.len()).map(|j| Value::from_array(arr.as_ref(), j)).collect())
}

/// Grouping key: equal values (as [`Value::equals`] sees integers of any
/// width) hash alike.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Map(a), Value::Map(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && x.1 == y.1),
            _ => self.equals(other),
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => b.hash(h),
            Value::Int(i) => (*i as i128).hash(h),
            Value::UInt(u) => (*u as i128).hash(h),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e30 {
                    (*f as i128).hash(h)
                } else {
                    f.to_bits().hash(h)
                }
            }
            Value::Str(s) => s.hash(h),
            Value::Date(d) => (*d as i64 * 86_400_000_000).hash(h),
            Value::DateTime(t) => t.hash(h),
            Value::Bytes(b) => b.hash(h),
            Value::List(items) => items.hash(h),
            Value::Map(fields) => {
                for (k, v) in fields {
                    k.hash(h);
                    v.hash(h);
                }
            }
        }
    }
}

impl From<crate::load::value::Cell> for Value {
    fn from(c: crate::load::value::Cell) -> Value {
        use crate::load::value::Cell;
        match c {
            Cell::Null => Value::Null,
            Cell::Str(s) => Value::Str(s),
            Cell::Bool(b) => Value::Bool(b),
            Cell::I64(i) => Value::Int(i),
            Cell::U64(u) => Value::UInt(u),
            Cell::F64(f) => Value::Float(f),
            Cell::Date(d) => Value::Date(d),
            Cell::Ts(t) => Value::DateTime(t),
            Cell::Bytes(b) => Value::Bytes(b),
            Cell::Vector(v) => Value::List(v.into_iter().map(|x| Value::Float(x as f64)).collect()),
            Cell::List(items) => Value::List(items.into_iter().map(Value::from).collect()),
        }
    }
}
