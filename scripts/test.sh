#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
# Builds with the `failpoints` feature so crash tests can abort child
# processes, and starts a real S3-compatible server (scripts/s3_env.sh) so the
# catalog suite runs against object storage too.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source ./scripts/s3_env.sh
cargo test --workspace --all-features --locked --no-fail-fast
