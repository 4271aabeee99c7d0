//! Property test: random edit scripts on `main` and a branch, merged, match
//! a naive model: both change sets applied to a copy of the base, conflicts
//! found entity by entity, then the `@unique` check of the merged result and
//! its edges' endpoints. (Edge ids are made by the engine: the model takes
//! each side's edges, by id, from the graph after its edits.)
//! Each case merges twice (the second merge starts from the first), and
//! compares the outcome (which conflicts, or the merged graph).

use std::collections::{BTreeMap, BTreeSet};

use omnigraph::graph::{WriteOptions, branches};
use omnigraph::merge::{self, MergeOptions};
use omnigraph::{Error, Graph, query};
use serde_json::{Value as Json, json};

use crate::common::*;

const SCHEMA: &str = "node P { k: String @key  v: I32?  tag: String? @unique }\nedge E: P -> P";
const LINK: &str = "query q($a: String, $b: String) { insert E { from: $a, to: $b } }";
const ADD: &str = "query q($k: String, $v: I32) { insert P { k: $k, v: $v } }";
const SET_V: &str = "query q($k: String, $v: I32) { update P set { v: $v } where k = $k }";
const SET_TAG: &str = "query q($k: String, $t: String) { update P set { tag: $t } where k = $k }";
const DEL: &str = "query q($k: String) { delete P where k = $k }";
const ALL: &str = "query q() { match { $p: P } return { $p.k, $p.v, $p.tag } }";

/// An entity as the model holds it: `v`, `tag`.
type Row = (Option<i64>, Option<String>);
type State = BTreeMap<String, Row>;
/// Edges by id: (from, to).
type Edges = BTreeMap<String, (String, String)>;

struct Gen(u64);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn run(g: &Graph, src: &str, params: Json) -> bool {
    let plan = query::compile(g.schema(), src).unwrap().remove(0);
    match query::run_mutation_with(g, &plan, &params, &WriteOptions::default()).await {
        Ok(r) => r.inserted + r.updated + r.deleted > 0,
        Err(Error::MutationRejected { .. }) => false,
        Err(e) => panic!("{e}"),
    }
}

/// A few random edits, applied to the graph and, when the graph took
/// them, to the model.
async fn edit(g: &Graph, model: &mut State, rng: &mut Gen, n: u64) {
    for _ in 0..n {
        let k = format!("k{}", rng.below(5));
        // Tags often: a clash of `@unique` values needs one on each side.
        match [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4][rng.below(21) as usize] {
            0 => {
                let v = rng.below(3) as i64;
                let done = !model.contains_key(&k) && run(g, ADD, json!({"k": k, "v": v})).await;
                if done {
                    model.insert(k, (Some(v), None));
                }
            }
            1 => {
                let v = rng.below(3) as i64;
                let done = model.contains_key(&k) && run(g, SET_V, json!({"k": k, "v": v})).await;
                if done {
                    model.get_mut(&k).unwrap().0 = Some(v);
                }
            }
            2 => {
                let t = format!("t{}", rng.below(2));
                let free = !model.iter().any(|(o, r)| *o != k && r.1.as_deref() == Some(t.as_str()));
                let done = model.contains_key(&k) && free && run(g, SET_TAG, json!({"k": k, "t": t})).await;
                if done {
                    model.get_mut(&k).unwrap().1 = Some(t);
                }
            }
            4 => {
                // An edge between two nodes the branch has (deletes of a
                // node take its edges with them).
                let to = format!("k{}", rng.below(5));
                if model.contains_key(&k) && model.contains_key(&to) {
                    assert!(run(g, LINK, json!({"a": k, "b": to})).await);
                }
            }
            _ => {
                let done = model.contains_key(&k) && run(g, DEL, json!({"k": k})).await;
                if done {
                    model.remove(&k);
                }
            }
        }
    }
}

async fn edges(g: &Graph) -> Edges {
    let mut out = Vec::new();
    omnigraph::export::export_at(g, Some("E"), None, &mut out).await.unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Json = serde_json::from_str(l).unwrap();
            (v["id"].as_str().unwrap().to_string(), (v["from"].as_str().unwrap().to_string(), v["to"].as_str().unwrap().to_string()))
        })
        .collect()
}

async fn read(g: &Graph) -> State {
    let plan = query::compile(g.schema(), ALL).unwrap().remove(0);
    let deadline = query::limits::Deadline::start(g.query_limits().timeout);
    let r = query::run_read_at(g, &plan, &json!({}), deadline, None).await.unwrap();
    r.json_rows().map(|row| (row["p.k"].as_str().unwrap().to_string(), (row["p.v"].as_i64(), row["p.tag"].as_str().map(str::to_string)))).collect()
}

/// The naive merge: `Ok(merged)` or `Err(conflicts as (kind, id))`.
fn model_merge(base: &Side, source: &Side, target: &Side) -> Result<Side, BTreeSet<(String, String)>> {
    let nodes = model_merge_nodes(&base.0, &source.0, &target.0)?;
    // Edges have no properties: the source's inserts and deletes, by id.
    let mut merged: Edges = target.1.clone();
    for (id, e) in &source.1 {
        if !base.1.contains_key(id) {
            merged.insert(id.clone(), e.clone());
        }
    }
    for id in base.1.keys() {
        if !source.1.contains_key(id) {
            merged.remove(id);
        }
    }
    let mut orphans = BTreeSet::new();
    for (id, (a, b)) in &merged {
        if !nodes.contains_key(a) || !nodes.contains_key(b) {
            orphans.insert(("orphan_edge".to_string(), id.clone()));
        }
    }
    match nodes_unique(&base.0, &source.0, &target.0, &nodes) {
        u if u.is_empty() && orphans.is_empty() => Ok((nodes, merged)),
        u => Err(u.into_iter().chain(orphans).collect()),
    }
}

