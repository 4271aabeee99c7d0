//! Search inside graph queries: the text searches (with and without an
//! index, and rows written after the index), BM25 ranking, nearest
//! neighbours (exact below the vector index's size, through IVF-PQ above
//! it, filtered), reciprocal rank fusion, composition with traversal, and
//! the errors each function reports.

use omnigraph::Graph;
use omnigraph::graph::indexes;
use omnigraph::load::LoadMode;
use omnigraph::query::{self, QueryResult};
use serde_json::{Value as Json, json};

use crate::common::*;

pub const DOCS: &str = r#"
node Person { name: String @key }
node Doc {
    slug: String @key
    title: String @index
    body: String @index
    category: String
    embedding: Vector(8)? @index
}
edge Wrote: Person -> Doc
"#;

fn doc(slug: &str, title: &str, body: &str, category: &str, v: [f32; 8]) -> String {
    json!({"type": "Doc", "data": {"slug": slug, "title": title, "body": body, "category": category, "embedding": v}}).to_string() + "\n"
}

fn small_data() -> String {
    let mut s = String::new();
    s += &doc("lance", "Lance columnar format", "a columnar format for machine learning data and vectors", "storage", [1., 0., 0., 0., 0., 0., 0., 0.]);
    s += &doc("graphs", "Property graphs", "nodes and edges with typed properties; graphs of people", "graph", [0., 1., 0., 0., 0., 0., 0., 0.]);
    s += &doc("bm25", "Ranking text", "BM25 ranks documents by term frequency and inverse document frequency", "search", [0.9, 0.1, 0., 0., 0., 0., 0., 0.]);
    s += &doc("vectors", "Vector search", "nearest neighbours of vectors; vector indexes trade recall for speed", "search", [0.7, 0.7, 0., 0., 0., 0., 0., 0.]);
    s += &doc("hybrid", "Hybrid search", "fuse a text ranking and a vector ranking with reciprocal rank fusion", "search", [0.5, 0.5, 0.5, 0., 0., 0., 0., 0.]);
    s += r#"{"type":"Person","data":{"name":"ada"}}
{"type":"Person","data":{"name":"alan"}}
{"edge":"Wrote","from":"ada","to":"lance"}
{"edge":"Wrote","from":"ada","to":"vectors"}
{"edge":"Wrote","from":"alan","to":"bm25"}
{"edge":"Wrote","from":"alan","to":"graphs"}
"#;
    s
}

async fn graph(data: &str) -> (TempGraph, Graph) {
    let t = new_graph(DOCS).await;
    load(&t.uri(), LoadMode::Append, data).await.unwrap();
    let g = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
    (t, g)
}

