//! The compiled schema (IR): what storage, the loader and queries use.
//!
//! The IR is canonical: types are sorted by name, constraint lists are
//! sorted and deduplicated, and property-level annotations are folded into
//! the same constraint lists as body-level ones. Its content hash is the
//! SHA-256 of its JSON form, so the same meaning gives the same hash whatever
//! the whitespace, comments, declaration order of types or the spelling
//! (`name: String @key` versus `@key(name)`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const IR_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "of", rename_all = "snake_case")]
pub enum PropType {
    String,
    Bool,
    I32,
    I64,
    U32,
    U64,
    F32,
    F64,
    Date,
    DateTime,
    Blob,
    Vector(u32),
    List(Box<PropType>),
    Enum(Vec<String>),
}

impl PropType {
    pub fn is_numeric(&self) -> bool {
        matches!(self, PropType::I32 | PropType::I64 | PropType::U32 | PropType::U64 | PropType::F32 | PropType::F64)
    }

    /// Types whose values can serve as (part of) a key.
    pub fn is_keyable(&self) -> bool {
        matches!(
            self,
            PropType::String
                | PropType::I32
                | PropType::I64
                | PropType::U32
                | PropType::U64
                | PropType::Date
                | PropType::DateTime
                | PropType::Enum(_)
                | PropType::Bool
        )
    }
}

impl std::fmt::Display for PropType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PropType::String => write!(f, "String"),
            PropType::Bool => write!(f, "Bool"),
            PropType::I32 => write!(f, "I32"),
            PropType::I64 => write!(f, "I64"),
            PropType::U32 => write!(f, "U32"),
            PropType::U64 => write!(f, "U64"),
            PropType::F32 => write!(f, "F32"),
            PropType::F64 => write!(f, "F64"),
            PropType::Date => write!(f, "Date"),
            PropType::DateTime => write!(f, "DateTime"),
            PropType::Blob => write!(f, "Blob"),
            PropType::Vector(n) => write!(f, "Vector({n})"),
            PropType::List(t) => write!(f, "[{t}]"),
            PropType::Enum(vs) => write!(f, "enum({})", vs.join(", ")),
        }
    }
}

/// An annotation the compiler does not interpret, kept as metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub name: String,
    pub args: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Property {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: PropType,
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename_from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<Metadata>,
}

/// Numeric bounds; `None` is open. Both ends are inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeConstraint {
    pub property: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckConstraint {
    pub property: String,
    pub pattern: String,
}

/// Edges per source node: `min..max`, `max` open when `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cardinality {
    pub min: u64,
    pub max: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeKind {
    Node,
    Edge,
}

/// A node or edge type: one Lance dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeDef {
    pub kind: TypeKind,
    pub name: String,
    /// Directory name under `nodes/` or `edges/`, fixed at creation.
    pub stable_name: String,
    /// Edge endpoints (node type names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Cardinality>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implements: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub properties: Vec<Property>,
    /// Key properties: the node id is built from them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<RangeConstraint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckConstraint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<Metadata>,
}

impl TypeDef {
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The key used in `__manifest` (`node:Person`, `edge:Knows`).
    pub fn table_key(&self) -> String {
        match self.kind {
            TypeKind::Node => format!("node:{}", self.name),
            TypeKind::Edge => format!("edge:{}", self.name),
        }
    }

    /// Location of the dataset relative to the graph root.
    pub fn location(&self) -> String {
        match self.kind {
            TypeKind::Node => format!("nodes/{}", self.stable_name),
            TypeKind::Edge => format!("edges/{}", self.stable_name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterfaceDef {
    pub name: String,
    pub properties: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<Metadata>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaIr {
    pub format_version: u32,
    pub interfaces: Vec<InterfaceDef>,
    pub nodes: Vec<TypeDef>,
    pub edges: Vec<TypeDef>,
}

impl SchemaIr {
    /// SHA-256 of the canonical JSON form, hex encoded.
    pub fn content_hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("IR serializes");
        let digest = Sha256::digest(&bytes);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The content hash without storage details (each type's
    /// `stable_name`): two branches that applied one schema have the same,
    /// even when each made its own dataset for a type they both added.
    pub fn logical_hash(&self) -> String {
        let mut plain = self.clone();
        for t in plain.nodes.iter_mut().chain(plain.edges.iter_mut()) {
            t.stable_name = t.name.clone();
        }
        plain.content_hash()
    }

    pub fn node(&self, name: &str) -> Option<&TypeDef> {
        self.nodes.iter().find(|t| t.name == name)
    }

    pub fn edge(&self, name: &str) -> Option<&TypeDef> {
        self.edges.iter().find(|t| t.name == name)
    }

    /// Every node type, then every edge type.
    pub fn types(&self) -> impl Iterator<Item = &TypeDef> {
        self.nodes.iter().chain(self.edges.iter())
    }

    pub fn type_by_table_key(&self, key: &str) -> Option<&TypeDef> {
        self.types().find(|t| t.table_key() == key)
    }
}
