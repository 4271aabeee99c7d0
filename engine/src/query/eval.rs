//! Expression evaluation with three-valued logic: a comparison with null is
//! null, `and`/`or` follow SQL, and a filter keeps a row only when true.

use std::cmp::Ordering;

use super::ast::{ArithOp, CmpOp};
use super::matcher::{Bindings, Columns, NULL};
use super::plan::{Func, PExpr, VarInfo, VarKind};
use super::value::Value;
use super::view::View;
use crate::error::Result;
use crate::storage::columns::{DST, ID, SRC};

/// Parameter values, the query's one `now()`, its deadline, and the
/// results of its searches.
pub struct Env {
    pub params: Vec<Value>,
    pub now: i64,
    pub deadline: super::limits::Deadline,
    pub search: super::search::SearchState,
}

pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

impl Env {
    pub fn new(params: Vec<Value>) -> Env {
        Env { params, now: chrono::Utc::now().timestamp_micros(), deadline: super::limits::Deadline::none(), search: Default::default() }
    }

    pub fn with_deadline(mut self, deadline: super::limits::Deadline) -> Env {
        self.deadline = deadline;
        self
    }

    /// Loads the columns `e` reads for bound variables.
    pub async fn prefetch(&self, view: &View<'_>, vars: &[VarInfo], e: &PExpr) -> Result<Columns> {
        let mut cols = Columns::new();
        self.prefetch_into(view, vars, e, &mut cols).await?;
        Ok(cols)
    }

    pub async fn prefetch_into(&self, view: &View<'_>, vars: &[VarInfo], e: &PExpr, cols: &mut Columns) -> Result<()> {
        let mut need: Vec<(usize, String)> = Vec::new();
        leaves(e, &mut |leaf| match leaf {
            PExpr::Prop { var, prop } => need.push((*var, prop.clone())),
            PExpr::Id(var) | PExpr::PathNodes(var) => need.push((*var, ID.to_string())),
            PExpr::Node(var) => need.push((*var, String::new())),
            _ => {}
        });
        for (v, prop) in need {
            let type_name = &vars[v].type_name;
            let props: Vec<String> = if prop.is_empty() {
                let t = view.type_def(type_name)?;
                let ends: &[&str] = if vars[v].kind == VarKind::Edge { &[SRC, DST] } else { &[] };
                std::iter::once(ID).chain(ends.iter().copied()).map(str::to_string).chain(t.properties.iter().map(|p| p.name.clone())).collect()
            } else {
                vec![prop]
            };
            for p in props {
                if !cols.contains_key(&(v, p.clone())) {
                    let c = view.column(type_name, &p).await?;
                    cols.insert((v, p), c);
                }
            }
        }
        Ok(())
    }

