//! Semantic checks and lowering from the syntax tree to the canonical IR.
//! Every error carries `line:col` and a stable `OG-SCHEMA-NNN` code; all
//! errors in a file are reported, not just the first.

use std::collections::{BTreeMap, BTreeSet};

use super::SchemaError;
use super::ast::*;
use super::ir::*;
use super::lexer::Pos;

/// Names that storage uses for its own columns.
pub const RESERVED_COLUMNS: &[&str] = &["id", "src", "dst"];

pub fn compile(decls: &[Decl]) -> Result<SchemaIr, Vec<SchemaError>> {
    let mut c = Compiler::default();
    let ir = c.run(decls);
    if c.errors.is_empty() {
        Ok(ir)
    } else {
        c.errors.sort_by_key(|e| (e.line, e.col));
        Err(c.errors)
    }
}

#[derive(Default)]
struct Compiler {
    errors: Vec<SchemaError>,
}

fn lit_json(l: &Literal) -> serde_json::Value {
    match l {
        Literal::Int(i) => serde_json::Number::from_i128(*i).map(Into::into).unwrap_or_else(|| i.to_string().into()),
        Literal::Float(f) => serde_json::Number::from_f64(*f).map(Into::into).unwrap_or(serde_json::Value::Null),
        Literal::Str(s) | Literal::Ident(s) => s.clone().into(),
        Literal::Bool(b) => (*b).into(),
        Literal::Range(a, b) => serde_json::json!({
            "min": a.as_deref().map(lit_json),
            "max": b.as_deref().map(lit_json),
        }),
    }
}

fn lit_num(l: &Literal) -> Option<f64> {
    match l {
        Literal::Int(i) => Some(*i as f64),
        Literal::Float(f) => Some(*f),
        _ => None,
    }
}

impl Compiler {
    fn err(&mut self, code: &'static str, pos: Pos, msg: impl Into<String>) {
        self.errors.push(SchemaError::new(code, pos, msg));
    }

    fn run(&mut self, decls: &[Decl]) -> SchemaIr {
        // Names first: duplicates and which names are nodes/interfaces.
        let mut seen: BTreeMap<&str, Pos> = BTreeMap::new();
        for d in decls {
            if !d.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                self.err(crate::codes::SCHEMA_BAD_TYPE_NAME.code, d.pos, format!("type name `{}` must use ASCII letters, digits and `_`", d.name));
            }
            if let Some(first) = seen.get(d.name.as_str()) {
                self.err(
                    crate::codes::SCHEMA_DUPLICATE_TYPE.code,
                    d.pos,
                    format!("duplicate type name `{}` (first declared at {}:{})", d.name, first.line, first.col),
                );
            } else {
                seen.insert(&d.name, d.pos);
            }
        }
        let node_names: BTreeSet<&str> = decls.iter().filter(|d| d.kind == DeclKind::Node).map(|d| d.name.as_str()).collect();

