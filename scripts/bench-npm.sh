#!/usr/bin/env bash
# Size and speed of the npm package in Node: the gzipped .wasm, the time to import (compile and
# instantiate) it, and estimateCost and usageFromResponse calls per second. Builds and packs the
# package, installs the tarball into an empty folder and measures there, as users get it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-npm.sh >/dev/null
tarball=$(ls "$PWD"/bindings/wasm/pkg/byokit-*.tgz)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$tarball")
cp bindings/wasm/bench/bench.mjs "$dir/"
node --version
(cd "$dir" && BYOKIT_FIXTURES="$OLDPWD/tests/fixtures/providers" node bench.mjs)
