#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
# Builds with the `failpoints` feature so crash tests can abort child processes.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo test --workspace --all-features --locked --no-fail-fast
