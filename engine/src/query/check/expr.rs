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
                if self.vars[v].kind == VarKind::Path {
                    // A path reads as its node ids.
                    return Some((PExpr::PathNodes(v), Ty::List(Box::new(Ty::Str))));
                }
                let ty = Ty::Node(self.vars[v].type_name.clone());
                Some((if ctx == Ctx::Return { PExpr::Node(v) } else { PExpr::Id(v) }, ty))
            }
            Expr::Prop { var, prop, pos } => {
                if matches!(ctx, Ctx::Value | Ctx::Where(_)) {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, *pos, "a mutation refers to properties by bare name, without `$var.`");
                    return None;
                }
                let v = self.var_ref(var, *pos)?;
                if self.vars[v].kind == VarKind::Path {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, *pos, format!("`${var}` is a path; use length(${var}) or nodes(${var})"));
                    return None;
                }
                let t = self.schema.node(&self.vars[v].type_name).or_else(|| self.schema.edge(&self.vars[v].type_name))?;
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
            Expr::Call { name, args, pos, star, distinct } => self.call(name, args, *star, *distinct, *pos, ctx),
            Expr::Arith { first, rest, pos } => self.arith(first, rest, *pos, ctx),
            Expr::Cmp { op, left, right, pos } => {
                let (l, lt) = self.expr(left, ctx)?;
                let (r, rt) = self.expr(right, ctx)?;
                let ok = match op {
                    CmpOp::Contains => match (&lt, &rt) {
                        (Ty::Str, Ty::Str) | (Ty::Null, _) => true,
                        (Ty::List(inner), t) => inner.compatible(t),
                        _ => false,
                    },
                    CmpOp::In => match (&lt, &rt) {
                        (_, Ty::Null) => true,
                        (t, Ty::List(inner)) => inner.compatible(t) && !matches!(t, Ty::Node(_)),
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

    /// `a + b * c`: numbers (an integer result when both are integers;
    /// overflow or division by zero is null), or `+` joining strings.
    fn arith(&mut self, first: &Expr, rest: &[(ArithOp, Expr)], pos: Pos, ctx: Ctx<'_>) -> Option<(PExpr, Ty)> {
        let (f, mut ty) = self.expr(first, ctx)?;
        let mut out = Vec::with_capacity(rest.len());
        for (op, e) in rest {
            let (x, xt) = self.expr(e, ctx)?;
            ty = match (&ty, &xt) {
                (Ty::Null, t) | (t, Ty::Null) if t.numeric() || *t == Ty::Null || (*t == Ty::Str && *op == ArithOp::Add) => t.clone(),
                (Ty::Int, Ty::Int) => Ty::Int,
                (a, b) if a.numeric() && b.numeric() => Ty::Float,
                (Ty::Str, Ty::Str) if *op == ArithOp::Add => Ty::Str,
                (a, b) => {
                    self.err(crate::codes::QUERY_TYPE_MISMATCH.code, pos, format!("cannot compute {} {} {}", a.name(), op.symbol(), b.name()));
                    return None;
                }
            };
            out.push((*op, x));
        }
        Some((PExpr::Arith { first: Box::new(f), rest: out }, ty))
    }

    /// A scalar function's arguments, checked; `n` is how many it takes.
    fn args(&mut self, name: &str, args: &[Expr], n: std::ops::RangeInclusive<usize>, pos: Pos, ctx: Ctx<'_>) -> Option<Vec<(PExpr, Ty)>> {
        if !n.contains(&args.len()) {
            let want = if n.start() == n.end() {
                n.start().to_string()
            } else if *n.end() == usize::MAX {
                format!("{} or more", n.start())
            } else {
                format!("{} to {}", n.start(), n.end())
            };
            self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("{name}() takes {want} arguments, got {}", args.len()));
            return None;
        }
        args.iter().map(|a| self.expr(a, ctx)).collect()
    }

    fn scalar_fn(&mut self, name: &str, args: &[Expr], pos: Pos, ctx: Ctx<'_>) -> Option<Option<(PExpr, Ty)>> {
        let need = |c: &mut Self, name: &str, i: usize, got: &Ty, ok: bool, what: &str| {
            if !ok {
                c.err(crate::codes::QUERY_TYPE_MISMATCH.code, args[i].pos(), format!("{name}() needs {what}, got {}", got.name()));
            }
            ok
        };
        let is_str = |t: &Ty| matches!(t, Ty::Str | Ty::Null);
        Some(Some(match name {
            "starts_with" | "ends_with" => {
                let a = self.args(name, args, 2..=2, pos, ctx)?;
                if !(need(self, name, 0, &a[0].1, is_str(&a[0].1), "a String") & need(self, name, 1, &a[1].1, is_str(&a[1].1), "a String")) {
                    return None;
                }
                let func = if name == "starts_with" { Func::StartsWith } else { Func::EndsWith };
                (PExpr::Func { func, args: a.into_iter().map(|x| x.0).collect() }, Ty::Bool)
            }
            "lower" | "upper" => {
                let a = self.args(name, args, 1..=1, pos, ctx)?;
                if !need(self, name, 0, &a[0].1, is_str(&a[0].1), "a String") {
                    return None;
                }
                let func = if name == "lower" { Func::Lower } else { Func::Upper };
                (PExpr::Func { func, args: a.into_iter().map(|x| x.0).collect() }, Ty::Str)
            }
            "length" => {
                if let [Expr::Var(v, vpos)] = args
                    && let Some(i) = self.lookup(v)
                    && self.vars[i].kind == VarKind::Path
                {
                    let _ = vpos;
                    return Some(Some((PExpr::PathLength(i), Ty::Int)));
                }
                let a = self.args(name, args, 1..=1, pos, ctx)?;
                if !need(self, name, 0, &a[0].1, matches!(a[0].1, Ty::Str | Ty::List(_) | Ty::Null), "a String, a list or a path") {
                    return None;
                }
                (PExpr::Func { func: Func::Length, args: a.into_iter().map(|x| x.0).collect() }, Ty::Int)
            }
            "nodes" => match args {
                [Expr::Var(v, _)] if self.lookup(v).is_some_and(|i| self.vars[i].kind == VarKind::Path) => {
                    return Some(Some((PExpr::PathNodes(self.lookup(v)?), Ty::List(Box::new(Ty::Str)))));
                }
                _ => {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, "nodes() takes a path variable (`$p = shortest(...)`)");
                    return None;
                }
            },
            "coalesce" => {
                let a = self.args(name, args, 1..=usize::MAX, pos, ctx)?;
                let mut ty = Ty::Null;
                for (i, (_, t)) in a.iter().enumerate() {
                    if !ty.compatible(t) {
                        self.err(crate::codes::QUERY_TYPE_MISMATCH.code, args[i].pos(), format!("coalesce() mixes {} and {}", ty.name(), t.name()));
                        return None;
                    }
                    if ty == Ty::Null {
                        ty = t.clone();
                    }
                }
                (PExpr::Func { func: Func::Coalesce, args: a.into_iter().map(|x| x.0).collect() }, ty)
            }
            "year" | "month" | "day" => {
                let a = self.args(name, args, 1..=1, pos, ctx)?;
                if !need(self, name, 0, &a[0].1, matches!(a[0].1, Ty::Date | Ty::DateTime | Ty::Null), "a Date or DateTime") {
                    return None;
                }
                let func = match name {
                    "year" => Func::Year,
                    "month" => Func::Month,
                    _ => Func::Day,
                };
                (PExpr::Func { func, args: a.into_iter().map(|x| x.0).collect() }, Ty::Int)
            }
            "abs" => {
                let a = self.args(name, args, 1..=1, pos, ctx)?;
                if !need(self, name, 0, &a[0].1, a[0].1.numeric() || a[0].1 == Ty::Null, "a number") {
                    return None;
                }
                let ty = a[0].1.clone();
                (PExpr::Func { func: Func::Abs, args: a.into_iter().map(|x| x.0).collect() }, ty)
            }
            _ => return Some(None),
        }))
    }

    pub(super) fn call(&mut self, name: &str, args: &[Expr], star: bool, distinct: bool, pos: Pos, ctx: Ctx<'_>) -> Option<(PExpr, Ty)> {
        if distinct && !matches!(name, "count" | "collect" | "sum" | "avg") {
            self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("`distinct` applies to count, collect, sum and avg, not {name}()"));
            return None;
        }
        if star && name != "count" {
            self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, "only count(*) takes `*`");
            return None;
        }
        if let Some(found) = self.search_fn(name, args, pos, ctx) {
            return found;
        }
        if let Some(found) = self.scalar_fn(name, args, pos, ctx)? {
            return Some(found);
        }
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
            "count" | "sum" | "avg" | "min" | "max" | "collect" => {
                if ctx != Ctx::Return {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("{name}() is an aggregate; use it in `return`"));
                    return None;
                }
                let func = match name {
                    "count" => AggFn::Count,
                    "sum" => AggFn::Sum,
                    "avg" => AggFn::Avg,
                    "min" => AggFn::Min,
                    "collect" => AggFn::Collect,
                    _ => AggFn::Max,
                };
                if star {
                    if func != AggFn::Count || !args.is_empty() {
                        self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, "only count(*) takes `*`");
                        return None;
                    }
                    return Some((PExpr::Agg { func, arg: None, distinct: false }, Ty::Int));
                }
                let [arg] = args else {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("{name}() takes one argument"));
                    return None;
                };
                let (a, at) = self.expr(arg, Ctx::Filter)?;
                if contains_agg(&a) {
                    self.err(crate::codes::QUERY_BAD_PROJECTION.code, arg.pos(), format!("{name}() cannot take another aggregate"));
                    return None;
                }
                let ty = match func {
                    AggFn::Count => Ty::Int,
                    AggFn::Collect => Ty::List(Box::new(at.clone())),
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
                Some((PExpr::Agg { func, arg: Some(Box::new(a)), distinct }, ty))
            }
            other => {
                self.err(
                    crate::codes::QUERY_BAD_PROJECTION.code,
                    pos,
                    format!(
                        "unknown function `{other}` (functions: date, datetime, now, starts_with, ends_with, lower, upper, length, coalesce, year, month, day, abs, nodes, count, sum, avg, min, max, collect, search, fuzzy, match_text, bm25, nearest, rrf)"
                    ),
                );
                None
            }
        }
    }
}

/// Whether an aggregate appears anywhere in `e`.
pub(super) fn contains_agg(e: &PExpr) -> bool {
    match e {
        PExpr::Agg { .. } => true,
        PExpr::List(items) | PExpr::And(items) | PExpr::Or(items) | PExpr::Func { args: items, .. } => items.iter().any(contains_agg),
        PExpr::Cmp { left, right, .. } => contains_agg(left) || contains_agg(right),
        PExpr::Arith { first, rest } => contains_agg(first) || rest.iter().any(|(_, x)| contains_agg(x)),
        _ => false,
    }
}
