//! Syntax tree of a `.pg` file, as written (before any semantic check).

use super::lexer::Pos;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
    Ident(String),
    /// `min..max`, either side optional.
    Range(Option<Box<Literal>>, Option<Box<Literal>>),
}

#[derive(Debug, Clone)]
pub struct Annotation {
    pub name: String,
    pub args: Vec<Literal>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub enum TypeExpr {
    Named { name: String, args: Vec<Literal>, pos: Pos },
    List(Box<TypeExpr>, Pos),
    Nullable(Box<TypeExpr>),
}

#[derive(Debug, Clone)]
pub struct PropDecl {
    pub name: String,
    pub ty: TypeExpr,
    pub annotations: Vec<Annotation>,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Node,
    Edge,
    Interface,
}

#[derive(Debug, Clone)]
pub struct Decl {
    pub kind: DeclKind,
    pub name: String,
    pub pos: Pos,
    /// `implements A, B` (nodes only).
    pub implements: Vec<(String, Pos)>,
    /// `From -> To` (edges only).
    pub endpoints: Option<((String, Pos), (String, Pos))>,
    /// Annotations after the header (`@card(..)`, `@description(..)`).
    pub annotations: Vec<Annotation>,
    /// Body-level constraints (`@key(a) @unique(a, b) ...`).
    pub constraints: Vec<Annotation>,
    pub properties: Vec<PropDecl>,
}
