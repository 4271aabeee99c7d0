//! Request and response bodies: JSON bodies with errors in the server's
//! format (413 past the limit), the NDJSON load body as a blocking reader
//! for the loader's thread, and the export as a streamed body.

use std::io::{self, BufRead, Read, Write};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::state::Shared;

/// A JSON request body (`Content-Type: application/json`, at most
/// `--max-query-bytes`); a wrong type, parse errors and oversize bodies
/// become [`ApiError`]s.
pub struct JsonBody<T>(pub T);

/// The media type of a request, lower case, without parameters.
pub fn media_type(req: &Request) -> Option<String> {
    let v = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

/// Refuses a body that is not `application/json`. A browser can send a
/// cross-site `text/plain` (or form) POST without asking first; it cannot
/// send `application/json` without a CORS preflight, which this server
/// never grants.
pub fn require_json(req: &Request) -> Result<(), ApiError> {
    match media_type(req).as_deref() {
        Some("application/json") => Ok(()),
        Some(other) => Err(ApiError::unsupported_media(format!("this route takes `Content-Type: application/json`, not `{other}`"))),
        None => Err(ApiError::unsupported_media("this route takes a JSON body with `Content-Type: application/json`")),
    }
}

/// NDJSON media types `/load` accepts besides `application/json`.
pub const NDJSON_TYPES: [&str; 4] = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"];

/// Whether a `/load` body is the JSON form (`true`) or NDJSON (`false`);
/// any other type is refused, for the same reason as in [`require_json`].
pub fn load_is_json(req: &Request) -> Result<bool, ApiError> {
    match media_type(req).as_deref() {
        Some("application/json") => Ok(true),
        Some(t) if NDJSON_TYPES.contains(&t) => Ok(false),
        other => Err(ApiError::unsupported_media(format!(
            "/load takes `Content-Type: application/x-ndjson` (one record per line) or `application/json`{}",
            other.map(|t| format!(", not `{t}`")).unwrap_or_default()
        ))),
    }
}

/// Reads the whole body, refusing it with 413 past `limit` bytes (before
/// reading anything when `Content-Length` already says so).
pub async fn read_limited(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let mut stream = req.into_body().into_data_stream();
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_body(format!("cannot read the request body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

impl<T: DeserializeOwned> FromRequest<Shared> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, ApiError> {
        require_json(&req)?;
        let bytes = read_limited(req, state.max_query_bytes).await?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(ApiError::bad_body("the request body is empty; this route takes a JSON object"));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| ApiError::bad_body(format!("request body: {e}")))
    }
}

/// A blocking reader over body chunks sent from the async side; the
/// loader reads it on its own thread.
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChannelReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => break,
            }
        }
        Ok(&self.current)
    }

    fn consume(&mut self, amt: usize) {
        let _ = self.current.split_to(amt.min(self.current.len()));
    }
}

/// Why a streamed request body stopped early.
#[derive(Debug, Default)]
pub struct BodyStop {
    /// More than the limit arrived.
    pub over: std::sync::atomic::AtomicBool,
    /// Nothing arrived for the idle timeout.
    pub idle: std::sync::atomic::AtomicBool,
}

impl BodyStop {
    /// The answer for a read that failed because the body stopped early.
    pub fn error(&self, limit: usize, idle: std::time::Duration) -> Option<ApiError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.over.load(SeqCst) {
            Some(ApiError::too_large(limit))
        } else if self.idle.load(SeqCst) {
            Some(ApiError::body_idle(idle))
        } else {
            None
        }
    }
}

