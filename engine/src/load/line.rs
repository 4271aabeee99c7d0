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

use serde::{Deserialize, Deserializer as _};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::value::{Cell, ValueError, convert_property, endpoint_id, node_id};
use crate::schema::{PropType, Property, SchemaIr, TypeDef, TypeKind};

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
    /// `data` decoded into checked cells (type known first) ...
    slots: Option<Vec<Slot>>,
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

type Slot = Option<Result<Cell, ValueError>>;

impl<'de> DeserializeSeed<'de> for SlotsSeed<'_> {
    type Value = (Vec<Slot>, Vec<String>);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SlotsSeed<'_> {
    type Value = (Vec<Slot>, Vec<String>);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object of properties")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots: Vec<Slot> = (0..self.def.properties.len()).map(|_| None).collect();
        let mut unknown = Vec::new();
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            match self.def.properties.iter().position(|p| p.name == k) {
                Some(i) => slots[i] = Some(map.next_value_seed(CellSeed { p: &self.def.properties[i] })?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                    unknown.push(k.into_owned());
                }
            }
        }
        Ok((slots, unknown))
    }
}

/// Decodes one property value straight into its cell: the common scalar
/// cases without building a `serde_json::Value`, the rest through
/// [`convert_property`]. A value of the wrong type is a [`ValueError`], not a
/// JSON syntax error.
struct CellSeed<'p> {
    p: &'p Property,
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = Result<Cell, ValueError>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl CellSeed<'_> {
    fn general(&self, v: Value) -> Result<Cell, ValueError> {
        convert_property(self.p, Some(v))
    }

    fn string(&self, s: Cow<'_, str>) -> Result<Cell, ValueError> {
        match &self.p.ty {
            PropType::String => Ok(Cell::Str(s.into_owned())),
            PropType::Enum(values) if values.iter().any(|x| *x == s) => Ok(Cell::Str(s.into_owned())),
            _ => self.general(Value::String(s.into_owned())),
        }
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = Result<Cell, ValueError>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a value for property `{}`", self.p.name)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(convert_property(self.p, None))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(convert_property(self.p, None))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(match self.p.ty {
            PropType::Bool => Ok(Cell::Bool(b)),
            _ => self.general(Value::Bool(b)),
        })
    }
    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(match self.p.ty {
            PropType::I64 => Ok(Cell::I64(i)),
            PropType::I32 if i32::try_from(i).is_ok() => Ok(Cell::I64(i)),
            PropType::F64 | PropType::F32 => Ok(Cell::F64(i as f64)),
            _ => self.general(Value::from(i)),
        })
    }
    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(match self.p.ty {
            PropType::U64 => Ok(Cell::U64(u)),
            PropType::U32 if u32::try_from(u).is_ok() => Ok(Cell::U64(u)),
            PropType::I64 if i64::try_from(u).is_ok() => Ok(Cell::I64(u as i64)),
            PropType::I32 if i32::try_from(u).is_ok() => Ok(Cell::I64(u as i64)),
            PropType::F64 | PropType::F32 => Ok(Cell::F64(u as f64)),
            _ => self.general(Value::from(u)),
        })
    }
    fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
        Ok(match self.p.ty {
            PropType::F64 | PropType::F32 => Ok(Cell::F64(f)),
            _ => self.general(serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        })
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(self.string(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(self.string(Cow::Borrowed(s)))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(self.string(Cow::Owned(s)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(self.general(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(self.general(v))
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
            (Some(f), Some(t)) => match (endpoint_id(f), endpoint_id(t)) {
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
    let (slots, unknown): (Vec<Slot>, Vec<String>) = match (h.slots.take(), h.map.take()) {
        (Some(s), _) => (s, std::mem::take(&mut h.unknown)),
        (None, Some(mut m)) => {
            let slots = def.properties.iter().map(|p| m.remove(&p.name).map(|v| convert_property(p, Some(v)))).collect();
            (slots, m.keys().cloned().collect())
        }
        (None, None) => ((0..def.properties.len()).map(|_| None).collect(), vec![]),
    };
    let mut errors: LineErrors = unknown.iter().map(|k| ("OG-LOAD-005", format!("`{}` has no property `{k}`", def.name))).collect();
    let mut cells = Vec::with_capacity(slots.len());
    for (p, slot) in def.properties.iter().zip(slots) {
        match slot.unwrap_or_else(|| convert_property(p, None)) {
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
