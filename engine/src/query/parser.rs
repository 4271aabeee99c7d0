//! `.gq` tokens to the syntax tree. Stops at the first syntax error
//! (`OG-QUERY-001`), naming what was expected and what was found.

use super::ast::*;
use crate::lang::Diagnostic;
use crate::lang::cursor::Cursor;
use crate::lang::lexer::{Pos, Tok, Token};

pub const SYNTAX: &str = crate::codes::QUERY_SYNTAX.code;
/// Brackets nested deeper than `lexer::MAX_NESTING`.
pub const TOO_DEEP: &str = crate::codes::QUERY_NESTED_TOO_DEEP.code;

pub fn parse(src: &str) -> Result<Vec<QueryDecl>, Diagnostic> {
    let tokens = crate::lang::lexer::lex(src, SYNTAX, TOO_DEEP)?;
    let mut p = Parser { tokens, i: 0 };
    let mut out = Vec::new();
    while *p.peek() != Tok::Eof {
        out.push(p.query()?);
    }
    if out.is_empty() {
        return Err(Diagnostic::new(SYNTAX, p.pos(), "no `query` declaration found"));
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
}

impl Cursor for Parser {
    const SYNTAX: &'static str = SYNTAX;

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
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }

    fn word(&mut self, w: &str) -> Result<Pos, Diagnostic> {
        if self.is_word(w) { Ok(self.bump().pos) } else { Err(self.err(&format!("`{w}`"))) }
    }

    fn ident(&mut self, what: &str) -> Result<(String, Pos), Diagnostic> {
        match self.peek().clone() {
            Tok::Ident(s) => Ok((s, self.bump().pos)),
            _ => Err(self.err(what)),
        }
    }

    fn skip_commas(&mut self) {
        while *self.peek() == Tok::Comma {
            self.bump();
        }
    }

    fn annotation(&mut self, desc: &mut Option<String>, instr: &mut Option<String>) -> Result<(), Diagnostic> {
        self.expect(Tok::At, "`@`")?;
        let (name, pos) = self.ident("an annotation name")?;
        self.expect(Tok::LParen, "`(`")?;
        let text = match self.bump().tok {
            Tok::Str(s) => s,
            _ => return Err(Diagnostic::new(SYNTAX, pos, format!("@{name} takes one string"))),
        };
        self.expect(Tok::RParen, "`)`")?;
        match name.as_str() {
            "description" => *desc = Some(text),
            "instruction" => *instr = Some(text),
            other => {
                return Err(Diagnostic::new(SYNTAX, pos, format!("unknown query annotation @{other} (expected @description or @instruction)")));
            }
        }
        Ok(())
    }

    fn query(&mut self) -> Result<QueryDecl, Diagnostic> {
        let start = self.pos();
        let (mut description, mut instruction) = (None, None);
        while *self.peek() == Tok::At {
            self.annotation(&mut description, &mut instruction)?;
        }
        let pos = self.word("query")?;
        let (name, _) = self.ident("a query name")?;
        self.expect(Tok::LParen, "`(`")?;
        let mut params = Vec::new();
        while *self.peek() != Tok::RParen {
            let ppos = self.pos();
            let Tok::Var(pname) = self.peek().clone() else { return Err(self.err("a parameter like `$name: String`")) };
            self.bump();
            self.expect(Tok::Colon, "`:` and a type")?;
            let ty = self.type_ref()?;
            let nullable = if *self.peek() == Tok::Question {
                self.bump();
                true
            } else {
                false
            };
            params.push(ParamDecl { name: pname, pos: ppos, ty, nullable });
            if *self.peek() == Tok::Comma {
                self.bump();
            } else if *self.peek() != Tok::RParen {
                return Err(self.err("`,` or `)`"));
            }
        }
        self.bump();
        while *self.peek() == Tok::At {
            self.annotation(&mut description, &mut instruction)?;
        }
        self.expect(Tok::LBrace, "`{`")?;
        let body = if self.is_word("match") { Body::Read(self.read_body()?) } else { Body::Mutations(self.mutations()?) };
        let close = self.expect(Tok::RBrace, "`}` closing the query")?;
        let end = Pos { line: close.line, col: close.col + 1 };
        Ok(QueryDecl { name, pos, start, end, params, description, instruction, body })
    }

    fn type_ref(&mut self) -> Result<TypeRef, Diagnostic> {
        if *self.peek() == Tok::LBracket {
            self.bump();
            let inner = self.type_ref()?;
            self.expect(Tok::RBracket, "`]`")?;
            return Ok(TypeRef::List(Box::new(inner)));
        }
        let (name, pos) = self.ident("a type")?;
        if name == "Vector" {
            self.expect(Tok::LParen, "`(` and a dimension")?;
            let n = match self.bump().tok {
                Tok::Int(n) if n > 0 && n <= u32::MAX as i128 => n as u32,
                _ => return Err(Diagnostic::new(SYNTAX, pos, "Vector takes a positive dimension")),
            };
            self.expect(Tok::RParen, "`)`")?;
            return Ok(TypeRef::Vector(n));
        }
        Ok(TypeRef::Named(name, pos))
    }

    fn read_body(&mut self) -> Result<ReadBody, Diagnostic> {
        self.word("match")?;
        self.expect(Tok::LBrace, "`{` after match")?;
        let clauses = self.clauses()?;
        self.expect(Tok::RBrace, "`}` closing match")?;
        self.word("return")?;
        self.expect(Tok::LBrace, "`{` after return")?;
        let mut items = Vec::new();
        while *self.peek() != Tok::RBrace {
            let expr = self.expr()?;
            let alias = if self.is_word("as") {
                self.bump();
                Some(self.ident("an alias name")?.0)
            } else {
                None
            };
            items.push(ReturnItem { text: render(&expr), expr, alias });
            self.skip_commas();
        }
        self.bump();
        if items.is_empty() {
            return Err(self.err("at least one return item"));
        }
        let mut order = Vec::new();
        if self.is_word("order") {
            self.bump();
            self.expect(Tok::LBrace, "`{` after order")?;
            while *self.peek() != Tok::RBrace {
                let expr = self.expr()?;
                let descending = if self.is_word("desc") {
                    self.bump();
                    true
                } else {
                    if self.is_word("asc") {
                        self.bump();
                    }
                    false
                };
                order.push(OrderKey { text: render(&expr), expr, descending });
                self.skip_commas();
            }
            self.bump();
        }
        // `limit` and `offset`, each at most once, in either order.
        let (mut limit, mut offset) = (None, None);
        while self.is_word("limit") || self.is_word("offset") {
            let Tok::Ident(word) = self.peek().clone() else { unreachable!() };
            let pos = self.bump().pos;
            let slot = if word == "limit" { &mut limit } else { &mut offset };
            if slot.is_some() {
                return Err(Diagnostic::new(SYNTAX, pos, format!("`{word}` is given twice")));
            }
            let t = self.bump();
            *slot = match t.tok {
                Tok::Int(n) if n >= 0 && n <= u64::MAX as i128 => Some((RowCount::Lit(n as u64), pos)),
                Tok::Var(name) => Some((RowCount::Param(name), t.pos)),
                _ => return Err(Diagnostic::new(SYNTAX, pos, format!("{word} takes a non-negative integer or an integer `$parameter`"))),
            };
        }
        Ok(ReadBody { clauses, items, order, limit, offset })
    }

    fn clauses(&mut self) -> Result<Vec<Clause>, Diagnostic> {
        let mut out = Vec::new();
        while *self.peek() != Tok::RBrace {
            out.push(self.clause()?);
            self.skip_commas();
        }
        Ok(out)
    }

    fn clause(&mut self) -> Result<Clause, Diagnostic> {
        for word in ["not", "optional"] {
            if self.is_word(word) && *self.peek_at(1) == Tok::LBrace {
                let pos = self.bump().pos;
                self.bump();
                let clauses = self.clauses()?;
                self.expect(Tok::RBrace, &format!("`}}` closing {word}"))?;
                if clauses.is_empty() {
                    return Err(Diagnostic::new(SYNTAX, pos, format!("`{word} {{ }}` needs at least one clause")));
                }
                return Ok(if word == "not" { Clause::Not { clauses } } else { Clause::Optional { clauses } });
            }
        }
        if let Tok::Var(var) = self.peek().clone() {
            let pos = self.pos();
            if *self.peek_at(1) == Tok::Colon {
                self.bump();
                self.bump();
                let (type_name, type_pos) = self.ident("a node type name")?;
                let props = if *self.peek() == Tok::LBrace { self.assignments()? } else { Vec::new() };
                return Ok(Clause::Bind { var, pos, type_name, type_pos, props });
            }
            if *self.peek_at(1) == Tok::Eq
                && matches!(self.peek_at(2), Tok::Ident(w) if w == "shortest" || w == "all_shortest")
                && *self.peek_at(3) == Tok::LParen
            {
                let all = matches!(self.peek_at(2), Tok::Ident(w) if w == "all_shortest");
                self.bump();
                self.bump();
                self.bump();
                self.bump();
                let traverse = match self.traversal()? {
                    Some(t) => t,
                    None => return Err(self.err("a traversal like `$a knows{1,5} $b` inside shortest( )")),
                };
                self.expect(Tok::RParen, "`)` closing shortest")?;
                return Ok(Clause::Path { var, pos, traverse, all });
            }
            if let Some(t) = self.traversal()? {
                return Ok(Clause::Traverse(t));
            }
        }
        Ok(Clause::Filter(self.expr()?))
    }

    /// `$a knows $b`, `$a <knows> $b`, `$a $k:knows $b`, with optional hop
    /// bounds after the edge; `None` (nothing consumed) when the tokens
    /// ahead are not a traversal.
    fn traversal(&mut self) -> Result<Option<Traverse>, Diagnostic> {
        let Tok::Var(from) = self.peek().clone() else { return Ok(None) };
        let edge_at = |p: &Self, k: usize| -> Option<(bool, usize)> {
            match p.peek_at(k) {
                Tok::Ident(e) if !matches!(e.as_str(), "contains" | "and" | "or" | "in") => Some((false, k)),
                Tok::Lt if matches!(p.peek_at(k + 1), Tok::Ident(_)) && *p.peek_at(k + 2) == Tok::Gt => Some((true, k + 1)),
                _ => None,
            }
        };
        let named = matches!(self.peek_at(1), Tok::Var(_)) && *self.peek_at(2) == Tok::Colon;
        let Some((undirected, edge_k)) = (if named { edge_at(self, 3) } else { edge_at(self, 1) }) else { return Ok(None) };
        let from_pos = self.bump().pos;
        let edge_var = if named {
            let t = self.bump();
            let Tok::Var(k) = t.tok else { unreachable!() };
            self.bump();
            Some((k, t.pos))
        } else {
            None
        };
        if undirected {
            self.bump();
        }
        let _ = edge_k;
        let (edge, edge_pos) = self.ident("an edge name")?;
        if undirected {
            self.expect(Tok::Gt, "`>` closing the undirected edge")?;
        }
        let hops = if *self.peek() == Tok::LBrace { Some(self.hops()?) } else { None };
        let to_pos = self.pos();
        let Tok::Var(to) = self.peek().clone() else { return Err(self.err("a variable after the edge name")) };
        self.bump();
        Ok(Some(Traverse { from, from_pos, edge, edge_pos, edge_var, undirected, hops, to, to_pos }))
    }

    fn hops(&mut self) -> Result<(u32, Option<u32>), Diagnostic> {
        let pos = self.expect(Tok::LBrace, "`{`")?;
        let bad = || Diagnostic::new(SYNTAX, pos, "hop bounds are written `{min,max}` or `{min,}` with 0 <= min <= max");
        let min = match self.bump().tok {
            Tok::Int(n) if (0..=u32::MAX as i128).contains(&n) => n as u32,
            _ => return Err(bad()),
        };
        let max = if *self.peek() == Tok::Comma {
            self.bump();
            match self.peek().clone() {
                Tok::Int(n) if (0..=u32::MAX as i128).contains(&n) => {
                    self.bump();
                    Some(n as u32)
                }
                Tok::RBrace => None,
                _ => return Err(bad()),
            }
        } else {
            Some(min)
        };
        self.expect(Tok::RBrace, "`}` closing the hop bounds")?;
        if max.is_some_and(|m| m < min) {
            return Err(bad());
        }
        Ok((min, max))
    }

    fn assignments(&mut self) -> Result<Vec<(String, Pos, Expr)>, Diagnostic> {
        self.expect(Tok::LBrace, "`{`")?;
        let mut out = Vec::new();
        while *self.peek() != Tok::RBrace {
            let (name, pos) = self.ident("a property name")?;
            self.expect(Tok::Colon, "`:` and a value")?;
            out.push((name, pos, self.expr()?));
            self.skip_commas();
        }
        self.bump();
        Ok(out)
    }

    fn mutations(&mut self) -> Result<Vec<Mutation>, Diagnostic> {
        let mut out = Vec::new();
        while *self.peek() != Tok::RBrace {
            let (word, pos) = self.ident("`match`, `insert`, `upsert`, `update` or `delete`")?;
            let m = match word.as_str() {
                "insert" => {
                    let (type_name, _) = self.ident("a type name")?;
                    Mutation::Insert { type_name, pos, props: self.assignments()? }
                }
                "upsert" => {
                    let (type_name, _) = self.ident("a type name")?;
                    Mutation::Upsert { type_name, pos, props: self.assignments()? }
                }
                "update" => {
                    let (type_name, _) = self.ident("a type name")?;
                    self.word("set")?;
                    let set = self.assignments()?;
                    self.word("where")?;
                    Mutation::Update { type_name, pos, set, filter: self.expr()? }
                }
                "delete" => {
                    let (type_name, _) = self.ident("a type name")?;
                    self.word("where")?;
                    Mutation::Delete { type_name, pos, filter: self.expr()? }
                }
                other => {
                    return Err(Diagnostic::new(SYNTAX, pos, format!("expected `match`, `insert`, `upsert`, `update` or `delete`, found `{other}`")));
                }
            };
            out.push(m);
            self.skip_commas();
        }
        if out.is_empty() {
            return Err(self.err("`match`, `insert`, `upsert`, `update` or `delete`"));
        }
        Ok(out)
    }

    /// `a or b or c` is one flat `Or` (and likewise `and`), so a long chain
    /// is wide, not deep: nothing walks or drops it recursively.
    fn expr(&mut self) -> Result<Expr, Diagnostic> {
        let mut parts = vec![self.and_expr()?];
        while self.is_word("or") {
            self.bump();
            parts.push(self.and_expr()?);
        }
        Ok(if parts.len() == 1 { parts.pop().unwrap() } else { Expr::Or(parts) })
    }

    fn and_expr(&mut self) -> Result<Expr, Diagnostic> {
        let mut parts = vec![self.cmp()?];
        while self.is_word("and") {
            self.bump();
            parts.push(self.cmp()?);
        }
        Ok(if parts.len() == 1 { parts.pop().unwrap() } else { Expr::And(parts) })
    }

    fn cmp(&mut self) -> Result<Expr, Diagnostic> {
        let left = self.additive()?;
        let op = match self.peek() {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            Tok::Ident(s) if s == "contains" => CmpOp::Contains,
            Tok::Ident(s) if s == "in" => CmpOp::In,
            _ => return Ok(left),
        };
        let pos = self.bump().pos;
        let right = self.additive()?;
        Ok(Expr::Cmp { op, left: Box::new(left), right: Box::new(right), pos })
    }

    /// `a + b - c`: one flat chain. A negative number right after an
    /// operand (`$x -1`, lexed as one token) is a subtraction.
    fn additive(&mut self) -> Result<Expr, Diagnostic> {
        let first = self.multiplicative()?;
        let pos = first.pos();
        let mut rest = Vec::new();
        loop {
            let op = match self.peek().clone() {
                Tok::Plus => ArithOp::Add,
                Tok::Minus => ArithOp::Sub,
                Tok::Int(n) if n < 0 => {
                    let p = self.bump().pos;
                    rest.push((ArithOp::Sub, self.more_factors(Expr::Lit(Literal::Int(-n), p))?));
                    continue;
                }
                Tok::Float(f) if f < 0.0 => {
                    let p = self.bump().pos;
                    rest.push((ArithOp::Sub, self.more_factors(Expr::Lit(Literal::Float(-f), p))?));
                    continue;
                }
                _ => break,
            };
            self.bump();
            rest.push((op, self.multiplicative()?));
        }
        Ok(if rest.is_empty() { first } else { Expr::Arith { first: Box::new(first), rest, pos } })
    }

    fn multiplicative(&mut self) -> Result<Expr, Diagnostic> {
        let first = self.primary()?;
        self.more_factors(first)
    }

    /// `first * b / c ...`
    fn more_factors(&mut self, first: Expr) -> Result<Expr, Diagnostic> {
        let pos = first.pos();
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Star => ArithOp::Mul,
                Tok::Slash => ArithOp::Div,
                Tok::Percent => ArithOp::Rem,
                _ => break,
            };
            self.bump();
            rest.push((op, self.primary()?));
        }
        Ok(if rest.is_empty() { first } else { Expr::Arith { first: Box::new(first), rest, pos } })
    }

    fn primary(&mut self) -> Result<Expr, Diagnostic> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Int(i) => {
                self.bump();
                Ok(Expr::Lit(Literal::Int(i), pos))
            }
            Tok::Float(f) => {
                self.bump();
                Ok(Expr::Lit(Literal::Float(f), pos))
            }
            Tok::Str(s) => {
                self.bump();
                Ok(Expr::Lit(Literal::Str(s), pos))
            }
            Tok::Var(v) => {
                self.bump();
                if *self.peek() == Tok::Dot {
                    self.bump();
                    let (prop, _) = self.ident("a property name after `.`")?;
                    return Ok(Expr::Prop { var: v, prop, pos });
                }
                Ok(Expr::Var(v, pos))
            }
            Tok::LBracket => {
                self.bump();
                let mut items = Vec::new();
                while *self.peek() != Tok::RBracket {
                    items.push(self.additive()?);
                    if *self.peek() == Tok::Comma {
                        self.bump();
                    } else if *self.peek() != Tok::RBracket {
                        return Err(self.err("`,` or `]`"));
                    }
                }
                self.bump();
                Ok(Expr::List(items, pos))
            }
            Tok::Minus => {
                // A run of signs is read in a loop (no recursion per sign).
                let mut negate = false;
                while *self.peek() == Tok::Minus {
                    self.bump();
                    negate = !negate;
                }
                let e = self.primary()?;
                Ok(if negate { Expr::Arith { first: Box::new(Expr::Lit(Literal::Int(0), pos)), rest: vec![(ArithOp::Sub, e)], pos } } else { e })
            }
            Tok::LParen => {
                self.bump();
                let e = self.expr()?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::Ident(name) => {
                self.bump();
                match name.as_str() {
                    "true" => return Ok(Expr::Lit(Literal::Bool(true), pos)),
                    "false" => return Ok(Expr::Lit(Literal::Bool(false), pos)),
                    "null" => return Ok(Expr::Lit(Literal::Null, pos)),
                    _ => {}
                }
                if *self.peek() != Tok::LParen {
                    return Ok(Expr::Field(name, pos));
                }
                self.bump();
                let mut args = Vec::new();
                let mut star = false;
                let distinct = self.is_word("distinct") && !matches!(self.peek_at(1), Tok::RParen | Tok::Comma);
                if distinct {
                    self.bump();
                }
                while *self.peek() != Tok::RParen {
                    if *self.peek() == Tok::Star && args.is_empty() && matches!(self.peek_at(1), Tok::RParen) {
                        self.bump();
                        star = true;
                    } else {
                        args.push(self.expr()?);
                    }
                    if *self.peek() == Tok::Comma {
                        self.bump();
                    } else if *self.peek() != Tok::RParen {
                        return Err(self.err("`,` or `)`"));
                    }
                }
                self.bump();
                Ok(Expr::Call { name, args, pos, star, distinct })
            }
            _ => Err(self.err("a value, `$variable` or `$variable.property`")),
        }
    }
}

