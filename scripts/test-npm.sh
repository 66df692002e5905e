#!/usr/bin/env bash
# Builds and packs the npm package, installs the tarball into an empty folder as a user would,
# and runs the JS tests there with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-npm.sh
tarball=$(ls "$PWD"/bindings/wasm/pkg/byokit-*.tgz)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$tarball")
cp bindings/wasm/tests/*.test.mjs "$dir/"
(cd "$dir" && BYOKIT_FIXTURES="$OLDPWD/tests/fixtures/providers" node --test ./*.test.mjs)
