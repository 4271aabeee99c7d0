//! Filters that Lance can run: a comparison of one variable's scalar
//! property with a constant or parameter becomes a DataFusion expression in
//! the scan of that variable's table, so a scalar index (BTree on `@key`,
//! `@unique`, `@index` properties) answers a point lookup without a scan.
//! Only comparisons whose constant converts exactly to the column's type are
//! pushed; everything else is evaluated in memory with the same meaning.

use datafusion_common::{Column, ScalarValue};
use datafusion_expr::{Expr, lit};

use super::ast::CmpOp;
use super::plan::PExpr;
use super::value::Value;
use crate::schema::{PropType, TypeDef};

/// The Lance filter for `e` if it compares a column of `t` (the one
/// `column_of` names for a leaf) with a constant; `None` if it cannot be pushed.
pub fn to_lance(e: &PExpr, t: &TypeDef, params: &[Value], column_of: &dyn Fn(&PExpr) -> Option<String>) -> Option<Expr> {
    let PExpr::Cmp { op, left, right } = e else { return None };
    if *op == CmpOp::In {
        // `$x.p in [..]` with constant items: an `IN` list (short ones).
        let prop = column_of(left)?;
        let items = constant_list(right, params)?;
        if items.is_empty() || items.len() > MAX_PUSHED_IN_LIST {
            return None;
        }
        let ty = if matches!(prop.as_str(), "id" | "src" | "dst") { PropType::String } else { t.property(&prop)?.ty.clone() };
        return in_values(&prop, &ty, items.iter());
    }
    let (prop, op, scalar) = comparison(e, t, params, column_of)?;
    let c = Expr::Column(Column::new_unqualified(prop));
    Some(match op {
        CmpOp::Eq => c.eq(lit(scalar)),
        CmpOp::Ne => c.not_eq(lit(scalar)),
        CmpOp::Lt => c.lt(lit(scalar)),
        CmpOp::Le => c.lt_eq(lit(scalar)),
        CmpOp::Gt => c.gt(lit(scalar)),
        CmpOp::Ge => c.gt_eq(lit(scalar)),
        CmpOp::Contains | CmpOp::In => return None,
    })
}

/// The longest `in` list handed to Lance; longer ones are checked in memory.
pub const MAX_PUSHED_IN_LIST: usize = 1024;

/// `e` as (column, operator, constant of the column's type) when it
/// compares one column of `t` with a constant: `=`, `!=`, `<`, `<=`, `>`, `>=`.
pub fn comparison(e: &PExpr, t: &TypeDef, params: &[Value], column_of: &dyn Fn(&PExpr) -> Option<String>) -> Option<(String, CmpOp, ScalarValue)> {
    let PExpr::Cmp { op, left, right } = e else { return None };
    if matches!(op, CmpOp::Contains | CmpOp::In) {
        return None;
    }
    let (prop, value, op) = match (column_of(left), column_of(right)) {
        (Some(p), None) => (p, constant(right, params)?, *op),
        (None, Some(p)) => (p, constant(left, params)?, flip(*op)?),
        _ => return None,
    };
    let ty = if matches!(prop.as_str(), "id" | "src" | "dst") { PropType::String } else { t.property(&prop)?.ty.clone() };
    let scalar = scalar(&ty, &value)?;
    Some((prop, op, scalar))
}

/// The node id that `e` pins variable `v` to, if `e` is `$v.id == "..."`
/// or an equality on `t`'s `@key` when that key is one string (or enum)
/// property: a node's id is its key value then (keys cannot be updated),
/// so the id map answers it exactly. A null or non-string constant is not
/// pinned (it matches nothing, which the in-memory filter decides).
pub fn id_equality(e: &PExpr, v: usize, t: &TypeDef, params: &[Value]) -> Option<String> {
    let PExpr::Cmp { op: CmpOp::Eq, left, right } = e else { return None };
    let names_id = |x: &PExpr| match x {
        PExpr::Id(var) => *var == v,
        PExpr::Prop { var, prop } => {
            *var == v && t.key.len() == 1 && t.key[0] == *prop && t.property(prop).is_some_and(|p| matches!(p.ty, PropType::String | PropType::Enum(_)))
        }
        _ => false,
    };
    let value = if names_id(left) {
        constant(right, params)?
    } else if names_id(right) {
        constant(left, params)?
    } else {
        return None;
    };
    match value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn flip(op: CmpOp) -> Option<CmpOp> {
    Some(match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        CmpOp::Contains | CmpOp::In => return None,
        other => other,
    })
}

/// The items of a literal list or a list parameter, when all are constants.
fn constant_list(e: &PExpr, params: &[Value]) -> Option<Vec<Value>> {
    match e {
        PExpr::List(items) => items.iter().map(|i| constant(i, params)).collect(),
        other => match constant(other, params)? {
            Value::List(items) => Some(items),
            _ => None,
        },
    }
}

