#!/usr/bin/env bash
# The main job: build omnigraph-server and the omnigraph CLI, then serve the
# catalog at ./omnigraph-data on http://127.0.0.1:8080 (created on first
# start). Arguments go to omnigraph-server, e.g. `--bind 127.0.0.1:9090`,
# `--catalog s3://bucket/prefix`, `--tokens-file tokens.json`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --locked --workspace  # same feature set as the tests and demo.sh: no rebuild of Lance
bin="${CARGO_TARGET_DIR:-target}/debug"
url="http://127.0.0.1:8080"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    if [[ "${args[$i]}" == "--bind" && $((i + 1)) -lt ${#args[@]} ]]; then url="http://${args[$((i + 1))]}"; fi
    if [[ "${args[$i]}" == --bind=* ]]; then url="http://${args[$i]#--bind=}"; fi
done
sed -e "s|@URL@|$url|g" -e "s|@BIN@|$bin|g" <<'HELP'

== Create a first graph (in another terminal) ==

With curl:
  curl -s -X POST @URL@/graphs -H 'content-type: application/json' \
    --data "$(python3 -c 'import json; print(json.dumps({"id": "social", "schema": open("examples/social/schema.pg").read()}))')"
  curl -s -X POST '@URL@/graphs/social/load?mode=overwrite' -H 'content-type: application/x-ndjson' \
    --data-binary @examples/social/data.jsonl
  curl -s -X POST @URL@/graphs/social/query -H 'content-type: application/json' \
    -d '{"query": "query q() { match { $p: Person } return { $p.handle, $p.age } order { $p.handle } }"}'
  curl -s @URL@/graphs

With the CLI:
  @BIN@/omnigraph graphs create --server @URL@ --id social2 --schema examples/social/schema.pg
  @BIN@/omnigraph load --server @URL@ --graph social2 --data examples/social/data.jsonl
  @BIN@/omnigraph query --server @URL@ --graph social2 --query examples/social/queries.gq friends --params '{"handle":"ada"}' --format table
  @BIN@/omnigraph graphs list --server @URL@

docs/user/server.md documents every route, tokens and policies.

HELP
exec "$bin/omnigraph-server" "$@"