async fn run(g: &Graph, src: &str, params: Json) -> QueryResult {
    let plans = query::compile(g.schema(), src).unwrap_or_else(|e| panic!("{src}: {e}"));
    query::run_read(g, &plans[0], &params).await.unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn column(r: &QueryResult, name: &str) -> Vec<Json> {
    r.json_rows().map(|row| row[name].clone()).collect()
}

fn slugs(r: &QueryResult) -> Vec<String> {
    column(r, "d.slug").into_iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn error(g: &Graph, src: &str) -> (String, u32, u32) {
    match query::compile(g.schema(), src) {
        Err(omnigraph::Error::Query(d)) => (d[0].code.to_string(), d[0].line, d[0].col),
        other => panic!("expected an error for {src}, got {other:?}"),
    }
}

#[test]
fn text_search_filters_phrases_typos_and_ranks() {
    rt().block_on(async {
        let (_t, g) = graph(&small_data()).await;
        // `search`: every term, stemmed ("vectors" finds "vector").
        let q = "query q($q: String) { match { $d: Doc  search($d.body, $q) } return { $d.slug } order { $d.slug } }";
        assert_eq!(slugs(&run(&g, q, json!({"q": "vector ranking"})).await), vec!["hybrid"]);
        assert_eq!(slugs(&run(&g, q, json!({"q": "Vectors"})).await), vec!["hybrid", "lance", "vectors"]);
        assert!(slugs(&run(&g, q, json!({"q": "zebra"})).await).is_empty());
        // On the indexed title, the same.
        let q = "query q($q: String) { match { $d: Doc  search($d.title, $q) } return { $d.slug } order { $d.slug } }";
        assert_eq!(slugs(&run(&g, q, json!({"q": "search"})).await), vec!["hybrid", "vectors"]);
        // `match_text`: the words next to each other, in order.
        let q = "query q($q: String) { match { $d: Doc  match_text($d.body, $q) } return { $d.slug } order { $d.slug } }";
        assert_eq!(slugs(&run(&g, q, json!({"q": "reciprocal rank fusion"})).await), vec!["hybrid"]);
        assert!(slugs(&run(&g, q, json!({"q": "fusion rank reciprocal"})).await).is_empty());
        // `fuzzy`: a typo within the edits allowed.
        let q = "query q($q: String) { match { $d: Doc  fuzzy($d.title, $q, 1) } return { $d.slug } order { $d.slug } }";
        assert_eq!(slugs(&run(&g, q, json!({"q": "colunmar"})).await), Vec::<String>::new(), "two edits apart");
        assert_eq!(slugs(&run(&g, q, json!({"q": "columnr"})).await), vec!["lance"]);
        // A search inside `or` and `not`, and as a value.
        let q = "query q() { match { $d: Doc  search($d.body, \"graphs\") or $d.category = \"storage\" } return { $d.slug, search($d.title, \"lance\") as t } order { $d.slug } }";
        let r = run(&g, q, json!({})).await;
        assert_eq!(slugs(&r), vec!["graphs", "lance"]);
        assert_eq!(column(&r, "t"), vec![json!(false), json!(true)]);
        // `bm25`: ranked, best first, only rows with a term.
        let q = "query q($q: String) { match { $d: Doc } return { $d.slug, bm25($d.body, $q) as score } order { score desc } limit 10 }";
        let r = run(&g, q, json!({"q": "vector ranking fusion"})).await;
        assert_eq!(slugs(&r)[0], "hybrid");
        let scores: Vec<f64> = column(&r, "score").iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        // Stemmed: "ranks" in the bm25 doc is a term of "ranking".
        assert_eq!(scores.len(), 4, "every doc but graphs has a term: {:?}", slugs(&r));
        assert!(!slugs(&r).contains(&"graphs".to_string()));
        // Composed with traversal and filters: alan's docs only.
        let q = "query q($q: String) { match { $a: Person { name: \"alan\" }  $a wrote $d } return { $d.slug, bm25($d.body, $q) as s } order { s desc } limit 1 }";
        assert_eq!(slugs(&run(&g, q, json!({"q": "documents people"})).await), vec!["bm25"]);
        // The exact string filters.
        let q = "query q() { match { $d: Doc  starts_with($d.slug, \"v\") or ends_with($d.slug, \"25\") } return { $d.slug } order { $d.slug } }";
        assert_eq!(slugs(&run(&g, q, json!({})).await), vec!["bm25", "vectors"]);
    });
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| (*x as f64) * (*y as f64)).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    1.0 - dot / (na * nb)
}

#[test]
fn nearest_is_exact_on_small_tables_and_composes_with_rrf() {
    rt().block_on(async {
        let (_t, g) = graph(&small_data()).await;
        let q = "query q($v: Vector(8)) { match { $d: Doc } return { $d.slug, nearest($d.embedding, $v) as dist } order { dist } limit 3 }";
        let r = run(&g, q, json!({"v": [1, 0.05, 0, 0, 0, 0, 0, 0]})).await;
        assert_eq!(slugs(&r), vec!["lance", "bm25", "vectors"]);
        let d = column(&r, "dist")[0].as_f64().unwrap();
        assert!((d - cosine(&[1., 0.05, 0., 0., 0., 0., 0., 0.], &[1., 0., 0., 0., 0., 0., 0., 0.])).abs() < 1e-4, "{d}");
        // A filter applies before the search: the best of the matching rows.
        let q = "query q($v: Vector(8)) { match { $d: Doc { category: \"search\" } } return { $d.slug } order { nearest($d.embedding, $v) } limit 2 }";
        assert_eq!(slugs(&run(&g, q, json!({"v": [1, 0, 0, 0, 0, 0, 0, 0]})).await), vec!["bm25", "vectors"]);
        // Through a traversal: ada's nearest doc to the graph vector.
        let q = "query q($v: Vector(8)) { match { $a: Person { name: \"ada\" }  $a wrote $d } return { $d.slug } order { nearest($d.embedding, $v) } limit 1 }";
        assert_eq!(slugs(&run(&g, q, json!({"v": [0, 1, 0, 0, 0, 0, 0, 0]})).await), vec!["vectors"]);
        // A literal vector, and the distance as a filter.
        let q = "query q() { match { $d: Doc  nearest($d.embedding, [0, 1, 0, 0, 0, 0, 0, 0]) < 0.5 } return { $d.slug } order { $d.slug } limit 10 }";
        assert_eq!(slugs(&run(&g, q, json!({})).await), vec!["graphs", "hybrid", "vectors"]);
        // RRF of a text and a vector ranking: 1/(60+r1) + 1/(60+r2).
        let q = "query q($q: String, $v: Vector(8)) { match { $d: Doc } return { $d.slug, rrf(bm25($d.body, $q), nearest($d.embedding, $v)) as s } order { s desc } limit 5 }";
        let r = run(&g, q, json!({"q": "vectors recall", "v": [0.7, 0.7, 0, 0, 0, 0, 0, 0]})).await;
        assert_eq!(slugs(&r)[0], "vectors", "first in both rankings");
        let top = column(&r, "s")[0].as_f64().unwrap();
        assert!((top - 2.0 / 61.0).abs() < 1e-9, "{top}");
        assert_eq!(slugs(&r).len(), 5, "every doc has a vector: all are ranked");
    });
}

/// Clustered random vectors (fixed seed): `n` docs in 16 clusters.
fn vectors(n: usize, seed: u64) -> Vec<[f32; 8]> {
    let mut x = seed;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 10_000) as f32 / 10_000.0 - 0.5
    };
    let centres: Vec<[f32; 8]> = (0..16).map(|_| std::array::from_fn(|_| next() * 4.0)).collect();
    (0..n).map(|i| std::array::from_fn(|k| centres[i % 16][k] + next() * 0.5)).collect()
}

