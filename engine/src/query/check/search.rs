//! Typechecking the search functions: `search`, `fuzzy`, `match_text`,
//! `bm25` (a `String` property and a text), `nearest` (a `Vector(N)`
//! property and a vector of N numbers, or a text when the property is
//! `@embed`ded), and `rrf` (two ranking searches of one variable). Each call
//! becomes a [`SearchSpec`] of the plan; the expression names it.

use super::*;

/// The search function names.
pub const NAMES: &[&str] = &["search", "fuzzy", "match_text", "bm25", "nearest", "rrf"];

/// The most edits `fuzzy` allows (Lance's fuzzy match goes to 2).
pub const MAX_EDITS: i64 = 2;

impl<'s> Checker<'s> {
    /// `Some` when `name` is a search function (its check, `None` inside on
    /// an error already reported).
    pub(super) fn search_fn(&mut self, name: &str, args: &[Expr], pos: Pos, ctx: Ctx<'_>) -> Option<Option<(PExpr, Ty)>> {
        if !NAMES.contains(&name) {
            return None;
        }
        if !matches!(ctx, Ctx::Filter | Ctx::Return) {
            self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("{name}() searches the rows a read query matches; a mutation cannot use it"));
            return Some(None);
        }
        Some(self.search_call(name, args, pos, ctx))
    }

    fn search_call(&mut self, name: &str, args: &[Expr], pos: Pos, ctx: Ctx<'_>) -> Option<(PExpr, Ty)> {
        let kind = match name {
            "search" => SearchKind::Match,
            "fuzzy" => SearchKind::Fuzzy,
            "match_text" => SearchKind::Phrase,
            "bm25" => SearchKind::Bm25,
            "nearest" => SearchKind::Nearest,
            _ => SearchKind::Rrf,
        };
        if kind == SearchKind::Rrf {
            return self.rrf(args, pos, ctx);
        }
        let want = if kind == SearchKind::Fuzzy { 2..=3 } else { 2..=2 };
        if !want.contains(&args.len()) {
            let n = if kind == SearchKind::Fuzzy { "2 or 3" } else { "2" };
            self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("{name}() takes {n} arguments, got {}", args.len()));
            return None;
        }
        // The searched property: `$var.prop` of a bound variable.
        let Expr::Prop { var, prop, pos: ppos } = &args[0] else {
            self.err(crate::codes::QUERY_BAD_PROJECTION.code, args[0].pos(), format!("{name}() searches a property: write `$var.property` first"));
            return None;
        };
        let (pe, _) = self.expr(&args[0], ctx)?;
        let PExpr::Prop { var: v, .. } = pe else { return None };
        if self.vars[v].kind == VarKind::Path || self.vars[v].optional {
            let why = if self.vars[v].optional { "bound inside optional { }" } else { "a path" };
            self.err(crate::codes::QUERY_BAD_PROJECTION.code, *ppos, format!("{name}() cannot search `${var}`: it is {why}"));
            return None;
        }
        let t = self.schema.node(&self.vars[v].type_name).or_else(|| self.schema.edge(&self.vars[v].type_name))?;
        let ty = if prop == "id" { Some(PropType::String) } else { t.property(prop).map(|p| p.ty.clone()) };
        let (query, qty) = self.expr(&args[1], ctx)?;
        let mut qvars = Vec::new();
        query.vars(&mut qvars);
        if !qvars.is_empty() {
            self.err(
                crate::codes::QUERY_BAD_PROJECTION.code,
                args[1].pos(),
                format!("{name}() searches for a constant or a parameter, not a value of the row"),
            );
            return None;
        }
        let mut embed_text = false;
        if kind == SearchKind::Nearest {
            let Some(PropType::Vector(n)) = ty else {
                self.err(crate::codes::QUERY_TYPE_MISMATCH.code, *ppos, format!("nearest() needs a Vector(N) property; `{prop}` is {}", show(&ty)));
                return None;
            };
            match (&query, &qty) {
                (_, Ty::Str) => {
                    if t.property(prop).and_then(|p| p.embed.as_ref()).is_none() {
                        self.err(
                            crate::codes::QUERY_TYPE_MISMATCH.code,
                            args[1].pos(),
                            format!("nearest() with a text needs `{prop}` to be @embed(...): only then is the text embedded by the same model"),
                        );
                        return None;
                    }
                    embed_text = true;
                }
                (PExpr::Param(i), _) => {
                    if self.params[*i].1.ty != PropType::Vector(n) {
                        let got = self.params[*i].1.ty.to_string();
                        self.err(
                            crate::codes::QUERY_TYPE_MISMATCH.code,
                            args[1].pos(),
                            format!("nearest() on Vector({n}) needs a Vector({n}) or String parameter, got {got}"),
                        );
                        return None;
                    }
                }
                (PExpr::List(items), Ty::List(inner)) if inner.numeric() || **inner == Ty::Any => {
                    if items.len() != n as usize {
                        self.err(
                            crate::codes::QUERY_TYPE_MISMATCH.code,
                            args[1].pos(),
                            format!("nearest() on Vector({n}) needs {n} numbers, got {}", items.len()),
                        );
                        return None;
                    }
                }
                _ => {
                    self.err(
                        crate::codes::QUERY_TYPE_MISMATCH.code,
                        args[1].pos(),
                        format!("nearest() on Vector({n}) needs a vector of {n} numbers or a text, got {}", qty.name()),
                    );
                    return None;
                }
            }
        } else {
            if ty != Some(PropType::String) {
                self.err(crate::codes::QUERY_TYPE_MISMATCH.code, *ppos, format!("{name}() needs a String property; `{prop}` is {}", show(&ty)));
                return None;
            }
            // The text index decides how text splits into terms (stemming,
            // case, stop words): without it a search would tokenize otherwise.
            if !t.indexes.iter().any(|g| g.first() == Some(prop)) {
                self.err(
                    crate::codes::QUERY_SEARCH_NEEDS_INDEX.code,
                    *ppos,
                    format!("{name}() needs a text index on `{}.{prop}`: declare it `@index` in the schema", t.name),
                );
                return None;
            }
            if !matches!(qty, Ty::Str | Ty::Null) {
                self.err(crate::codes::QUERY_TYPE_MISMATCH.code, args[1].pos(), format!("{name}() searches for a String, got {}", qty.name()));
                return None;
            }
        }
        let max_edits = match args.get(2) {
            None => None,
            Some(a) => match self.expr(a, ctx)? {
                (PExpr::Const(Value::Int(n)), _) if (0..=MAX_EDITS).contains(&n) => Some(PExpr::Const(Value::Int(n))),
                (p @ PExpr::Param(_), Ty::Int) => Some(p),
                _ => {
                    self.err(crate::codes::QUERY_TYPE_MISMATCH.code, a.pos(), format!("fuzzy()'s edits are an integer from 0 to {MAX_EDITS}"));
                    return None;
                }
            },
        };
        let spec = SearchSpec { kind, var: v, prop: prop.clone(), query, max_edits, parts: vec![], rrf_k: 60.0, embed_text };
        Some(self.add_search(spec, pos))
    }

    /// `rrf(a, b [, k])`: `a` and `b` are `bm25` or `nearest` calls on one
    /// variable; `k` a positive number.
    fn rrf(&mut self, args: &[Expr], pos: Pos, ctx: Ctx<'_>) -> Option<(PExpr, Ty)> {
        if !(2..=3).contains(&args.len()) {
            self.err(crate::codes::QUERY_BAD_PROJECTION.code, pos, format!("rrf() takes 2 or 3 arguments, got {}", args.len()));
            return None;
        }
        let mut parts = Vec::new();
        let mut var = None;
        for a in &args[..2] {
            let ranked = matches!(a, Expr::Call { name, .. } if name == "bm25" || name == "nearest");
            if !ranked {
                self.err(crate::codes::QUERY_BAD_PROJECTION.code, a.pos(), "rrf() fuses two rankings: each argument is a bm25(...) or nearest(...) call");
                return None;
            }
            let (PExpr::Search { id, var: v }, _) = self.expr(a, ctx)? else { return None };
            if var.is_some_and(|w| w != v) {
                self.err(crate::codes::QUERY_BAD_PROJECTION.code, a.pos(), "rrf() fuses two rankings of the same variable's rows");
                return None;
            }
            var = Some(v);
            parts.push(id);
        }
        let rrf_k = match args.get(2) {
            None => 60.0,
            Some(a) => match self.expr(a, ctx)? {
                (PExpr::Const(Value::Int(n)), _) if n > 0 => n as f64,
                (PExpr::Const(Value::Float(f)), _) if f > 0.0 && f.is_finite() => f,
                _ => {
                    self.err(crate::codes::QUERY_TYPE_MISMATCH.code, a.pos(), "rrf()'s k is a positive number (60 if left out)");
                    return None;
                }
            },
        };
        let spec = SearchSpec {
            kind: SearchKind::Rrf,
            var: var?,
            prop: String::new(),
            query: PExpr::Const(Value::Null),
            max_edits: None,
            parts,
            rrf_k,
            embed_text: false,
        };
        Some(self.add_search(spec, pos))
    }

    fn add_search(&mut self, spec: SearchSpec, pos: Pos) -> (PExpr, Ty) {
        let ty = if spec.kind.ranks() { Ty::Float } else { Ty::Bool };
        let var = spec.var;
        self.searches.push((spec, pos));
        (PExpr::Search { id: self.searches.len() - 1, var }, ty)
    }

    /// A ranking search needs a `limit` (its top rows are what it finds).
    pub(super) fn check_search_limit(&mut self, limit: Option<Rows>) {
        if limit.is_some() {
            return;
        }
        let ranked: Vec<(SearchKind, Pos)> = self.searches.iter().filter(|(s, _)| s.kind.ranks()).map(|(s, p)| (s.kind, *p)).collect();
        if let Some((kind, pos)) = ranked.first() {
            let name = match kind {
                SearchKind::Bm25 => "bm25",
                SearchKind::Nearest => "nearest",
                _ => "rrf",
            };
            self.err(
                crate::codes::QUERY_SEARCH_NEEDS_LIMIT.code,
                *pos,
                format!("{name}() ranks rows: the query needs a `limit` (how many of the best to return)"),
            );
        }
    }
}

fn show(ty: &Option<PropType>) -> String {
    match ty {
        Some(t) => t.to_string(),
        None => "unknown".into(),
    }
}
