#!/usr/bin/env bash
# The main job until the server lands: build the CLI, create a graph, load a
# sample, and print its snapshot. Set OMNIGRAPH_DEMO_DIR to keep the graph
# somewhere other than a fresh temp directory.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --locked --workspace  # same feature set as the tests and serve.sh: no rebuild of Lance
bin="${CARGO_TARGET_DIR:-target}/debug/omnigraph"
dir="${OMNIGRAPH_DEMO_DIR:-$(mktemp -d)}"
graph="$dir/social"
echo "== omnigraph init --schema examples/social/schema.pg $graph"
"$bin" init --schema examples/social/schema.pg "$graph"
echo "== omnigraph load --data examples/social/data.jsonl --mode overwrite --store $graph"
"$bin" load --data examples/social/data.jsonl --mode overwrite --store "$graph"
echo "== omnigraph snapshot --store $graph"
"$bin" snapshot --store "$graph"
echo "== omnigraph lint --schema examples/social/schema.pg --query examples/social/queries.gq"
"$bin" lint --schema examples/social/schema.pg --query examples/social/queries.gq
echo "== omnigraph query --store $graph --query examples/social/queries.gq friends --params '{\"handle\":\"ada\"}' --format table"
"$bin" query --store "$graph" --query examples/social/queries.gq friends --params '{"handle":"ada"}' --format table
echo "== omnigraph mutate --store $graph --query examples/social/queries.gq add_person --params '{...}'"
"$bin" mutate --store "$graph" --query examples/social/queries.gq add_person --params '{"handle":"barbara","name":"Barbara Liskov","friend":"grace"}'
echo "== omnigraph query --store $graph --query examples/social/queries.gq friend_counts --format table"
"$bin" query --store "$graph" --query examples/social/queries.gq friend_counts --format table
echo "== omnigraph export --store $graph --type Person"
"$bin" export --store "$graph" --type Person
echo
echo "The graph is at $graph; try: $bin snapshot --store $graph --json"
