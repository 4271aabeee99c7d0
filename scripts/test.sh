#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
# Builds with the `failpoints` feature so crash tests can abort child
# processes, and starts a real S3-compatible server (scripts/s3_env.sh) so the
# catalog suite runs against object storage too.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The lint gate: formatting (rustfmt.toml) first, it costs nothing to check.
cargo fmt --all --check || { echo "scripts/test.sh: run \`cargo fmt --all\` and commit the result" >&2; exit 1; }
# Then clippy with every warning an error ([workspace.lints] in Cargo.toml says
# what the team allows); it checks the same code the tests build.
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
source ./scripts/s3_env.sh
cargo test --workspace --all-features --locked --no-fail-fast
