//! Property tests: on generated graphs (cycles, self-loops, parallel edges,
//! missing optional properties), every query's answer equals a naive
//! nested-loop evaluation over the raw edge list.

use std::collections::BTreeSet;

use omnigraph::Graph;
use omnigraph::load::LoadMode;
use omnigraph::query;
use serde_json::json;

use crate::common::*;

const SCHEMA: &str = "node P { k: String @key  age: I32? }\nedge E: P -> P { w: I32? }";

struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Model {
    nodes: Vec<(String, Option<i64>)>,
    edges: Vec<(usize, usize)>,
    /// Each edge's `w` (parallel edges may differ).
    weights: Vec<Option<i64>>,
}

fn generate(seed: u64) -> Model {
    let mut g = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let n = 1 + g.below(9) as usize;
    let nodes = (0..n).map(|i| (format!("n{i}"), if g.below(3) == 0 { None } else { Some(g.below(60) as i64) })).collect();
    let m = g.below(3 * n as u64 + 1) as usize;
    let mut edges: Vec<(usize, usize)> = (0..m).map(|_| (g.below(n as u64) as usize, g.below(n as u64) as usize)).collect();
    // Force a self-loop and a parallel edge now and then.
    if g.below(2) == 0 {
        let x = g.below(n as u64) as usize;
        edges.push((x, x));
    }
    if let Some(&e) = edges.first() {
        edges.push(e);
    }
    // And a two-way pair.
    if let Some(&(a, b)) = edges.get(1) {
        edges.push((b, a));
    }
    let weights = edges.iter().map(|_| if g.below(4) == 0 { None } else { Some(g.below(10) as i64) }).collect();
    Model { nodes, edges, weights }
}

impl Model {
    fn jsonl(&self) -> String {
        let mut s = String::new();
        for (k, age) in &self.nodes {
            s += &format!("{}\n", json!({"type": "P", "data": {"k": k, "age": age}}));
        }
        for ((a, b), w) in self.edges.iter().zip(&self.weights) {
            s += &format!("{}\n", json!({"edge": "E", "from": self.nodes[*a].0, "to": self.nodes[*b].0, "data": {"w": w}}));
        }
        s
    }

    fn out(&self, a: usize) -> impl Iterator<Item = usize> + '_ {
        self.edges.iter().filter(move |e| e.0 == a).map(|e| e.1)
    }

    /// Nodes at the end of some walk of exactly `k` edges from `a`: the
    /// set after `k` rounds of following every edge out of the set.
    fn walks(&self, a: usize, k: u32, out: &mut BTreeSet<usize>) {
        let mut level: BTreeSet<usize> = [a].into();
        for _ in 0..k {
            level = self.edges.iter().filter(|e| level.contains(&e.0)).map(|e| e.1).collect();
        }
        out.extend(level);
    }

    fn name(&self, i: usize) -> String {
        self.nodes[i].0.clone()
    }

    /// Neighbours either way.
    fn either(&self, a: usize) -> BTreeSet<usize> {
        self.edges
            .iter()
            .filter_map(|&(x, y)| {
                if x == a {
                    Some(y)
                } else if y == a {
                    Some(x)
                } else {
                    None
                }
            })
            .collect()
    }

    /// Breadth-first distances from `a` (edges followed forward, or either
    /// way), `a` itself at 0.
    fn distances(&self, a: usize, undirected: bool) -> Vec<Option<u32>> {
        let mut d = vec![None; self.nodes.len()];
        d[a] = Some(0);
        let mut level = vec![a];
        let mut k = 0;
        while !level.is_empty() {
            k += 1;
            let mut next = Vec::new();
            for &x in &level {
                let nbrs: BTreeSet<usize> = if undirected { self.either(x) } else { self.out(x).collect() };
                for y in nbrs {
                    if d[y].is_none() {
                        d[y] = Some(k);
                        next.push(y);
                    }
                }
            }
            level = next;
        }
        d
    }

    /// The length of a shortest walk from `a` to another node `b`.
    fn shortest(&self, a: usize, b: usize, undirected: bool) -> Option<u32> {
        if a == b {
            return None;
        }
        self.distances(a, undirected)[b]
    }

    /// A shortest closed walk from `a` back to itself (one edge or more).
    fn cycle(&self, a: usize, undirected: bool) -> Option<u32> {
        let d = self.distances(a, undirected);
        let into: Vec<usize> = self
            .edges
            .iter()
            .filter_map(|&(x, y)| {
                if y == a {
                    Some(x)
                } else if undirected && x == a {
                    Some(y)
                } else {
                    None
                }
            })
            .collect();
        into.iter().filter_map(|&x| d[x]).min().map(|k| k + 1)
    }

    /// How many distinct node sequences are shortest walks from `a` to
    /// each node (parallel edges are one step).
    fn shortest_counts(&self, a: usize, undirected: bool) -> Vec<u64> {
        let d = self.distances(a, undirected);
        let mut pairs: BTreeSet<(usize, usize)> = self.edges.iter().copied().collect();
        if undirected {
            pairs.extend(self.edges.iter().map(|&(x, y)| (y, x)));
        }
        let mut count = vec![0u64; self.nodes.len()];
        count[a] = 1;
        let far = d.iter().flatten().copied().max().unwrap_or(0);
        for k in 1..=far {
            for &(x, y) in &pairs {
                if d[x] == Some(k - 1) && d[y] == Some(k) {
                    count[y] += count[x];
                }
            }
        }
        count
    }

    fn joined(&self, x: usize, y: usize, undirected: bool) -> bool {
        self.edges.iter().any(|&(s, t)| (s, t) == (x, y) || (undirected && (t, s) == (x, y)))
    }
}

