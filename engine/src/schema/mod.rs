//! The `.pg` schema language: [`lexer`] (shared, in `lang`) -> [`parser`] (syntax tree in
//! [`ast`]) -> [`compile`] (semantic checks) -> [`ir`] (canonical IR with a
//! content hash).

pub(crate) mod ast;
pub mod compile;
pub mod evolve;
pub mod ir;
pub(crate) mod parser;
pub(crate) mod pattern;

pub use crate::lang::Diagnostic as SchemaError;
pub use crate::lang::lexer;
pub use ir::{Cardinality, PropType, Property, SchemaIr, TypeDef, TypeKind};

/// The largest schema source accepted, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 1 << 20;

/// Parses and compiles `.pg` source. Syntax errors stop at the first one;
/// semantic errors are all reported.
pub fn compile_schema(src: &str) -> Result<SchemaIr, Vec<SchemaError>> {
    if src.len() > MAX_SCHEMA_BYTES {
        let msg = format!("the schema is {} bytes; the limit is {MAX_SCHEMA_BYTES}", src.len());
        return Err(vec![SchemaError::new(crate::codes::SCHEMA_TOO_LARGE.code, lexer::Pos { line: 1, col: 1 }, msg)]);
    }
    let tokens = lexer::lex(src, crate::codes::SCHEMA_SYNTAX.code, crate::codes::SCHEMA_NESTED_TOO_DEEP.code).map_err(|e| vec![e])?;
    let decls = parser::parse(tokens).map_err(|e| vec![e])?;
    compile::compile(&decls)
}
