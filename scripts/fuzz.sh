#!/usr/bin/env bash
# A longer run of the property tests the test command runs briefly: random
# and mutated schema text, query text, JSONL records and HTTP JSON bodies.
# Usage: ./scripts/fuzz.sh [CASES]   (default 20000 per text property; the
# load and HTTP properties run CASES/50, as each case writes a graph or
# makes a request). See docs/dev/hardening.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-20000}"
PROPTEST_CASES="$cases" cargo test --workspace --all-features --locked --test it -- fuzz::any_
PROPTEST_CASES="$((cases / 50))" cargo test --workspace --all-features --locked --test it -- fuzz::a_rejected_load
PROPTEST_CASES="$((cases / 50))" cargo test --workspace --all-features --locked --test e2e -- fuzz::