async fn answer(g: &Graph, src: &str, params: serde_json::Value) -> BTreeSet<Vec<String>> {
    let plans = query::compile(g.schema(), src).unwrap();
    let r = query::run_read(g, &plans[0], &params).await.unwrap();
    let rows: Vec<Vec<String>> = r.rows.iter().map(|row| row.iter().map(|v| v.to_json().to_string().trim_matches('"').to_string()).collect()).collect();
    let set: BTreeSet<Vec<String>> = rows.iter().cloned().collect();
    assert_eq!(set.len(), rows.len(), "{src} returned duplicate bindings");
    set
}

/// Rows in the order the query returns them.
async fn ordered(g: &Graph, src: &str) -> Vec<Vec<String>> {
    let plans = query::compile(g.schema(), src).unwrap();
    let r = query::run_read(g, &plans[0], &json!({})).await.unwrap();
    r.rows.iter().map(|row| row.iter().map(|v| v.to_json().to_string().trim_matches('"').to_string()).collect()).collect()
}

fn s(v: &[String]) -> Vec<String> {
    v.to_vec()
}

#[test]
fn generated_graphs_answer_like_nested_loops() {
    rt().block_on(async {
        for seed in 0..24u64 {
            let m = generate(seed);
            let t = new_graph(SCHEMA).await;
            load(&t.uri(), LoadMode::Append, &m.jsonl()).await.unwrap();
            let g = Graph::open(&t.uri(), &crate::common::session()).await.unwrap();
            let n = m.nodes.len();
            let ctx = format!("seed {seed}: nodes {:?} edges {:?}", m.nodes, m.edges);

            // One hop, forward.
            let want: BTreeSet<Vec<String>> = m.edges.iter().map(|&(a, b)| s(&[m.name(a), m.name(b)])).collect();
            assert_eq!(answer(&g, "query q() { match { $a e $b } return { $a.k, $b.k } }", json!({})).await, want, "{ctx}");

            // Two hops.
            let mut want = BTreeSet::new();
            for &(a, b) in &m.edges {
                for &(b2, c) in &m.edges {
                    if b == b2 {
                        want.insert(s(&[m.name(a), m.name(b), m.name(c)]));
                    }
                }
            }
            assert_eq!(answer(&g, "query q() { match { $a e $b $b e $c } return { $a.k, $b.k, $c.k } }", json!({})).await, want, "{ctx}");

            // Backwards from a bound target, with a filter on nullable age.
            let target = seed as usize % n;
            let want: BTreeSet<Vec<String>> =
                m.edges.iter().filter(|e| e.1 == target && m.nodes[e.0].1.is_some_and(|a| a > 20)).map(|&(a, _)| s(&[m.name(a)])).collect();
            let got = answer(&g, "query q($t: String) { match { $b: P { k: $t } $a e $b $a.age > 20 } return { $a.k } }", json!({"t": m.name(target)})).await;
            assert_eq!(got, want, "{ctx}");

            // Variable length, several bounds, from every start.
            for (min, max, text) in [(1, 3, "{1,3}"), (0, 2, "{0,2}"), (2, 16, "{2,}"), (3, 3, "{3,3}")] {
                for a in 0..n {
                    let mut want_set = BTreeSet::new();
                    for k in min..=max {
                        m.walks(a, k, &mut want_set);
                    }
                    let want: BTreeSet<Vec<String>> = want_set.into_iter().map(|b| s(&[m.name(b)])).collect();
                    let src = format!("query q($s: String) {{ match {{ $a: P {{ k: $s }} $a e{text} $b }} return {{ $b.k }} }}");
                    assert_eq!(answer(&g, &src, json!({"s": m.name(a)})).await, want, "{ctx} start {a} hops {text}");
                }
            }

            // Negation: nodes with no outgoing edge.
            let want: BTreeSet<Vec<String>> = (0..n).filter(|&a| m.out(a).next().is_none()).map(|a| s(&[m.name(a)])).collect();
            assert_eq!(answer(&g, "query q() { match { $a: P not { $a e $_ } } return { $a.k } }", json!({})).await, want, "{ctx}");

            // Aggregate: distinct out-neighbours per node that has any.
            let want: BTreeSet<Vec<String>> = (0..n)
                .filter_map(|a| {
                    let d: BTreeSet<usize> = m.out(a).collect();
                    (!d.is_empty()).then(|| s(&[m.name(a), d.len().to_string()]))
                })
                .collect();
            assert_eq!(answer(&g, "query q() { match { $a e $b } return { $a.k, count($b) } }", json!({})).await, want, "{ctx}");

            // Grouped by a value several nodes share (or lack): rows, i.e.
            // distinct (a, b) pairs, per age.
            let mut per_age: std::collections::BTreeMap<String, BTreeSet<(usize, usize)>> = Default::default();
            for &(a, b) in &m.edges {
                let age = m.nodes[a].1.map_or("null".to_string(), |x| x.to_string());
                per_age.entry(age).or_default().insert((a, b));
            }
            let want: BTreeSet<Vec<String>> = per_age.iter().map(|(age, pairs)| s(&[age.clone(), pairs.len().to_string()])).collect();
            assert_eq!(answer(&g, "query q() { match { $a e $b } return { $a.age, count($b) } }", json!({})).await, want, "{ctx}");

            // Grouped by one node and a value of another: pairs of the
            // first node's key and the second's age.
            let mut per_pair: std::collections::BTreeMap<(String, String), BTreeSet<(usize, usize)>> = Default::default();
            for &(a, b) in &m.edges {
                let age = m.nodes[b].1.map_or("null".to_string(), |x| x.to_string());
                per_pair.entry((m.name(a), age)).or_default().insert((a, b));
            }
            let want: BTreeSet<Vec<String>> = per_pair.iter().map(|((k, age), pairs)| s(&[k.clone(), age.clone(), pairs.len().to_string()])).collect();
            assert_eq!(answer(&g, "query q() { match { $a e $b } return { $a.k, $b.age, count(*) } }", json!({})).await, want, "{ctx}");

            // Top-k and pages of the ordered per-node counts.
            let mut ranked: Vec<(usize, String)> = (0..n)
                .filter_map(|a| {
                    let d: BTreeSet<usize> = m.out(a).collect();
                    (!d.is_empty()).then(|| (d.len(), m.name(a)))
                })
                .collect();
            ranked.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
            for (limit, offset) in [(1, 0), (3, 0), (2, 1), (2, 3), (0, 0), (50, 2)] {
                let want: Vec<Vec<String>> = ranked.iter().skip(offset).take(limit).map(|(c, k)| s(&[k.clone(), c.to_string()])).collect();
                let src =
                    format!("query q() {{ match {{ $a e $b }} return {{ $a.k, count($b) as c }} order {{ c desc, $a.k }} limit {limit} offset {offset} }}");
                assert_eq!(ordered(&g, &src).await, want, "{ctx} limit {limit} offset {offset}");
            }

            edge_constructs(&g, &m, &ctx).await;
        }
    });
}

