#!/usr/bin/env bash
# Edge-property filters: omnigraph and Kuzu on the social graph with a
# `since` date per Knows edge, in one run, with ratios.
# Usage: scripts/bench_edges.sh [PERSONS] [KNOWS]
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
[ -f "$data/knows.csv" ] || python3 ../shared/bench/gen_social.py "$data" "$persons" "$knows"
[ -f "$data/since/knows.csv" ] || python3 scripts/bench/knows_since.py "$data"
# One build of every benchmark program (a -p build would resolve features anew).
cargo build --release --locked --workspace --examples
"${CARGO_TARGET_DIR:-target}/release/examples/edge_bench" "$data/since" | tee "$data/since/omnigraph.txt"
"$venv/bin/python" scripts/bench/kuzu_edges.py "$data/since" | tee "$data/since/kuzu.txt"
python3 - "$data/since" <<'PY'
import re, sys
d = sys.argv[1]
def read(name):
    out = {}
    for line in open(f"{d}/{name}.txt"):
        m = re.match(r"[a-z]+_(\w+)_ms p50=([\d.]+) p99=([\d.]+)", line)
        if m:
            out[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return out
o, k = read("omnigraph"), read("kuzu")
print(f"{'query':<18} {'omnigraph p50':>14} {'kuzu p50':>10} {'ratio':>7}")
for q in o:
    if q in k:
        print(f"{q:<18} {o[q][0]:>14.2f} {k[q][0]:>10.2f} {o[q][0] / k[q][0]:>7.2f}")
PY
