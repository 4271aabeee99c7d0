//! Property tests: on generated graphs (cycles, self-loops, parallel edges,
//! missing optional properties), every query's answer equals a naive
//! nested-loop evaluation over the raw edge list.

use std::collections::BTreeSet;

use omnigraph::Graph;
use omnigraph::load::LoadMode;
use omnigraph::query;
use serde_json::json;

use crate::common::*;

const SCHEMA: &str = "node P { k: String @key  age: I32? }\nedge E: P -> P";

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
    Model { nodes, edges }
}

impl Model {
    fn jsonl(&self) -> String {
        let mut s = String::new();
        for (k, age) in &self.nodes {
            s += &format!("{}\n", json!({"type": "P", "data": {"k": k, "age": age}}));
        }
        for (a, b) in &self.edges {
            s += &format!("{}\n", json!({"edge": "E", "from": self.nodes[*a].0, "to": self.nodes[*b].0}));
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
        }
    });
}
