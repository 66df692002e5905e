#!/usr/bin/env bash
# byokd as a gateway, end to end: builds byokd, byokit and the mock providers (byokit-mock),
# installs the real `openai` client package into a temporary folder, and runs
# tests/gateway/gateway.test.mjs there with Node's test runner. Loopback only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."
repo=$PWD
command -v curl >/dev/null || debian_install curl
cargo build --locked -q -p byokit-daemon -p byokit-mock-provider
bin="${CARGO_TARGET_DIR:-target}/debug"
[[ "$bin" = /* ]] || bin="$repo/$bin"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$dir" && npm init -y >/dev/null && npm pkg set type=module >/dev/null &&
  npm install --silent --no-audit --no-fund openai@7.55.0)
cp tests/gateway/gateway.test.mjs "$dir/"
(cd "$dir" && BYOKD="$bin/byokd" BYOKIT="$bin/byokit" BYOKIT_MOCK="$bin/byokit-mock" \
  BYOKIT_FIXTURES="$repo/tests/fixtures" node --test --test-concurrency=1 gateway.test.mjs)
