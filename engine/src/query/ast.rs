//! The syntax tree of a `.gq` file, as written (names unresolved).

use crate::lang::Pos;

/// One `query name(...) { ... }` declaration.
#[derive(Debug, Clone)]
pub struct QueryDecl {
    pub name: String,
    pub pos: Pos,
    /// Where its text starts (its first annotation, or `query`) and ends
    /// (just after its closing `}`).
    pub start: Pos,
    pub end: Pos,
    pub params: Vec<ParamDecl>,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub struct ParamDecl {
    pub name: String,
    pub pos: Pos,
    pub ty: TypeRef,
    pub nullable: bool,
}

/// A parameter type as written: `String`, `[I64]`, `Vector(3)`.
#[derive(Debug, Clone)]
pub enum TypeRef {
    Named(String, Pos),
    List(Box<TypeRef>),
    Vector(u32),
}

#[derive(Debug, Clone)]
pub enum Body {
    Read(ReadBody),
    Mutations(Vec<Mutation>),
}

#[derive(Debug, Clone)]
pub struct ReadBody {
    pub clauses: Vec<Clause>,
    pub items: Vec<ReturnItem>,
    pub order: Vec<OrderKey>,
    pub limit: Option<(RowCount, Pos)>,
    pub offset: Option<(RowCount, Pos)>,
}

/// The argument of `limit` or `offset`: a literal or a parameter.
#[derive(Debug, Clone)]
pub enum RowCount {
    Lit(u64),
    Param(String),
}

#[derive(Debug, Clone)]
pub enum Clause {
    /// `$p: Person { name: $n, age: 30 }`
    Bind { var: String, pos: Pos, type_name: String, type_pos: Pos, props: Vec<(String, Pos, Expr)> },
    /// `$a knows $b`, `$a knows{1,3} $b`, `$a <knows> $b` (either
    /// direction), `$a $k:knows $b` (the edge bound to `$k`).
    Traverse(Traverse),
    /// `$p = shortest($a knows{1,5} $b)`; `all_shortest` binds every
    /// shortest path, one row each.
    Path { var: String, pos: Pos, traverse: Traverse, all: bool },
    /// `not { ... }`
    Not { clauses: Vec<Clause> },
    /// `optional { ... }`: rows without a match keep the block's new
    /// variables null.
    Optional { clauses: Vec<Clause> },
    /// A boolean expression.
    Filter(Expr),
}

#[derive(Debug, Clone)]
pub struct Traverse {
    pub from: String,
    pub from_pos: Pos,
    pub edge: String,
    pub edge_pos: Pos,
    /// `$k:` before the edge name.
    pub edge_var: Option<(String, Pos)>,
    /// `<edge>`: either direction.
    pub undirected: bool,
    pub hops: Option<(u32, Option<u32>)>,
    pub to: String,
    pub to_pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Rem => "%",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    /// `x in [..]`, `x in $list`.
    In,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Contains => "contains",
            CmpOp::In => "in",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone)]
pub enum Expr {
    Lit(Literal, Pos),
    /// `$x`: a parameter, or a bound variable (its id) in a return item.
    Var(String, Pos),
    /// `$p.name`
    Prop {
        var: String,
        prop: String,
        pos: Pos,
    },
    /// A bare property name in `update ... where` and `delete ... where`.
    Field(String, Pos),
    List(Vec<Expr>, Pos),
    /// `date("...")`, `lower(...)`, `now()`, the aggregates, ...
    Call {
        name: String,
        args: Vec<Expr>,
        pos: Pos,
        star: bool,
        /// `count(distinct $x)`
        distinct: bool,
    },
    /// `a + b - c` or `a * b / c`: a flat chain of one precedence level,
    /// folded left to right (wide, not deep, like `and`/`or`).
    Arith {
        first: Box<Expr>,
        rest: Vec<(ArithOp, Expr)>,
        pos: Pos,
    },
    Cmp {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
        pos: Pos,
    },
    /// `a and b and ...`: two or more parts, flat.
    And(Vec<Expr>),
    /// `a or b or ...`: two or more parts, flat.
    Or(Vec<Expr>),
}

impl Expr {
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Lit(_, p) | Expr::Var(_, p) | Expr::Field(_, p) | Expr::List(_, p) => *p,
            Expr::Prop { pos, .. } | Expr::Call { pos, .. } | Expr::Cmp { pos, .. } | Expr::Arith { pos, .. } => *pos,
            Expr::And(parts) | Expr::Or(parts) => parts.first().map(Expr::pos).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReturnItem {
    pub expr: Expr,
    /// The text as written, without `$` (`p.name`, `count(f)`).
    pub text: String,
    pub alias: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OrderKey {
    pub expr: Expr,
    pub text: String,
    pub descending: bool,
}

#[derive(Debug, Clone)]
pub enum Mutation {
    Insert {
        type_name: String,
        pos: Pos,
        props: Vec<(String, Pos, Expr)>,
    },
    /// Insert, or update the node with the same key.
    Upsert {
        type_name: String,
        pos: Pos,
        props: Vec<(String, Pos, Expr)>,
    },
    Update {
        type_name: String,
        pos: Pos,
        set: Vec<(String, Pos, Expr)>,
        filter: Expr,
    },
    Delete {
        type_name: String,
        pos: Pos,
        filter: Expr,
    },
}
