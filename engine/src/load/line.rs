//! One JSONL line: a node (`{"type", "id"?, "data"}`) or an edge
//! (`{"edge", "id"?, "from", "to", "data"}`), parsed straight into the
//! checked cells of its type's properties.
//!
//! When `type`/`edge` comes before `data` (as `export` writes it), `data` is
//! decoded property by property into the type's slots, without building a
//! JSON map; otherwise it is read as a map first and converted after.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::value::{Cell, convert_property, endpoint_id, node_id};
use crate::schema::{SchemaIr, TypeDef, TypeKind};

/// A line that passed the per-value checks, with its row id worked out.
pub struct Parsed {
    /// Index of the type in `SchemaIr::types()`.
    pub slot: usize,
    /// Row id: from the `@key`, given as `id`, or a fresh ULID.
    pub id: String,
    /// True when the id came from the input (a key or `id`), so it may
    /// collide with other rows; generated ids cannot.
    pub id_from_input: bool,
    /// Edges: (src, dst) node ids.
    pub endpoints: Option<(String, String)>,
    /// One cell per property, in schema order.
    pub cells: Vec<Cell>,
}

pub type LineErrors = Vec<(&'static str, String)>;

/// Type lookup by (kind, name) -> slot index.
pub struct TypeIndex<'s> {
    schema: &'s SchemaIr,
    by_name: HashMap<(TypeKind, &'s str), usize>,
}

impl<'s> TypeIndex<'s> {
    pub fn new(schema: &'s SchemaIr) -> Self {
        let by_name = schema.types().enumerate().map(|(i, t)| ((t.kind, t.name.as_str()), i)).collect();
        TypeIndex { schema, by_name }
    }

    fn find(&self, kind: TypeKind, name: &str) -> Option<(usize, &'s TypeDef)> {
        let i = *self.by_name.get(&(kind, name))?;
        Some((i, self.schema.types().nth(i).expect("indexed")))
    }
}

#[derive(Default)]
struct Head<'a> {
    ty: Option<Cow<'a, str>>,
    edge: Option<Cow<'a, str>>,
    id: Option<Value>,
    from: Option<Value>,
    to: Option<Value>,
    /// `data` decoded into slots (type known first) ...
    slots: Option<Vec<Option<Value>>>,
    /// ... or as a plain map (type came later).
    map: Option<serde_json::Map<String, Value>>,
    unknown: Vec<String>,
    extra_fields: Vec<String>,
    duplicate: Option<&'static str>,
}

struct LineVisitor<'i, 's> {
    index: &'i TypeIndex<'s>,
}

struct SlotsSeed<'t> {
    def: &'t TypeDef,
}

impl<'de> DeserializeSeed<'de> for SlotsSeed<'_> {
    type Value = (Vec<Option<Value>>, Vec<String>);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SlotsSeed<'_> {
    type Value = (Vec<Option<Value>>, Vec<String>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object of properties")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots = vec![None; self.def.properties.len()];
        let mut unknown = Vec::new();
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            match self.def.properties.iter().position(|p| p.name == k) {
                Some(i) => slots[i] = Some(map.next_value::<Value>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                    unknown.push(k.into_owned());
                }
            }
        }
        Ok((slots, unknown))
    }
}

impl<'de> Visitor<'de> for LineVisitor<'_, '_> {
    type Value = Head<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head<'de>, A::Error> {
        let mut h = Head::default();
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            macro_rules! once {
                ($field:ident, $name:literal) => {{
                    if h.$field.is_some() {
                        h.duplicate = Some($name);
                    }
                    h.$field = Some(map.next_value()?);
                }};
            }
            match k.as_ref() {
                "type" => once!(ty, "type"),
                "edge" => once!(edge, "edge"),
                "id" => once!(id, "id"),
                "from" => once!(from, "from"),
                "to" => once!(to, "to"),
                "data" => {
                    let known = match (&h.ty, &h.edge) {
                        (Some(t), None) => self.index.find(TypeKind::Node, t),
                        (None, Some(e)) => self.index.find(TypeKind::Edge, e),
                        _ => None,
                    };
                    match known {
                        Some((_, def)) => {
                            let (slots, unknown) = map.next_value_seed(SlotsSeed { def })?;
                            h.slots = Some(slots);
                            h.unknown = unknown;
                        }
                        None => h.map = Some(map.next_value()?),
                    }
                }
                other => {
                    map.next_value::<IgnoredAny>()?;
                    h.extra_fields.push(other.to_string());
                }
            }
        }
        Ok(h)
    }
}

