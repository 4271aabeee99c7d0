//! `omnigraph-server`: see the crate docs and docs/user/server.md.

use clap::Parser;
use omnigraph_server::config::{Args, Config};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    omnigraph::allocator::tune();
    let args = Args::parse();
    if args.print_openapi {
        print!("{}", omnigraph_server::openapi::document());
        return;
    }
    let config = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code);
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    if let Err(e) = rt.block_on(omnigraph_server::run(config)) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
