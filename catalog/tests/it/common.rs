//! Backends for the catalog tests: a temp directory, or a fresh prefix in the
//! test bucket of the S3-compatible server (`OMNIGRAPH_TEST_S3`, set by
//! scripts/test.sh).

pub const SCHEMA: &str =
    "node Person { name: String @key  age: I32? }\nnode Company { name: String @key }\nedge Knows: Person -> Person\nedge WorksAt: Person -> Company\n";

pub struct Backend {
    pub uri: String,
    _dir: Option<tempfile::TempDir>,
}

pub fn local() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    Backend { uri: dir.path().join("catalog").display().to_string(), _dir: Some(dir) }
}

/// A fresh prefix on the S3 test server. Without one configured this fails,
/// unless OMNIGRAPH_SKIP_S3=1 says to run the local half only.
pub fn s3() -> Option<Backend> {
    match std::env::var("OMNIGRAPH_TEST_S3") {
        Ok(bucket) => Some(Backend { uri: format!("{bucket}/{}", ulid::Ulid::new().to_string().to_lowercase()), _dir: None }),
        Err(_) if std::env::var("OMNIGRAPH_SKIP_S3").as_deref() == Ok("1") => None,
        Err(_) => panic!("OMNIGRAPH_TEST_S3 is not set: run ./scripts/test.sh, which starts the S3 test server (or set OMNIGRAPH_SKIP_S3=1)"),
    }
}

/// Every backend a test runs on.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![local()];
    v.extend(s3());
    v
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// An engine session, as a process makes one. Each call makes a new one:
/// tests run on runtimes of their own, and a session's S3 clients belong to
/// the runtime that first used them.
pub fn session() -> omnigraph::Session {
    omnigraph::Session::default()
}