#[test]
fn vector_index_is_built_searched_followed_and_filtered() {
    rt().block_on(async {
        let n = indexes::VECTOR_INDEX_MIN_ROWS;
        let vs = vectors(n, 7);
        let mut data = String::new();
        for (i, v) in vs.iter().enumerate() {
            data += &doc(&format!("d{i}"), &format!("title {i}"), "text", &format!("c{}", i % 100), *v);
        }
        let (t, g) = graph(&data).await;
        let status = indexes::status(&g).await.unwrap();
        let vec_index = status.iter().find(|s| s.kind == "vector").expect("a vector index entry");
        assert_eq!((vec_index.state, vec_index.rows_covered), ("current", n as u64), "{status:?}");
        let text: Vec<(&str, &str)> = status.iter().filter(|s| s.kind == "text").map(|s| (s.property.as_str(), s.state)).collect();
        assert_eq!(text, vec![("body", "current"), ("title", "current")]);
        let exact = |q: &[f32; 8], keep: &dyn Fn(usize) -> bool| {
            let mut all: Vec<(f64, usize)> = vs.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(i, v)| (cosine(q, v), i)).collect();
            all.sort_by(|a, b| a.partial_cmp(b).unwrap());
            all.into_iter().take(10).map(|(_, i)| format!("d{i}")).collect::<Vec<_>>()
        };
        let q = "query q($v: Vector(8)) { match { $d: Doc } return { $d.slug } order { nearest($d.embedding, $v) } limit 10 }";
        let mut found = 0;
        for probe in vectors(20, 99) {
            let got = slugs(&run(&g, q, json!({"v": probe})).await);
            let want = exact(&probe, &|_| true);
            assert_eq!(got.len(), 10);
            found += got.iter().filter(|s| want.contains(s)).count();
        }
        assert!(found >= 180, "recall@10 over 20 queries: {found}/200");
        // 1% of the rows: still 10 rows, all of them matching the filter.
        let q =
            "query q($v: Vector(8)) { match { $d: Doc { category: \"c42\" } } return { $d.slug, $d.category } order { nearest($d.embedding, $v) } limit 10 }";
        let probe = vectors(1, 5)[0];
        let r = run(&g, q, json!({"v": probe})).await;
        assert_eq!(column(&r, "d.category"), vec![json!("c42"); 10]);
        let want = exact(&probe, &|i| i % 100 == 42);
        assert!(slugs(&r).iter().filter(|s| want.contains(s)).count() >= 9, "{:?} vs {want:?}", slugs(&r));
        // Rows written after the index are searched too (exactly).
        let g2 = Graph::open_for_write(&t.uri(), &crate::common::session()).await.unwrap();
        let nearest_one = "query q($v: Vector(8)) { match { $d: Doc } return { $d.slug } order { nearest($d.embedding, $v) } limit 1 }";
        let far = json!({"v": [9., -9., 9., -9., 9., -9., 9., -9.]});
        load_into(&g2, LoadMode::Append, &doc("fresh", "fresh title", "text", "new", [9., -9., 9., -9., 9., -9., 9., -9.])).await.unwrap();
        let r = run(&g2, nearest_one, far.clone()).await;
        assert_eq!(slugs(&r), vec!["fresh"]);
        let r = run(&g2, "query q() { match { $d: Doc  search($d.title, \"Freshly titles\") } return { $d.slug } }", json!({})).await;
        assert_eq!(slugs(&r), vec!["fresh"]);
        let stale = indexes::status(&g2).await.unwrap();
        assert!(stale.iter().any(|s| s.kind == "vector" && s.state == "stale" && s.rows_uncovered == 1), "{stale:?}");
        // `optimize` brings the indexes up to date.
        omnigraph::graph::optimize::optimize(&g2, &Default::default()).await.unwrap();
        let after = indexes::status(&g2).await.unwrap();
        assert!(after.iter().all(|s| s.state == "current"), "{after:?}");
        let r = run(&g2, nearest_one, far.clone()).await;
        assert_eq!(slugs(&r), vec!["fresh"]);
    });
}

