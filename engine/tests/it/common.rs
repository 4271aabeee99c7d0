//! Shared helpers: temp graphs, loading strings, reading rows back.

use omnigraph::Graph;
use omnigraph::load::{LoadMode, LoadOptions, LoadReport};

pub const SOCIAL: &str = r#"
node Person {
    name: String @key
    age: I32?
    email: String? @unique
    @range(age, 0..150)
}
node Company { name: String @key }
edge Knows: Person -> Person { since: Date? }
edge WorksAt: Person -> Company @card(0..1)
"#;

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

pub struct TempGraph {
    pub dir: tempfile::TempDir,
}

impl TempGraph {
    pub fn uri(&self) -> String {
        self.dir.path().join("g").display().to_string()
    }
}

pub async fn new_graph(schema: &str) -> TempGraph {
    let dir = tempfile::tempdir().unwrap();
    let g = TempGraph { dir };
    omnigraph::graph::init(&g.uri(), &crate::common::session(), schema).await.unwrap();
    g
}

pub async fn load(uri: &str, mode: LoadMode, data: &str) -> omnigraph::Result<LoadReport> {
    let g = Graph::open_for_write(uri, &crate::common::session()).await?;
    load_into(&g, mode, data).await
}

pub async fn load_into(g: &Graph, mode: LoadMode, data: &str) -> omnigraph::Result<LoadReport> {
    let mut opts = LoadOptions::new(mode, "test.jsonl");
    opts.chunk_rows = 7; // several staged chunks even for small inputs
    omnigraph::load::load(g, std::io::Cursor::new(data.as_bytes().to_vec()), &opts, &mut |_| {}).await
}

/// Export as sorted lines, with generated edge ids removed.
pub async fn export_lines(uri: &str, strip_edge_ids: bool) -> Vec<String> {
    let g = Graph::open(uri, &crate::common::session()).await.unwrap();
    let mut out = Vec::new();
    omnigraph::export::export(&g, None, &mut out).await.unwrap();
    let mut lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if strip_edge_ids && v.get("edge").is_some() {
                v.as_object_mut().unwrap().remove("id");
            }
            v.to_string()
        })
        .collect();
    lines.sort();
    lines
}

pub async fn row_counts(uri: &str) -> std::collections::BTreeMap<String, u64> {
    let g = Graph::open(uri, &crate::common::session()).await.unwrap();
    g.snapshot().await.unwrap().tables.into_iter().map(|t| (t.name, t.row_count)).collect()
}

pub use crate::tree_hash::tree_hash;

/// An engine session, as a process makes one. Each call makes a new one:
/// tests run on runtimes of their own, and a session's S3 clients belong to
/// the runtime that first used them.
pub fn session() -> omnigraph::Session {
    omnigraph::Session::default()
}
