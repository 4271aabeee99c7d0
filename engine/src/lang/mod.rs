//! What the `.pg` schema language and the `.gq` query language share: the
//! [`lexer`], the parsers' token [`cursor`] and [`Diagnostic`], one problem at `line:col` with a stable code.

pub(crate) mod cursor;
pub mod lexer;

use serde::Serialize;

pub use lexer::Pos;

/// One source problem at `line:col`, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl Diagnostic {
    pub fn new(code: &'static str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic { code, line: pos.line, col: pos.col, message: message.into() }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {} {}", self.line, self.col, self.code, self.message)
    }
}
