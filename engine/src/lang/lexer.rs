//! Tokens shared by the `.pg` schema language and the `.gq` query language,
//! each with its `line:col`. `//` line comments and `/* */` block comments
//! are skipped. A lexing problem is reported with the caller's syntax code.

use super::Diagnostic;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Int(i128),
    Float(f64),
    Str(String),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Comma,
    Arrow,
    DotDot,
    Question,
    At,
    /// `$name` (a query variable or parameter; `$_` is anonymous).
    Var(String),
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Star,
    Plus,
    Minus,
    Slash,
    Percent,
    Eof,
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(i) => format!("number {i}"),
            Tok::Float(f) => format!("number {f}"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Arrow => "`->`".into(),
            Tok::DotDot => "`..`".into(),
            Tok::Question => "`?`".into(),
            Tok::At => "`@`".into(),
            Tok::Var(v) => format!("`${v}`"),
            Tok::Dot => "`.`".into(),
            Tok::Eq => "`=`".into(),
            Tok::Ne => "`!=`".into(),
            Tok::Lt => "`<`".into(),
            Tok::Le => "`<=`".into(),
            Tok::Gt => "`>`".into(),
            Tok::Ge => "`>=`".into(),
            Tok::Star => "`*`".into(),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Percent => "`%`".into(),
            Tok::Eof => "end of input".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

/// The deepest nesting of `(`, `[` and `{` either language accepts. Every
/// recursive rule of both parsers descends only through one of these
/// brackets (`and`/`or` chains are flat lists), so bounding the brackets here
/// bounds the parsers', checkers' and evaluators' recursion: no input can
/// overflow a stack.
pub const MAX_NESTING: usize = 64;

/// Splits `src` into tokens. A lexing problem is reported with `code`;
/// nesting deeper than [`MAX_NESTING`] with `too_deep`.
pub fn lex(src: &str, code: &'static str, too_deep: &'static str) -> Result<Vec<Token>, Diagnostic> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let advance = |i: &mut usize, line: &mut u32, col: &mut u32, c: char| {
        *i += 1;
        if c == '\n' {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, col };
        if c.is_whitespace() {
            advance(&mut i, &mut line, &mut col, c);
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            advance(&mut i, &mut line, &mut col, '/');
            advance(&mut i, &mut line, &mut col, '*');
            loop {
                if i >= chars.len() {
                    return Err(Diagnostic::new(code, pos, "unterminated block comment"));
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    advance(&mut i, &mut line, &mut col, '*');
                    advance(&mut i, &mut line, &mut col, '/');
                    break;
                }
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
            }
            continue;
        }
        let single = match c {
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ':' => Some(Tok::Colon),
            ',' => Some(Tok::Comma),
            '?' => Some(Tok::Question),
            '@' => Some(Tok::At),
            '=' => Some(Tok::Eq),
            '*' => Some(Tok::Star),
            '+' => Some(Tok::Plus),
            '%' => Some(Tok::Percent),
            // `//` and `/*` start comments (above).
            '/' => Some(Tok::Slash),
            _ => None,
        };
        if let Some(tok) = single {
            match tok {
                Tok::LBrace | Tok::LParen | Tok::LBracket => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(Diagnostic::new(too_deep, pos, format!("brackets nest deeper than {MAX_NESTING} levels here; flatten the expression")));
                    }
                }
                Tok::RBrace | Tok::RParen | Tok::RBracket => depth = depth.saturating_sub(1),
                _ => {}
            }
            advance(&mut i, &mut line, &mut col, c);
            out.push(Token { tok, pos });
            continue;
        }
        if c == '-' && chars.get(i + 1) == Some(&'>') {
            advance(&mut i, &mut line, &mut col, c);
            advance(&mut i, &mut line, &mut col, '>');
            out.push(Token { tok: Tok::Arrow, pos });
            continue;
        }
        if c == '.' && chars.get(i + 1) == Some(&'.') {
            advance(&mut i, &mut line, &mut col, c);
            advance(&mut i, &mut line, &mut col, '.');
            out.push(Token { tok: Tok::DotDot, pos });
            continue;
        }
        if c == '.' {
            advance(&mut i, &mut line, &mut col, c);
            out.push(Token { tok: Tok::Dot, pos });
            continue;
        }
        if matches!(c, '!' | '<' | '>') {
            let eq = chars.get(i + 1) == Some(&'=');
            let tok = match (c, eq) {
                ('!', true) => Tok::Ne,
                ('<', true) => Tok::Le,
                ('>', true) => Tok::Ge,
                ('<', false) => Tok::Lt,
                ('>', false) => Tok::Gt,
                _ => return Err(Diagnostic::new(code, pos, "unexpected `!` (use `!=` or `not { ... }`)")),
            };
            advance(&mut i, &mut line, &mut col, c);
            if eq {
                advance(&mut i, &mut line, &mut col, '=');
            }
            out.push(Token { tok, pos });
            continue;
        }
        if c == '$' {
            advance(&mut i, &mut line, &mut col, c);
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
            }
            if start == i {
                return Err(Diagnostic::new(code, pos, "`$` must be followed by a name"));
            }
            out.push(Token { tok: Tok::Var(chars[start..i].iter().collect()), pos });
            continue;
        }
        if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            advance(&mut i, &mut line, &mut col, c);
            while i < chars.len() && chars[i].is_ascii_digit() {
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
            }
            let mut is_float = false;
            if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
                is_float = true;
                advance(&mut i, &mut line, &mut col, '.');
                while i < chars.len() && chars[i].is_ascii_digit() {
                    {
                        let ch = chars[i];
                        advance(&mut i, &mut line, &mut col, ch);
                    }
                }
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let save = (i, line, col);
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
                if i < chars.len() && (chars[i] == '-' || chars[i] == '+') {
                    {
                        let ch = chars[i];
                        advance(&mut i, &mut line, &mut col, ch);
                    }
                }
                if i < chars.len() && chars[i].is_ascii_digit() {
                    is_float = true;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        {
                            let ch = chars[i];
                            advance(&mut i, &mut line, &mut col, ch);
                        }
                    }
                } else {
                    (i, line, col) = save;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let tok = if is_float {
                Tok::Float(text.parse().map_err(|_| Diagnostic::new(code, pos, format!("bad number {text}")))?)
            } else {
                Tok::Int(text.parse().map_err(|_| Diagnostic::new(code, pos, format!("number {text} is out of range")))?)
            };
            out.push(Token { tok, pos });
            continue;
        }
        if c == '-' {
            advance(&mut i, &mut line, &mut col, c);
            out.push(Token { tok: Tok::Minus, pos });
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
            }
            out.push(Token { tok: Tok::Ident(chars[start..i].iter().collect()), pos });
            continue;
        }
        if c == '"' {
            advance(&mut i, &mut line, &mut col, c);
            let mut s = String::new();
            loop {
                let Some(&ch) = chars.get(i) else {
                    return Err(Diagnostic::new(code, pos, "unterminated string"));
                };
                advance(&mut i, &mut line, &mut col, ch);
                match ch {
                    '"' => break,
                    '\\' => {
                        let Some(&esc) = chars.get(i) else {
                            return Err(Diagnostic::new(code, pos, "unterminated string"));
                        };
                        advance(&mut i, &mut line, &mut col, esc);
                        s.push(match esc {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '"' => '"',
                            '\\' => '\\',
                            other => {
                                return Err(Diagnostic::new(code, Pos { line, col: col - 2 }, format!("unknown escape \\{other} in string")));
                            }
                        });
                    }
                    '\n' => return Err(Diagnostic::new(code, pos, "newline inside string")),
                    other => s.push(other),
                }
            }
            out.push(Token { tok: Tok::Str(s), pos });
            continue;
        }
        return Err(Diagnostic::new(code, pos, format!("unexpected character {c:?}")));
    }
    out.push(Token { tok: Tok::Eof, pos: Pos { line, col } });
    Ok(out)
}
