//! The test embedding provider (`scripts/embed_server.py`) as a child
//! process on a free loopback port, for the engine, CLI and server tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

use serde_json::Value as Json;

/// The test embedding provider, as a child process.
pub struct EmbedServer {
    child: Child,
    pub port: u16,
}

impl EmbedServer {
    pub fn start(args: &[&str]) -> EmbedServer {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("scripts/embed_server.py");
        let mut child = Command::new("python3").arg(script).args(["--port", "0"]).args(args).stdout(Stdio::piped()).spawn().expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening on ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("embed server said {line:?}"));
        EmbedServer { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    fn call(&self, method: &str, path: &str, body: &str) -> Json {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(s, "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap()
    }

    /// (requests, texts) served so far.
    pub fn stats(&self) -> (u64, u64) {
        let j = self.call("GET", "/stats", "");
        (j["requests"].as_u64().unwrap(), j["texts"].as_u64().unwrap())
    }

    pub fn control(&self, knobs: Json) {
        self.call("POST", "/control", &knobs.to_string());
    }
}

impl Drop for EmbedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
