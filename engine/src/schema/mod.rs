//! The `.pg` schema language: [`lexer`] (shared, in `lang`) -> [`parser`] (syntax tree in
//! [`ast`]) -> [`compile`] (semantic checks) -> [`ir`] (canonical IR with a
//! content hash).

pub mod ast;
pub mod compile;
pub mod ir;
pub mod parser;

pub use crate::lang::Diagnostic as SchemaError;
pub use crate::lang::lexer;
pub use ir::{Cardinality, PropType, Property, SchemaIr, TypeDef, TypeKind};

/// Parses and compiles `.pg` source. Syntax errors stop at the first one;
/// semantic errors are all reported.
pub fn compile_schema(src: &str) -> Result<SchemaIr, Vec<SchemaError>> {
    let tokens = lexer::lex(src, "OG-SCHEMA-001").map_err(|e| vec![e])?;
    let decls = parser::parse(tokens).map_err(|e| vec![e])?;
    compile::compile(&decls)
}
