//! The load progress bar: bytes read and rows/s on a terminal, nothing
//! when standard error is not a terminal (or with --json).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use omnigraph::load::Progress;

pub struct LoadBar {
    bar: Option<ProgressBar>,
    started: std::time::Instant,
}

impl LoadBar {
    pub fn new(total_bytes: Option<u64>, visible: bool) -> LoadBar {
        if !visible {
            return LoadBar { bar: None, started: std::time::Instant::now() };
        }
        let bar = match total_bytes {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}").expect("template").progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                .with_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bytes} {msg}").expect("template")),
        };
        LoadBar { bar: Some(bar), started: std::time::Instant::now() }
    }

    pub fn update(&mut self, p: Progress) {
        if let Some(bar) = &self.bar {
            bar.set_position(p.bytes);
            let rate = p.lines as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            if p.done {
                bar.set_message(format!("{} lines read; validating and committing", p.lines));
            } else {
                bar.set_message(format!("{} lines, {rate:.0} rows/s", p.lines));
            }
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
