//! `omnigraph`: the command-line tool.
//!
//! Module map: [`cli`] (argument definitions), [`commands`] (one function per
//! command, each calling one engine function), [`output`] (tables, JSON and
//! error printing), [`progress`] (the load progress bar), [`results`] (query output formats).

mod cli;
mod commands;
mod graphs;
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
    // `recover` reserves exit code 1 for "problems found"; its errors are 2.
    let error_code = if matches!(args.command, cli::Command::Recover { .. }) { 2 } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = match rt.block_on(commands::run(args)) {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e, json);
            error_code
        }
    };
    std::process::exit(code);
}
