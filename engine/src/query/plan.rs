//! What the typechecker hands to execution: names resolved to types,
//! variables numbered, inline equalities turned into filters, literals such
//! as `date("...")` already converted.

use super::ast::{ArithOp, CmpOp};
use super::value::Value;
use crate::schema::PropType;

#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub params: Vec<ParamSpec>,
    pub body: PlanBody,
    /// The content hash of the schema it was compiled against.
    pub schema_hash: String,
}

impl Plan {
    pub fn is_mutation(&self) -> bool {
        matches!(self.body, PlanBody::Mutate(_))
    }
}

#[derive(Debug, Clone)]
pub enum PlanBody {
    Read(ReadPlan),
    Mutate(Vec<MutationPlan>),
}

#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub ty: PropType,
    pub nullable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    Node,
    /// `$k` in `$a $k:knows $b`: ranges over the edge type's rows.
    Edge,
    /// `$p = shortest(...)`: a path; `type_name` is its nodes' type.
    Path,
}

#[derive(Debug, Clone)]
pub struct VarInfo {
    pub name: String,
    /// The node type the variable ranges over (the edge type for an edge
    /// variable, the nodes' type for a path).
    pub type_name: String,
    /// `$_`, or a variable only a `not { }` block sees.
    pub anonymous: bool,
    /// Declared inside a `not { }` block (existential there).
    pub local: bool,
    pub kind: VarKind,
    /// First bound inside `optional { }`: null in rows without a match.
    pub optional: bool,
}

#[derive(Debug, Clone)]
pub struct ReadPlan {
    pub vars: Vec<VarInfo>,
    pub clauses: Vec<PClause>,
    pub items: Vec<PItem>,
    pub order: Vec<POrder>,
    pub limit: Option<Rows>,
    pub offset: Option<Rows>,
    pub aggregate: bool,
    /// The search calls of the query (`PExpr::Search` names one by index).
    pub searches: Vec<SearchSpec>,
}

/// What a search call computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// `search(p, q)`: every term of `q` is in `p` (true/false).
    Match,
    /// `fuzzy(p, q [, max_edits])`: every term within that many edits.
    Fuzzy,
    /// `match_text(p, q)`: the terms of `q` next to each other, in order.
    Phrase,
    /// `bm25(p, q)`: the BM25 score of the rows with any term of `q`.
    Bm25,
    /// `nearest(p, v)`: cosine distance to `v` (a vector, or a text that is
    /// embedded at query time).
    Nearest,
    /// `rrf(a, b [, k])`: reciprocal rank fusion of two ranking searches.
    Rrf,
}

impl SearchKind {
    /// A score to rank by (needs a `limit`), rather than a yes/no filter.
    pub fn ranks(self) -> bool {
        matches!(self, SearchKind::Bm25 | SearchKind::Nearest | SearchKind::Rrf)
    }

    /// Higher scores first (BM25, RRF); distances rank ascending.
    pub fn descending(self) -> bool {
        matches!(self, SearchKind::Bm25 | SearchKind::Rrf)
    }
}

#[derive(Debug, Clone)]
pub struct SearchSpec {
    pub kind: SearchKind,
    pub var: usize,
    /// The searched property (empty for `rrf`).
    pub prop: String,
    /// The text or vector searched for: a constant or a parameter.
    pub query: PExpr,
    /// `fuzzy`'s third argument.
    pub max_edits: Option<PExpr>,
    /// `rrf`: the two searches it fuses (indexes into `searches`).
    pub parts: Vec<usize>,
    /// `rrf`'s constant (60 unless given).
    pub rrf_k: f64,
    /// `nearest` with a text: the model the property's vectors were made by.
    pub embed_text: bool,
}

/// `limit` or `offset`: a constant or the index of an integer parameter
/// (a null value of a nullable one means no limit, or no offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    Lit(u64),
    Param(usize),
}