/// Forwards `body` into a [`ChannelReader`], failing the read with an
/// error once more than `limit` bytes arrived. A client that sends nothing
/// for `idle` fails the read too, so a stalled load cannot hold its graph's
/// write lock. The returned [`BodyStop`] says which happened.
pub fn stream_body(body: Body, limit: usize, idle: std::time::Duration) -> (ChannelReader, std::sync::Arc<BodyStop>) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let over = std::sync::Arc::new(BodyStop::default());
    let flag = over.clone();
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        let mut total = 0usize;
        loop {
            let chunk = match tokio::time::timeout(idle, stream.next()).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(_) => {
                    flag.idle.store(true, std::sync::atomic::Ordering::SeqCst);
                    let _ = tx.send(Err(io::Error::new(io::ErrorKind::TimedOut, format!("the request body sent nothing for {} s", idle.as_secs())))).await;
                    break;
                }
            };
            let item = match chunk {
                Ok(b) => {
                    total += b.len();
                    if total > limit {
                        flag.over.store(true, std::sync::atomic::Ordering::SeqCst);
                        Err(io::Error::other(format!("request body is larger than the server's limit of {limit} bytes")))
                    } else {
                        Ok(b)
                    }
                }
                Err(e) => Err(io::Error::other(format!("reading the request body: {e}"))),
            };
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    (ChannelReader { rx, current: Bytes::new() }, over)
}

/// An NDJSON response written by `work` on a blocking thread (inside the
/// runtime's context) through a [`ChunkWriter`]: what `/export` and
/// `/changes` stream.
pub fn ndjson_from_blocking(
    stall: std::time::Duration,
    work: impl FnOnce(&mut ChunkWriter, &tokio::runtime::Handle) + Send + 'static,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut w = ChunkWriter::new(tx, stall);
        work(&mut w, &handle);
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut r = Body::from_stream(stream).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/x-ndjson"));
    r
}

/// A `Write` that sends 64 KiB chunks to a streamed response body. It
/// blocks its (dedicated) thread while the client is slow, and fails once
/// the client is gone.
pub struct ChunkWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    /// How long one chunk may wait for a client that does not read.
    stall: std::time::Duration,
}

const CHUNK: usize = 64 * 1024;

impl ChunkWriter {
    /// Use on a blocking thread inside the runtime's context.
    pub fn new(tx: mpsc::Sender<io::Result<Bytes>>, stall: std::time::Duration) -> ChunkWriter {
        ChunkWriter { tx, buf: Vec::with_capacity(CHUNK), stall }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        // The exporter runs inside the runtime's `block_on` on this blocking
        // thread; a plain executor waits here (the timer still belongs to
        // the runtime, whose context this thread is in).
        match futures::executor::block_on(self.tx.send_timeout(Ok(chunk), self.stall)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                Err(io::Error::new(io::ErrorKind::TimedOut, format!("the client read nothing for {} s", self.stall.as_secs())))
            }
            Err(mpsc::error::SendTimeoutError::Closed(_)) => Err(io::Error::new(io::ErrorKind::BrokenPipe, "client went away")),
        }
    }

    /// Ends the stream with an error (the client sees a cut-off body).
    pub fn fail(&mut self, message: String) {
        let _ = self.send();
        let _ = futures::executor::block_on(self.tx.send_timeout(Err(io::Error::other(message)), self.stall));
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Rows serialized per chunk of a streamed query result.
const ROWS_PER_CHUNK: usize = 256;

/// A query result as `{"metadata": {...}, "rows": [...]}`, serialized a few
/// hundred rows at a time as the client reads: the answer is never held in
/// memory a second time as JSON.
pub fn query_result(result: omnigraph::query::QueryResult, name: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let metadata = serde_json::to_string(&crate::routes::replies::QueryMetadata::of(&result, name)).expect("metadata serializes");
    let mut head = Some(format!("{{\"metadata\":{metadata},\"rows\":[").into_bytes());
    let omnigraph::query::QueryResult { columns, rows, .. } = result;
    let mut rows = rows.into_iter().enumerate();
    let mut finished = false;
    let chunks = futures::stream::iter(std::iter::from_fn(move || {
        if finished {
            return None;
        }
        let mut out = head.take().unwrap_or_default();
        for (i, row) in rows.by_ref().take(ROWS_PER_CHUNK) {
            if i > 0 {
                out.push(b',');
            }
            let obj: serde_json::Map<String, serde_json::Value> = columns.iter().cloned().zip(row.iter().map(|v| v.to_json())).collect();
            serde_json::to_writer(&mut out, &obj).expect("a JSON map serializes");
        }
        if rows.len() == 0 {
            out.extend_from_slice(b"]}");
            finished = true;
        }
        Some(Ok::<_, std::convert::Infallible>(Bytes::from(out)))
    }));
    let mut r = Body::from_stream(chunks).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    r
}
