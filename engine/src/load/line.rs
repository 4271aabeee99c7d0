//! One JSONL line: a node (`{"type", "id"?, "data"}`) or an edge
//! (`{"edge", "id"?, "from", "to", "data"}`), parsed straight into the
//! checked cells of its type's properties.
//!
//! When `type`/`edge` comes before `data` (as `export` writes it), `data` is
//! decoded property by property into the type's cells, without building a
//! JSON map; otherwise it is read as a map first and converted after.
//!
//! Ids and endpoints are not copied out of the line: a [`Text`] says where
//! they are (a byte range of the line, or the key property's cell), and
//! each carries its [`IdKey`], hashed here, on the parallel side of the
//! loader, so the sequential side only looks keys up.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer as _};
use serde_json::Value;

use super::ids::{IdKey, id_key};
use super::value::{Cell, ValueError, convert_property, endpoint_id, node_id};
use crate::schema::{PropType, Property, SchemaIr, TypeDef, TypeKind};

/// Where the text of an id is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// Bytes `start..end` of the line (a JSON string without escapes).
    Span(u32, u32),
    /// The string in this property's cell (a one-property string `@key`).
    Cell(u32),
    /// Its own copy (escaped strings, numbers, composite keys).
    Owned(Box<str>),
}

/// An id from the input, with its key.
#[derive(Debug, Clone)]
pub struct IdRef {
    pub text: Text,
    pub key: IdKey,
}

/// A line that passed the per-value checks.
#[derive(Debug)]
pub struct Parsed {
    /// Index of the type in `SchemaIr::types()`.
    pub slot: usize,
    /// Row id from the input: the `@key` value or `id`. `None`: the type
    /// has no key and the line gave no id, so the loader generates one
    /// (a generated id cannot collide with another row).
    pub id: Option<IdRef>,
    /// Edges: (src, dst) node ids.
    pub endpoints: Option<(IdRef, IdRef)>,
    /// One cell per property, in schema order.
    pub cells: Vec<Cell>,
}

impl Parsed {
    /// The text `t` stands for; `line` is the line this was parsed from.
    pub fn text<'a>(&'a self, line: &'a str, t: &'a Text) -> &'a str {
        match t {
            Text::Span(a, b) => &line[*a as usize..*b as usize],
            Text::Cell(i) => match &self.cells[*i as usize] {
                Cell::Str(s) => s,
                _ => "",
            },
            Text::Owned(s) => s,
        }
    }
}

