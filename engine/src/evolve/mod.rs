//! Schema evolution on a graph: `plan` says what applying a new `.pg`
//! source would do (the steps of `schema::evolve`, checked against the
//! stored rows and the queries given), `apply` does it as one commit of kind
//! `schema` through the write protocol (sidecar, pinned table commits, one
//! `__manifest` publish carrying the new schema row). A reader sees the old
//! schema and data or the new ones, never a mix; recovery rolls a crashed
//! apply forward or back like any write.

mod checks;
mod tables;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::codes;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::graph::sidecar::WriteKind;
use crate::graph::write::{StagedWrite, WriteOptions, commit_and_publish_with};
use crate::graph::{Graph, Snapshot, schema_store};
use crate::schema::evolve::{self, EvolutionPlan, Lint, Step};
use crate::schema::{TypeKind, compile_schema};
use crate::storage::columns::table_schema;
use crate::storage::commit::Commit;
use crate::storage::manifest::{SCHEMA_KEY, TableUpdate};
use crate::storage::table;

/// What a plan or apply is asked to do besides the new schema.
#[derive(Debug, Clone, Default)]
pub struct EvolveOptions {
    /// Apply steps that lose data (drops, narrowing, enum values in use).
    pub allow_data_loss: bool,
    /// Queries to re-check besides the stored ones: (name, `.gq` source).
    pub queries: Vec<(String, String)>,
    /// `.gq` sources whose queries replace the stored ones of the same
    /// names (or are added), in the same commit: how a change fixes a
    /// stored query it would break.
    pub update_queries: Vec<String>,
    /// Stored queries to remove in the same commit.
    pub drop_queries: Vec<String>,
    /// The commit's actor, message and condition.
    pub write: WriteOptions,
}

/// What `plan` found, or `apply` did.
#[derive(Debug, Clone, Serialize)]
pub struct EvolveReport {
    /// The schema hash before and after.
    pub from: String,
    pub to: String,
    pub steps: Vec<Step>,
    /// Why it is (or would be) refused; data-loss lints only count when
    /// `--allow-data-loss` is not given.
    pub lints: Vec<Lint>,
    /// True when apply would run (no refusing lint).
    pub ok: bool,
    /// Some step rewrites stored rows (cost grows with the type's size).
    pub rewrites: bool,
    pub loses_data: bool,
    /// The commit `apply` made (none for a plan, or when nothing changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<Commit>,
}

/// A plan checked against one snapshot.
struct Checked {
    plan: EvolutionPlan,
    report: EvolveReport,
    /// Types whose rows are rewritten (besides the plan's own rewrites:
    /// enum values set to null).
    rewrite: BTreeMap<String, bool>,
    /// The stored queries after the change, when it changes them.
    queries: Option<crate::stored::Catalog>,
}

/// Says what applying `source` to `graph` (its branch's head) would do;
/// changes nothing.
pub async fn plan(graph: &Graph, source: &str, opts: &EvolveOptions) -> Result<EvolveReport> {
    let (g, snap) = graph.current().await?;
    Ok(check(&g, &snap, source, opts).await?.report)
}

