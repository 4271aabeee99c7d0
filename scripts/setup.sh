#!/usr/bin/env bash
# Installs what building omnigraph needs on a fresh Debian/Ubuntu machine:
#   protoc  - lance's build compiles protobuf definitions (protobuf-compiler)
#   mold    - the linker .cargo/config.toml asks for (see docs/dev/build.md)
#   strace  - the durability tests check the fsync calls of real commands
# Safe to run again: it installs only what is missing.
set -euo pipefail
need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
command -v mold >/dev/null 2>&1 || need+=(mold)
# The durability tests watch the CLI's fsync calls (tests/cli/durability.rs).
command -v strace >/dev/null 2>&1 || need+=(strace)
command -v cc >/dev/null 2>&1 || need+=(build-essential)
# The S3 test server (scripts/s3_env.sh) runs in a Python venv.
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
if ((${#need[@]})); then
  echo "setup: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo (Rust toolchain) is required" >&2; exit 2; }
# The lint gate (scripts/test.sh) needs rustfmt and clippy; a minimal rustup profile lacks them.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  command -v rustup >/dev/null 2>&1 && rustup component add rustfmt clippy >/dev/null 2>&1 || { echo "setup: rustfmt and clippy are required (rustup component add rustfmt clippy)" >&2; exit 2; }
fi
