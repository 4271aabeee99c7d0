#!/usr/bin/env bash
# HTTP server benchmark (docs/dev/benchmarks.md, "Server"): opening graphs
# on S3 (moto), then creates/s and query throughput/latency at 1, 8 and 64
# clients on a 100k-node graph. Release build. BENCH_NODES and BENCH_SECS
# change the graph size and the seconds per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --locked --workspace --examples --bins
source ./scripts/s3_env.sh
bin="${CARGO_TARGET_DIR:-target}/release"
"$bin/examples/http_bench" "$bin/omnigraph-server"