#[test]
fn a_ranked_search_widens_until_the_match_keeps_enough_rows() {
    rt().block_on(async {
        // 400 docs; ada wrote the 12 farthest from the probe.
        let mut data = String::new();
        for i in 0..400 {
            let x = i as f32 / 400.0;
            data += &doc(&format!("d{i:03}"), "t", "b", "c", [1.0 - x, x, 0., 0., 0., 0., 0., 0.]);
        }
        data += "{\"type\":\"Person\",\"data\":{\"name\":\"ada\"}}\n";
        for i in 388..400 {
            data += &format!("{{\"edge\":\"Wrote\",\"from\":\"ada\",\"to\":\"d{i:03}\"}}\n");
        }
        let (_t, g) = graph(&data).await;
        let q = "query q($v: Vector(8)) { match { $a: Person { name: \"ada\" }  $a wrote $d } return { $d.slug } order { nearest($d.embedding, $v) } limit 5 offset 2 }";
        let r = run(&g, q, json!({"v": [1, 0, 0, 0, 0, 0, 0, 0]})).await;
        assert_eq!(slugs(&r), vec!["d390", "d391", "d392", "d393", "d394"]);
        let q = "query q($v: Vector(8)) { match { $d: Doc  $d.slug >= \"d395\" } return { $d.slug } order { nearest($d.embedding, $v) } limit 3 }";
        assert_eq!(slugs(&run(&g, q, json!({"v": [1, 0, 0, 0, 0, 0, 0, 0]})).await), vec!["d395", "d396", "d397"]);
    });
}

