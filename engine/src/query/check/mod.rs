//! The typechecker: resolves a parsed query against a schema before anything
//! runs. Every problem is reported with `line:col` and a stable code:
//!
//! | code | problem |
//! |---|---|
//! | OG-QUERY-001 | syntax |
//! | OG-QUERY-002 | unknown type (or an edge type where a node type belongs) |
//! | OG-QUERY-003 | unknown property, or a required property missing from an insert |
//! | OG-QUERY-004 | unknown edge |
//! | OG-QUERY-005 | unknown parameter, or a bad parameter type |
//! | OG-QUERY-006 | incompatible types (comparison, assignment, aggregate argument) |
//! | OG-QUERY-007 | one variable used as two node types |
//! | OG-QUERY-008 | bad traversal (hop bounds, endpoints of a variable-length edge) |
//! | OG-QUERY-009 | variable used but never bound in `match` |
//! | OG-QUERY-010 | bad return, order or function use |
//! | OG-QUERY-014 | duplicate query, parameter or alias name |
//! | OG-QUERY-015 | a mutation that cannot be applied (key update, bad id) |
//! | OG-QUERY-022 | `nearest`, `bm25` or `rrf` without a `limit` |
//! | OG-QUERY-023 | a text search on a property without `@index` |

mod expr;
mod mutation;
pub mod search;

use std::collections::HashMap;

use super::ast::*;
use super::plan::*;
use super::value::Value;
use crate::lang::{Diagnostic, Pos};
use crate::load::value::{parse_date, parse_datetime};
use crate::schema::{PropType, SchemaIr, TypeDef};

/// The longest variable-length traversal: `{m,}` means `{m,MAX_HOPS}`.
pub const MAX_HOPS: u32 = 16;

/// Static type of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Date,
    DateTime,
    Bytes,
    List(Box<Ty>),
    /// A node variable of this type (compared by identity).
    Node(String),
    /// An empty list literal's element.
    Any,
}

impl Ty {
    pub fn of(t: &PropType) -> Ty {
        match t {
            PropType::String | PropType::Enum(_) => Ty::Str,
            PropType::Bool => Ty::Bool,
            PropType::I32 | PropType::I64 | PropType::U32 | PropType::U64 => Ty::Int,
            PropType::F32 | PropType::F64 => Ty::Float,
            PropType::Date => Ty::Date,
            PropType::DateTime => Ty::DateTime,
            PropType::Blob => Ty::Bytes,
            PropType::Vector(_) => Ty::List(Box::new(Ty::Float)),
            PropType::List(inner) => Ty::List(Box::new(Ty::of(inner))),
        }
    }

    fn numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }

    pub fn compatible(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Null, _) | (_, Ty::Null) | (Ty::Any, _) | (_, Ty::Any) => true,
            (a, b) if a.numeric() && b.numeric() => true,
            (Ty::Date | Ty::DateTime, Ty::Date | Ty::DateTime) => true,
            (Ty::List(a), Ty::List(b)) => a.compatible(b),
            (a, b) => a == b,
        }
    }

    fn name(&self) -> String {
        match self {
            Ty::Null => "null".into(),
            Ty::Bool => "Bool".into(),
            Ty::Int => "an integer".into(),
            Ty::Float => "a float".into(),
            Ty::Str => "String".into(),
            Ty::Date => "Date".into(),
            Ty::DateTime => "DateTime".into(),
            Ty::Bytes => "Blob".into(),
            Ty::List(t) => format!("[{}]", t.name()),
            Ty::Node(n) => format!("a {n} node"),
            Ty::Any => "anything".into(),
        }
    }
}