    /// Evaluates `e` on row `r` of `b`.
    pub fn eval(&self, e: &PExpr, b: &Bindings, r: usize, cols: &Columns) -> Value {
        self.eval_with(e, &|leaf| {
            let var = match leaf {
                PExpr::Prop { var, .. } | PExpr::Id(var) | PExpr::Node(var) | PExpr::PathNodes(var) | PExpr::PathLength(var) | PExpr::Search { var, .. } => {
                    *var
                }
                _ => return Value::Null,
            };
            let d = b.get(var, r);
            // An `optional { }` variable without a match.
            if d == NULL {
                return Value::Null;
            }
            match leaf {
                PExpr::Prop { prop, .. } => cols[&(var, prop.clone())].value(d as usize),
                PExpr::Id(_) => cols[&(var, ID.to_string())].value(d as usize),
                PExpr::Node(_) => {
                    let rank = |p: &str| match p {
                        ID => 0,
                        SRC => 1,
                        DST => 2,
                        _ => 3,
                    };
                    let mut fields: Vec<(&str, Value)> =
                        cols.iter().filter(|((v, _), _)| *v == var).map(|((_, p), c)| (p.as_str(), c.value(d as usize))).collect();
                    fields.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then_with(|| a.0.cmp(b.0)));
                    let name = |p: &str| match p {
                        SRC => "from".to_string(),
                        DST => "to".to_string(),
                        other => other.to_string(),
                    };
                    Value::Map(fields.into_iter().map(|(p, v)| (name(p), v)).collect())
                }
                PExpr::PathNodes(_) => {
                    let ids = &cols[&(var, ID.to_string())];
                    Value::List(b.path(var, d).iter().map(|&n| ids.value(n as usize)).collect())
                }
                PExpr::PathLength(_) => Value::Int(b.path(var, d).len().saturating_sub(1) as i64),
                PExpr::Search { id, .. } => super::search::value(self, *id, d),
                _ => Value::Null,
            }
        })
    }

    /// Evaluates `e`, asking `leaf` for properties, ids, nodes and fields.
    pub fn eval_with(&self, e: &PExpr, leaf: &dyn Fn(&PExpr) -> Value) -> Value {
        match e {
            PExpr::Const(v) => v.clone(),
            PExpr::Param(i) => self.params.get(*i).cloned().unwrap_or(Value::Null),
            PExpr::Now => Value::DateTime(self.now),
            PExpr::List(items) => Value::List(items.iter().map(|x| self.eval_with(x, leaf)).collect()),
            PExpr::Cmp { op, left, right } => {
                let (l, r) = (self.eval_with(left, leaf), self.eval_with(right, leaf));
                compare(*op, &l, &r)
            }
            // SQL's three-valued logic: one decisive part decides; else a
            // null part makes the whole null.
            PExpr::And(parts) => self.junction(parts, leaf, false),
            PExpr::Or(parts) => self.junction(parts, leaf, true),
            PExpr::Agg { .. } => Value::Null,
            PExpr::Func { func, args } => {
                let vals: Vec<Value> = args.iter().map(|a| self.eval_with(a, leaf)).collect();
                call(*func, vals)
            }
            PExpr::Arith { first, rest } => {
                let mut acc = self.eval_with(first, leaf);
                for (op, x) in rest {
                    acc = arith(*op, &acc, &self.eval_with(x, leaf));
                }
                acc
            }
            other => leaf(other),
        }
    }
}

/// A scalar function; a null argument gives null (but `coalesce`).
fn call(func: Func, mut args: Vec<Value>) -> Value {
    if func == Func::Coalesce {
        return args.into_iter().find(|v| !v.is_null()).unwrap_or(Value::Null);
    }
    if args.iter().any(Value::is_null) {
        return Value::Null;
    }
    let date_part = |v: &Value, part: fn(chrono::NaiveDate) -> i64| -> Value {
        let day = match v {
            Value::Date(d) => d.checked_add(719_163).and_then(chrono::NaiveDate::from_num_days_from_ce_opt),
            Value::DateTime(t) => chrono::DateTime::from_timestamp_micros(*t).map(|t| t.date_naive()),
            _ => None,
        };
        day.map_or(Value::Null, |d| Value::Int(part(d)))
    };
    use chrono::Datelike;
    match (func, args.as_mut_slice()) {
        (Func::StartsWith, [Value::Str(a), Value::Str(b)]) => Value::Bool(a.starts_with(b.as_str())),
        (Func::EndsWith, [Value::Str(a), Value::Str(b)]) => Value::Bool(a.ends_with(b.as_str())),
        (Func::Lower, [Value::Str(a)]) => Value::Str(a.to_lowercase()),
        (Func::Upper, [Value::Str(a)]) => Value::Str(a.to_uppercase()),
        (Func::Length, [Value::Str(a)]) => Value::Int(a.chars().count() as i64),
        (Func::Length, [Value::List(items)]) => Value::Int(items.len() as i64),
        (Func::Year, [v]) => date_part(v, |d| d.year() as i64),
        (Func::Month, [v]) => date_part(v, |d| d.month() as i64),
        (Func::Day, [v]) => date_part(v, |d| d.day() as i64),
        (Func::Abs, [Value::Int(i)]) => i.checked_abs().map_or(Value::Null, Value::Int),
        (Func::Abs, [Value::UInt(u)]) => Value::UInt(*u),
        (Func::Abs, [Value::Float(f)]) => Value::Float(f.abs()),
        _ => Value::Null,
    }
}

