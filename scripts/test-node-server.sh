#!/usr/bin/env bash
# examples/node-server against a real byokd and the mock provider: installs its pinned packages
# (jose, openai) into a temporary copy and runs its test with Node's test runner. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cargo build --locked -q -p byokit-daemon -p byokit-mock-provider
bin="${CARGO_TARGET_DIR:-target}/debug"
[[ "$bin" = /* ]] || bin="$repo/$bin"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp examples/node-server/package.json examples/node-server/server.mjs examples/node-server/test.mjs "$dir/"
(cd "$dir" && npm install --silent --no-audit --no-fund)
(cd "$dir" && BYOKD="$bin/byokd" BYOKIT="$bin/byokit" BYOKIT_MOCK="$bin/byokit-mock" \
  BYOKIT_FIXTURES="$repo/tests/fixtures/providers" \
  node --test --test-concurrency=1 test.mjs)
