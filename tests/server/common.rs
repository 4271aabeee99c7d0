//! Starting servers and talking to them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

pub const SCHEMA: &str = r#"
node Person {
    name: String @key
    age: I32?
}
node City {
    name: String @key
}
edge Knows: Person -> Person
edge LivesIn: Person -> City
"#;

pub const DATA: &str = r#"{"type":"Person","data":{"name":"alice","age":31}}
{"type":"Person","data":{"name":"bob","age":42}}
{"type":"Person","data":{"name":"carol"}}
{"type":"City","data":{"name":"paris"}}
{"edge":"Knows","from":"alice","to":"bob"}
{"edge":"Knows","from":"bob","to":"carol"}
{"edge":"LivesIn","from":"alice","to":"paris"}
"#;

pub const FRIENDS: &str = "query friends($name: String) { match { $p: Person { name: $name } $p knows $f } return { $f.name } order { $f.name } }";

pub fn server_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_omnigraph-server"))
}

/// The `omnigraph` CLI, built next to the server by `cargo test --workspace`.
pub fn cli_bin() -> PathBuf {
    let p = server_bin().with_file_name(format!("omnigraph{}", std::env::consts::EXE_SUFFIX));
    assert!(p.exists(), "{} is missing: run the workspace tests (`cargo test --workspace`), which build it", p.display());
    p
}

pub struct Server {
    pub child: Child,
    pub url: String,
    pub stderr_path: PathBuf,
    _logs: tempfile::TempDir,
}

#[derive(Default)]
pub struct Opts<'a> {
    pub args: Vec<String>,
    pub env: Vec<(&'a str, String)>,
}

impl Server {
    /// Starts a server on `catalog`: a local directory or an `s3://` URI.
    pub fn start(catalog: impl AsRef<std::ffi::OsStr>) -> Server {
        Server::start_with(catalog, Opts::default())
    }

