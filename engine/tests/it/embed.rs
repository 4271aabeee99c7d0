//! `@embed` through a real HTTP provider (scripts/embed_server.py, started
//! on loopback per test): loads and mutations compute missing vectors in
//! batches, unchanged texts are not sent again, failures (after retries,
//! timeouts) fail the whole write, the model is recorded and another one
//! refused, `nearest` with a text embeds it, and `embed::refresh` fills
//! what is missing or re-embeds everything.

use omnigraph::embed::EmbedConfig;
use omnigraph::load::LoadMode;
use omnigraph::query;
use omnigraph::{Graph, Session, SessionOptions};
use serde_json::{Value as Json, json};

use crate::common::*;
use crate::embed_server::EmbedServer;

pub fn session_with(config: Option<EmbedConfig>) -> Session {
    Session::new(SessionOptions { embed: Ok(config), ..Default::default() })
}

fn config(server: &EmbedServer, model: &str) -> EmbedConfig {
    let mut c = EmbedConfig::new(server.url(), model);
    c.batch_size = 3;
    c.retries = 2;
    c.timeout_ms = 5_000;
    c
}

const SCHEMA: &str = r#"
node Doc {
    slug: String @key
    body: String @index
    embedding: Vector(8) @embed("body") @index
}
"#;

const DOCS: &str = r#"{"type":"Doc","data":{"slug":"graphs","body":"graph databases store nodes and edges"}}
{"type":"Doc","data":{"slug":"columns","body":"columnar files store columns of values"}}
{"type":"Doc","data":{"slug":"search","body":"full text search ranks documents"}}
{"type":"Doc","data":{"slug":"vectors","body":"vector search finds nearest neighbours"}}
{"type":"Doc","data":{"slug":"given","body":"a vector given in the input","embedding":[1,0,0,0,0,0,0,0]}}
"#;

async fn open(uri: &str, session: &Session) -> Graph {
    Graph::open_for_write(uri, session).await.unwrap()
}

async fn nearest_text(g: &Graph, text: &str) -> omnigraph::Result<Vec<(String, f64)>> {
    let plan =
        query::compile(g.schema(), "query q($q: String) { match { $d: Doc } return { $d.slug, nearest($d.embedding, $q) as dist } order { dist } limit 5 }")?
            .remove(0);
    let r = query::run_read(g, &plan, &json!({"q": text})).await?;
    Ok(r.json_rows().map(|row| (row["d.slug"].as_str().unwrap().to_string(), row["dist"].as_f64().unwrap())).collect())
}

async fn mutate(g: &Graph, src: &str, params: Json) -> omnigraph::Result<omnigraph::query::MutationReport> {
    let plan = query::compile(g.schema(), src)?.remove(0);
    query::run_mutation(g, &plan, &params).await
}

