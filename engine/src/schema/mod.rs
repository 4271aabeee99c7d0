//! The `.pg` schema language: [`lexer`] -> [`parser`] (syntax tree in
//! [`ast`]) -> [`compile`] (semantic checks) -> [`ir`] (canonical IR with a
//! content hash).

pub mod ast;
pub mod compile;
pub mod ir;
pub mod lexer;
pub mod parser;

use serde::Serialize;

pub use ir::{Cardinality, PropType, Property, SchemaIr, TypeDef, TypeKind};

/// One schema problem at `line:col`, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaError {
    pub code: &'static str,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl SchemaError {
    pub fn new(code: &'static str, pos: lexer::Pos, message: impl Into<String>) -> Self {
        SchemaError { code, line: pos.line, col: pos.col, message: message.into() }
    }
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {} {}", self.line, self.col, self.code, self.message)
    }
}

/// Parses and compiles `.pg` source. Syntax errors stop at the first one;
/// semantic errors are all reported.
pub fn compile_schema(src: &str) -> Result<SchemaIr, Vec<SchemaError>> {
    let tokens = lexer::lex(src).map_err(|e| vec![e])?;
    let decls = parser::parse(tokens).map_err(|e| vec![e])?;
    compile::compile(&decls)
}
