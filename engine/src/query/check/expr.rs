//! Typechecking expressions: literals, properties, comparisons, `and`/`or`,
//! `contains`, and function calls (dates, aggregates).

use super::*;

impl<'s> Checker<'s> {
    pub(super) fn expr(&mut self, e: &Expr, ctx: Ctx<'_>) -> Option<(PExpr, Ty)> {
        match e {
            Expr::Lit(l, _) => Some(match l {
                Literal::Null => (PExpr::Const(Value::Null), Ty::Null),
                Literal::Bool(b) => (PExpr::Const(Value::Bool(*b)), Ty::Bool),
                Literal::Int(i) => {
                    let v = if let Ok(i) = i64::try_from(*i) {
                        Value::Int(i)
                    } else if let Ok(u) = u64::try_from(*i) {
                        Value::UInt(u)
                    } else {
                        self.err(crate::codes::QUERY_TYPE_MISMATCH.code, e.pos(), format!("integer {i} does not fit in 64 bits"));
                        return None;
                    };
                    (PExpr::Const(v), Ty::Int)
                }
                Literal::Float(f) => (PExpr::Const(Value::Float(*f)), Ty::Float),
                Literal::Str(s) => (PExpr::Const(Value::Str(s.clone())), Ty::Str),
            }),
            Expr::Var(name, pos) => {
                if let Some(i) = self.params.iter().position(|(n, _)| n == name) {
                    let spec = &self.params[i].1;
                    return Some((PExpr::Param(i), Ty::of(&spec.ty)));
                }
                if matches!(ctx, Ctx::Value | Ctx::Where(_)) {
                    self.err(
                        crate::codes::QUERY_UNKNOWN_PARAMETER.code,
                        *pos,
                        format!("unknown parameter `${name}`; declare it in the query's parameter list"),
                    );
                    return None;
                }
                let v = self.var_ref(name, *pos)?;
                let ty = Ty::Node(self.vars[v].type_name.clone());
                Some((if ctx == Ctx::Return { PExpr::Node(v) } else { PExpr::Id(v) }, ty))
            }
            Expr::Prop { var, prop, pos } => {
                if matches!(ctx, Ctx::Value | Ctx::Where(_)) {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, *pos, "a mutation refers to properties by bare name, without `$var.`");
                    return None;
                }
                let v = self.var_ref(var, *pos)?;
                let t = self.schema.node(&self.vars[v].type_name)?;
                if prop == "id" {
                    return Some((PExpr::Prop { var: v, prop: "id".into() }, Ty::Str));
                }
                match t.property(prop) {
                    Some(p) => Some((PExpr::Prop { var: v, prop: prop.clone() }, Ty::of(&p.ty))),
                    None => {
                        let known: Vec<&str> = t.properties.iter().map(|p| p.name.as_str()).collect();
                        self.err(
                            crate::codes::QUERY_UNKNOWN_PROPERTY.code,
                            *pos,
                            format!("{} has no property `{prop}` (properties: id, {})", t.name, known.join(", ")),
                        );
                        None
                    }
                }
            }
            Expr::Field(name, pos) => match ctx {
                Ctx::Where(t) => {
                    if name == "id" || (t.from.is_some() && (name == "from" || name == "to")) {
                        return Some((PExpr::Field(name.clone()), Ty::Str));
                    }
                    match t.property(name) {
                        Some(p) => Some((PExpr::Field(name.clone()), Ty::of(&p.ty))),
                        None => {
                            self.err(crate::codes::QUERY_UNKNOWN_PROPERTY.code, *pos, format!("{} has no property `{name}`", t.name));
                            None
                        }
                    }
                }
                _ => {
                    self.err(
                        crate::codes::QUERY_SYNTAX.code,
                        *pos,
                        format!("unexpected name `{name}`; write `$var.{name}`, a `$parameter` or a quoted string"),
                    );
                    None
                }
            },
            Expr::List(items, _) => {
                let mut out = Vec::new();
                let mut elem = Ty::Any;
                for it in items {
                    let (pe, ty) = self.expr(it, ctx)?;
                    if !elem.compatible(&ty) {
                        self.err(crate::codes::QUERY_TYPE_MISMATCH.code, it.pos(), format!("list mixes {} and {}", elem.name(), ty.name()));
                        return None;
                    }
                    if elem == Ty::Any || elem == Ty::Null {
                        elem = ty;
                    }
                    out.push(pe);
                }
                Some((PExpr::List(out), Ty::List(Box::new(elem))))
            }
            Expr::Call { name, args, pos, star } => self.call(name, args, *star, *pos, ctx),
            Expr::Cmp { op, left, right, pos } => {
                let (l, lt) = self.expr(left, ctx)?;
                let (r, rt) = self.expr(right, ctx)?;
                let ok = match op {
                    CmpOp::Contains => match (&lt, &rt) {
                        (Ty::Str, Ty::Str) | (Ty::Null, _) => true,
                        (Ty::List(inner), t) => inner.compatible(t),
                        _ => false,
                    },
                    CmpOp::Eq | CmpOp::Ne => lt.compatible(&rt),
                    _ => lt.compatible(&rt) && !matches!(lt, Ty::Node(_) | Ty::Bool) && !matches!(rt, Ty::Node(_)),
                };
                if !ok {
                    self.err(crate::codes::QUERY_TYPE_MISMATCH.code, *pos, format!("cannot compare {} {} {}", lt.name(), op.symbol(), rt.name()));
                    return None;
                }
                Some((PExpr::Cmp { op: *op, left: Box::new(l), right: Box::new(r) }, Ty::Bool))
            }
            Expr::And(parts) | Expr::Or(parts) => {
                let mut out = Vec::with_capacity(parts.len());
                for x in parts {
                    let (pe, t) = self.expr(x, ctx)?;
                    if t != Ty::Bool && t != Ty::Null {
                        self.err(crate::codes::QUERY_TYPE_MISMATCH.code, x.pos(), format!("`and`/`or` need true or false, this is {}", t.name()));
                        return None;
                    }
                    out.push(pe);
                }
                Some((if matches!(e, Expr::And(..)) { PExpr::And(out) } else { PExpr::Or(out) }, Ty::Bool))
            }
        }
    }

    pub(super) fn call(&mut self, name: &str, args: &[Expr], star: bool, pos: Pos, ctx: Ctx<'_>) -> Option<(PExpr, Ty)> {
        let str_arg = |c: &mut Self| -> Option<String> {
            match args {
                [Expr::Lit(Literal::Str(s), _)] => Some(s.clone()),
                _ => {
                    c.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("{name}() takes one quoted string"));
                    None
                }
            }
        };
        match name {
            "date" => {
                let s = str_arg(self)?;
                match parse_date(&s) {
                    Some(d) => Some((PExpr::Const(Value::Date(d)), Ty::Date)),
                    None => {
                        self.err(crate::codes::QUERY_TYPE_MISMATCH.code, pos, format!("{s:?} is not a date (YYYY-MM-DD)"));
                        None
                    }
                }
            }
            "datetime" => {
                let s = str_arg(self)?;
                match parse_datetime(&s) {
                    Some(t) => Some((PExpr::Const(Value::DateTime(t)), Ty::DateTime)),
                    None => {
                        self.err(crate::codes::QUERY_TYPE_MISMATCH.code, pos, format!("{s:?} is not a date-time (RFC 3339)"));
                        None
                    }
                }
            }
            "now" => {
                if !args.is_empty() {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, "now() takes no arguments");
                    return None;
                }
                Some((PExpr::Now, Ty::DateTime))
            }
            "count" | "sum" | "avg" | "min" | "max" => {
                if ctx != Ctx::Return {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("{name}() is an aggregate; use it in `return`"));
                    return None;
                }
                let func = match name {
                    "count" => AggFn::Count,
                    "sum" => AggFn::Sum,
                    "avg" => AggFn::Avg,
                    "min" => AggFn::Min,
                    _ => AggFn::Max,
                };
                if star {
                    if func != AggFn::Count || !args.is_empty() {
                        self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, "only count(*) takes `*`");
                        return None;
                    }
                    return Some((PExpr::Agg { func, arg: None }, Ty::Int));
                }
                let [arg] = args else {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("{name}() takes one argument"));
                    return None;
                };
                let (a, at) = self.expr(arg, Ctx::Filter)?;
                let ty = match func {
                    AggFn::Count => Ty::Int,
                    AggFn::Sum | AggFn::Avg => {
                        if !at.numeric() && at != Ty::Null {
                            self.err(crate::codes::QUERY_TYPE_MISMATCH.code, arg.pos(), format!("{name}() needs numbers, got {}", at.name()));
                            return None;
                        }
                        if func == AggFn::Avg { Ty::Float } else { at }
                    }
                    AggFn::Min | AggFn::Max => {
                        if matches!(at, Ty::Node(_) | Ty::List(_) | Ty::Bytes) {
                            self.err(crate::codes::QUERY_TYPE_MISMATCH.code, arg.pos(), format!("{name}() needs comparable values, got {}", at.name()));
                            return None;
                        }
                        at
                    }
                };
                // count($p) counts bindings of $p: its id is never null.
                Some((PExpr::Agg { func, arg: Some(Box::new(a)) }, ty))
            }
            other => {
                self.err(
                    crate::codes::QUERY_BAD_PROJECTION.code,
                    pos,
                    format!("unknown function `{other}` (functions: date, datetime, now, count, sum, avg, min, max)"),
                );
                None
            }
        }
    }
}
