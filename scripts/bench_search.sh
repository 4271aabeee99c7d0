#!/usr/bin/env bash
# Search: omnigraph queries and pylance 14.0.2 on the same generated data
# (1M clustered 128-dim vectors, 1M short documents), in one run, with ratios.
# Usage: scripts/bench_search.sh [N] [DIM]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
n="${1:-1000000}"
dim="${2:-128}"
data="${BENCH_DIR:-target/bench-search}"
venv="${LANCE_VENV:-target/lance-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q pylance==14.0.2 numpy pyarrow
fi
[ -f "$data/meta.json" ] && grep -q "\"n\": $n, \"d\": $dim" "$data/meta.json" || "$venv/bin/python" scripts/bench/search_data.py "$data" "$n" "$dim"
# One build of every benchmark program (a -p build would resolve features anew).
cargo build --release --locked --workspace --examples
"${CARGO_TARGET_DIR:-target}/release/examples/search_bench" "$data" 2>/dev/null | tee "$data/omnigraph.txt"
"$venv/bin/python" scripts/bench/pylance_search.py "$data" 2>/dev/null | tee "$data/pylance.txt"
python3 - "$data" <<'PY'
import re, sys
d = sys.argv[1]
vals = {}
for name in ("omnigraph", "pylance"):
    for line in open(f"{d}/{name}.txt"):
        m = re.match(r"(\w+)_ms p50=([\d.]+) p99=([\d.]+)", line)
        if m:
            vals[m.group(1)] = float(m.group(2))
        m = re.match(r"(\w+) ([\d.]+)$", line.strip())
        if m:
            vals[m.group(1)] = float(m.group(2))
print(f"{'case':<18} {'omnigraph p50':>14} {'pylance p50':>12} {'ratio':>6} {'pylance on omnigraph table':>27} {'ratio':>6}")
for case in ("nearest", "nearest_filtered", "bm25"):
    o, p, q = vals.get(f"omnigraph_{case}"), vals.get(f"pylance_{case}"), vals.get(f"pylance_on_omnigraph_{case}")
    if o and p:
        print(f"{case:<18} {o:>14.2f} {p:>12.2f} {o / p:>6.2f} {q or 0:>27.2f} {o / q if q else 0:>6.2f}")
for k in ("recall10", "build_vector_s", "build_text_s", "filtered_short"):
    print(f"{k:<18} omnigraph {vals.get('omnigraph_' + k)}  pylance {vals.get('pylance_' + k)}  pylance on omnigraph table {vals.get('pylance_on_omnigraph_' + k, '-')}")
PY
