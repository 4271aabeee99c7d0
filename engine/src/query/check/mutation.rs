//! Typechecking mutations: `insert`, `update ... set ... where`, `delete ... where`.

use super::*;

impl<'s> Checker<'s> {
    pub(super) fn any_type(&mut self, name: &str, pos: Pos) -> Option<&'s TypeDef> {
        let schema = self.schema;
        match schema.node(name).or_else(|| schema.edge(name)) {
            Some(t) => Some(t),
            None => {
                let known: Vec<&str> = schema.types().map(|t| t.name.as_str()).collect();
                self.err(crate::codes::QUERY_UNKNOWN_TYPE.code, pos, format!("unknown type `{name}` (types: {})", known.join(", ")));
                None
            }
        }
    }

    pub(super) fn assignments(&mut self, t: &TypeDef, props: &[(String, Pos, Expr)], inserting: bool) -> Option<Vec<(String, PExpr)>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (name, pos, value) in props {
            if out.iter().any(|(n, _): &(String, PExpr)| n == name) {
                self.err(crate::codes::QUERY_DUPLICATE_NAME.code, *pos, format!("`{name}` is assigned twice"));
                ok = false;
                continue;
            }
            let target = if t.from.is_some() && (name == "from" || name == "to") {
                if !inserting {
                    self.err(crate::codes::QUERY_BAD_MUTATION.code, *pos, format!("an edge's `{name}` cannot be updated; delete the edge and insert another"));
                    ok = false;
                    continue;
                }
                // An endpoint is a node id: the key value, or the key values
                // as a list for a composite key.
                None
            } else if name == "id" {
                if !inserting || !t.key.is_empty() {
                    let why = if t.key.is_empty() { "ids cannot be updated" } else { "its id comes from its @key" };
                    self.err(crate::codes::QUERY_BAD_MUTATION.code, *pos, format!("{}: {why}", t.name));
                    ok = false;
                    continue;
                }
                Some(Ty::Str)
            } else {
                match t.property(name) {
                    Some(p) => {
                        if !inserting && t.key.contains(name) {
                            self.err(
                                crate::codes::QUERY_BAD_MUTATION.code,
                                *pos,
                                format!("`{name}` is part of {}'s @key; delete the node and insert it again instead", t.name),
                            );
                            ok = false;
                            continue;
                        }
                        Some(Ty::of(&p.ty))
                    }
                    None => {
                        let known: Vec<&str> = t.properties.iter().map(|p| p.name.as_str()).collect();
                        self.err(
                            crate::codes::QUERY_UNKNOWN_PROPERTY.code,
                            *pos,
                            format!("{} has no property `{name}` (properties: {})", t.name, known.join(", ")),
                        );
                        ok = false;
                        continue;
                    }
                }
            };
            let Some((pe, ty)) = self.expr(value, Ctx::Value) else {
                ok = false;
                continue;
            };
            if let Some(want) = target
                && !want.compatible(&ty)
            {
                self.err(crate::codes::QUERY_TYPE_MISMATCH.code, value.pos(), format!("`{name}` is {}, got {}", want.name(), ty.name()));
                ok = false;
                continue;
            }
            out.push((name.clone(), pe));
        }
        if inserting {
            let given = |n: &str| props.iter().any(|(p, _, _)| p == n);
            let pos = props.first().map(|p| p.1).unwrap_or_default();
            if t.from.is_some() {
                for end in ["from", "to"] {
                    if !given(end) {
                        self.err(crate::codes::QUERY_UNKNOWN_PROPERTY.code, pos, format!("inserting a {} edge needs `{end}`", t.name));
                        ok = false;
                    }
                }
            }
            for p in &t.properties {
                // An `@embed` vector is computed from its source when not given.
                let computed = p.embed.as_deref().is_some_and(&given);
                if !p.nullable && !given(&p.name) && !computed {
                    self.err(crate::codes::QUERY_UNKNOWN_PROPERTY.code, pos, format!("inserting {} needs `{}` (it is not nullable)", t.name, p.name));
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    pub(super) fn mutation(&mut self, m: &Mutation) -> Option<MutationPlan> {
        match m {
            Mutation::Insert { type_name, pos, props } => {
                let t = self.any_type(type_name, *pos)?;
                let props = self.assignments(t, props, true)?;
                Some(MutationPlan::Insert { type_name: t.name.clone(), props })
            }
            Mutation::Upsert { type_name, pos, props } => {
                let t = self.any_type(type_name, *pos)?;
                if t.kind != crate::schema::TypeKind::Node || t.key.is_empty() {
                    self.err(
                        crate::codes::QUERY_BAD_MUTATION.code,
                        *pos,
                        format!("upsert finds the row by its @key; {} has none (use insert, or update ... where)", t.name),
                    );
                    return None;
                }
                let props = self.assignments(t, props, true)?;
                Some(MutationPlan::Upsert { type_name: t.name.clone(), props })
            }
            Mutation::Update { type_name, pos, set, filter } => {
                let t = self.any_type(type_name, *pos)?;
                let set = self.assignments(t, set, false);
                let filter = self.where_filter(t, filter);
                Some(MutationPlan::Update { type_name: t.name.clone(), set: set?, filter: filter? })
            }
            Mutation::Delete { type_name, pos, filter } => {
                let t = self.any_type(type_name, *pos)?;
                let filter = self.where_filter(t, filter)?;
                Some(MutationPlan::Delete { type_name: t.name.clone(), filter })
            }
        }
    }

    pub(super) fn where_filter(&mut self, t: &TypeDef, e: &Expr) -> Option<PExpr> {
        let (pe, ty) = self.expr(e, Ctx::Where(t))?;
        if ty != Ty::Bool {
            self.err(crate::codes::QUERY_TYPE_MISMATCH.code, e.pos(), format!("`where` needs a condition, this is {}", ty.name()));
            return None;
        }
        Some(pe)
    }
}
