//! Expression evaluation with three-valued logic: a comparison with null is
//! null, `and`/`or` follow SQL, and a filter keeps a row only when true.

use std::cmp::Ordering;

use super::ast::CmpOp;
use super::matcher::{Bindings, Columns};
use super::plan::{PExpr, VarInfo};
use super::value::Value;
use super::view::View;
use crate::error::Result;
use crate::storage::columns::ID;

/// Parameter values, the query's one `now()`, and its deadline.
pub struct Env {
    pub params: Vec<Value>,
    pub now: i64,
    pub deadline: super::limits::Deadline,
}

pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

impl Env {
    pub fn new(params: Vec<Value>) -> Env {
        Env { params, now: chrono::Utc::now().timestamp_micros(), deadline: super::limits::Deadline::none() }
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
            PExpr::Id(var) => need.push((*var, ID.to_string())),
            PExpr::Node(var) => need.push((*var, String::new())),
            _ => {}
        });
        for (v, prop) in need {
            let type_name = &vars[v].type_name;
            let props: Vec<String> = if prop.is_empty() {
                let t = view.type_def(type_name)?;
                std::iter::once(ID.to_string()).chain(t.properties.iter().map(|p| p.name.clone())).collect()
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
        self.eval_with(e, &|leaf| match leaf {
            PExpr::Prop { var, prop } => cols[&(*var, prop.clone())].value(b.get(*var, r) as usize),
            PExpr::Id(var) => cols[&(*var, ID.to_string())].value(b.get(*var, r) as usize),
            PExpr::Node(var) => {
                let d = b.get(*var, r) as usize;
                let mut fields: Vec<(String, Value)> = cols.iter().filter(|((v, _), _)| v == var).map(|((_, p), c)| (p.clone(), c.value(d))).collect();
                fields.sort_by(|a, b| (a.0 != ID).cmp(&(b.0 != ID)).then_with(|| a.0.cmp(&b.0)));
                Value::Map(fields)
            }
            _ => Value::Null,
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
            other => leaf(other),
        }
    }
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
        PExpr::Prop { .. } | PExpr::Id(_) | PExpr::Node(_) | PExpr::Field(_) => f(e),
        PExpr::List(items) | PExpr::And(items) | PExpr::Or(items) => items.iter().for_each(|x| leaves(x, f)),
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
    let Some(o) = l.compare(r) else { return Value::Null };
    Value::Bool(match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
        CmpOp::Contains => unreachable!(),
    })
}