/// `Knows` is traversed as `knows`, `WorksAt` as `worksAt`.
pub fn edge_word(edge_name: &str) -> String {
    let mut c = edge_name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Typechecks every query of a file; names must be distinct.
pub fn check_all(schema: &SchemaIr, decls: &[QueryDecl]) -> Result<Vec<Plan>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut plans = Vec::new();
    let mut seen = HashMap::new();
    for d in decls {
        if seen.insert(d.name.clone(), d.pos).is_some() {
            errors.push(Diagnostic::new(crate::codes::QUERY_DUPLICATE_NAME.code, d.pos, format!("query `{}` is declared twice", d.name)));
        }
        match check(schema, d) {
            Ok(p) => plans.push(p),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() { Ok(plans) } else { Err(errors) }
}

/// Typechecks one query.
pub fn check(schema: &SchemaIr, d: &QueryDecl) -> Result<Plan, Vec<Diagnostic>> {
    let mut c = Checker { schema, errors: Vec::new(), params: Vec::new(), vars: Vec::new(), scope: Vec::new(), optional: 0, searches: Vec::new() };
    for p in &d.params {
        if c.params.iter().any(|(n, _)| *n == p.name) {
            c.err(crate::codes::QUERY_DUPLICATE_NAME.code, p.pos, format!("parameter `${}` is declared twice", p.name));
            continue;
        }
        match param_type(&p.ty) {
            Ok(ty) => c.params.push((p.name.clone(), ParamSpec { name: p.name.clone(), ty, nullable: p.nullable })),
            Err((pos, msg)) => c.err(crate::codes::QUERY_UNKNOWN_PARAMETER.code, pos, msg),
        }
    }
    let body = match &d.body {
        Body::Read(r) => c.read(r).map(PlanBody::Read),
        Body::Mutations(ms) => Some(PlanBody::Mutate(ms.iter().filter_map(|m| c.mutation(m)).collect())),
    };
    match body {
        Some(body) if c.errors.is_empty() => Ok(Plan {
            name: d.name.clone(),
            description: d.description.clone(),
            instruction: d.instruction.clone(),
            params: c.params.into_iter().map(|(_, s)| s).collect(),
            body,
            schema_hash: schema.content_hash(),
        }),
        _ => Err(c.errors),
    }
}

fn param_type(t: &TypeRef) -> Result<PropType, (Pos, String)> {
    Ok(match t {
        TypeRef::Vector(n) => PropType::Vector(*n),
        TypeRef::List(inner) => PropType::List(Box::new(param_type(inner)?)),
        TypeRef::Named(n, pos) => match n.as_str() {
            "String" => PropType::String,
            "Bool" => PropType::Bool,
            "I32" => PropType::I32,
            "I64" => PropType::I64,
            "U32" => PropType::U32,
            "U64" => PropType::U64,
            "F32" => PropType::F32,
            "F64" => PropType::F64,
            "Date" => PropType::Date,
            "DateTime" => PropType::DateTime,
            "Blob" => PropType::Blob,
            other => {
                return Err((
                    *pos,
                    format!("unknown parameter type `{other}` (use String, Bool, I32, I64, U32, U64, F32, F64, Date, DateTime, Blob, [T] or Vector(N))"),
                ));
            }
        },
    })
}

/// Where an expression appears, which decides what names may mean.
#[derive(Clone, Copy, PartialEq)]
enum Ctx<'a> {
    /// `match` filters and inline equalities.
    Filter,
    /// `return` and `order` items.
    Return,
    /// A value assigned by a mutation.
    Value,
    /// A mutation's `where`, over rows of this type.
    Where(&'a TypeDef),
}

struct Checker<'s> {
    schema: &'s SchemaIr,
    errors: Vec<Diagnostic>,
    params: Vec<(String, ParamSpec)>,
    vars: Vec<VarInfo>,
    /// Name -> variable, innermost `not { }` last.
    scope: Vec<HashMap<String, usize>>,
    /// Inside how many `optional { }` blocks the clauses being read are.
    optional: usize,
    /// The search calls met so far, with their positions.
    searches: Vec<(SearchSpec, Pos)>,
}

impl<'s> Checker<'s> {
    fn err(&mut self, code: &'static str, pos: Pos, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(code, pos, msg));
    }

    fn node_type(&mut self, name: &str, pos: Pos) -> Option<&'s TypeDef> {
        if let Some(t) = self.schema.node(name) {
            return Some(t);
        }
        if self.schema.edge(name).is_some() {
            self.err(
                crate::codes::QUERY_UNKNOWN_TYPE.code,
                pos,
                format!("`{name}` is an edge type; bind node types and traverse edges (`$a {} $b`)", edge_word(name)),
            );
        } else if self.schema.interfaces.iter().any(|i| i.name == name) {
            let users: Vec<&str> = self.schema.nodes.iter().filter(|t| t.implements.iter().any(|i| i == name)).map(|t| t.name.as_str()).collect();
            self.err(
                crate::codes::QUERY_UNKNOWN_TYPE.code,
                pos,
                format!("`{name}` is an interface; bind one of the node types that implement it ({})", users.join(", ")),
            );
        } else {
            let known: Vec<&str> = self.schema.nodes.iter().map(|t| t.name.as_str()).collect();
            self.err(crate::codes::QUERY_UNKNOWN_TYPE.code, pos, format!("unknown node type `{name}` (node types: {})", known.join(", ")));
        }
        None
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.scope.iter().rev().find_map(|s| s.get(name).copied())
    }

    /// Binds `name` (fresh for `$_`) to `type_name` in the innermost scope.
    fn bind_var(&mut self, name: &str, type_name: &str, pos: Pos) -> usize {
        let local = self.scope.len() > 1;
        if name != "_" {
            if self.params.iter().any(|(n, _)| n == name) {
                self.err(crate::codes::QUERY_DUPLICATE_NAME.code, pos, format!("`${name}` is a parameter; pick another variable name"));
            }
            if let Some(i) = self.lookup(name) {
                if self.vars[i].type_name.is_empty() {
                    self.vars[i].type_name = type_name.to_string();
                } else if !type_name.is_empty() && self.vars[i].type_name != type_name {
                    let have = self.vars[i].type_name.clone();
                    self.err(crate::codes::QUERY_VARIABLE_TWO_TYPES.code, pos, format!("`${name}` is a {have} here but a {type_name} elsewhere"));
                }
                return i;
            }
        }
        self.new_var(name, type_name, VarKind::Node, local)
    }

    fn new_var(&mut self, name: &str, type_name: &str, kind: VarKind, local: bool) -> usize {
        let i = self.vars.len();
        self.vars.push(VarInfo { name: name.to_string(), type_name: type_name.to_string(), anonymous: name == "_", local, kind, optional: self.optional > 0 });
        if name != "_" {
            self.scope.last_mut().expect("a scope").insert(name.to_string(), i);
        }
        i
    }

    /// Binds a fresh edge or path variable: its name must be new.
    fn bind_fresh(&mut self, name: &str, type_name: &str, kind: VarKind, pos: Pos) -> Option<usize> {
        if name != "_" && (self.lookup(name).is_some() || self.params.iter().any(|(n, _)| n == name)) {
            let what = if kind == VarKind::Edge { "an edge variable" } else { "a path variable" };
            self.err(crate::codes::QUERY_DUPLICATE_NAME.code, pos, format!("`${name}` is already bound; {what} needs a name of its own"));
            return None;
        }
        Some(self.new_var(name, type_name, kind, self.scope.len() > 1))
    }

    fn read(&mut self, r: &ReadBody) -> Option<ReadPlan> {
        self.scope.push(HashMap::new());
        let clauses = self.clauses(&r.clauses);
        let mut items = Vec::new();
        let mut names: HashMap<String, Pos> = HashMap::new();
        for it in &r.items {
            let name = it.alias.clone().unwrap_or_else(|| it.text.clone());
            if names.insert(name.clone(), it.expr.pos()).is_some() {
                self.err(crate::codes::QUERY_DUPLICATE_NAME.code, it.expr.pos(), format!("two return items are named `{name}`; add `as <alias>`"));
            }
            if let Some((expr, ty)) = self.expr(&it.expr, Ctx::Return) {
                if !expr.is_aggregate() && expr::contains_agg(&expr) {
                    self.err(
                        crate::codes::QUERY_BAD_PROJECTION.code,
                        it.expr.pos(),
                        "an aggregate must be a whole return item (`count($x) as n`), not part of an expression",
                    );
                }
                items.push(PItem { name, expr, ty });
            }
        }
        let aggregate = items.iter().any(|i| i.expr.is_aggregate());
        let mut order = Vec::new();
        for k in &r.order {
            let by_name = match &k.expr {
                Expr::Field(f, _) => items.iter().position(|i| i.name == *f),
                _ => None,
            };
            let by_text = r.items.iter().position(|i| i.text == k.text && i.alias.is_none()).or_else(|| r.items.iter().position(|i| i.text == k.text));
            let key = match by_name.or(by_text) {
                Some(i) => OrderRef::Item(i),
                None if aggregate => {
                    self.err(
                        crate::codes::QUERY_BAD_PROJECTION.code,
                        k.expr.pos(),
                        format!("order key `{}` must be a return item of this aggregate query", k.text),
                    );
                    continue;
                }
                None => match &k.expr {
                    Expr::Field(f, pos) => {
                        self.err(crate::codes::QUERY_BAD_PROJECTION.code, *pos, format!("order key `{f}` is not a return alias"));
                        continue;
                    }
                    e => match self.expr(e, Ctx::Filter) {
                        Some((pe, _)) => OrderRef::Expr(pe),
                        None => continue,
                    },
                },
            };
            order.push(POrder { key, descending: k.descending });
        }
        self.scope.pop();
        let limit = self.row_count("limit", &r.limit);
        let offset = self.row_count("offset", &r.offset);
        self.check_search_limit(limit);
        let searches = self.searches.iter().map(|(s, _)| s.clone()).collect();
        Some(ReadPlan { vars: self.vars.clone(), clauses: clauses?, items, order, limit, offset, aggregate, searches })
    }

    /// `limit` / `offset`: a literal, or a declared integer parameter.
    fn row_count(&mut self, word: &str, c: &Option<(RowCount, Pos)>) -> Option<Rows> {
        match c {
            None => None,
            Some((RowCount::Lit(n), _)) => Some(Rows::Lit(*n)),
            Some((RowCount::Param(name), pos)) => {
                let Some(i) = self.params.iter().position(|(n, _)| n == name) else {
                    self.err(
                        crate::codes::QUERY_UNKNOWN_PARAMETER.code,
                        *pos,
                        format!("unknown parameter `${name}` in {word}; declare it in the query's parameter list"),
                    );
                    return None;
                };
                let ty = &self.params[i].1.ty;
                if !matches!(ty, PropType::I32 | PropType::I64 | PropType::U32 | PropType::U64) {
                    self.err(crate::codes::QUERY_TYPE_MISMATCH.code, *pos, format!("{word} takes an integer; `${name}` is {ty}"));
                    return None;
                }
                Some(Rows::Param(i))
            }
        }
    }

    fn clauses(&mut self, cs: &[Clause]) -> Option<Vec<PClause>> {
        // Bindings and traversals type the variables first, so a filter may
        // come before the clause that binds its variable; then `optional`
        // blocks (their new variables are visible after them); then the rest.
        let mut out = Vec::new();
        for c in cs {
            match c {
                Clause::Bind { var, pos, type_name, type_pos, .. } => {
                    // An unknown type is reported once; the variable still
                    // binds (typeless) so its uses add no further errors.
                    let name = self.node_type(type_name, *type_pos).map(|t| t.name.clone()).unwrap_or_default();
                    let v = self.bind_var(var, &name, *pos);
                    out.push(PClause::Bind { var: v });
                }
                Clause::Traverse(t) => {
                    if let Some(p) = self.traverse(t) {
                        out.push(p);
                    }
                }
                Clause::Path { var, pos, traverse, all } => {
                    if let Some(p) = self.path(var, *pos, traverse, *all) {
                        out.push(p);
                    }
                }
                _ => {}
            }
        }
        for c in cs {
            if let Clause::Optional { clauses } = c {
                self.optional += 1;
                let inner = self.clauses(clauses);
                self.optional -= 1;
                out.push(PClause::Optional(inner?));
            }
        }
        for c in cs {
            match c {
                Clause::Bind { var, props, .. } => {
                    if var == "_" {
                        if let Some((_, pos, _)) = props.first() {
                            self.err(crate::codes::QUERY_UNBOUND_VARIABLE.code, *pos, "`$_` cannot carry properties; name the variable");
                        }
                        continue;
                    }
                    for (prop, pos, value) in props {
                        let left = Expr::Prop { var: var.clone(), prop: prop.clone(), pos: *pos };
                        let cmp = Expr::Cmp { op: CmpOp::Eq, left: Box::new(left), right: Box::new(value.clone()), pos: *pos };
                        if let Some((e, _)) = self.expr(&cmp, Ctx::Filter) {
                            out.push(PClause::Filter(e));
                        }
                    }
                }
                Clause::Not { clauses, .. } => {
                    self.scope.push(HashMap::new());
                    if let Some(inner) = self.clauses(clauses) {
                        out.push(PClause::Not(inner));
                    }
                    self.scope.pop();
                }
                Clause::Filter(e) => {
                    if let Some((pe, ty)) = self.expr(e, Ctx::Filter) {
                        if ty != Ty::Bool && ty != Ty::Null {
                            self.err(crate::codes::QUERY_TYPE_MISMATCH.code, e.pos(), format!("a match filter must be true or false, this is {}", ty.name()));
                        } else {
                            out.push(PClause::Filter(pe));
                        }
                    }
                }
                Clause::Traverse(_) | Clause::Path { .. } | Clause::Optional { .. } => {}
            }
        }
        Some(out)
    }

    /// The edge a traversal names, with its endpoint types; reports an
    /// unknown one (and binds the ends typeless so their uses add no errors).
    fn edge_of(&mut self, t: &Traverse) -> Option<(&'s TypeDef, String, String)> {
        let Some(e) = self.schema.edges.iter().find(|e| edge_word(&e.name) == t.edge) else {
            let known: Vec<String> = self.schema.edges.iter().map(|e| edge_word(&e.name)).collect();
            self.err(crate::codes::QUERY_UNKNOWN_EDGE.code, t.edge_pos, format!("unknown edge `{}` (edges: {})", t.edge, known.join(", ")));
            self.bind_var(&t.from, "", t.from_pos);
            self.bind_var(&t.to, "", t.to_pos);
            return None;
        };
        let (src, dst) = (e.from.clone().unwrap_or_default(), e.to.clone().unwrap_or_default());
        if t.undirected && src != dst {
            self.err(
                crate::codes::QUERY_BAD_TRAVERSAL.code,
                t.edge_pos,
                format!("`<{}>` matches either direction, which needs one node type at both ends; `{}` goes from {src} to {dst}", t.edge, t.edge),
            );
        }
        Some((e, src, dst))
    }

    /// Hop bounds: `None` for one hop; an error for a bad repeat.
    fn hop_bounds(&mut self, t: &Traverse, src: &str, dst: &str) -> Result<Option<(u32, u32)>, ()> {
        let Some((min, max)) = t.hops else { return Ok(None) };
        if src != dst {
            self.err(
                crate::codes::QUERY_BAD_TRAVERSAL.code,
                t.edge_pos,
                format!("`{}` goes from {src} to {dst}; only an edge between one node type can repeat", t.edge),
            );
            return Err(());
        }
        let max = max.unwrap_or(MAX_HOPS.max(min));
        if max > MAX_HOPS {
            self.err(crate::codes::QUERY_BAD_TRAVERSAL.code, t.edge_pos, format!("at most {MAX_HOPS} hops are allowed, got {max}"));
            return Err(());
        }
        Ok(Some((min, max)))
    }

    fn traverse(&mut self, t: &Traverse) -> Option<PClause> {
        let (e, src, dst) = self.edge_of(t)?;
        let hops = self.hop_bounds(t, &src, &dst);
        let f = self.bind_var(&t.from, &src, t.from_pos);
        let to = self.bind_var(&t.to, &dst, t.to_pos);
        let edge_var = match &t.edge_var {
            None => None,
            Some((name, pos)) => {
                if t.hops.is_some() {
                    self.err(
                        crate::codes::QUERY_BAD_TRAVERSAL.code,
                        *pos,
                        format!("`${name}` would bind one edge, but `{}{{..}}` walks several; bind the edge on a single hop", t.edge),
                    );
                    return None;
                }
                Some(self.bind_fresh(name, &e.name, VarKind::Edge, *pos)?)
            }
        };
        Some(PClause::Traverse { from: f, edge: e.name.clone(), hops: hops.ok()?, to, edge_var, undirected: t.undirected })
    }

    fn path(&mut self, var: &str, pos: Pos, t: &Traverse, all: bool) -> Option<PClause> {
        let (e, src, dst) = self.edge_of(t)?;
        if let Some((_, p)) = &t.edge_var {
            self.err(crate::codes::QUERY_BAD_TRAVERSAL.code, *p, "a shortest path binds its nodes, not one edge; drop the edge variable");
            return None;
        }
        if src != dst {
            self.err(
                crate::codes::QUERY_BAD_TRAVERSAL.code,
                t.edge_pos,
                format!("a shortest path needs one node type at both ends; `{}` goes from {src} to {dst}", t.edge),
            );
            return None;
        }
        let hops = match self.hop_bounds(t, &src, &dst) {
            Ok(Some(h)) => h,
            Ok(None) => (1, 1),
            Err(()) => return None,
        };
        let f = self.bind_var(&t.from, &src, t.from_pos);
        let to = self.bind_var(&t.to, &dst, t.to_pos);
        if var == "_" {
            self.err(crate::codes::QUERY_UNBOUND_VARIABLE.code, pos, "name the path: `$p = shortest(...)`");
            return None;
        }
        let v = self.bind_fresh(var, &src, VarKind::Path, pos)?;
        Some(PClause::Path { var: v, from: f, edge: e.name.clone(), hops, to, undirected: t.undirected, all })
    }

    fn var_ref(&mut self, name: &str, pos: Pos) -> Option<usize> {
        if name == "_" {
            self.err(crate::codes::QUERY_UNBOUND_VARIABLE.code, pos, "`$_` cannot be read; name the variable");
            return None;
        }
        match self.lookup(name) {
            Some(v) => Some(v),
            None => {
                self.err(crate::codes::QUERY_UNBOUND_VARIABLE.code, pos, format!("`${name}` is neither a parameter nor a variable bound in `match`"));
                None
            }
        }
    }
}
