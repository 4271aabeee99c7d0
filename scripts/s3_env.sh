#!/usr/bin/env bash
# Sourced by test.sh and the benchmarks: starts a real S3-compatible server
# (moto, from PyPI, in a cached venv) on a free loopback port and exports the
# standard AWS_* variables that object_store and Lance read, plus
# OMNIGRAPH_TEST_S3 (the bucket URI tests use). Stops it when the shell exits.
S3_VENV="${OMNIGRAPH_S3_VENV:-$PWD/target/moto-venv}"
if [ ! -x "$S3_VENV/bin/python" ] || ! "$S3_VENV/bin/python" -c 'import moto.server, boto3' 2>/dev/null; then
  echo "installing the S3 test server (moto) into $S3_VENV" >&2
  python3 -m venv "$S3_VENV"
  "$S3_VENV/bin/pip" install -q 'moto[server]==5.2.5'
fi
S3_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
S3_LOG="$(mktemp)"
"$S3_VENV/bin/python" "$(dirname "${BASH_SOURCE[0]}")/s3_server.py" "$S3_PORT" omnigraph-test >"$S3_LOG" 2>&1 &
S3_PID=$!
trap 'kill $S3_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q ready "$S3_LOG" && break
  if ! kill -0 "$S3_PID" 2>/dev/null; then cat "$S3_LOG" >&2; echo "S3 test server failed to start" >&2; exit 1; fi
  sleep 0.2
done
grep -q ready "$S3_LOG" || { cat "$S3_LOG" >&2; echo "S3 test server did not start" >&2; exit 1; }
export AWS_ENDPOINT="http://127.0.0.1:$S3_PORT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true
export OMNIGRAPH_TEST_S3="s3://omnigraph-test"
echo "S3 test server on $AWS_ENDPOINT (pid $S3_PID)" >&2
