//! `omnigraph`: the command-line tool.
//!
//! Module map: [`cli`] (argument definitions), [`commands`] (one function per
//! command, each calling one engine function), [`output`] (tables, JSON and
//! error printing), [`progress`] (the load progress bar), [`results`] (query output formats).

mod cli;
mod commands;
mod output;
mod progress;
mod results;

use clap::Parser;

// The loader parses on worker threads and frees on another: mimalloc keeps
// those cross-thread frees cheap (see docs/dev/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = cli::Cli::parse();
    let json = args.json;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = match rt.block_on(commands::run(args)) {
        Ok(()) => 0,
        Err(e) => {
            output::print_error(&e, json);
            1
        }
    };
    std::process::exit(code);
}
