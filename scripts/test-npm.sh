#!/usr/bin/env bash
# Builds and packs the npm package, installs the tarball into an empty folder as a user would,
# and runs the JS tests there with Node's test runner: in Node, and in headless Chromium
# (Debian's, driven by playwright-core) for the web build and the dashboard page, whose
# screenshot is left in bindings/wasm/pkg/dashboard.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-npm.sh
tarball=$(ls "$PWD"/bindings/wasm/pkg/byokit-*.tgz)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if ! [ -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  apt-get install -y -qq chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
(cd "$dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$tarball" playwright-core@1.65.1)
cp bindings/wasm/tests/*.test.mjs "$dir/"
repo=$PWD
(cd "$dir" && BYOKIT_FIXTURES="$repo/tests/fixtures/providers" BYOKIT_BROWSER_DIR="$repo/bindings/wasm/tests/browser" \
  BYOKIT_SCREENSHOT="$repo/bindings/wasm/pkg/dashboard.png" node --test --test-concurrency=1 ./*.test.mjs)
