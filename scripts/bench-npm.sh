#!/usr/bin/env bash
# Size and speed of the npm package, side by side with @pydantic/genai-prices (pure JS): the
# gzipped .wasm; the import time of each (byokit's includes compiling and instantiating the wasm);
# then, in one process and one run, each pair checked to give the same result and then timed in
# three rounds: estimateCost against calcPrice (calls/s and their ratio), a model looked up once
# (catalog.model(...).cost), usageFromResponse of the 838-byte OpenAI reply against extractUsage.
# In Node, then with the browser build in headless Chromium. Builds and packs the package, installs
# the tarball and genai-prices from the npm registry into an empty folder and measures there.
# Usage: scripts/bench-npm.sh [--node-only] [--tarball <byokit-*.tgz built at another commit>]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."
repo=$PWD
node_only=false tarball=
while [[ $# -gt 0 ]]; do
  case $1 in
    --node-only) node_only=true; shift ;;
    --tarball) tarball=$(realpath "$2"); shift 2 ;;
    *) echo "usage: scripts/bench-npm.sh [--node-only] [--tarball <byokit-*.tgz>]" >&2; exit 2 ;;
  esac
done
if [[ -z $tarball ]]; then
  bash scripts/build-npm.sh >/dev/null
  tarball=$(ls "$PWD"/bindings/wasm/pkg/byokit-*.tgz)
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$dir" && npm init -y >/dev/null && npm pkg set type=module >/dev/null &&
  npm install --silent --no-audit --no-fund "$tarball" @pydantic/genai-prices@0.1.8 playwright-core@1.65.1)
cp bindings/wasm/bench/*.mjs "$dir/"
# What Node itself takes to import a package (bench.mjs): an exports map like byokit's, one empty module.
mkdir -p "$dir/node_modules/empty-package"
echo '{"name": "empty-package", "type": "module", "exports": {".": {"node": "./index.js", "default": "./index.js"}}}' \
  >"$dir/node_modules/empty-package/package.json"
echo 'export {};' >"$dir/node_modules/empty-package/index.js"
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bindings/wasm/pkg' || echo ' (with uncommitted changes)'), $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "byokit: $tarball"
echo "Node $(node --version), @pydantic/genai-prices $(cd "$dir" && node -p "require('./node_modules/@pydantic/genai-prices/package.json').version")"
(cd "$dir" && BYOKIT_FIXTURES="$repo/tests/fixtures/providers" node bench.mjs)
if ! $node_only; then
  if ! [ -x /usr/bin/chromium ]; then
    debian_install chromium
  fi
  echo "== the browser build, in headless Chromium"
  (cd "$dir" && BYOKIT_FIXTURES="$repo/tests/fixtures/providers" node bench-browser.mjs)
fi
