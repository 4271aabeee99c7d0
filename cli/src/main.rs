//! `omnigraph`: the command-line tool.
//!
//! Module map: [`cli`] (argument definitions), [`commands`] (one function per
//! command, each calling one engine function), [`output`] (tables, JSON and
//! error printing), [`progress`] (the load progress bar), [`results`] (query output formats),
//! [`graphs`] (lifecycle commands), [`history`] (commit list and show), [`branches`] (branch create, list, delete, merge), [`policy`] (policy validate/test), [`remote`] (the
//! server client behind --server), [`upload`] (streamed remote loads).

mod branches;
mod cli;
mod codes;
mod commands;
mod graphs;
mod history;
mod maintenance;
mod output;
mod policy;
mod progress;
mod remote;
mod results;
mod schema;
mod search;
mod stored;
mod upload;

use clap::Parser;

// The loader parses on worker threads and frees on another: mimalloc keeps
// those cross-thread frees cheap (see docs/dev/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    omnigraph::allocator::tune();
    let args = cli::Cli::parse();
    let json = args.json;
    // `recover` and `policy test` reserve exit code 1 for "problems found"; their errors are 2.
    let checks = matches!(args.command, cli::Command::Recover { .. } | cli::Command::Policy { command: cli::PolicyCommand::Test { .. } });
    let error_code = if checks { 2 } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = match rt.block_on(commands::run(args)) {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e, json);
            // A conditional write whose commit is not the head any more.
            if e.to_json()["code"] == omnigraph::codes::HEAD_MOVED.code { 4 } else { error_code }
        }
    };
    std::process::exit(code);
}
