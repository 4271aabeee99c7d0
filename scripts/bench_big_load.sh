#!/usr/bin/env bash
# Peak memory of a large load through the server against the same load done
# directly (docs/dev/benchmarks.md, "Loads of any size through the server").
# Usage: ./scripts/bench_big_load.sh [OUTDIR] [PERSONS] [KNOWS]
# (default 1M persons and 10M knows edges: a 650 MB JSONL file, from
# ../shared/bench/gen_social.py).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/omnigraph-big}"
persons="${2:-1000000}"
knows="${3:-10000000}"
[ -f "$out/social.jsonl" ] || python3 ../shared/bench/gen_social.py "$out" "$persons" "$knows"
cargo build --release --locked --workspace --examples --bins
bin=target/release
rm -rf "$out/direct" "$out/catalog"
ls -l "$out/social.jsonl"
/usr/bin/time -f "direct load: %e s wall, peak RSS %M KiB" sh -c \
  "$bin/omnigraph init --schema '$out/social.pg' '$out/direct' >/dev/null && $bin/omnigraph load --store '$out/direct' --data '$out/social.jsonl' --mode overwrite"
port=18777
"$bin/omnigraph-server" --catalog "$out/catalog" --bind "127.0.0.1:$port" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$out/server.log" && break; sleep 0.1; done
S="http://127.0.0.1:$port"
"$bin/omnigraph" graphs create --server "$S" --id big --schema "$out/social.pg" >/dev/null
echo "server before the load: $(grep VmHWM /proc/$server/status)"
start=$(date +%s%N)
"$bin/omnigraph" load --server "$S" --graph big --data "$out/social.jsonl" --mode overwrite
end=$(date +%s%N)
echo "load through the server: $(( (end - start) / 1000000 )) ms wall; server $(grep VmHWM /proc/$server/status)"