/// Parses and checks one non-empty line.
pub fn parse(index: &TypeIndex<'_>, text: &str) -> Result<Parsed, LineErrors> {
    let shape = |m: String| vec![("OG-LOAD-002", m)];
    let mut de = serde_json::Deserializer::from_str(text);
    let mut h = de
        .deserialize_map(LineVisitor { index })
        .and_then(|h| de.end().map(|_| h))
        .map_err(|e| shape(format!("not a valid record: {e}")))?;
    if let Some(f) = h.extra_fields.first() {
        return Err(shape(format!("unknown field `{f}` (a record has type or edge, id, from, to, data)")));
    }
    if let Some(f) = h.duplicate {
        return Err(shape(format!("field `{f}` appears twice")));
    }
    let id = match h.id.take() {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(_) => return Err(shape("`id` must be a non-empty string".into())),
    };
    let (kind, name) = match (h.ty.take(), h.edge.take()) {
        (Some(t), None) => {
            if h.from.is_some() || h.to.is_some() {
                return Err(shape("a node record has no `from`/`to`; use `edge` for edges".into()));
            }
            (TypeKind::Node, t)
        }
        (None, Some(e)) => (TypeKind::Edge, e),
        (Some(_), Some(_)) => return Err(shape("a record has either `type` (node) or `edge`, not both".into())),
        (None, None) => return Err(shape("a record needs `type` (node) or `edge`".into())),
    };
    let endpoints = match kind {
        TypeKind::Node => None,
        TypeKind::Edge => match (h.from.take(), h.to.take()) {
            (Some(f), Some(t)) => match (endpoint_id(&f), endpoint_id(&t)) {
                (Some(f), Some(t)) => Some((f, t)),
                _ => return Err(shape(format!("edge `{name}`: `from` and `to` must be node keys (strings, numbers or key arrays)"))),
            },
            _ => return Err(shape(format!("edge `{name}` needs both `from` and `to`"))),
        },
    };
    let Some((slot, def)) = index.find(kind, &name) else {
        let what = if kind == TypeKind::Node { "node type" } else { "edge type" };
        return Err(vec![("OG-LOAD-003", format!("unknown {what} `{name}`"))]);
    };
    let (slots, unknown) = match (h.slots.take(), h.map.take()) {
        (Some(s), _) => (s, std::mem::take(&mut h.unknown)),
        (None, Some(mut m)) => {
            let slots: Vec<Option<Value>> = def.properties.iter().map(|p| m.remove(&p.name)).collect();
            (slots, m.keys().cloned().collect())
        }
        (None, None) => (vec![None; def.properties.len()], vec![]),
    };
    let mut errors: LineErrors = unknown.iter().map(|k| ("OG-LOAD-005", format!("`{}` has no property `{k}`", def.name))).collect();
    let mut cells = Vec::with_capacity(slots.len());
    for (p, v) in def.properties.iter().zip(slots) {
        match convert_property(p, v) {
            Ok(c) => cells.push(c),
            Err(e) => {
                errors.push((e.code, e.message));
                cells.push(Cell::Null);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (id, id_from_input) = if def.key.is_empty() {
        match id {
            Some(id) => (id, true),
            None => (ulid::Ulid::new().to_string(), false),
        }
    } else {
        let key_cells: Vec<&Cell> = def.key.iter().map(|k| &cells[def.properties.iter().position(|p| &p.name == k).expect("key property")]).collect();
        let key_id = node_id(&key_cells);
        if let Some(given) = id
            && given != key_id
        {
            return Err(shape(format!("`id` {given:?} disagrees with the @key value {key_id:?}; leave `id` out for keyed types")));
        }
        (key_id, true)
    };
    Ok(Parsed { slot, id, id_from_input, endpoints, cells })
}