async fn check(g: &Graph, snap: &Snapshot, source: &str, opts: &EvolveOptions) -> Result<Checked> {
    let new_ir = compile_schema(source).map_err(Error::Schema)?;
    let old = snap.schema.clone();
    let mut plan = evolve::plan(&old.ir, &new_ir);
    let mut lints = plan.lints.clone();
    for (name, src) in &opts.queries {
        if let Err(Error::Query(diags)) = crate::query::compile(&plan.ir, src) {
            for d in diags {
                lints.push(Lint { code: codes::LINT_QUERY_BREAKS.code, target: name.clone(), message: d.to_string() });
            }
        }
    }
    // The stored queries, with the replacements and removals this change
    // carries, must all compile against the new schema.
    let stored = crate::stored::catalog(g, snap).await?;
    for n in &opts.drop_queries {
        if stored.get(n).is_none() {
            return Err(Error::StoredQueryNotFound { name: n.clone() });
        }
    }
    let mut replacements = Vec::new();
    for src in &opts.update_queries {
        match crate::stored::split(&plan.ir, src) {
            Ok(qs) => replacements.extend(qs),
            Err(Error::Query(diags)) => {
                for d in diags {
                    lints.push(Lint { code: codes::LINT_QUERY_BREAKS.code, target: "(replacement queries)".into(), message: d.to_string() });
                }
            }
            Err(e) => return Err(e),
        }
    }
    let next_queries = crate::stored::edited(&stored, &replacements, &opts.drop_queries);
    for q in &next_queries.queries {
        if replacements.iter().any(|r| r.name == q.name) {
            continue;
        }
        if let Err(Error::Query(diags)) = crate::stored::compile(&plan.ir, q) {
            for d in diags {
                lints.push(Lint {
                    code: codes::LINT_QUERY_BREAKS.code,
                    target: q.name.clone(),
                    message: format!("stored query `{}`: {d} (replace it in the same change, or remove it)", q.name),
                });
            }
        }
    }
    let queries = (next_queries != *stored).then_some(next_queries);
    // A `@default` must be a value of its property's type.
    for c in &plan.changes {
        let (Some(t), Some(_)) = (&c.new, &c.old) else { continue };
        for p in t.properties.iter().filter(|p| !c.sources.contains_key(&p.name)) {
            if let Some(d) = evolve::default_of(p)
                && let Err(e) = crate::load::value::convert_property(p, Some(d.clone()))
            {
                lints.push(Lint {
                    code: codes::LINT_UNSUPPORTED.code,
                    target: format!("{}.{}", t.name, p.name),
                    message: format!("@default({d}): {}", e.message),
                });
            }
        }
    }
    let mut found = checks::Found::default();
    for c in plan.changes.iter().filter(|c| !c.checks.is_empty()) {
        let old_t = c.old.as_ref().expect("checks are on altered types");
        let ds = g.open_table(snap, old_t).await?;
        let sources = match (&old_t.kind, c.checks.iter().any(|k| matches!(k, evolve::NewConstraint::Card { min, .. } if *min > 0))) {
            (TypeKind::Edge, true) => {
                let from = old
                    .ir
                    .node(old_t.from.as_deref().unwrap_or_default())
                    .ok_or_else(|| Error::UnknownType { name: old_t.from.clone().unwrap_or_default() })?;
                Some(checks::node_ids(&g.open_table(snap, from).await?, from).await?)
            }
            _ => None,
        };
        checks::check(&ds, c, sources, &mut found).await?;
    }
    let mut rewrite: BTreeMap<String, bool> = plan.changes.iter().map(|c| (c.name().to_string(), c.rewrites)).collect();
    for (ty, n) in &found.enum_losses {
        rewrite.insert(ty.clone(), true);
        if let Some(s) = plan.steps.iter_mut().find(|s| s.code == codes::EVOLVE_REMOVE_ENUM_VALUE.code && s.target.starts_with(&format!("{ty}."))) {
            s.loses_data = true;
            s.rewrites = true;
            s.detail.push_str(&format!("; {n} row(s) hold one and become null"));
        }
    }
    lints.extend(found.lints);
    let refusing = |l: &Lint| l.code != codes::LINT_DATA_LOSS.code || !opts.allow_data_loss;
    let report = EvolveReport {
        from: old.hash.clone(),
        to: plan.ir.content_hash(),
        ok: !lints.iter().any(refusing),
        rewrites: rewrite.values().any(|r| *r),
        loses_data: plan.loses_data() || !found.enum_losses.is_empty(),
        steps: plan.steps.clone(),
        lints,
        commit: None,
    };
    plan.lints = report.lints.clone();
    Ok(Checked { plan, report, rewrite, queries })
}

