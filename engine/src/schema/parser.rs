//! Recursive-descent parser: tokens to [`ast::Decl`]s. Syntax errors are
//! `OG-SCHEMA-001` with the position of the offending token.

use super::SchemaError;
use super::ast::*;
use super::lexer::{Tok, Token};
use crate::lang::cursor::Cursor;

pub fn parse(tokens: Vec<Token>) -> Result<Vec<Decl>, SchemaError> {
    let mut p = Parser { tokens, i: 0 };
    let mut decls = Vec::new();
    while p.peek() != &Tok::Eof {
        decls.push(p.decl()?);
    }
    Ok(decls)
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
}

impl Cursor for Parser {
    const SYNTAX: &'static str = crate::codes::SCHEMA_SYNTAX.code;

    fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    fn index(&self) -> usize {
        self.i
    }

    fn set_index(&mut self, i: usize) {
        self.i = i;
    }
}

impl Parser {
    fn decl(&mut self) -> Result<Decl, SchemaError> {
        let (kw, pos) = self.ident("`node`, `edge` or `interface`")?;
        let kind = match kw.as_str() {
            "node" => DeclKind::Node,
            "edge" => DeclKind::Edge,
            "interface" => DeclKind::Interface,
            _ => {
                return Err(SchemaError::new(crate::codes::SCHEMA_SYNTAX.code, pos, format!("expected `node`, `edge` or `interface`, found `{kw}`")));
            }
        };
        let (name, name_pos) = self.ident("a type name")?;
        let mut decl = Decl { kind, name, pos: name_pos, implements: vec![], endpoints: None, annotations: vec![], constraints: vec![], properties: vec![] };
        if kind == DeclKind::Edge {
            self.expect(Tok::Colon, "`:` and the edge's endpoints (`Edge: From -> To`)")?;
            let from = self.ident("the source node type")?;
            self.expect(Tok::Arrow, "`->`")?;
            let to = self.ident("the target node type")?;
            decl.endpoints = Some((from, to));
        }
        if matches!(self.peek(), Tok::Ident(s) if s == "implements") {
            if kind != DeclKind::Node {
                return Err(SchemaError::new(crate::codes::SCHEMA_SYNTAX.code, self.pos(), "only node types can use `implements`"));
            }
            self.bump();
            loop {
                decl.implements.push(self.ident("an interface name")?);
                if *self.peek() == Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        while *self.peek() == Tok::At {
            decl.annotations.push(self.annotation()?);
        }
        if *self.peek() == Tok::LBrace {
            self.bump();
            loop {
                match self.peek().clone() {
                    Tok::RBrace => {
                        self.bump();
                        break;
                    }
                    Tok::At => decl.constraints.push(self.annotation()?),
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::Ident(_) => decl.properties.push(self.property()?),
                    _ => return Err(self.err("a property, a `@constraint(..)` or `}`")),
                }
            }
        } else if kind != DeclKind::Edge {
            return Err(self.err("`{`"));
        }
        Ok(decl)
    }

    fn property(&mut self) -> Result<PropDecl, SchemaError> {
        let (name, pos) = self.ident("a property name")?;
        self.expect(Tok::Colon, "`:` and a type")?;
        let ty = self.type_expr()?;
        let mut annotations = vec![];
        while *self.peek() == Tok::At && !self.at_body_constraint() {
            annotations.push(self.annotation()?);
        }
        Ok(PropDecl { name, ty, annotations, pos })
    }

    fn type_expr(&mut self) -> Result<TypeExpr, SchemaError> {
        let base = if *self.peek() == Tok::LBracket {
            let pos = self.bump().pos;
            let inner = self.type_expr()?;
            self.expect(Tok::RBracket, "`]`")?;
            TypeExpr::List(Box::new(inner), pos)
        } else {
            let (name, pos) = self.ident("a type")?;
            let mut args = vec![];
            if *self.peek() == Tok::LParen {
                args = self.args()?;
            }
            TypeExpr::Named { name, args, pos }
        };
        if *self.peek() == Tok::Question {
            self.bump();
            return Ok(TypeExpr::Nullable(Box::new(base)));
        }
        Ok(base)
    }

    /// Is the annotation ahead a body-level constraint rather than one on
    /// the property before it? `@card(..)` always is; `@range(..)` and
    /// `@check(..)` are when their first argument names a property
    /// (`@range(age, 0..150)`, `@check(email, "re")`), and belong to the
    /// property before them in the short forms `@range(0..150)` and
    /// `@check("re")`; `@key(..)`, `@unique(..)`, `@index(..)` are when they
    /// take arguments (without them they mark the property they follow).
    fn at_body_constraint(&self) -> bool {
        let tok = |k: usize| self.tokens.get(self.i + k).map(|t| &t.tok);
        let name = match tok(1) {
            Some(Tok::Ident(n)) => n.as_str(),
            _ => return false,
        };
        let has_args = matches!(tok(2), Some(Tok::LParen));
        match name {
            "card" => true,
            // `@range(age, ..)`: a property name first. `@range(0..150)`,
            // `@range(..10)`, `@range(-5..)`: bounds only.
            "range" => !has_args || matches!(tok(3), Some(Tok::Ident(_))) || matches!(tok(4), Some(Tok::Comma)),
            // `@check(email, "re")` or `@check("email", "re")` against `@check("re")`.
            "check" => !(has_args && matches!(tok(3), Some(Tok::Str(_))) && matches!(tok(4), Some(Tok::RParen))),
            "key" | "unique" | "index" => has_args,
            _ => false,
        }
    }

    fn annotation(&mut self) -> Result<Annotation, SchemaError> {
        let pos = self.expect(Tok::At, "`@`")?;
        let (name, _) = self.ident("an annotation name after `@`")?;
        let args = if *self.peek() == Tok::LParen { self.args()? } else { vec![] };
        Ok(Annotation { name, args, pos })
    }

    fn args(&mut self) -> Result<Vec<Literal>, SchemaError> {
        self.expect(Tok::LParen, "`(`")?;
        let mut args = vec![];
        if *self.peek() == Tok::RParen {
            self.bump();
            return Ok(args);
        }
        loop {
            args.push(self.arg()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(args);
                }
                _ => return Err(self.err("`,` or `)`")),
            }
        }
    }

    fn arg(&mut self) -> Result<Literal, SchemaError> {
        let lower = if *self.peek() == Tok::DotDot { None } else { Some(self.literal()?) };
        if *self.peek() == Tok::DotDot {
            self.bump();
            let upper = if matches!(self.peek(), Tok::Comma | Tok::RParen) { None } else { Some(self.literal()?) };
            return Ok(Literal::Range(lower.map(Box::new), upper.map(Box::new)));
        }
        lower.ok_or_else(|| self.err("a value"))
    }

    fn literal(&mut self) -> Result<Literal, SchemaError> {
        let lit = match self.peek().clone() {
            Tok::Int(i) => Literal::Int(i),
            Tok::Float(f) => Literal::Float(f),
            Tok::Str(s) => Literal::Str(s),
            Tok::Ident(s) if s == "true" => Literal::Bool(true),
            Tok::Ident(s) if s == "false" => Literal::Bool(false),
            Tok::Ident(s) => Literal::Ident(s),
            _ => return Err(self.err("a value")),
        };
        self.bump();
        Ok(lit)
    }
}