    pub fn start_with(catalog: impl AsRef<std::ffi::OsStr>, opts: Opts<'_>) -> Server {
        let logs = tempfile::tempdir().unwrap();
        let stderr_path = logs.path().join("stderr.log");
        let mut cmd = Command::new(server_bin());
        cmd.arg("--catalog").arg(catalog);
        // Test defaults, unless the test sets them itself.
        for (flag, value) in [("--bind", "127.0.0.1:0"), ("--refresh-ms", "200"), ("--sweep-ms", "500")] {
            if !opts.args.iter().any(|a| a == flag) {
                cmd.args([flag, value]);
            }
        }
        cmd.args(&opts.args);
        cmd.env_remove("OMNIGRAPH_FAILPOINT").env_remove("OMNIGRAPH_TOKENS").env_remove("OMNIGRAPH_CATALOG");
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(std::fs::File::create(&stderr_path).unwrap());
        let mut child = cmd.spawn().expect("start omnigraph-server");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(|l| l.ok()).unwrap_or_default();
        let url = match first.strip_prefix("omnigraph-server listening on ") {
            Some(u) => u.trim().to_string(),
            None => panic!("server did not start: {first:?}; stderr: {}", std::fs::read_to_string(&stderr_path).unwrap_or_default()),
        };
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Server { child, url, stderr_path, _logs: logs }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit without blocking the test's runtime
    /// (requests the test spawned keep running meanwhile).
    pub async fn exited(&mut self) -> std::process::ExitStatus {
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh catalog prefix (`<bucket>/<prefix>-<ulid>`) on the S3 test
/// server that `scripts/test.sh` starts, or `None` when the run opted out
/// with `OMNIGRAPH_SKIP_S3=1`.
pub fn s3_catalog(prefix: &str) -> Option<String> {
    match std::env::var("OMNIGRAPH_TEST_S3") {
        Ok(bucket) => Some(format!("{bucket}/{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())),
        Err(_) if std::env::var("OMNIGRAPH_SKIP_S3").as_deref() == Ok("1") => None,
        Err(_) => panic!("OMNIGRAPH_TEST_S3 is not set: run ./scripts/test.sh (or set OMNIGRAPH_SKIP_S3=1)"),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap()
}

/// A response: status, headers we check, and the body as JSON (or text).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }
}

pub async fn send(rb: reqwest::RequestBuilder) -> Resp {
    let r = rb.send().await.expect("request");
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    let retry_after = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let text = r.text().await.unwrap_or_default();
    Resp { status, location, retry_after, text }
}

pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(server: &Server) -> Api {
        Api { base: server.url.clone(), token: None, http: client() }
    }

    pub fn with_token(server: &Server, token: &str) -> Api {
        Api { base: server.url.clone(), token: Some(token.to_string()), http: client() }
    }

    pub fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => rb.header("authorization", format!("Bearer {t}")),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        send(self.auth(self.http.get(format!("{}{path}", self.base)))).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        send(self.auth(self.http.delete(format!("{}{path}", self.base)))).await
    }

    pub async fn post(&self, path: &str, body: &Json) -> Resp {
        send(self.auth(self.http.post(format!("{}{path}", self.base)).header("content-type", "application/json").body(body.to_string()))).await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Resp {
        send(self.auth(self.http.post(format!("{}{path}", self.base)).header("content-type", content_type).body(body))).await
    }

    /// Creates graph `id` with `SCHEMA` and loads `DATA` into it; both must succeed.
    pub async fn create_loaded(&self, id: &str) {
        let c = self.create(id).await;
        assert_eq!(c.status, 201, "create {id}: {}", c.text);
        let l = self.load(id, DATA).await;
        assert_eq!(l.status, 200, "load {id}: {}", l.text);
    }

    pub async fn create(&self, id: &str) -> Resp {
        self.post("/graphs", &serde_json::json!({"id": id, "schema": SCHEMA})).await
    }

    pub async fn load(&self, id: &str, ndjson: &str) -> Resp {
        self.post_raw(&format!("/graphs/{id}/load"), "application/x-ndjson", ndjson.to_string()).await
    }

    pub async fn query(&self, id: &str, q: &str, params: Json) -> Resp {
        self.post(&format!("/graphs/{id}/query"), &serde_json::json!({"query": q, "params": params})).await
    }

    pub async fn mutate(&self, id: &str, q: &str, params: Json) -> Resp {
        self.post(&format!("/graphs/{id}/mutate"), &serde_json::json!({"query": q, "params": params})).await
    }
}

/// A load of graph `id` whose NDJSON body the test sends piece by piece
/// through the returned sender: the request stays in flight until the
/// sender is dropped, then its answer comes out of the handle.
pub fn slow_load(api: &Api, id: &str) -> (tokio::sync::mpsc::Sender<String>, tokio::task::JoinHandle<Resp>) {
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(4);
    let chunks = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (Ok::<_, std::io::Error>(x), rx)) });
    // Its own client, so its connection is never one the test reuses.
    let rb = api.auth(client().post(format!("{}/graphs/{id}/load", api.base)).header("content-type", "application/x-ndjson"));
    let rb = rb.body(reqwest::Body::wrap_stream(chunks));
    (tx, tokio::spawn(send(rb)))
}

/// Waits until the server counts `n` requests in flight (`GET /healthz`
/// is not counted itself).
pub async fn until_in_flight(api: &Api, n: u64) {
    let reached = eventually(Duration::from_secs(10), || async { api.get("/healthz").await.json()["requests_in_flight"] == n }).await;
    assert!(reached.is_some(), "the server never had {n} request(s) in flight");
}

/// Waits (up to 10 s) until `n` mutations wait for a write turn.
pub async fn until_writes_waiting(api: &Api, n: u64) {
    let reached = eventually(Duration::from_secs(10), || async { api.get("/healthz").await.json()["writes_waiting"] == n }).await;
    assert!(reached.is_some(), "{n} mutation(s) never waited for the write turn: {}", api.get("/healthz").await.text);
}

/// Waits (up to 30 s) until no graph of the server's catalog has an
/// operation in flight and each is active or failed: what the background
/// sweep leaves once the leases of crashed operations expire.
pub async fn until_settled(api: &Api, s: &Server) {
    let settled = eventually(Duration::from_secs(30), || async {
        let g = api.get("/graphs?all=true").await.json();
        g["graphs"].as_array().unwrap().iter().all(|g| g["op"].is_null() && matches!(g["state"].as_str(), Some("active" | "failed")))
    })
    .await;
    assert!(settled.is_some(), "not settled: {}\n{}", api.get("/graphs?all=true").await.text, s.stderr());
}

/// Polls `f` until it returns true or `within` passes; returns the time it took.
pub async fn eventually<F, Fut>(within: Duration, mut f: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if f().await {
            return Some(started.elapsed());
        }
        if started.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Names in a `/query` answer's rows, in order.
pub fn column(doc: &Json, col: &str) -> Vec<String> {
    doc["rows"].as_array().unwrap().iter().map(|r| r[col].as_str().unwrap_or_default().to_string()).collect()
}

pub use crate::tree_hash::tree_hash;

/// Starts `POST /graphs` for `id` (with `SCHEMA`) in the background. The
/// raw client result: the server may be killed under it.
pub fn spawn_create(url: &str, id: &str) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let (url, body) = (format!("{url}/graphs"), serde_json::json!({"id": id, "schema": SCHEMA}).to_string());
    tokio::spawn(async move { client().post(url).header("content-type", "application/json").body(body).send().await })
}
