//! Streaming a load to a server (the file or stdin, read in 1 MiB chunks,
//! with the same progress bar as a direct load) and counting exported lines.

use std::io::{Read, Write};
use std::path::Path;

use bytes::Bytes;

use crate::output::CliError;
use crate::progress::LoadBar;

/// The request body of a remote load: a reader thread sends 1 MiB chunks
/// of the file (or standard input) through a small channel.
pub fn body(data: &Path, mut bar: LoadBar) -> Result<reqwest::Body, CliError> {
    let mut reader: Box<dyn Read + Send> = if data.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(data).map_err(|e| CliError::invalid_argument(format!("cannot read {}: {e}", data.display())))?)
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let item = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
            let stop = item.is_err();
            if tx.blocking_send(item).is_err() || stop {
                break;
            }
        }
    });
    let mut progress = omnigraph::load::Progress::default();
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let stream = futures::StreamExt::map(stream, move |item| {
        if let Ok(chunk) = &item {
            progress.bytes += chunk.len() as u64;
            progress.lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            bar.update(progress);
        }
        item
    });
    Ok(reqwest::Body::wrap_stream(stream))
}

/// Passes bytes through and counts lines.
pub struct LineCounter<'a> {
    inner: &'a mut dyn Write,
    pub lines: u64,
}

impl<'a> LineCounter<'a> {
    pub fn new(inner: &'a mut dyn Write) -> Self {
        LineCounter { inner, lines: 0 }
    }
}

impl Write for LineCounter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