#[test]
fn loads_and_mutations_embed_missing_vectors_once() {
    rt().block_on(async {
        let server = EmbedServer::start(&[]);
        let t = new_graph(SCHEMA).await;
        let s = session_with(Some(config(&server, "hash-8")));
        let g = open(&t.uri(), &s).await;
        load_into(&g, LoadMode::Append, DOCS).await.unwrap();
        // Four texts to embed, in batches of three: two requests.
        assert_eq!(server.stats(), (2, 4));
        // A text query embeds the text: the doc with the same words is at
        // distance 0; the given vector was kept.
        let hits = nearest_text(&g, "graph databases store nodes and edges").await.unwrap();
        assert_eq!(hits[0].0, "graphs");
        assert!(hits[0].1.abs() < 1e-5, "{hits:?}");
        let given = query::compile(g.schema(), "query q() { match { $d: Doc { slug: \"given\" } } return { $d.embedding } }").unwrap().remove(0);
        let r = query::run_read(&g, &given, &json!({})).await.unwrap();
        assert_eq!(r.json_rows().next().unwrap()["d.embedding"], json!([1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]));
        // The same texts again (a merge load): nothing sent; the query's text was cached too.
        let before = server.stats();
        load_into(&g, LoadMode::Merge, DOCS).await.unwrap();
        nearest_text(&g, "graph databases store nodes and edges").await.unwrap();
        assert_eq!(server.stats().1, before.1);
        // An insert without a vector, an update of the text (re-embedded),
        // an update that leaves the text alone (kept, nothing sent).
        mutate(&g, "query m($b: String) { insert Doc { slug: \"new\", body: $b } }", json!({"b": "brand new words here"})).await.unwrap();
        assert_eq!(server.stats().1, before.1 + 1);
        mutate(&g, "query m() { update Doc set { body: \"edges between graph nodes\" } where slug = \"columns\" }", json!({})).await.unwrap();
        assert_eq!(server.stats().1, before.1 + 2);
        let hits = nearest_text(&g, "edges between graph nodes").await.unwrap();
        assert_eq!((hits[0].0.as_str(), hits[0].1 < 1e-5), ("columns", true), "{hits:?}");
        mutate(&g, "query m() { update Doc set { body: \"full text search ranks documents\" } where slug = \"search\" }", json!({})).await.unwrap();
        assert_eq!(server.stats().1, before.1 + 2, "unchanged texts are not sent");
        // The model is recorded with the property.
        let rec = omnigraph::embed::recorded(&g, g.schema().node("Doc").unwrap(), "embedding").await.unwrap().unwrap();
        assert_eq!((rec.model.as_str(), rec.dim, rec.source.as_str()), ("hash-8", 8, "body"));
    });
}