/// Nodes and edges of one graph.
type Side = (State, Edges);

/// The nodes taken from the source (changed there only).
fn taken_from_source(base: &State, source: &State, target: &State) -> BTreeSet<String> {
    source.iter().filter(|(k, r)| base.get(*k) != Some(*r) && target.get(*k) == base.get(*k)).map(|(k, _)| k.clone()).collect()
}

/// `@unique(tag)` over the merged nodes: a row taken from the source
/// clashes with one the target keeps.
fn nodes_unique(base: &State, source: &State, target: &State, out: &State) -> BTreeSet<(String, String)> {
    let taken = taken_from_source(base, source, target);
    let mut conflicts = BTreeSet::new();
    for k in &taken {
        let tag = &out[k].1;
        if tag.is_some() && out.iter().any(|(o, r)| o != k && !taken.contains(o) && &r.1 == tag) {
            conflicts.insert(("unique".to_string(), k.clone()));
        }
    }
    conflicts
}

/// The entity-level merge of the nodes: merged, or the conflicts.
fn model_merge_nodes(base: &State, source: &State, target: &State) -> Result<State, BTreeSet<(String, String)>> {
    let mut out = target.clone();
    let mut conflicts = BTreeSet::new();
    let keys: BTreeSet<&String> = base.keys().chain(source.keys()).chain(target.keys()).collect();
    for k in keys {
        let (b, s, t) = (base.get(k), source.get(k), target.get(k));
        if s == t || s == b {
            continue;
        }
        if t == b {
            match s {
                Some(r) => out.insert(k.clone(), r.clone()),
                None => out.remove(k),
            };
            continue;
        }
        let kind = match (b, s, t) {
            (None, _, _) => "divergent_insert",
            (Some(_), None, _) | (Some(_), _, None) => "delete_vs_update",
            _ => "divergent_update",
        };
        conflicts.insert((kind.to_string(), k.clone()));
    }
    if conflicts.is_empty() { Ok(out) } else { Err(conflicts) }
}

/// How many merges ended each way (so the test knows it saw both).
#[derive(Default, Debug)]
struct Seen {
    merged: u32,
    conflicts: BTreeMap<String, u32>,
}

async fn merge_and_compare(g: &Graph, f: &Graph, base: &Side, source: &Side, target: &Side, case: u64, seen: &mut Seen) -> Option<Side> {
    let want = model_merge(base, source, target);
    let got = merge::merge(g, "f", &MergeOptions::default(), &WriteOptions::default()).await;
    match (want, got) {
        (Ok(side), Ok(_)) => {
            assert_eq!(read(g).await, side.0, "case {case}: the merged nodes");
            assert_eq!(edges(g).await, side.1, "case {case}: the merged edges");
            assert_eq!(read(f).await, source.0, "case {case}: the source is unchanged");
            seen.merged += 1;
            Some(side)
        }
        (Err(want), Err(Error::MergeConflict { conflicts, .. })) => {
            let got: BTreeSet<(String, String)> = conflicts.iter().map(|c| (c.kind.clone(), c.id.clone())).collect();
            assert_eq!(got, want, "case {case}: the conflicts");
            assert_eq!(read(g).await, target.0, "case {case}: nothing written");
            assert_eq!(edges(g).await, target.1, "case {case}: nothing written");
            for (kind, _) in got {
                *seen.conflicts.entry(kind).or_default() += 1;
            }
            None
        }
        (want, got) => panic!("case {case}: model {want:?}, engine {:?}", got.map(|r| r.outcome)),
    }
}

#[test]
fn random_edits_on_two_branches_merge_as_the_model_says() {
    rt().block_on(async {
        let mut seen = Seen::default();
        for case in 0..60u64 {
            let mut rng = Gen(case.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let t = new_graph(SCHEMA).await;
            let g = Graph::open_for_write(&t.uri(), &session()).await.unwrap();
            let mut base = State::new();
            edit(&g, &mut base, &mut rng, 8).await;
            let base = (base, edges(&g).await);
            branches::create(&g, "f", None, &WriteOptions::default()).await.unwrap();
            let f = g.on_branch("f").await.unwrap();
            let (mut source, mut target) = (base.0.clone(), base.0.clone());
            // A quarter of the cases leave main alone (a fast-forward).
            let (n_source, n_target) = (1 + rng.below(5), if rng.below(4) == 0 { 0 } else { 1 + rng.below(5) });
            edit(&f, &mut source, &mut rng, n_source).await;
            edit(&g, &mut target, &mut rng, n_target).await;
            let (source, target) = ((source, edges(&f).await), (target, edges(&g).await));
            let Some(merged) = merge_and_compare(&g, &f, &base, &source, &target, case, &mut seen).await else { continue };
            // A second round starts from the source's head at the first merge.
            let base = source.clone();
            let (mut source, mut target) = (source.0, merged.0);
            let (n_source, n_target) = (1 + rng.below(4), rng.below(5));
            edit(&f, &mut source, &mut rng, n_source).await;
            edit(&g, &mut target, &mut rng, n_target).await;
            let (source, target) = ((source, edges(&f).await), (target, edges(&g).await));
            merge_and_compare(&g, &f, &base, &source, &target, case + 1000, &mut seen).await;
        }
        // The cases reach every outcome the model knows.
        assert!(seen.merged >= 10, "{seen:?}");
        for kind in ["divergent_insert", "divergent_update", "delete_vs_update", "unique", "orphan_edge"] {
            assert!(seen.conflicts.get(kind).is_some_and(|n| *n > 0), "no {kind} conflict in {seen:?}");
        }
    });
}
