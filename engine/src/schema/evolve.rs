//! Schema evolution, planned: the steps from one compiled schema to
//! another, each with a code and what it costs (metadata only, a rewrite of
//! a table's rows, data lost), and the lints that refuse a change. Pure: the
//! stored rows are looked at by `graph::evolve`, which also applies a plan.
//!
//! Types and properties are matched by name, else by `@rename_from("old")`
//! (on a property, or on a type after its header). A matched type keeps its
//! dataset (its `stable_name`); a new one gets a fresh one.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::ir::{PropType, Property, SchemaIr, TypeDef, TypeKind};
use crate::codes::{self, Code};

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// `OG-EVOLVE-NNN`: what kind of step.
    pub code: &'static str,
    /// The same as a word: `add_property`, `rename_type`, ...
    pub kind: &'static str,
    /// `Person`, `Person.age`.
    pub target: String,
    pub detail: String,
    /// The type's rows are rewritten (cost grows with its size).
    pub rewrites: bool,
    /// Stored data is lost: needs `--allow-data-loss`.
    pub loses_data: bool,
}

/// Why a change is refused (or would be, without `--allow-data-loss`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lint {
    /// `OG-LINT-NNN`.
    pub code: &'static str,
    pub target: String,
    pub message: String,
}

/// A constraint the new schema adds, to check against stored rows.
#[derive(Debug, Clone, PartialEq)]
pub enum NewConstraint {
    NotNull(String),
    Unique(Vec<String>),
    Range {
        property: String,
        min: Option<f64>,
        max: Option<f64>,
    },
    Check {
        property: String,
        pattern: String,
    },
    Card {
        min: u64,
        max: Option<u64>,
    },
    /// `property` allows only these values now (rows holding another lose
    /// it: null, or refused when the property is required).
    EnumOnly {
        property: String,
        allowed: Vec<String>,
        nullable: bool,
    },
    /// A `@key` on a type that had none: every stored row's id must already
    /// be its key value (ids are built from the key; edges name them).
    Key(Vec<String>),
}

/// How one type's dataset changes.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeChange {
    /// The type before (`None`: added).
    pub old: Option<TypeDef>,
    /// The type after (`None`: dropped).
    pub new: Option<TypeDef>,
    /// For each property of `new`, the property of `old` it continues.
    pub sources: BTreeMap<String, String>,
    /// The dataset's columns change (names, set, nullability): a metadata
    /// commit on the table.
    pub alters_columns: bool,
    /// Its rows are rewritten (a cast, a filled default, lost enum values).
    pub rewrites: bool,
    /// Constraints to check against its stored rows first.
    pub checks: Vec<NewConstraint>,
}

impl TypeChange {
    pub fn name(&self) -> &str {
        self.new.as_ref().or(self.old.as_ref()).map(|t| t.name.as_str()).unwrap_or_default()
    }
}

/// What `apply` would do.
#[derive(Debug, Clone, PartialEq)]
pub struct EvolutionPlan {
    pub steps: Vec<Step>,
    pub lints: Vec<Lint>,
    /// The new schema as it will be stored (matched types keep their
    /// `stable_name`).
    pub ir: SchemaIr,
    pub changes: Vec<TypeChange>,
}