/// `l op r`: integers stay exact (null on overflow or division by zero),
/// a float on either side gives a float, `+` joins strings.
pub fn arith(op: ArithOp, l: &Value, r: &Value) -> Value {
    if let (Value::Str(a), Value::Str(b)) = (l, r) {
        return if op == ArithOp::Add { Value::Str(format!("{a}{b}")) } else { Value::Null };
    }
    let int = |v: &Value| match v {
        Value::Int(i) => Some(*i as i128),
        Value::UInt(u) => Some(*u as i128),
        _ => None,
    };
    if let (Some(a), Some(b)) = (int(l), int(r)) {
        let out = match op {
            ArithOp::Add => a.checked_add(b),
            ArithOp::Sub => a.checked_sub(b),
            ArithOp::Mul => a.checked_mul(b),
            ArithOp::Div => a.checked_div(b),
            ArithOp::Rem => a.checked_rem(b),
        };
        return match out {
            Some(n) => i64::try_from(n).map(Value::Int).or_else(|_| u64::try_from(n).map(Value::UInt)).unwrap_or(Value::Null),
            None => Value::Null,
        };
    }
    let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else { return Value::Null };
    if l.is_null() || r.is_null() {
        return Value::Null;
    }
    let out = match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div if b == 0.0 => return Value::Null,
        ArithOp::Div => a / b,
        ArithOp::Rem if b == 0.0 => return Value::Null,
        ArithOp::Rem => a % b,
    };
    if out.is_finite() { Value::Float(out) } else { Value::Null }
}

impl Env {
    /// `and` (`decisive` false) or `or` (`decisive` true) over `parts`.
    fn junction(&self, parts: &[PExpr], leaf: &dyn Fn(&PExpr) -> Value, decisive: bool) -> Value {
        let mut null = false;
        for p in parts {
            match self.eval_with(p, leaf) {
                Value::Bool(b) if b == decisive => return Value::Bool(decisive),
                Value::Bool(_) => {}
                _ => null = true,
            }
        }
        if null { Value::Null } else { Value::Bool(!decisive) }
    }
}

/// Calls `f` on every leaf that reads data.
pub fn leaves(e: &PExpr, f: &mut dyn FnMut(&PExpr)) {
    match e {
        PExpr::Prop { .. } | PExpr::Id(_) | PExpr::Node(_) | PExpr::Field(_) | PExpr::PathNodes(_) | PExpr::PathLength(_) | PExpr::Search { .. } => f(e),
        PExpr::List(items) | PExpr::And(items) | PExpr::Or(items) | PExpr::Func { args: items, .. } => items.iter().for_each(|x| leaves(x, f)),
        PExpr::Arith { first, rest } => {
            leaves(first, f);
            rest.iter().for_each(|(_, x)| leaves(x, f));
        }
        PExpr::Cmp { left, right, .. } => {
            leaves(left, f);
            leaves(right, f);
        }
        PExpr::Agg { arg: Some(a), .. } => leaves(a, f),
        _ => {}
    }
}

pub fn compare(op: CmpOp, l: &Value, r: &Value) -> Value {
    if l.is_null() || r.is_null() {
        return Value::Null;
    }
    if op == CmpOp::Contains {
        return match (l, r) {
            (Value::Str(a), Value::Str(b)) => Value::Bool(a.contains(b.as_str())),
            (Value::List(items), x) => Value::Bool(items.iter().any(|i| i.equals(x))),
            _ => Value::Null,
        };
    }
    if op == CmpOp::In {
        return compare(CmpOp::Contains, r, l);
    }
    let Some(o) = l.compare(r) else { return Value::Null };
    Value::Bool(match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
        CmpOp::Contains | CmpOp::In => unreachable!(),
    })
}
