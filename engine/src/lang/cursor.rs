//! Moving through tokens, for both languages' recursive-descent parsers:
//! look ahead, consume, and report "expected X, found Y" with the
//! language's syntax code at the current token.

use super::Diagnostic;
use super::lexer::{Pos, Tok, Token};

pub trait Cursor {
    /// The language's syntax error code.
    const SYNTAX: &'static str;

    fn tokens(&self) -> &[Token];
    fn index(&self) -> usize;
    fn set_index(&mut self, i: usize);

    fn peek(&self) -> &Tok {
        &self.tokens()[self.index()].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let t = self.tokens();
        &t[(self.index() + n).min(t.len() - 1)].tok
    }

    fn pos(&self) -> Pos {
        self.tokens()[self.index()].pos
    }

    /// Consumes the current token (the final `Eof` is never passed).
    fn bump(&mut self) -> Token {
        let t = self.tokens()[self.index()].clone();
        if self.index() + 1 < self.tokens().len() {
            self.set_index(self.index() + 1);
        }
        t
    }

    fn err(&self, expected: &str) -> Diagnostic {
        Diagnostic::new(Self::SYNTAX, self.pos(), format!("expected {expected}, found {}", self.peek().describe()))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Pos, Diagnostic> {
        if *self.peek() == tok { Ok(self.bump().pos) } else { Err(self.err(what)) }
    }

    fn ident(&mut self, what: &str) -> Result<(String, Pos), Diagnostic> {
        match self.peek().clone() {
            Tok::Ident(s) => Ok((s, self.bump().pos)),
            _ => Err(self.err(what)),
        }
    }
}