impl EvolutionPlan {
    pub fn loses_data(&self) -> bool {
        self.steps.iter().any(|s| s.loses_data)
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

fn step(c: Code, target: impl Into<String>, detail: impl Into<String>) -> Step {
    Step { code: c.code, kind: c.kind, target: target.into(), detail: detail.into(), rewrites: false, loses_data: false }
}

fn lint(c: Code, target: impl Into<String>, message: impl Into<String>) -> Lint {
    Lint { code: c.code, target: target.into(), message: message.into() }
}

/// The `@rename_from("old")` of a type.
fn type_rename_from(t: &TypeDef) -> Option<String> {
    t.metadata.iter().find(|m| m.name == "rename_from").and_then(|m| m.args.first()).and_then(|a| a.as_str()).map(str::to_string)
}

/// The `@default(v)` of a property, as JSON.
pub fn default_of(p: &Property) -> Option<serde_json::Value> {
    p.metadata.iter().find(|m| m.name == "default").and_then(|m| m.args.first()).cloned()
}

/// Widening: every value of `from` is a value of `to`, unchanged.
fn widens(from: &PropType, to: &PropType) -> bool {
    use PropType::*;
    matches!((from, to), (I32, I64) | (I32, F64) | (U32, U64) | (U32, I64) | (U32, F64) | (F32, F64) | (Enum(_), String))
}

/// Both sides stored alike (`enum` values are strings).
fn same_storage(a: &PropType, b: &PropType) -> bool {
    crate::storage::columns::arrow_type(a) == crate::storage::columns::arrow_type(b)
}

/// A cast of stored values from `from` to `to` exists (maybe losing some).
fn castable(from: &PropType, to: &PropType) -> bool {
    use PropType::*;
    let num = |t: &PropType| t.is_numeric();
    (num(from) && num(to)) || matches!((from, to), (Enum(_), String) | (String, Enum(_)) | (Date, DateTime) | (DateTime, Date))
}

/// Plans the change from `old` to `new`.
pub fn plan(old: &SchemaIr, new: &SchemaIr) -> EvolutionPlan {
    let mut p = Planner { steps: Vec::new(), lints: Vec::new(), changes: Vec::new(), node_renames: BTreeMap::new() };
    let mut ir = new.clone();
    let mut used_stable: BTreeSet<String> = old.types().map(|t| t.stable_name.clone()).collect();
    for kind in [TypeKind::Node, TypeKind::Edge] {
        let olds: Vec<&TypeDef> = old.types().filter(|t| t.kind == kind).collect();
        let by_name: BTreeSet<&str> = new.types().filter(|t| t.kind == kind).map(|t| t.name.as_str()).collect();
        let news: Vec<&mut TypeDef> = match kind {
            TypeKind::Node => ir.nodes.iter_mut().collect(),
            TypeKind::Edge => ir.edges.iter_mut().collect(),
        };
        let mut matched: BTreeSet<String> = BTreeSet::new();
        let mut pairs: Vec<(Option<TypeDef>, &mut TypeDef)> = Vec::new();
        for t in news {
            let found = olds
                .iter()
                .find(|o| o.name == t.name)
                .or_else(|| type_rename_from(t).and_then(|from| olds.iter().find(|o| o.name == from && !by_name.contains(from.as_str()))));
            match found {
                Some(o) if !matched.contains(&o.name) => {
                    matched.insert(o.name.clone());
                    t.stable_name = o.stable_name.clone();
                    pairs.push((Some((*o).clone()), t));
                }
                _ => pairs.push((None, t)),
            }
        }
        if kind == TypeKind::Node {
            p.node_renames = pairs.iter().filter_map(|(o, t)| o.as_ref().map(|o| (o.name.clone(), t.name.clone()))).collect();
        }
        for (o, t) in pairs {
            match o {
                Some(o) => p.alter(&o, t),
                None => {
                    if let Some(from) = type_rename_from(t)
                        && !olds.iter().any(|o| o.name == from)
                    {
                        p.lints.push(lint(
                            codes::LINT_RENAME_UNKNOWN,
                            &t.name,
                            format!("@rename_from(\"{from}\"): the current schema has no {kind:?} type `{from}`").to_lowercase(),
                        ));
                    }
                    let mut stable = t.name.clone();
                    let mut n = 2;
                    while used_stable.contains(&stable) {
                        stable = format!("{}_{n}", t.name);
                        n += 1;
                    }
                    used_stable.insert(stable.clone());
                    t.stable_name = stable;
                    p.steps.push(step(codes::EVOLVE_ADD_TYPE, &t.name, format!("new {} type, empty", kind_word(kind))));
                    p.changes.push(TypeChange {
                        old: None,
                        new: Some(t.clone()),
                        sources: BTreeMap::new(),
                        alters_columns: false,
                        rewrites: false,
                        checks: Vec::new(),
                    });
                }
            }
        }
        for o in olds.iter().filter(|o| !matched.contains(&o.name)) {
            let mut s = step(codes::EVOLVE_DROP_TYPE, &o.name, format!("drop {} type `{}` and its rows", kind_word(kind), o.name));
            s.loses_data = true;
            p.steps.push(s);
            p.lints.push(lint(codes::LINT_DATA_LOSS, &o.name, format!("dropping type `{}` loses its rows; pass --allow-data-loss", o.name)));
            p.changes.push(TypeChange {
                old: Some((*o).clone()),
                new: None,
                sources: BTreeMap::new(),
                alters_columns: false,
                rewrites: false,
                checks: Vec::new(),
            });
        }
    }
    // Edges must still point at node types the new schema has, and a type
    // renamed in the same change is followed by its edges' endpoints
    // (compile already checked every endpoint names a node type).
    if old.interfaces != new.interfaces {
        p.steps.push(step(codes::EVOLVE_METADATA, "interfaces", "interface declarations change (their properties are checked on each type)"));
    }
    EvolutionPlan { steps: p.steps, lints: p.lints, ir, changes: p.changes }
}

fn kind_word(k: TypeKind) -> &'static str {
    match k {
        TypeKind::Node => "node",
        TypeKind::Edge => "edge",
    }
}

struct Planner {
    steps: Vec<Step>,
    lints: Vec<Lint>,
    changes: Vec<TypeChange>,
    /// Node types kept, old name to new (an edge whose endpoint type was
    /// renamed keeps its endpoints).
    node_renames: BTreeMap<String, String>,
}

impl Planner {
    fn alter(&mut self, o: &TypeDef, t: &TypeDef) {
        let tn = t.name.clone();
        let mut change =
            TypeChange { old: Some(o.clone()), new: Some(t.clone()), sources: BTreeMap::new(), alters_columns: false, rewrites: false, checks: Vec::new() };
        if o.name != t.name {
            self.steps.push(step(codes::EVOLVE_RENAME_TYPE, &tn, format!("rename type `{}` to `{}`, keeping every row and id", o.name, t.name)));
        }
        let follow = |end: &Option<String>| end.as_ref().map(|n| self.node_renames.get(n).cloned().unwrap_or_else(|| n.clone()));
        if follow(&o.from) != t.from || follow(&o.to) != t.to {
            let map = |s: &Option<String>| s.clone().unwrap_or_default();
            self.lints.push(lint(
                codes::LINT_UNSUPPORTED,
                &tn,
                format!("edge endpoints change ({} -> {} to {} -> {}); declare a new edge type instead", map(&o.from), map(&o.to), map(&t.from), map(&t.to)),
            ));
        }
        // Properties: by name, else by @rename_from.
        let mut matched: BTreeSet<String> = BTreeSet::new();
        let new_names: BTreeSet<&str> = t.properties.iter().map(|p| p.name.as_str()).collect();
        for np in &t.properties {
            let target = format!("{tn}.{}", np.name);
            let found = o.property(&np.name).or_else(|| np.rename_from.as_deref().filter(|f| !new_names.contains(f)).and_then(|f| o.property(f)));
            let Some(op) = found.filter(|op| !matched.contains(&op.name)) else {
                if let Some(from) = &np.rename_from
                    && o.property(from).is_none()
                {
                    self.lints.push(lint(codes::LINT_RENAME_UNKNOWN, &target, format!("@rename_from(\"{from}\"): type `{}` has no property `{from}`", o.name)));
                }
                self.add_property(&mut change, &target, np);
                continue;
            };
            matched.insert(op.name.clone());
            change.sources.insert(np.name.clone(), op.name.clone());
            if op.name != np.name {
                self.steps.push(step(codes::EVOLVE_RENAME_PROPERTY, &target, format!("rename property `{}` to `{}`, keeping its values", op.name, np.name)));
                change.alters_columns = true;
            }
            self.retype(&mut change, &target, op, np);
            if op.description != np.description || op.metadata != np.metadata || op.embed != np.embed {
                self.steps.push(step(codes::EVOLVE_METADATA, &target, "description or annotations change"));
            }
        }
        for op in o.properties.iter().filter(|op| !matched.contains(&op.name)) {
            let target = format!("{tn}.{}", op.name);
            let mut s = step(codes::EVOLVE_DROP_PROPERTY, &target, format!("drop property `{}` and its values", op.name));
            s.loses_data = true;
            self.steps.push(s);
            self.lints.push(lint(codes::LINT_DATA_LOSS, &target, format!("dropping `{}` loses its values; pass --allow-data-loss", op.name)));
            change.alters_columns = true;
        }
        // Constraints, in the new names.
        let renamed = |names: &[String]| -> Vec<String> {
            names.iter().map(|n| change.sources.iter().find(|(_, old)| *old == n).map(|(new, _)| new.clone()).unwrap_or_else(|| n.clone())).collect()
        };
        // The key may be renamed (ids are its values, which stay), or
        // added where every stored id already is its value; not changed.
        if o.key.is_empty() && !t.key.is_empty() {
            self.steps.push(step(codes::EVOLVE_ADD_CONSTRAINT, &tn, format!("add @key({}): every stored id must be its key value", t.key.join(", "))));
            change.checks.push(NewConstraint::Key(t.key.clone()));
        } else if renamed(&o.key) != t.key {
            self.lints.push(lint(
                codes::LINT_UNSUPPORTED,
                &tn,
                format!(
                    "the key changes (@key({}) to @key({})): node ids are built from it; declare a new type and load it",
                    o.key.join(", "),
                    t.key.join(", ")
                ),
            ));
        }
        let old_unique: Vec<Vec<String>> = o.unique.iter().map(|u| renamed(u)).collect();
        for u in &t.unique {
            if !old_unique.contains(u) {
                self.steps.push(step(codes::EVOLVE_ADD_CONSTRAINT, &tn, format!("add @unique({}), checked against stored rows", u.join(", "))));
                change.checks.push(NewConstraint::Unique(u.clone()));
            }
        }
        for u in old_unique.iter().filter(|u| !t.unique.contains(u)) {
            self.steps.push(step(codes::EVOLVE_DROP_CONSTRAINT, &tn, format!("remove @unique({})", u.join(", "))));
        }
        let old_ranges: Vec<(String, Option<f64>, Option<f64>)> =
            o.ranges.iter().map(|r| (renamed(std::slice::from_ref(&r.property))[0].clone(), r.min, r.max)).collect();
        for r in &t.ranges {
            if !old_ranges.contains(&(r.property.clone(), r.min, r.max)) {
                self.steps.push(step(codes::EVOLVE_ADD_CONSTRAINT, format!("{tn}.{}", r.property), "add @range, checked against stored rows"));
                change.checks.push(NewConstraint::Range { property: r.property.clone(), min: r.min, max: r.max });
            }
        }
        for (p, _, _) in old_ranges.iter().filter(|(p, lo, hi)| !t.ranges.iter().any(|r| r.property == *p && r.min == *lo && r.max == *hi)) {
            self.steps.push(step(codes::EVOLVE_DROP_CONSTRAINT, format!("{tn}.{p}"), "remove or change a @range"));
        }
        let old_checks: Vec<(String, String)> = o.checks.iter().map(|c| (renamed(std::slice::from_ref(&c.property))[0].clone(), c.pattern.clone())).collect();
        for c in &t.checks {
            if !old_checks.contains(&(c.property.clone(), c.pattern.clone())) {
                self.steps.push(step(
                    codes::EVOLVE_ADD_CONSTRAINT,
                    format!("{tn}.{}", c.property),
                    format!("add @check({:?}), checked against stored rows", c.pattern),
                ));
                change.checks.push(NewConstraint::Check { property: c.property.clone(), pattern: c.pattern.clone() });
            }
        }
        for (p, _) in old_checks.iter().filter(|(p, pat)| !t.checks.iter().any(|c| c.property == *p && c.pattern == *pat)) {
            self.steps.push(step(codes::EVOLVE_DROP_CONSTRAINT, format!("{tn}.{p}"), "remove or change a @check"));
        }
        if o.card != t.card {
            match &t.card {
                Some(c) if o.card.as_ref().is_none_or(|oc| c.min > oc.min || c.max.is_some_and(|m| oc.max.is_none_or(|om| m < om))) => {
                    self.steps.push(step(codes::EVOLVE_ADD_CONSTRAINT, &tn, "tighten @card, checked against stored edges"));
                    change.checks.push(NewConstraint::Card { min: c.min, max: c.max });
                }
                _ => self.steps.push(step(codes::EVOLVE_DROP_CONSTRAINT, &tn, "loosen or remove @card")),
            }
        }
        let old_indexes: Vec<Vec<String>> = o.indexes.iter().map(|i| renamed(i)).collect();
        for i in t.indexes.iter().filter(|i| !old_indexes.contains(i)) {
            self.steps.push(step(codes::EVOLVE_ADD_INDEX, &tn, format!("build an index on {}", i.join(", "))));
        }
        for i in old_indexes.iter().filter(|i| !t.indexes.contains(i)) {
            self.steps.push(step(codes::EVOLVE_DROP_INDEX, &tn, format!("drop the index on {}", i.join(", "))));
        }
        if o.description != t.description
            || o.metadata.iter().filter(|m| m.name != "rename_from").ne(t.metadata.iter().filter(|m| m.name != "rename_from"))
            || o.implements != t.implements
        {
            self.steps.push(step(codes::EVOLVE_METADATA, &tn, "description, annotations or interfaces change"));
        }
        // Column order follows the schema's property order.
        let old_order: Vec<&String> = t.properties.iter().filter_map(|p| change.sources.get(&p.name)).collect();
        let kept_old: Vec<&String> = o.properties.iter().map(|p| &p.name).filter(|n| old_order.contains(n)).collect();
        if old_order != kept_old {
            change.alters_columns = true;
            self.steps.push(step(codes::EVOLVE_METADATA, &tn, "property order changes (column order)"));
        }
        if change.alters_columns || change.rewrites || !change.checks.is_empty() || o.name != t.name || o != t {
            self.changes.push(change);
        }
    }