/// Applies `source` to `graph`'s branch as one commit of kind `schema`,
/// then builds (or drops) the indexes the new schema asks for. Refused with
/// `SchemaChangeRefused` (nothing written) when a lint says so.
pub async fn apply(graph: &Graph, source: &str, opts: &EvolveOptions) -> Result<EvolveReport> {
    graph.require_writable()?;
    opts.write.validate()?;
    const ATTEMPTS: usize = 8;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let (g, snap) = graph.current().await?;
        let checked = check(&g, &snap, source, opts).await?;
        if !checked.report.ok {
            let refusing = checked.report.lints.into_iter().filter(|l| l.code != codes::LINT_DATA_LOSS.code || !opts.allow_data_loss).collect();
            return Err(Error::SchemaChangeRefused { lints: refusing });
        }
        if checked.report.from == checked.report.to {
            // The same schema: at most the stored queries change.
            if let Some(next) = &checked.queries {
                let mut report = checked.report;
                match crate::stored::publish(&g, &snap, next, &opts.write).await {
                    Ok(commit) => {
                        report.commit = Some(commit);
                        return Ok(report);
                    }
                    Err(e @ Error::ExpectedVersionMismatch { .. }) if opts.write.if_commit.is_none() => {
                        last = Some(e);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            return Ok(checked.report);
        }
        match write(&g, &snap, source, checked, opts).await {
            Ok(report) => {
                // Indexes the change asks for, and those a rewrite dropped
                // (a commit of kind `index` of its own).
                let indexing = [
                    codes::EVOLVE_ADD_INDEX,
                    codes::EVOLVE_DROP_INDEX,
                    codes::EVOLVE_ADD_TYPE,
                    codes::EVOLVE_RENAME_PROPERTY,
                    codes::EVOLVE_DROP_PROPERTY,
                    codes::EVOLVE_ADD_CONSTRAINT,
                ];
                if report.rewrites || report.steps.iter().any(|s| indexing.iter().any(|c| c.code == s.code)) {
                    let (bound, _) = graph.current().await?;
                    crate::graph::indexes::ensure(&bound).await?;
                }
                return Ok(report);
            }
            // Another write moved a table this change checked or alters:
            // plan again on the new head (unless the caller named the head).
            Err(e @ Error::ExpectedVersionMismatch { .. }) if opts.write.if_commit.is_none() => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("a lost race was recorded"))
}

async fn write(g: &Graph, snap: &Snapshot, source: &str, checked: Checked, opts: &EvolveOptions) -> Result<EvolveReport> {
    let Checked { plan, mut report, rewrite, queries } = checked;
    let root = g.root();
    let state = snap.manifest_state();
    let location = schema_store::store(root, &plan.ir, source).await?;
    let op_id = ulid::Ulid::new().to_string();
    let current = |key: &str| state.tables.get(key).map(|e| e.version).unwrap_or(0);
    let mut staged = Vec::new();
    let mut tombstones = Vec::new();
    let mut entries = Vec::new();
    let mut ir = plan.ir.clone();
    for c in &plan.changes {
        match (&c.old, &c.new) {
            (None, Some(t)) => {
                // A fresh dataset, in a directory no table of this graph
                // ever used (a dropped type's data stays for old commits).
                let mut stable = t.stable_name.clone();
                let mut n = 2;
                while !root.list(&location_for(t.kind, &stable)).await?.is_empty() {
                    stable = format!("{}_{n}", t.stable_name);
                    n += 1;
                }
                let t = retarget(&mut ir, t.kind, &t.name, &stable);
                let ds = table::create_empty(g.session(), &root.child_uri(&t.location()), table_schema(&t), &op_id).await?;
                entries.push(TableUpdate {
                    key: t.table_key(),
                    expected: current(&t.table_key()),
                    new_version: ds.version().version,
                    location: t.location(),
                    row_count: 0,
                });
            }
            (Some(o), None) => {
                let e = state.tables.get(&o.table_key()).ok_or_else(|| Error::UnknownType { name: o.name.clone() })?;
                tombstones.push(TableUpdate { key: e.key.clone(), expected: e.version, new_version: e.version, location: String::new(), row_count: 0 });
            }
            (Some(o), Some(t)) => {
                let e = state.tables.get(&o.table_key()).ok_or_else(|| Error::UnknownType { name: o.name.clone() })?.clone();
                let base = Arc::new(g.open_table(snap, o).await?);
                let mut version = e.version;
                if rewrite.get(&t.name).copied().unwrap_or(false) {
                    let txn = match tables::stage_rewrite(g.session(), &base, c).await? {
                        Ok(txn) => txn,
                        Err(lost) => {
                            let ids: Vec<String> = lost.iter().take(checks::MAX_IDS).map(|(id, p)| format!("{id} ({p})")).collect();
                            return Err(Error::SchemaChangeRefused {
                                lints: vec![Lint {
                                    code: codes::LINT_CONSTRAINT_BROKEN.code,
                                    target: t.name.clone(),
                                    message: format!("{} value(s) would not fit a required property: {}", lost.len(), ids.join(", ")),
                                }],
                            });
                        }
                    };
                    staged.push(StagedWrite::new(e.key.clone(), e.location.clone(), base, txn));
                    version += 1;
                } else if c.alters_columns {
                    let txn = tables::stage_project(&base, c)?;
                    staged.push(StagedWrite::new(e.key.clone(), e.location.clone(), base, txn));
                    version += 1;
                }
                if o.table_key() != t.table_key() {
                    tombstones.push(TableUpdate { key: e.key.clone(), expected: e.version, new_version: e.version, location: String::new(), row_count: 0 });
                    entries.push(TableUpdate {
                        key: t.table_key(),
                        expected: current(&t.table_key()),
                        new_version: version,
                        location: e.location.clone(),
                        row_count: e.row_count,
                    });
                }
            }
            (None, None) => {}
        }
    }
    // The stored schema must be the one with the final stable names.
    let location = if ir != plan.ir { schema_store::store(root, &ir, source).await? } else { location };
    failpoint::hit("evolve.before_commit");
    let generation = state.schema_generation();
    let mut extra = tombstones;
    extra.extend(entries);
    extra.push(TableUpdate { key: SCHEMA_KEY.to_string(), expected: generation, new_version: generation + 1, location, row_count: 0 });
    if let Some(next) = &queries {
        extra.push(crate::stored::stage(g, snap, next).await?);
    }
    // Every table the checks read must still be as read.
    let reads: Vec<(String, u64)> = snap.tables.iter().map(|t| (t.key.clone(), t.version)).collect();
    let draft = opts.write.draft("schema", BTreeMap::new());
    let published = commit_and_publish_with(g, snap.manifest_ds(), state, WriteKind::Schema, staged, &reads, draft, extra).await?;
    report.to = ir.content_hash();
    report.commit = Some(published.commit);
    Ok(report)
}

fn location_for(kind: TypeKind, stable: &str) -> String {
    match kind {
        TypeKind::Node => format!("{}/{stable}", crate::graph::layout::NODES_DIR),
        TypeKind::Edge => format!("{}/{stable}", crate::graph::layout::EDGES_DIR),
    }
}

/// Gives type `name` of `ir` the stable name `stable`; returns it.
fn retarget(ir: &mut crate::schema::SchemaIr, kind: TypeKind, name: &str, stable: &str) -> crate::schema::TypeDef {
    let list = match kind {
        TypeKind::Node => &mut ir.nodes,
        TypeKind::Edge => &mut ir.edges,
    };
    let t = list.iter_mut().find(|t| t.name == name).expect("the plan's type");
    t.stable_name = stable.to_string();
    t.clone()
}