pub type LineErrors = Vec<(&'static str, String)>;

/// Type lookup by (kind, name) -> slot index. Schemas have few types, so a
/// scan beats hashing the name.
pub struct TypeIndex<'s> {
    types: Vec<(TypeKind, &'s TypeDef)>,
}

impl<'s> TypeIndex<'s> {
    pub fn new(schema: &'s SchemaIr) -> Self {
        TypeIndex { types: schema.types().map(|t| (t.kind, t)).collect() }
    }

    fn find(&self, kind: TypeKind, name: &str) -> Option<(usize, &'s TypeDef)> {
        self.types.iter().enumerate().find(|(_, (k, t))| *k == kind && t.name == name).map(|(i, (_, t))| (i, *t))
    }
}

/// A string field of the record line (`id`, `from`, `to`): borrowed from
/// the line when it has no escapes, else owned; other JSON values are kept
/// for the endpoint rules (numbers and key arrays).
enum Field<'a> {
    Str(Cow<'a, str>),
    Other(Value),
}

impl<'de> serde::Deserialize<'de> for Field<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a string, number or array")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(s)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::Null))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::from(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::from(u)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
        Ok(Field::Other(serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(Field::Other(Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(Field::Other(Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?))
    }
}

/// A JSON string, borrowed from the line when it has no escapes.
/// (`Cow<str>`'s own `Deserialize` always copies.)
struct Str<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Str<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Which properties a line set: a bit mask, spilling to a vector only for
/// types with more than 64 properties.
struct Seen {
    low: u64,
    high: Vec<bool>,
}

impl Seen {
    fn new(n: usize) -> Seen {
        Seen { low: 0, high: if n > 64 { vec![false; n - 64] } else { Vec::new() } }
    }
    fn set(&mut self, i: usize) {
        if i < 64 { self.low |= 1 << i } else { self.high[i - 64] = true }
    }
    fn has(&self, i: usize) -> bool {
        if i < 64 { self.low & (1 << i) != 0 } else { self.high[i - 64] }
    }
}

/// `data` decoded into one cell per property.
struct Data {
    cells: Vec<Cell>,
    seen: Seen,
    /// Per-property errors, by property index.
    errors: Vec<(usize, ValueError)>,
    unknown: Vec<String>,
}

impl Data {
    fn new(def: &TypeDef) -> Data {
        let n = def.properties.len();
        Data { cells: vec![Cell::Null; n], seen: Seen::new(n), errors: Vec::new(), unknown: Vec::new() }
    }

    fn set(&mut self, i: usize, value: Result<Cell, ValueError>) {
        self.seen.set(i);
        match value {
            Ok(c) => self.cells[i] = c,
            Err(e) => {
                self.errors.retain(|(j, _)| *j != i);
                self.errors.push((i, e));
            }
        }
    }

    /// Fills absent properties (null, or an error when required) and
    /// returns the cells, or every error of the line.
    fn finish(mut self, def: &TypeDef) -> Result<Vec<Cell>, LineErrors> {
        for (i, p) in def.properties.iter().enumerate() {
            // A missing `@embed` vector is computed from its source text
            // when there is one (`embed::fill`).
            let computed = p.embed.as_ref().is_some_and(|src| {
                def.properties.iter().position(|q| q.name == *src).is_some_and(|j| self.seen.has(j) && !matches!(self.cells[j], Cell::Null))
            });
            if !self.seen.has(i)
                && !computed
                && let Err(e) = convert_property(p, None)
            {
                self.errors.push((i, e));
            }
        }
        if self.unknown.is_empty() && self.errors.is_empty() {
            return Ok(self.cells);
        }
        let mut out: LineErrors =
            self.unknown.iter().map(|k| (crate::codes::LOAD_UNKNOWN_PROPERTY.code, format!("`{}` has no property `{k}`", def.name))).collect();
        self.errors.sort_by_key(|(i, _)| *i);
        out.extend(self.errors.into_iter().map(|(_, e)| (e.code, e.message)));
        Err(out)
    }
}

#[derive(Default)]
struct Head<'a> {
    ty: Option<Str<'a>>,
    edge: Option<Str<'a>>,
    id: Option<Field<'a>>,
    from: Option<Field<'a>>,
    to: Option<Field<'a>>,
    /// `data` decoded into checked cells (type known first) ...
    data: Option<(usize, Data)>,
    /// ... or as a plain map (type came later).
    map: Option<serde_json::Map<String, Value>>,
    extra_fields: Vec<String>,
    duplicate: Option<&'static str>,
}

struct LineVisitor<'i, 's> {
    index: &'i TypeIndex<'s>,
}

struct DataSeed<'t> {
    def: &'t TypeDef,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Data;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Data;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object of properties")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut data = Data::new(self.def);
        while let Some(k) = map.next_key::<Str<'de>>()?.map(|k| k.0) {
            match self.def.properties.iter().position(|p| p.name == k) {
                Some(i) => {
                    let v = map.next_value_seed(CellSeed { p: &self.def.properties[i] })?;
                    data.set(i, v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                    data.unknown.push(k.into_owned());
                }
            }
        }
        Ok(data)
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
        while let Some(k) = map.next_key::<Str<'de>>()?.map(|k| k.0) {
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
                        (Some(t), None) => self.index.find(TypeKind::Node, &t.0),
                        (None, Some(e)) => self.index.find(TypeKind::Edge, &e.0),
                        _ => None,
                    };
                    if h.data.is_some() || h.map.is_some() {
                        h.duplicate = Some("data");
                    }
                    match known {
                        Some((slot, def)) => h.data = Some((slot, map.next_value_seed(DataSeed { def })?)),
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

/// An id given as a JSON string field, located in `line`.
fn field_ref(line: &str, s: Cow<'_, str>) -> IdRef {
    let key = id_key(&s);
    let text = match s {
        Cow::Borrowed(b) => {
            let start = b.as_ptr() as usize - line.as_ptr() as usize;
            Text::Span(start as u32, (start + b.len()) as u32)
        }
        Cow::Owned(o) => Text::Owned(o.into_boxed_str()),
    };
    IdRef { text, key }
}

fn owned_ref(s: String) -> IdRef {
    IdRef { key: id_key(&s), text: Text::Owned(s.into_boxed_str()) }
}

/// Parses and checks one non-empty line (at most 4 GiB).
pub fn parse(index: &TypeIndex<'_>, line: &str) -> Result<Parsed, LineErrors> {
    let shape = |m: String| vec![(crate::codes::LOAD_BAD_RECORD.code, m)];
    let mut de = serde_json::Deserializer::from_str(line);
    let mut h = de.deserialize_map(LineVisitor { index }).and_then(|h| de.end().map(|_| h)).map_err(|e| shape(format!("not a valid record: {e}")))?;
    if let Some(f) = h.extra_fields.first() {
        return Err(shape(format!("unknown field `{f}` (a record has type or edge, id, from, to, data)")));
    }
    if let Some(f) = h.duplicate {
        return Err(shape(format!("field `{f}` appears twice")));
    }
    let id = match h.id.take() {
        None | Some(Field::Other(Value::Null)) => None,
        Some(Field::Str(s)) if !s.is_empty() => Some(s),
        Some(_) => return Err(shape("`id` must be a non-empty string".into())),
    };
    let (kind, name) = match (h.ty.take(), h.edge.take()) {
        (Some(t), None) => {
            if h.from.is_some() || h.to.is_some() {
                return Err(shape("a node record has no `from`/`to`; use `edge` for edges".into()));
            }
            (TypeKind::Node, t.0)
        }
        (None, Some(e)) => (TypeKind::Edge, e.0),
        (Some(_), Some(_)) => return Err(shape("a record has either `type` (node) or `edge`, not both".into())),
        (None, None) => return Err(shape("a record needs `type` (node) or `edge`".into())),
    };
    let endpoints = match kind {
        TypeKind::Node => None,
        TypeKind::Edge => {
            let (Some(f), Some(t)) = (h.from.take(), h.to.take()) else {
                return Err(shape(format!("edge `{name}` needs both `from` and `to`")));
            };
            let endpoint = |f: Field| match f {
                Field::Str(s) => Some(field_ref(line, s)),
                Field::Other(v) => endpoint_id(v).map(owned_ref),
            };
            match (endpoint(f), endpoint(t)) {
                (Some(f), Some(t)) => Some((f, t)),
                _ => return Err(shape(format!("edge `{name}`: `from` and `to` must be node keys (strings, numbers or key arrays)"))),
            }
        }
    };
    let found = match h.data.as_ref() {
        Some((slot, _)) => Some((*slot, index.types[*slot].1)),
        None => index.find(kind, &name),
    };
    let Some((slot, def)) = found else {
        let what = if kind == TypeKind::Node { "node type" } else { "edge type" };
        return Err(vec![(crate::codes::LOAD_UNKNOWN_TYPE.code, format!("unknown {what} `{name}`"))]);
    };
    let data = match (h.data.take(), h.map.take()) {
        (Some((_, d)), _) => d,
        (None, Some(mut m)) => {
            let mut d = Data::new(def);
            for (i, p) in def.properties.iter().enumerate() {
                if let Some(v) = m.remove(&p.name) {
                    d.set(i, convert_property(p, Some(v)));
                }
            }
            d.unknown = m.keys().cloned().collect();
            d
        }
        (None, None) => Data::new(def),
    };
    let cells = data.finish(def)?;
    let id = if def.key.is_empty() {
        id.map(|s| field_ref(line, s))
    } else {
        let key_idx: Vec<usize> = def.key.iter().map(|k| def.properties.iter().position(|p| &p.name == k).expect("key property")).collect();
        let key_ref = match (&key_idx[..], &def.properties[key_idx[0]].ty) {
            ([i], PropType::String | PropType::Enum(_)) if matches!(cells[*i], Cell::Str(_)) => {
                let Cell::Str(s) = &cells[*i] else { unreachable!() };
                IdRef { key: id_key(s), text: Text::Cell(*i as u32) }
            }
            _ => owned_ref(node_id(&key_idx.iter().map(|i| &cells[*i]).collect::<Vec<_>>())),
        };
        if let Some(given) = id {
            let p = Parsed { slot, id: None, endpoints: None, cells };
            let key_text = p.text(line, &key_ref.text);
            if *given != *key_text {
                return Err(shape(format!("`id` {given:?} disagrees with the @key value {key_text:?}; leave `id` out for keyed types")));
            }
            return Ok(Parsed { id: Some(key_ref), endpoints, ..p });
        }
        Some(key_ref)
    };
    Ok(Parsed { slot, id, endpoints, cells })
}