fn opt(v: Option<i64>) -> String {
    v.map_or("null".to_string(), |x| x.to_string())
}

/// Edge variables, undirected traversal, optional matches and shortest
/// paths against the model.
async fn edge_constructs(g: &Graph, m: &Model, ctx: &str) {
    let n = m.nodes.len();
    // Edge variables: one row per edge, parallel edges each; `$k.id`
    // tells them apart.
    let plans = query::compile(g.schema(), "query q() { match { $a $k:e $b } return { $a.k, $b.k, $k.w, $k.id } }").unwrap();
    let r = query::run_read(g, &plans[0], &json!({})).await.unwrap();
    let ids: BTreeSet<String> = r.rows.iter().map(|row| row[3].display()).collect();
    assert_eq!(ids.len(), m.edges.len(), "{ctx}: edge ids");
    let mut got: Vec<Vec<String>> = r.rows.iter().map(|row| vec![row[0].display(), row[1].display(), opt(row[2].to_json().as_i64())]).collect();
    let mut want: Vec<Vec<String>> = m.edges.iter().zip(&m.weights).map(|(&(a, b), w)| vec![m.name(a), m.name(b), opt(*w)]).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{ctx}: edge variable rows");

    // A filter on the edge property, counted per source.
    let mut per: std::collections::BTreeMap<String, usize> = Default::default();
    for (&(a, _), w) in m.edges.iter().zip(&m.weights) {
        if w.is_some_and(|w| w < 5) {
            *per.entry(m.name(a)).or_default() += 1;
        }
    }
    let want: BTreeSet<Vec<String>> = per.iter().map(|(k, c)| s(&[k.clone(), c.to_string()])).collect();
    assert_eq!(answer(g, "query q() { match { $a $k:e $b  $k.w < 5 } return { $a.k, count(*) } }", json!({})).await, want, "{ctx}: edge filter");

    // Undirected: each ordered pair joined either way, once.
    let mut want = BTreeSet::new();
    for &(a, b) in &m.edges {
        want.insert(s(&[m.name(a), m.name(b)]));
        want.insert(s(&[m.name(b), m.name(a)]));
    }
    assert_eq!(answer(g, "query q() { match { $a <e> $b } return { $a.k, $b.k } }", json!({})).await, want, "{ctx}: undirected");

    // Undirected with an edge variable: each edge both ways (a self-loop once).
    let plans = query::compile(g.schema(), "query q() { match { $a $k:<e> $b } return { $a.k, $b.k, $k.id } }").unwrap();
    let r = query::run_read(g, &plans[0], &json!({})).await.unwrap();
    let want_rows: usize = m.edges.iter().map(|&(a, b)| if a == b { 1 } else { 2 }).sum();
    assert_eq!(r.rows.len(), want_rows, "{ctx}: undirected edge rows");
    for row in &r.rows {
        let (a, b) = (row[0].display(), row[1].display());
        let (x, y) = (m.nodes.iter().position(|p| p.0 == a).unwrap(), m.nodes.iter().position(|p| p.0 == b).unwrap());
        assert!(m.joined(x, y, true), "{ctx}: {a} {b} not joined");
    }

    // Undirected variable length, and inside `not`.
    for a in 0..n {
        let d = m.distances(a, true);
        let want: BTreeSet<Vec<String>> = (0..n)
            .filter(|&b| d[b].is_some_and(|k| (1..=2).contains(&k)) || (b == a && m.cycle(a, true).is_some_and(|k| k <= 2)))
            .map(|b| s(&[m.name(b)]))
            .collect();
        let got = answer(g, "query q($s: String) { match { $a: P { k: $s } $a <e>{1,2} $b } return { $b.k } }", json!({"s": m.name(a)})).await;
        assert_eq!(got, want, "{ctx}: undirected hops from {a}");
    }
    let want: BTreeSet<Vec<String>> = (0..n).filter(|&a| m.either(a).is_empty()).map(|a| s(&[m.name(a)])).collect();
    assert_eq!(answer(g, "query q() { match { $a: P not { $a <e> $_ } } return { $a.k } }", json!({})).await, want, "{ctx}: not undirected");

    // Optional: every node, with its older out-neighbours or null.
    let mut want = BTreeSet::new();
    for a in 0..n {
        let older: BTreeSet<usize> = m.out(a).filter(|&b| m.nodes[b].1.is_some_and(|x| x > 20)).collect();
        if older.is_empty() {
            want.insert(s(&[m.name(a), "null".into()]));
        }
        for b in older {
            want.insert(s(&[m.name(a), m.name(b)]));
        }
    }
    let got = answer(g, "query q() { match { $a: P optional { $a e $b  $b.age > 20 } } return { $a.k, $b.k } }", json!({})).await;
    assert_eq!(got, want, "{ctx}: optional");
    // Counting the optional variable counts matches only.
    let want: BTreeSet<Vec<String>> = (0..n).map(|a| s(&[m.name(a), m.out(a).collect::<BTreeSet<_>>().len().to_string()])).collect();
    let got = answer(g, "query q() { match { $a: P optional { $a e $b } } return { $a.k, count($b) } }", json!({})).await;
    assert_eq!(got, want, "{ctx}: optional count");

    // Expressions: `in`, arithmetic, coalesce, starts_with, and the
    // distinct / collect aggregates, against the same rows computed here.
    let ages: Vec<i64> = vec![3, 17, 30, 41];
    let want: BTreeSet<Vec<String>> = (0..n)
        .filter(|&a| m.nodes[a].1.is_some_and(|x| ages.contains(&x) || x * 2 - 1 > 60) || m.nodes[a].0.starts_with("n1"))
        .map(|a| s(&[m.name(a), m.nodes[a].1.map_or(-1, |x| x % 7).to_string()]))
        .collect();
    let got = answer(
        g,
        "query q($ages: [I64]) { match { $a: P  $a.age in $ages or $a.age * 2 - 1 > 60 or starts_with($a.k, \"n1\") } return { $a.k, coalesce($a.age % 7, -1) } }",
        json!({"ages": ages}),
    )
    .await;
    assert_eq!(got, want, "{ctx}: expressions");
    let want: BTreeSet<Vec<String>> = (0..n)
        .filter_map(|a| {
            let outs: BTreeSet<usize> = m.out(a).collect();
            let names: Vec<String> = outs.iter().map(|&b| m.name(b)).collect();
            (!outs.is_empty()).then(|| s(&[m.name(a), outs.len().to_string(), serde_json::to_string(&names).unwrap()]))
        })
        .collect();
    let plans = query::compile(g.schema(), "query q() { match { $a $k:e $b } return { $a.k, count(distinct $b), collect(distinct $b.k) } }").unwrap();
    let r = query::run_read(g, &plans[0], &json!({})).await.unwrap();
    let got: BTreeSet<Vec<String>> = r.rows.iter().map(|row| vec![row[0].display(), row[1].display(), row[2].to_json().to_string()]).collect();
    assert_eq!(got, want, "{ctx}: distinct aggregates over edge rows");

    // Shortest paths from each start, forward and either way: lengths match
    // breadth-first distances and each path is a walk of the graph.
    for undirected in [false, true] {
        let edge = if undirected { "<e>" } else { "e" };
        for a in 0..n {
            let src =
                format!("query q($s: String) {{ match {{ $a: P {{ k: $s }} $p = shortest($a {edge}{{1,16}} $b) }} return {{ $b.k, length($p), nodes($p) }} }}");
            let plans = query::compile(g.schema(), &src).unwrap();
            let r = query::run_read(g, &plans[0], &json!({"s": m.name(a)})).await.unwrap();
            let mut got = BTreeSet::new();
            for row in &r.rows {
                let b = m.nodes.iter().position(|p| p.0 == row[0].display()).unwrap();
                let len = row[1].to_json().as_u64().unwrap() as u32;
                let path: Vec<usize> =
                    row[2].to_json().as_array().unwrap().iter().map(|x| m.nodes.iter().position(|p| p.0 == x.as_str().unwrap()).unwrap()).collect();
                assert_eq!(path.len() as u32, len + 1, "{ctx}: path {path:?}");
                assert_eq!((path[0], *path.last().unwrap()), (a, b), "{ctx}: path ends");
                for w in path.windows(2) {
                    assert!(m.joined(w[0], w[1], undirected), "{ctx}: {path:?} is not a walk");
                }
                got.insert((b, len));
            }
            let want: BTreeSet<(usize, u32)> = (0..n).filter_map(|b| m.shortest(a, b, undirected).map(|k| (b, k))).collect();
            assert_eq!(got, want, "{ctx}: shortest from {a} undirected={undirected}");
            // Every shortest path: as many rows per end as there are
            // shortest walks, each a distinct walk of that length.
            let src = format!("query q($s: String) {{ match {{ $a: P {{ k: $s }} $p = all_shortest($a {edge}{{1,16}} $b) }} return {{ $b.k, nodes($p) }} }}");
            let plans = query::compile(g.schema(), &src).unwrap();
            let r = query::run_read(g, &plans[0], &json!({"s": m.name(a)})).await.unwrap();
            let counts = m.shortest_counts(a, undirected);
            let mut per_end: std::collections::BTreeMap<usize, BTreeSet<String>> = Default::default();
            for row in &r.rows {
                let b = m.nodes.iter().position(|p| p.0 == row[0].display()).unwrap();
                let path: Vec<usize> =
                    row[1].to_json().as_array().unwrap().iter().map(|x| m.nodes.iter().position(|p| p.0 == x.as_str().unwrap()).unwrap()).collect();
                assert_eq!(Some(path.len() as u32 - 1), m.shortest(a, b, undirected), "{ctx}: all_shortest {path:?}");
                for w in path.windows(2) {
                    assert!(m.joined(w[0], w[1], undirected), "{ctx}: {path:?} is not a walk");
                }
                per_end.entry(b).or_default().insert(format!("{path:?}"));
            }
            for b in (0..n).filter(|&b| b != a) {
                let want = if m.shortest(a, b, undirected).is_some() { counts[b] } else { 0 };
                assert_eq!(per_end.get(&b).map_or(0, |s| s.len()) as u64, want, "{ctx}: all_shortest {a} -> {b} undirected={undirected}");
            }
            assert_eq!(per_end.values().map(|s| s.len()).sum::<usize>(), r.rows.len(), "{ctx}: a path listed twice");
        }
    }
}