        let mut interfaces = Vec::new();
        for d in decls.iter().filter(|d| d.kind == DeclKind::Interface) {
            let properties = self.properties(d, &[]);
            for a in &d.constraints {
                self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, format!("constraint @{} is not allowed in an interface", a.name));
            }
            interfaces.push(InterfaceDef { name: d.name.clone(), properties, metadata: self.metadata(&d.annotations, &["description"]) });
        }
        interfaces.sort_by(|a, b| a.name.cmp(&b.name));

        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for d in decls {
            match d.kind {
                DeclKind::Interface => {}
                DeclKind::Node => nodes.push(self.type_def(d, &interfaces, &node_names)),
                DeclKind::Edge => edges.push(self.type_def(d, &interfaces, &node_names)),
            }
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        edges.sort_by(|a, b| a.name.cmp(&b.name));
        SchemaIr { format_version: IR_FORMAT_VERSION, interfaces, nodes, edges }
    }

    fn metadata(&mut self, anns: &[Annotation], known: &[&str]) -> Vec<Metadata> {
        anns.iter()
            .filter(|a| !known.contains(&a.name.as_str()))
            .map(|a| Metadata { name: a.name.clone(), args: a.args.iter().map(lit_json).collect() })
            .collect()
    }

    fn string_arg(&mut self, a: &Annotation) -> Option<String> {
        match a.args.as_slice() {
            [Literal::Str(s)] => Some(s.clone()),
            _ => {
                self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, format!("@{} takes one string argument", a.name));
                None
            }
        }
    }

    fn lower_type(&mut self, t: &TypeExpr) -> (PropType, bool) {
        match t {
            TypeExpr::Nullable(inner) => {
                let (ty, nullable) = self.lower_type(inner);
                if nullable {
                    // `T??` cannot be written by the parser; nothing to do.
                }
                (ty, true)
            }
            TypeExpr::List(inner, _) => {
                let (ty, _) = self.lower_type(inner);
                (PropType::List(Box::new(ty)), false)
            }
            TypeExpr::Named { name, args, pos } => {
                let simple = match name.as_str() {
                    "String" => Some(PropType::String),
                    "Bool" => Some(PropType::Bool),
                    "I32" => Some(PropType::I32),
                    "I64" => Some(PropType::I64),
                    "U32" => Some(PropType::U32),
                    "U64" => Some(PropType::U64),
                    "F32" => Some(PropType::F32),
                    "F64" => Some(PropType::F64),
                    "Date" => Some(PropType::Date),
                    "DateTime" => Some(PropType::DateTime),
                    "Blob" => Some(PropType::Blob),
                    _ => None,
                };
                if let Some(ty) = simple {
                    if !args.is_empty() {
                        self.err(crate::codes::SCHEMA_BAD_TYPE.code, *pos, format!("type {name} takes no arguments"));
                    }
                    return (ty, false);
                }
                match name.as_str() {
                    "Vector" => match args.as_slice() {
                        [Literal::Int(n)] if *n >= 1 && *n <= 65_536 => (PropType::Vector(*n as u32), false),
                        _ => {
                            self.err(crate::codes::SCHEMA_BAD_TYPE.code, *pos, "Vector takes one dimension between 1 and 65536, as in Vector(384)");
                            (PropType::Vector(1), false)
                        }
                    },
                    "enum" => {
                        let mut values = Vec::new();
                        let mut seen = std::collections::HashSet::new();
                        for a in args {
                            match a {
                                Literal::Ident(s) | Literal::Str(s) => {
                                    if !seen.insert(s.as_str()) {
                                        self.err(crate::codes::SCHEMA_BAD_TYPE.code, *pos, format!("enum value `{s}` is listed twice"));
                                    }
                                    values.push(s.clone());
                                }
                                _ => self.err(crate::codes::SCHEMA_BAD_TYPE.code, *pos, "enum values must be names, as in enum(active, retired)"),
                            }
                        }
                        if values.is_empty() {
                            self.err(crate::codes::SCHEMA_BAD_TYPE.code, *pos, "enum needs at least one value");
                        }
                        (PropType::Enum(values), false)
                    }
                    _ => {
                        self.err(
                            crate::codes::SCHEMA_BAD_TYPE.code,
                            *pos,
                            format!(
                                "unknown type `{name}` (expected String, Bool, I32, I64, U32, U64, F32, F64, Date, DateTime, Blob, Vector(N), [T] or enum(..))"
                            ),
                        );
                        (PropType::String, false)
                    }
                }
            }
        }
    }

    /// Lowers the declared properties, with per-property annotations. Returns
    /// the properties plus any constraints written on them, as
    /// `(annotation name, property, pos)`.
    fn properties(&mut self, d: &Decl, inherited: &[Property]) -> Vec<Property> {
        let mut out: Vec<Property> = inherited.to_vec();
        let mut seen: BTreeMap<String, Pos> = BTreeMap::new();
        for p in &d.properties {
            if RESERVED_COLUMNS.contains(&p.name.as_str()) && d.kind != DeclKind::Interface {
                self.err(
                    crate::codes::SCHEMA_RESERVED_NAME.code,
                    p.pos,
                    format!("property name `{}` is reserved (id, src and dst are storage columns)", p.name),
                );
            }
            if let Some(first) = seen.get(&p.name) {
                self.err(
                    crate::codes::SCHEMA_DUPLICATE_PROPERTY.code,
                    p.pos,
                    format!("duplicate property `{}` in `{}` (first declared at {}:{})", p.name, d.name, first.line, first.col),
                );
                continue;
            }
            seen.insert(p.name.clone(), p.pos);
            let (ty, nullable) = self.lower_type(&p.ty);
            let mut prop = Property { name: p.name.clone(), ty, nullable, description: None, embed: None, rename_from: None, metadata: vec![] };
            for a in &p.annotations {
                match a.name.as_str() {
                    "description" => prop.description = self.string_arg(a),
                    "embed" => prop.embed = self.string_arg(a),
                    "rename_from" => prop.rename_from = self.string_arg(a),
                    "key" | "unique" | "index" => {
                        if !a.args.is_empty() {
                            self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, format!("@{} on a property takes no arguments", a.name));
                        }
                    }
                    // Short forms of the body constraints, checked with them in `type_def`.
                    "range" | "check" if d.kind == DeclKind::Interface => {
                        self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, format!("constraint @{} is not allowed in an interface", a.name));
                    }
                    "range" | "check" => {}
                    _ => prop.metadata.push(Metadata { name: a.name.clone(), args: a.args.iter().map(lit_json).collect() }),
                }
            }
            if let Some(existing) = out.iter_mut().find(|q| q.name == prop.name) {
                // Redeclaring an inherited property: it must agree.
                if existing.ty != prop.ty || existing.nullable != prop.nullable {
                    self.err(
                        crate::codes::SCHEMA_INTERFACE_CONFLICT.code,
                        p.pos,
                        format!(
                            "property `{}` is `{}{}` here but `{}{}` in an implemented interface",
                            prop.name,
                            prop.ty,
                            if prop.nullable { "?" } else { "" },
                            existing.ty,
                            if existing.nullable { "?" } else { "" }
                        ),
                    );
                }
                *existing = prop;
            } else {
                out.push(prop);
            }
        }
        out
    }

    fn prop_names(&mut self, t: &TypeDef, a: &Annotation) -> Vec<String> {
        let mut names = Vec::new();
        for arg in &a.args {
            match arg {
                Literal::Ident(n) | Literal::Str(n) => {
                    if t.property(n).is_none() {
                        self.err(crate::codes::SCHEMA_UNKNOWN_PROPERTY.code, a.pos, format!("@{} names unknown property `{n}` of `{}`", a.name, t.name));
                    } else {
                        names.push(n.clone());
                    }
                }
                _ => self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, format!("@{} takes property names", a.name)),
            }
        }
        if a.args.is_empty() {
            self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, format!("@{} in a body needs property names, as in @{}(name)", a.name, a.name));
        }
        names
    }

    fn type_def(&mut self, d: &Decl, interfaces: &[InterfaceDef], node_names: &BTreeSet<&str>) -> TypeDef {
        let kind = if d.kind == DeclKind::Node { TypeKind::Node } else { TypeKind::Edge };
        let mut inherited: Vec<Property> = Vec::new();
        let mut implements = Vec::new();
        for (iname, ipos) in &d.implements {
            match interfaces.iter().find(|i| &i.name == iname) {
                None => self.err(crate::codes::SCHEMA_UNKNOWN_INTERFACE.code, *ipos, format!("`{}` implements unknown interface `{iname}`", d.name)),
                Some(i) => {
                    implements.push(iname.clone());
                    for p in &i.properties {
                        match inherited.iter().find(|q| q.name == p.name) {
                            Some(q) if q.ty != p.ty || q.nullable != p.nullable => self.err(
                                crate::codes::SCHEMA_INTERFACE_CONFLICT.code,
                                *ipos,
                                format!("interfaces of `{}` disagree on property `{}`", d.name, p.name),
                            ),
                            Some(_) => {}
                            None => inherited.push(p.clone()),
                        }
                    }
                }
            }
        }
        implements.sort();
        let properties = self.properties(d, &inherited);
        let mut t = TypeDef {
            kind,
            name: d.name.clone(),
            stable_name: d.name.clone(),
            from: None,
            to: None,
            card: None,
            implements,
            description: None,
            properties,
            key: vec![],
            unique: vec![],
            indexes: vec![],
            ranges: vec![],
            checks: vec![],
            metadata: vec![],
        };
        if let Some(((from, fpos), (to, tpos))) = &d.endpoints {
            for (n, p) in [(from, fpos), (to, tpos)] {
                if !node_names.contains(n.as_str()) {
                    self.err(crate::codes::SCHEMA_UNKNOWN_ENDPOINT.code, *p, format!("edge `{}` names unknown node type `{n}` as an endpoint", d.name));
                }
            }
            t.from = Some(from.clone());
            t.to = Some(to.clone());
        }

        // Header annotations.
        for a in &d.annotations {
            match a.name.as_str() {
                "description" => t.description = self.string_arg(a),
                "card" if kind == TypeKind::Edge => t.card = self.card(a),
                "card" => self.err(crate::codes::SCHEMA_BAD_CARD.code, a.pos, "@card applies to edges only"),
                _ => t.metadata.push(Metadata { name: a.name.clone(), args: a.args.iter().map(lit_json).collect() }),
            }
        }

        // Property-level key/unique/index, then body-level constraints.
        let mut key_sets: Vec<(Vec<String>, Pos)> = Vec::new();
        for p in &d.properties {
            for a in &p.annotations {
                match a.name.as_str() {
                    "key" => key_sets.push((vec![p.name.clone()], a.pos)),
                    "unique" => t.unique.push(vec![p.name.clone()]),
                    "index" => t.indexes.push(vec![p.name.clone()]),
                    // `age: I32 @range(0..150)` is `@range(age, 0..150)`.
                    "range" | "check" => {
                        let mut body = a.clone();
                        body.args.insert(0, Literal::Ident(p.name.clone()));
                        if a.name == "range" { self.range(&mut t, &body) } else { self.check(&mut t, &body) }
                    }
                    _ => {}
                }
            }
        }
        for a in &d.constraints {
            match a.name.as_str() {
                "key" => {
                    let names = self.prop_names(&t, a);
                    key_sets.push((names, a.pos));
                }
                "unique" => {
                    let names = self.prop_names(&t, a);
                    t.unique.push(names);
                }
                "index" => {
                    let names = self.prop_names(&t, a);
                    for n in names {
                        t.indexes.push(vec![n]);
                    }
                }
                "range" => self.range(&mut t, a),
                "check" => self.check(&mut t, a),
                "card" => {
                    if kind == TypeKind::Edge {
                        t.card = self.card(a);
                    } else {
                        self.err(crate::codes::SCHEMA_BAD_CARD.code, a.pos, "@card applies to edges only");
                    }
                }
                _ => t.metadata.push(Metadata { name: a.name.clone(), args: a.args.iter().map(lit_json).collect() }),
            }
        }
        key_sets.dedup_by(|a, b| a.0 == b.0);
        if key_sets.len() > 1 {
            self.err(crate::codes::SCHEMA_BAD_KEY.code, key_sets[1].1, format!("`{}` declares more than one @key", d.name));
        }
        if let Some((key, pos)) = key_sets.into_iter().next() {
            if kind == TypeKind::Edge {
                self.err(crate::codes::SCHEMA_BAD_KEY.code, pos, format!("edge `{}` cannot have a @key: edges are identified by their id", d.name));
            }
            for k in &key {
                let p = t.property(k).expect("checked").clone();
                if p.nullable {
                    self.err(crate::codes::SCHEMA_NULLABLE_KEY.code, pos, format!("@key property `{}.{k}` is nullable; keys must always have a value", d.name));
                }
                if !p.ty.is_keyable() {
                    self.err(crate::codes::SCHEMA_CONSTRAINT_TYPE.code, pos, format!("@key property `{}.{k}` has type {} which cannot be a key", d.name, p.ty));
                }
            }
            t.key = key;
        }
        for (embed_prop, pos) in d.properties.iter().filter_map(|p| p.annotations.iter().find(|a| a.name == "embed").map(|a| (p.name.clone(), a.pos))) {
            let p = t.property(&embed_prop).expect("declared").clone();
            if !matches!(p.ty, PropType::Vector(_)) {
                self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, pos, format!("@embed target `{embed_prop}` must be a Vector(N)"));
            }
            if let Some(src) = &p.embed {
                match t.property(src) {
                    Some(sp) if sp.ty == PropType::String => {}
                    Some(_) => self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, pos, format!("@embed source `{src}` must be a String property")),
                    None => self.err(crate::codes::SCHEMA_UNKNOWN_PROPERTY.code, pos, format!("@embed names unknown property `{src}`")),
                }
            }
        }
        for u in t.unique.iter_mut() {
            u.sort();
        }
        t.unique.retain(|u| !u.is_empty());
        t.unique.sort();
        t.unique.dedup();
        t.indexes.sort();
        t.indexes.dedup();
        t.ranges.sort_by(|a, b| a.property.cmp(&b.property));
        t.checks.sort_by(|a, b| (&a.property, &a.pattern).cmp(&(&b.property, &b.pattern)));
        t
    }

    fn card(&mut self, a: &Annotation) -> Option<Cardinality> {
        let bad = |c: &mut Self| {
            c.err(crate::codes::SCHEMA_BAD_CARD.code, a.pos, "@card takes `min..max` with 0 <= min <= max, as in @card(0..1) or @card(1..)");
            None
        };
        let (min, max) = match a.args.as_slice() {
            [Literal::Int(n)] => (Some(*n), Some(*n)),
            [Literal::Range(lo, hi)] => {
                let lo = match lo.as_deref() {
                    None => Some(0),
                    Some(Literal::Int(n)) => Some(*n),
                    _ => None,
                };
                let hi = match hi.as_deref() {
                    None => None,
                    Some(Literal::Int(n)) => Some(*n),
                    _ => return bad(self),
                };
                (lo, hi)
            }
            _ => return bad(self),
        };
        let Some(min) = min else { return bad(self) };
        if min < 0 || max.is_some_and(|m| m < min || m < 0) || max == Some(0) {
            return bad(self);
        }
        Some(Cardinality { min: min as u64, max: max.map(|m| m as u64) })
    }

    fn range(&mut self, t: &mut TypeDef, a: &Annotation) {
        let (Some(Literal::Ident(p) | Literal::Str(p)), Some(Literal::Range(lo, hi))) = (a.args.first(), a.args.get(1)) else {
            self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, "@range takes a property and bounds, as in @range(age, 0..150)");
            return;
        };
        let Some(prop) = t.property(p) else {
            self.err(crate::codes::SCHEMA_UNKNOWN_PROPERTY.code, a.pos, format!("@range names unknown property `{p}` of `{}`", t.name));
            return;
        };
        if !prop.ty.is_numeric() {
            self.err(crate::codes::SCHEMA_CONSTRAINT_TYPE.code, a.pos, format!("@range needs a numeric property; `{p}` is {}", prop.ty));
            return;
        }
        let min = lo.as_deref().map(lit_num);
        let max = hi.as_deref().map(lit_num);
        if min == Some(None) || max == Some(None) || (min.is_none() && max.is_none()) {
            self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, "@range bounds must be numbers, at least one of them given");
            return;
        }
        let (min, max) = (min.flatten(), max.flatten());
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, format!("@range({p}, ..) has min {lo} above max {hi}"));
            return;
        }
        t.ranges.push(RangeConstraint { property: p.clone(), min, max });
    }

    fn check(&mut self, t: &mut TypeDef, a: &Annotation) {
        let [Literal::Ident(p) | Literal::Str(p), Literal::Str(pattern)] = a.args.as_slice() else {
            self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, "@check takes a property and a regex string, as in @check(email, \"^[^@]+@[^@]+$\")");
            return;
        };
        let Some(prop) = t.property(p) else {
            self.err(crate::codes::SCHEMA_UNKNOWN_PROPERTY.code, a.pos, format!("@check names unknown property `{p}` of `{}`", t.name));
            return;
        };
        if prop.ty != PropType::String {
            self.err(crate::codes::SCHEMA_CONSTRAINT_TYPE.code, a.pos, format!("@check needs a String property; `{p}` is {}", prop.ty));
            return;
        }
        if let Err(e) = super::pattern::compile(pattern) {
            self.err(crate::codes::SCHEMA_BAD_ANNOTATION.code, a.pos, format!("@check pattern for `{p}` is not a valid regex: {e}"));
            return;
        }
        t.checks.push(CheckConstraint { property: p.clone(), pattern: pattern.clone() });
    }
}
