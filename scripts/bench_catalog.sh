#!/usr/bin/env bash
# Catalog lifecycle benchmark (docs/dev/benchmarks.md): create/delete latency
# and catalog requests per transition with 10 and 1,000 graphs, on local disk
# and on the S3-compatible test server. Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source ./scripts/s3_env.sh
# One build of every benchmark program (a `-p` build resolves other features
# and compiles Lance again).
cargo build --release --locked --workspace --examples
target/release/examples/lifecycle_bench