    fn add_property(&mut self, change: &mut TypeChange, target: &str, np: &Property) {
        change.alters_columns = true;
        if let Some(d) = default_of(np) {
            let mut s = step(
                codes::EVOLVE_ADD_PROPERTY_DEFAULT,
                target,
                format!("add property of type {} with @default({d}); existing rows are rewritten with it", np.ty),
            );
            s.rewrites = true;
            change.rewrites = true;
            self.steps.push(s);
        } else if np.nullable {
            self.steps.push(step(
                codes::EVOLVE_ADD_PROPERTY,
                target,
                format!("add nullable property of type {}; existing rows hold null (metadata only)", np.ty),
            ));
        } else {
            self.lints.push(lint(
                codes::LINT_UNSUPPORTED,
                target,
                format!("a new required property needs a value for existing rows: make it `{}?` or give it @default(...)", np.ty),
            ));
        }
    }

    fn retype(&mut self, change: &mut TypeChange, target: &str, op: &Property, np: &Property) {
        if op.nullable && !np.nullable {
            self.steps.push(step(codes::EVOLVE_ADD_CONSTRAINT, target, "becomes required (not null), checked against stored rows"));
            change.checks.push(NewConstraint::NotNull(np.name.clone()));
            change.alters_columns = true;
        } else if !op.nullable && np.nullable {
            self.steps.push(step(codes::EVOLVE_WIDEN_TYPE, target, format!("{} to {}? (metadata only)", op.ty, np.ty)));
            change.alters_columns = true;
        }
        if op.ty == np.ty {
            return;
        }
        if let (PropType::Enum(a), PropType::Enum(b)) = (&op.ty, &np.ty) {
            let added: Vec<&String> = b.iter().filter(|v| !a.contains(v)).collect();
            let removed: Vec<String> = a.iter().filter(|v| !b.contains(v)).cloned().collect();
            if !added.is_empty() {
                let names: Vec<&str> = added.iter().map(|s| s.as_str()).collect();
                self.steps.push(step(codes::EVOLVE_ADD_ENUM_VALUE, target, format!("allow {} (metadata only)", names.join(", "))));
            }
            if !removed.is_empty() {
                self.steps.push(step(codes::EVOLVE_REMOVE_ENUM_VALUE, target, format!("no longer allow {}; stored rows are checked", removed.join(", "))));
                change.checks.push(NewConstraint::EnumOnly { property: np.name.clone(), allowed: b.clone(), nullable: np.nullable });
            }
            return;
        }
        if widens(&op.ty, &np.ty) {
            let mut s = step(codes::EVOLVE_WIDEN_TYPE, target, format!("{} to {}", op.ty, np.ty));
            if !same_storage(&op.ty, &np.ty) {
                s.rewrites = true;
                s.detail.push_str("; the values are rewritten");
                change.rewrites = true;
            } else {
                s.detail.push_str(" (metadata only)");
            }
            self.steps.push(s);
        } else if castable(&op.ty, &np.ty) {
            let mut s = step(codes::EVOLVE_NARROW_TYPE, target, format!("{} to {}: values that do not fit become null", op.ty, np.ty));
            s.rewrites = !same_storage(&op.ty, &np.ty);
            s.loses_data = true;
            change.rewrites |= s.rewrites;
            self.steps.push(s);
            self.lints.push(lint(codes::LINT_DATA_LOSS, target, format!("narrowing {} to {} can lose values; pass --allow-data-loss", op.ty, np.ty)));
            if let PropType::Enum(vs) = &np.ty {
                change.checks.push(NewConstraint::EnumOnly { property: np.name.clone(), allowed: vs.clone(), nullable: np.nullable });
            }
        } else {
            self.lints.push(lint(
                codes::LINT_UNSUPPORTED,
                target,
                format!("{} cannot become {}: add a new property, copy the values with a mutation, then drop the old one", op.ty, np.ty),
            ));
        }
    }
}
