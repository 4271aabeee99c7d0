//! Search over HTTP: a graph whose vectors the server's embedding provider
//! computes at load, text and vector searches through `/query` (a text
//! embedded by the server), `GET /indexes`, `POST /embed`; on local disk and
//! S3; and hostile or failing cases answered with codes, the server up.

use serde_json::{Value as Json, json};

use crate::common::*;
use crate::embed_server::EmbedServer;

const SCHEMA: &str = r#"
node Person { name: String @key }
node Doc {
    slug: String @key
    body: String @index
    topic: String
    embedding: Vector(8) @embed("body") @index
}
edge Wrote: Person -> Doc
"#;

const DATA: &str = r#"{"type":"Person","data":{"name":"ada"}}
{"type":"Doc","data":{"slug":"lance","body":"columnar files of vectors for machine learning","topic":"storage"}}
{"type":"Doc","data":{"slug":"bm25","body":"ranking documents by query terms","topic":"search"}}
{"type":"Doc","data":{"slug":"vectors","body":"nearest vectors to a query vector","topic":"search"}}
{"edge":"Wrote","from":"ada","to":"lance"}
"#;

fn slugs(r: &Resp) -> Vec<String> {
    column(&r.json(), "d.slug")
}

fn with_provider(provider: &EmbedServer) -> Opts<'static> {
    Opts { env: vec![("OMNIGRAPH_EMBED_URL", provider.url()), ("OMNIGRAPH_EMBED_MODEL", "hash-8".to_string())], ..Default::default() }
}

async fn search_flow(catalog: &str) {
    let provider = EmbedServer::start(&[]);
    let s = Server::start_with(catalog, with_provider(&provider));
    let api = Api::new(&s);
    let r = api.post("/graphs", &json!({"id": "lib", "schema": SCHEMA})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api.load("lib", DATA).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(provider.stats().1, 3, "three texts embedded by the server");

    let r = api
        .query("lib", "query q($q: String) { match { $d: Doc  search($d.body, $q) } return { $d.slug } order { $d.slug } }", json!({"q": "query vectors"}))
        .await;
    assert_eq!((r.status, slugs(&r)), (200, vec!["vectors".to_string()]), "{}", r.text);
    let r = api
        .query(
            "lib",
            "query q($q: String) { match { $d: Doc } return { $d.slug, bm25($d.body, $q) as s } order { s desc } limit 2 }",
            json!({"q": "query ranking"}),
        )
        .await;
    assert_eq!(slugs(&r)[0], "bm25", "{}", r.text);
    // A text embedded by the server's provider.
    let q = "query q($q: String) { match { $d: Doc } return { $d.slug, nearest($d.embedding, $q) as d } order { d } limit 1 }";
    let r = api.query("lib", q, json!({"q": "nearest vectors to a query vector"})).await;
    assert_eq!((r.status, slugs(&r)), (200, vec!["vectors".to_string()]), "{}", r.text);
    assert!(r.json()["rows"][0]["d"].as_f64().unwrap().abs() < 1e-5, "{}", r.text);
    // Composed with a traversal, and a filter before the search.
    let r = api
        .query(
            "lib",
            "query q($v: Vector(8)) { match { $a: Person { name: \"ada\" } $a wrote $d } return { $d.slug } order { nearest($d.embedding, $v) } limit 3 }",
            json!({"v": [0, 1, 0, 0, 0, 0, 0, 0]}),
        )
        .await;
    assert_eq!(slugs(&r), vec!["lance"], "{}", r.text);

    let r = api.get("/graphs/lib/indexes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let kinds: Vec<(String, String, String)> = r.json()["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] != "scalar")
        .map(|i| (i["property"].as_str().unwrap().into(), i["kind"].as_str().unwrap().into(), i["state"].as_str().unwrap().into()))
        .collect();
    assert_eq!(kinds, vec![("body".into(), "text".into(), "current".into()), ("embedding".into(), "vector".into(), "exact".into())]);

    // Nothing is missing; `all` embeds the three again (from the cache: nothing sent).
    let r = api.post("/graphs/lib/embed", &json!({})).await;
    assert_eq!((r.status, r.json()["properties"][0]["rows_embedded"].as_u64()), (200, Some(0)), "{}", r.text);
    let before = provider.stats().1;
    let r = api.post("/graphs/lib/embed", &json!({"all": true, "message": "again"})).await;
    assert_eq!((r.status, r.json()["properties"][0]["rows_embedded"].as_u64()), (200, Some(3)), "{}", r.text);
    assert_eq!(provider.stats().1, before);
    let commit = r.json()["commits"][0].as_str().unwrap().to_string();
    let c = api.get(&format!("/graphs/lib/commits/{commit}")).await.json();
    assert_eq!(c["message"], "again", "{c}");
}

#[tokio::test]
async fn search_over_http_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    search_flow(dir.path().to_str().unwrap()).await;
}

#[tokio::test]
async fn search_over_http_on_s3() {
    let Some(catalog) = s3_catalog("search") else { return };
    search_flow(&catalog).await;
}