#[derive(Debug, Clone)]
pub enum PClause {
    /// The variable ranges over its type (its inline equalities are filters).
    Bind {
        var: usize,
    },
    Traverse {
        from: usize,
        edge: String,
        hops: Option<(u32, u32)>,
        to: usize,
        /// The edge variable, if the edge is bound.
        edge_var: Option<usize>,
        undirected: bool,
    },
    /// `$p = shortest($a edge{min,max} $b)`: one shortest path per pair
    /// (every one, a row each, with `all`).
    Path {
        var: usize,
        from: usize,
        edge: String,
        hops: (u32, u32),
        to: usize,
        undirected: bool,
        all: bool,
    },
    Not(Vec<PClause>),
    Optional(Vec<PClause>),
    Filter(PExpr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFn {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    /// `collect(x)`: the non-null values, as a list.
    Collect,
}

/// Scalar functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    StartsWith,
    EndsWith,
    Lower,
    Upper,
    /// Characters of a string, items of a list.
    Length,
    Coalesce,
    Year,
    Month,
    Day,
    Abs,
}

#[derive(Debug, Clone)]
pub enum PExpr {
    Const(Value),
    Param(usize),
    Now,
    Prop {
        var: usize,
        prop: String,
    },
    /// A variable's node id (comparisons of variables compare identity).
    Id(usize),
    /// The whole node, for `return { $p }`.
    Node(usize),
    /// A property of the row a mutation's `where` looks at.
    Field(String),
    List(Vec<PExpr>),
    Cmp {
        op: CmpOp,
        left: Box<PExpr>,
        right: Box<PExpr>,
    },
    /// Two or more parts, flat (see the parser).
    And(Vec<PExpr>),
    Or(Vec<PExpr>),
    /// `count(*)` has no argument.
    Agg {
        func: AggFn,
        arg: Option<Box<PExpr>>,
        distinct: bool,
    },
    Func {
        func: Func,
        args: Vec<PExpr>,
    },
    /// A left-to-right chain of one precedence level.
    Arith {
        first: Box<PExpr>,
        rest: Vec<(ArithOp, PExpr)>,
    },
    /// A path's node ids, from its first end to its last.
    PathNodes(usize),
    /// A path's length in edges.
    PathLength(usize),
    /// Search call `id` of the plan, on variable `var`'s rows.
    Search {
        id: usize,
        var: usize,
    },
}

impl PExpr {
    /// Variables the expression reads.
    pub fn vars(&self, out: &mut Vec<usize>) {
        match self {
            PExpr::Prop { var, .. } | PExpr::Id(var) | PExpr::Node(var) | PExpr::PathNodes(var) | PExpr::PathLength(var) | PExpr::Search { var, .. }
                if !out.contains(var) =>
            {
                out.push(*var)
            }
            PExpr::List(items) | PExpr::And(items) | PExpr::Or(items) | PExpr::Func { args: items, .. } => items.iter().for_each(|e| e.vars(out)),
            PExpr::Arith { first, rest } => {
                first.vars(out);
                rest.iter().for_each(|(_, e)| e.vars(out));
            }
            PExpr::Cmp { left, right, .. } => {
                left.vars(out);
                right.vars(out);
            }
            PExpr::Agg { arg: Some(a), .. } => a.vars(out),
            _ => {}
        }
    }

    /// The parts of a chain of `and`s (the expression itself otherwise).
    pub fn conjuncts(&self) -> Vec<&PExpr> {
        match self {
            PExpr::And(parts) => parts.iter().flat_map(PExpr::conjuncts).collect(),
            other => vec![other],
        }
    }

    pub fn is_aggregate(&self) -> bool {
        matches!(self, PExpr::Agg { .. })
    }
}

#[derive(Debug, Clone)]
pub struct PItem {
    /// The output column: the alias, else the item as written without `$`.
    pub name: String,
    pub expr: PExpr,
    /// Its static type (for the JSON Schema of a stored query's result).
    pub ty: super::check::Ty,
}

#[derive(Debug, Clone)]
pub enum OrderRef {
    Item(usize),
    Expr(PExpr),
}

#[derive(Debug, Clone)]
pub struct POrder {
    pub key: OrderRef,
    pub descending: bool,
}

#[derive(Debug, Clone)]
pub enum MutationPlan {
    Insert {
        type_name: String,
        props: Vec<(String, PExpr)>,
    },
    /// Insert, or set `props` on the node with the same key.
    Upsert {
        type_name: String,
        props: Vec<(String, PExpr)>,
    },
    Update {
        type_name: String,
        set: Vec<(String, PExpr)>,
        filter: PExpr,
    },
    Delete {
        type_name: String,
        filter: PExpr,
    },
    /// Not in the language: `omnigraph embed` recomputing the `@embed`
    /// vectors `props` of the rows `ids` (each from its source text).
    Reembed {
        type_name: String,
        ids: Vec<String>,
        props: Vec<String>,
    },
}
