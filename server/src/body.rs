//! Request and response bodies: JSON bodies with errors in the server's
//! format (413 past the limit), the NDJSON load body as a blocking reader
//! for the loader's thread, and the export as a streamed body.

use std::io::{self, BufRead, Read, Write};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::state::Shared;

/// A JSON request body; parse errors and oversize bodies become [`ApiError`]s.
pub struct JsonBody<T>(pub T);

/// Reads the whole body within the server's limit.
pub async fn read_limited(req: Request, state: &Shared) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(state.max_body_bytes)
        } else {
            ApiError::bad_body(format!("cannot read the request body: {}", r.body_text()))
        }
    })
}

impl<T: DeserializeOwned> FromRequest<Shared> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, ApiError> {
        let bytes = read_limited(req, state).await?;
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

/// Forwards `body` into a [`ChannelReader`], failing the read with an
/// error once more than `limit` bytes arrived. The returned flag is set
/// when the limit was crossed.
pub fn stream_body(body: Body, limit: usize) -> (ChannelReader, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(16);
    let over = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = over.clone();
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        let mut total = 0usize;
        while let Some(chunk) = stream.next().await {
            let item = match chunk {
                Ok(b) => {
                    total += b.len();
                    if total > limit {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
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

/// A `Write` that sends 64 KiB chunks to a streamed response body. It
/// blocks its (dedicated) thread while the client is slow, and fails once
/// the client is gone.
pub struct ChunkWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl ChunkWriter {
    pub fn new(tx: mpsc::Sender<io::Result<Bytes>>) -> ChunkWriter {
        ChunkWriter { tx, buf: Vec::with_capacity(CHUNK) }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        futures::executor::block_on(self.tx.send(Ok(chunk))).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }

    /// Ends the stream with an error (the client sees a cut-off body).
    pub fn fail(&mut self, message: String) {
        let _ = self.send();
        let _ = futures::executor::block_on(self.tx.send(Err(io::Error::other(message))));
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
