#!/usr/bin/env bash
# Query benchmark: omnigraph and Kuzu on the same generated social graph, in
# one run, with ratios. Usage: scripts/bench_queries.sh [PERSONS] [KNOWS]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
persons="${1:-100000}"
knows="${2:-1000000}"
data="${BENCH_DIR:-target/bench-social}"
venv="${KUZU_VENV:-target/kuzu-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q kuzu==0.11.3
fi
bench=../shared/bench
[ -f "$data/social.jsonl" ] || python3 "$bench/gen_social.py" "$data" "$persons" "$knows"
cargo build --release --locked -p omnigraph-engine --example query_bench
"${CARGO_TARGET_DIR:-target}/release/examples/query_bench" "$data" | tee "$data/omnigraph.txt"
"$venv/bin/python" "$bench/kuzu_bench.py" "$data" | tee "$data/kuzu.txt"
python3 - "$data" <<'PY'
import re, sys
d = sys.argv[1]
def read(name):
    out = {}
    for line in open(f"{d}/{name}.txt"):
        m = re.match(r"\w+?_(\w+)_ms p50=([\d.]+) p99=([\d.]+)", line)
        if m:
            out[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return out
o, k = read("omnigraph"), read("kuzu")
print(f"{'query':<10} {'omnigraph p50':>14} {'kuzu p50':>10} {'ratio':>7}")
for q in o:
    if q in k:
        print(f"{q:<10} {o[q][0]:>14.2f} {k[q][0]:>10.2f} {o[q][0] / k[q][0]:>7.2f}")
PY