/// `upsert` against a map: random batches of upserts (the same key more
/// than once in a batch, keys stored or not) and deletes, each batch one
/// mutation; afterwards the graph holds exactly what the map does.
#[test]
fn upserts_answer_like_a_map() {
    rt().block_on(async {
        for seed in 0..8u64 {
            let mut g = Gen(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
            let t = new_graph(SCHEMA).await;
            let graph = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
            let mut model: std::collections::BTreeMap<String, Option<i64>> = Default::default();
            for _batch in 0..6 {
                let mut stmts = Vec::new();
                for _ in 0..1 + g.below(5) {
                    let k = format!("k{}", g.below(6));
                    if g.below(5) == 0 {
                        if model.remove(&k).is_some() {
                            stmts.push(format!("delete P where k = \"{k}\""));
                        }
                        continue;
                    }
                    let age = if g.below(4) == 0 { None } else { Some(g.below(90) as i64) };
                    let value = age.map_or("null".to_string(), |a| a.to_string());
                    stmts.push(format!("upsert P {{ k: \"{k}\", age: {value} }}"));
                    model.insert(k, age);
                }
                if stmts.is_empty() {
                    continue;
                }
                let src = format!("query m() {{ {} }}", stmts.join("\n"));
                let plans = query::compile(graph.schema(), &src).unwrap();
                query::run_mutation(&graph, &plans[0], &json!({})).await.unwrap_or_else(|e| panic!("seed {seed}: {src}: {e}"));
            }
            let got = answer(&graph, "query q() { match { $p: P } return { $p.k, $p.age } }", json!({})).await;
            let want: BTreeSet<Vec<String>> = model.iter().map(|(k, a)| s(&[k.clone(), opt(*a)])).collect();
            assert_eq!(got, want, "seed {seed}");
        }
    });
}