#[test]
fn a_failing_provider_fails_the_whole_write_and_retries_pass_blips() {
    rt().block_on(async {
        // Two failures, then answers: three tries per request pass.
        let server = EmbedServer::start(&["--fail-first", "2"]);
        let t = new_graph(SCHEMA).await;
        let s = session_with(Some(config(&server, "hash-8")));
        let g = open(&t.uri(), &s).await;
        load_into(&g, LoadMode::Append, DOCS).await.unwrap();
        assert_eq!(row_counts(&t.uri()).await["Doc"], 5);
        // Failing on: the load fails whole, naming the provider; nothing lands.
        server.control(json!({"fail_next": 100}));
        let more = r#"{"type":"Doc","data":{"slug":"late","body":"more text"}}"#;
        let e = load_into(&g, LoadMode::Append, more).await.unwrap_err();
        assert_eq!(e.code(), "OG-EMBED-001", "{e}");
        assert!(e.to_string().contains(&format!("127.0.0.1:{}/v1/embeddings", server.port)), "{e}");
        assert!(e.to_string().contains("after 3 tries"), "{e}");
        assert_eq!(row_counts(&t.uri()).await["Doc"], 5);
        let e = mutate(&g, "query m() { insert Doc { slug: \"late\", body: \"more\" } }", json!({})).await.unwrap_err();
        assert_eq!(e.code(), "OG-EMBED-001");
        assert_eq!(row_counts(&t.uri()).await["Doc"], 5);
        // A slow provider: the timeout ends the request.
        server.control(json!({"fail_next": 0, "delay_ms": 2000}));
        let mut c = config(&server, "hash-8");
        c.timeout_ms = 200;
        c.retries = 0;
        let g2 = open(&t.uri(), &session_with(Some(c))).await;
        let e = load_into(&g2, LoadMode::Append, more).await.unwrap_err();
        assert!(e.code() == "OG-EMBED-001" && e.to_string().contains("timed out"), "{e}");
        // No provider at all: a write that needs one is refused; one that
        // gives every vector needs none.
        let g3 = open(&t.uri(), &session_with(None)).await;
        let e = load_into(&g3, LoadMode::Append, more).await.unwrap_err();
        assert_eq!(e.code(), "OG-EMBED-002");
        load_into(&g3, LoadMode::Append, r#"{"type":"Doc","data":{"slug":"v","body":"b","embedding":[0,1,0,0,0,0,0,0]}}"#).await.unwrap();
        assert_eq!(row_counts(&t.uri()).await["Doc"], 6);
        // An insert with neither the vector nor its source text is refused.
        let e = query::compile(g3.schema(), "query m() { insert Doc { slug: \"x\" } }").unwrap_err();
        assert_eq!(e.code(), "OG-QUERY-003");
    });
}

#[test]
fn another_model_is_refused_until_everything_is_embedded_again() {
    rt().block_on(async {
        let server = EmbedServer::start(&[]);
        let t = new_graph(SCHEMA).await;
        let g = open(&t.uri(), &session_with(Some(config(&server, "hash-8")))).await;
        load_into(&g, LoadMode::Append, DOCS).await.unwrap();
        let other = open(&t.uri(), &session_with(Some(config(&server, "other-model")))).await;
        let e = nearest_text(&other, "graph").await.unwrap_err();
        assert_eq!(e.code(), "OG-EMBED-003", "{e}");
        assert!(e.to_string().contains("hash-8") && e.to_string().contains("other-model"), "{e}");
        let e = load_into(&other, LoadMode::Append, r#"{"type":"Doc","data":{"slug":"late","body":"more text"}}"#).await.unwrap_err();
        assert_eq!(e.code(), "OG-EMBED-003");
        // `refresh --all` re-embeds every row with a text by the new model.
        let before = server.stats().1;
        let report = omnigraph::embed::refresh::refresh(&other, None, true, &Default::default(), &mut |_| {}).await.unwrap();
        assert_eq!(report.properties[0].rows_embedded, 5);
        assert_eq!(report.model, "other-model");
        assert_eq!(server.stats().1 - before, 5, "the new model's vectors are not cached");
        assert_eq!(nearest_text(&other, "full text search ranks documents").await.unwrap()[0].0, "search");
        assert_eq!(nearest_text(&g, "graph").await.unwrap_err().code(), "OG-EMBED-003");
    });
}

#[test]
fn refresh_fills_vectors_an_embed_added_later_and_resumes() {
    rt().block_on(async {
        let server = EmbedServer::start(&["--dim", "64"]);
        let v1 = "node Doc { slug: String @key\n body: String @index }";
        let t = new_graph(v1).await;
        let mut lines = String::new();
        for i in 0..2_500 {
            lines += &format!("{{\"type\":\"Doc\",\"data\":{{\"slug\":\"d{i}\",\"body\":\"text number {i} alpha{} beta{}\"}}}}\n", i * 7919, i * 31);
        }
        let s = session_with(Some(config(&server, "hash-8")));
        let g = open(&t.uri(), &s).await;
        let opts = omnigraph::load::LoadOptions::new(LoadMode::Append, "docs.jsonl");
        omnigraph::load::load(&g, std::io::Cursor::new(lines.into_bytes()), &opts, &mut |_| {}).await.unwrap();
        // Adding an @embed vector to stored rows leaves them without one.
        let v2 = "node Doc { slug: String @key\n body: String @index\n embedding: Vector(64)? @embed(\"body\") }";
        omnigraph::evolve::apply(&g, v2, &Default::default()).await.unwrap();
        let (g, _) = g.current().await.unwrap();
        let mut seen = Vec::new();
        let report = omnigraph::embed::refresh::refresh(&g, Some("Doc"), false, &Default::default(), &mut |p| seen.push((p.done, p.total))).await.unwrap();
        assert_eq!(report.properties[0].rows_embedded, 2_500);
        assert_eq!(report.commits.len(), 3, "a commit per 1,000 rows");
        assert_eq!(seen.last(), Some(&(2_500, 2_500)));
        // Run again: nothing left to do.
        let again = omnigraph::embed::refresh::refresh(&g, Some("Doc"), false, &Default::default(), &mut |_| {}).await.unwrap();
        assert_eq!((again.properties[0].rows_embedded, again.commits.len()), (0, 0));
        let hits = nearest_text(&g, &format!("text number 1234 alpha{} beta{}", 1234 * 7919, 1234 * 31)).await.unwrap();
        assert_eq!(hits[0].0, "d1234", "{hits:?}");
        let e = omnigraph::embed::refresh::refresh(&g, Some("Nope"), false, &Default::default(), &mut |_| {}).await.unwrap_err();
        assert!(matches!(e, omnigraph::Error::UnknownType { .. }), "{e}");
    });
}