#[tokio::test]
async fn hostile_and_failing_searches_are_answered_with_codes() {
    let provider = EmbedServer::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), with_provider(&provider));
    let api = Api::new(&s);
    assert_eq!(api.post("/graphs", &json!({"id": "lib", "schema": SCHEMA})).await.status, 201);
    assert_eq!(api.load("lib", DATA).await.status, 200);
    let near = "query q($v: Vector(8)) { match { $d: Doc } return { $d.slug } order { nearest($d.embedding, $v) } limit 2 }";
    let text = "query q($q: String) { match { $d: Doc } return { $d.slug, nearest($d.embedding, $q) as d } order { d } limit 2 }";
    let cases: Vec<(&str, Json, u16, &str)> = vec![
        (near, json!({"v": [1, 2, 3]}), 400, "OG-QUERY-013"),
        (near, json!({"v": "not a vector"}), 400, "OG-QUERY-013"),
        (near, json!({"v": [1, 0, 0, 0, 0, 0, 0, "x"]}), 400, "OG-QUERY-013"),
        (text, json!({"q": 7}), 400, "OG-QUERY-013"),
        ("query q() { match { $d: Doc } return { $d.slug, bm25($d.body, \"x\") as s } order { s desc } }", json!({}), 400, "OG-QUERY-022"),
        ("query q() { match { $d: Doc  search($d.topic, \"x\") } return { $d.slug } }", json!({}), 400, "OG-QUERY-023"),
        ("query q() { match { $d: Doc  fuzzy($d.body, \"x\", 9) } return { $d.slug } }", json!({}), 400, "OG-QUERY-006"),
    ];
    for (q, params, status, code) in cases {
        let r = api.query("lib", q, params.clone()).await;
        assert_eq!((r.status, r.code()), (status, code.to_string()), "{q} {params}: {}", r.text);
    }
    // Odd but valid texts: empty, only stop words, control characters,
    // 100,000 characters; vectors of zeros and huge numbers.
    let fts = "query q($q: String) { match { $d: Doc  search($d.body, $q) } return { $d.slug } }";
    for q in ["", "the and of", "\u{0}\u{7}\n\t", &"vector".repeat(20_000), &"vector ".repeat(1_024), "ünïcödé 文字 🙂"] {
        let r = api.query("lib", fts, json!({"q": q})).await;
        assert_eq!(r.status, 200, "{:?}: {}", &q[..q.len().min(40)], r.text);
        let r = api.query("lib", text, json!({"q": q})).await;
        assert_eq!(r.status, 200, "{:?}: {}", &q[..q.len().min(40)], r.text);
    }
    for v in [json!([0, 0, 0, 0, 0, 0, 0, 0]), json!([1e30, -1e30, 1e30, 0, 0, 0, 0, 0])] {
        let r = api.query("lib", near, json!({"v": v})).await;
        assert_eq!(r.status, 200, "{v}: {}", r.text);
    }
    // More words than a search takes: refused, naming the parameter.
    let r = api.query("lib", fts, json!({"q": "vector ".repeat(1_025)})).await;
    assert_eq!((r.status, r.code()), (400, "OG-QUERY-013".to_string()), "{}", r.text);
    assert!(r.text.contains("at most 1024 words"), "{}", r.text);
    let r = api.post("/graphs/lib/embed", &json!({"type": 5})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = api.post("/graphs/lib/embed", &json!({"all": true, "extra": 1})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = api.post("/graphs/lib/embed", &json!({"type": "Nope"})).await;
    assert_eq!(r.status / 100, 4, "{}", r.text);
    // The provider failing: the write and the text search fail with its
    // code, naming it; nothing was written; the server stays up.
    provider.control(json!({"fail_next": 1000}));
    let r = api.load("lib", r#"{"type":"Doc","data":{"slug":"late","body":"unseen words here","topic":"x"}}"#).await;
    assert_eq!((r.status, r.code()), (502, "OG-EMBED-001".to_string()), "{}", r.text);
    // The answer names no server-side URI; the log, under its error id, does.
    assert!(r.text.contains("embedding provider <path> answered 500"), "{}", r.text);
    assert!(s.stderr().contains(&format!("127.0.0.1:{}/v1/embeddings", provider.port)), "{}", s.stderr());
    let r = api.query("lib", text, json!({"q": "words never embedded before"})).await;
    assert_eq!((r.status, r.code()), (502, "OG-EMBED-001".to_string()), "{}", r.text);
    let r = api.query("lib", "query q() { match { $d: Doc } return { count(*) as n } }", json!({})).await;
    assert_eq!(r.json()["rows"][0]["n"], 3, "{}", r.text);
    // A server without a provider: a text search needs one, vectors do not.
    drop(s);
    let s = Server::start(dir.path());
    let api = Api::new(&s);
    let r = api.query("lib", text, json!({"q": "anything new"})).await;
    assert_eq!((r.status, r.code()), (503, "OG-EMBED-002".to_string()), "{}", r.text);
    let r = api.query("lib", near, json!({"v": [1, 0, 0, 0, 0, 0, 0, 0]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}