fn constant(e: &PExpr, params: &[Value]) -> Option<Value> {
    match e {
        PExpr::Const(v) => Some(v.clone()),
        PExpr::Param(i) => params.get(*i).cloned(),
        _ => None,
    }
}

fn scalar(ty: &PropType, v: &Value) -> Option<ScalarValue> {
    Some(match (ty, v) {
        (_, Value::Null) => return None,
        (PropType::String | PropType::Enum(_), Value::Str(s)) => ScalarValue::Utf8(Some(s.clone())),
        (PropType::Bool, Value::Bool(b)) => ScalarValue::Boolean(Some(*b)),
        (PropType::I32, _) => ScalarValue::Int32(Some(i32::try_from(int(v)?).ok()?)),
        (PropType::I64, _) => ScalarValue::Int64(Some(i64::try_from(int(v)?).ok()?)),
        (PropType::U32, _) => ScalarValue::UInt32(Some(u32::try_from(int(v)?).ok()?)),
        (PropType::U64, _) => ScalarValue::UInt64(Some(u64::try_from(int(v)?).ok()?)),
        (PropType::F64, Value::Float(f)) => ScalarValue::Float64(Some(*f)),
        (PropType::Date, Value::Date(d)) => ScalarValue::Date32(Some(*d)),
        (PropType::DateTime, Value::DateTime(t)) => ScalarValue::TimestampMicrosecond(Some(*t), Some("UTC".into())),
        _ => return None,
    })
}

fn int(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(*i as i128),
        Value::UInt(u) => Some(*u as i128),
        _ => None,
    }
}

/// Conjuncts handed to one Lance scan, at most. DataFusion walks and clones
/// an `and` chain recursively, so a long one would exhaust the stack; the
/// ones past this bound are not pushed and are evaluated in memory on what
/// the scan returns (every caller filters in memory anyway).
pub const MAX_PUSHED_CONJUNCTS: usize = 16;

/// The conjunction of the first [`MAX_PUSHED_CONJUNCTS`] filters.
pub fn and_all(filters: impl IntoIterator<Item = Expr>) -> Option<Expr> {
    filters.into_iter().take(MAX_PUSHED_CONJUNCTS).reduce(|a, b| a.and(b))
}

/// `column IN (values)` over string values (ids and endpoints).
pub fn in_strings(column: &str, values: impl IntoIterator<Item = String>) -> Expr {
    let list = values.into_iter().map(|v| lit(ScalarValue::Utf8(Some(v)))).collect();
    Expr::Column(Column::new_unqualified(column)).in_list(list, false)
}

/// `column IN (values)` for a property of type `ty`; `None` (scan all)
/// when a value has no exact scalar of that type.
pub fn in_values<'v>(column: &str, ty: &PropType, values: impl Iterator<Item = &'v Value>) -> Option<Expr> {
    let list: Option<Vec<Expr>> = values.map(|v| scalar(ty, v).map(lit)).collect();
    Some(Expr::Column(Column::new_unqualified(column)).in_list(list?, false))
}

/// The values of a long `in` list (past [`MAX_PUSHED_IN_LIST`]), as a set
/// to probe a column with: strings, or integers (any width).
pub enum InSet {
    Strs(rustc_hash::FxHashSet<String>),
    Ints(rustc_hash::FxHashSet<i128>),
}

impl InSet {
    pub fn contains(&self, v: &Value) -> bool {
        match (self, v) {
            (InSet::Strs(s), Value::Str(x)) => s.contains(x),
            (InSet::Ints(s), v) => int(v).is_some_and(|i| s.contains(&i)),
            _ => false,
        }
    }
}

/// `$x.p in <list>` with a constant list too long for Lance: the column
/// and the list as a set (`None` for a short list or mixed values).
pub fn long_in(e: &PExpr, params: &[Value], column_of: &dyn Fn(&PExpr) -> Option<String>) -> Option<(String, InSet)> {
    let PExpr::Cmp { op: CmpOp::In, left, right } = e else { return None };
    let prop = column_of(left)?;
    let items = constant_list(right, params)?;
    if items.len() <= MAX_PUSHED_IN_LIST {
        return None;
    }
    if items.iter().all(|v| matches!(v, Value::Str(_))) {
        let set = items.into_iter().filter_map(|v| if let Value::Str(s) = v { Some(s) } else { None }).collect();
        return Some((prop, InSet::Strs(set)));
    }
    let ints: Option<rustc_hash::FxHashSet<i128>> = items.iter().map(int).collect();
    Some((prop, InSet::Ints(ints?)))
}