#[test]
fn search_functions_are_typechecked_with_positions() {
    rt().block_on(async {
        let (_t, g) = graph(&small_data()).await;
        let cases = [
            ("query q($v: Vector(8)) { match { $d: Doc } return { nearest($d.embedding, $v) as d } }", "OG-QUERY-022"),
            ("query q() { match { $d: Doc } return { bm25($d.body, \"x\") as s } order { s desc } }", "OG-QUERY-022"),
            ("query q($v: Vector(8)) { match { $d: Doc } return { $d.slug } order { nearest($d.title, $v) } limit 1 }", "OG-QUERY-006"),
            ("query q($v: Vector(4)) { match { $d: Doc } return { $d.slug } order { nearest($d.embedding, $v) } limit 1 }", "OG-QUERY-006"),
            ("query q() { match { $d: Doc } return { $d.slug } order { nearest($d.embedding, [1, 2]) } limit 1 }", "OG-QUERY-006"),
            ("query q() { match { $d: Doc } return { $d.slug } order { nearest($d.embedding, \"text\") } limit 1 }", "OG-QUERY-006"),
            ("query q() { match { $d: Doc  search($d.embedding, \"x\") } return { $d.slug } }", "OG-QUERY-006"),
            ("query q() { match { $d: Doc  search($d.body, 3) } return { $d.slug } }", "OG-QUERY-006"),
            ("query q() { match { $d: Doc  fuzzy($d.body, \"x\", 5) } return { $d.slug } }", "OG-QUERY-006"),
            ("query q() { match { $d: Doc  search(\"body\", \"x\") } return { $d.slug } }", "OG-QUERY-010"),
            ("query q() { match { $d: Doc  search($d.body, $d.title) } return { $d.slug } }", "OG-QUERY-010"),
            ("query q() { match { $d: Doc } return { rrf($d.slug, $d.title) as s } order { s desc } limit 3 }", "OG-QUERY-010"),
            ("query q() { match { $d: Doc  search($d.category, \"x\") } return { $d.slug } }", "OG-QUERY-023"),
            ("query q() { update Doc set { body: \"x\" } where search(body, \"x\") }", "OG-QUERY-010"),
        ];
        for (src, code) in cases {
            let (got, line, col) = error(&g, src);
            assert_eq!(got, code, "{src}");
            assert!(line == 1 && col > 1, "{src}: {line}:{col}");
        }
        // The position names the call.
        let (_, _, col) = error(&g, cases[0].0);
        assert_eq!(col as usize, cases[0].0.find("nearest").unwrap() + 1);
    });
}

#[test]
fn searches_read_branches_and_past_commits() {
    rt().block_on(async {
        let (_t, g) = graph(&small_data()).await;
        let before = g.snapshot().await.unwrap().commit.id.clone();
        omnigraph::graph::branches::create(&g, "draft", None, &Default::default()).await.unwrap();
        let draft = g.on_branch("draft").await.unwrap();
        load_into(&draft, LoadMode::Append, &doc("zebra", "Zebra stripes", "zebras graze on grassland", "animals", [0., 0., 0., 1., 0., 0., 0., 0.]))
            .await
            .unwrap();
        let text = "query q($q: String) { match { $d: Doc  search($d.body, $q) } return { $d.slug } }";
        let near = "query q($v: Vector(8)) { match { $d: Doc } return { $d.slug } order { nearest($d.embedding, $v) } limit 1 }";
        assert_eq!(slugs(&run(&draft, text, json!({"q": "zebra"})).await), vec!["zebra"]);
        assert_eq!(slugs(&run(&draft, near, json!({"v": [0, 0, 0, 1, 0, 0, 0, 0]})).await), vec!["zebra"]);
        assert!(slugs(&run(&g, text, json!({"q": "zebra"})).await).is_empty(), "main does not see the branch's doc");
        // On main, a write, then a read at the commit before it.
        load_into(&g, LoadMode::Append, &doc("zebra2", "Zebra again", "zebra crossing", "roads", [0., 0., 0., 1., 0., 0., 0., 0.])).await.unwrap();
        assert_eq!(slugs(&run(&g, text, json!({"q": "zebra"})).await), vec!["zebra2"]);
        let plan = query::compile(g.schema(), near).unwrap().remove(0);
        let at = omnigraph::graph::history::At::parse(&before).unwrap();
        let deadline = query::limits::Deadline::start(g.query_limits().timeout);
        let r = query::run_read_at(&g, &plan, &json!({"v": [0, 0, 0, 1, 0, 0, 0, 0]}), deadline, Some(&at)).await.unwrap();
        assert_ne!(slugs(&r), vec!["zebra2"], "the past commit has no zebra");
    });
}