/// The item as written, without `$`: `p.name`, `count(f)`, `"x"`.
pub fn render(e: &Expr) -> String {
    match e {
        Expr::Lit(l, _) => match l {
            Literal::Null => "null".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) => f.to_string(),
            Literal::Str(s) => format!("{s:?}"),
        },
        Expr::Var(v, _) => v.clone(),
        Expr::Prop { var, prop, .. } => format!("{var}.{prop}"),
        Expr::Field(f, _) => f.clone(),
        Expr::List(items, _) => format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(", ")),
        Expr::Call { name, args, star, distinct, .. } => {
            if *star {
                format!("{name}(*)")
            } else {
                let d = if *distinct { "distinct " } else { "" };
                format!("{name}({d}{})", args.iter().map(render).collect::<Vec<_>>().join(", "))
            }
        }
        Expr::Arith { first, rest, .. } => {
            let part = |e: &Expr| if matches!(e, Expr::Arith { .. }) { format!("({})", render(e)) } else { render(e) };
            let mut out = part(first);
            for (op, e) in rest {
                out += &format!(" {} {}", op.symbol(), part(e));
            }
            out
        }
        Expr::Cmp { op, left, right, .. } => format!("{} {} {}", render(left), op.symbol(), render(right)),
        Expr::And(parts) => parts.iter().map(render).collect::<Vec<_>>().join(" and "),
        Expr::Or(parts) => format!("({})", parts.iter().map(render).collect::<Vec<_>>().join(" or ")),
    }
}

/// The text of `src` from `start` to `end` (positions as the lexer counts
/// them: lines from 1, columns in characters from 1).
pub fn text_between(src: &str, start: Pos, end: Pos) -> String {
    let mut out = String::new();
    let (mut line, mut col) = (1u32, 1u32);
    for c in src.chars() {
        let here = (line, col);
        if here >= (start.line, start.col) && here < (end.line, end.col) {
            out.push(c);
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    out
}
