#!/usr/bin/env bash
# Builds the npm package `byokit` from bindings/wasm into bindings/wasm/pkg and packs it
# (bindings/wasm/pkg/byokit-<version>.tgz). Installs the wasm toolchain and the wasm-bindgen CLI
# (pinned to the wasm-bindgen crate version in Cargo.lock) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
  echo "installing wasm-bindgen-cli $version"
  cargo install --quiet wasm-bindgen-cli --version "$version"
fi

bash scripts/wasm-build.sh byokit-wasm
wasm="${CARGO_TARGET_DIR:-target}/wasm/wasm32-unknown-unknown/release/byokit_wasm.wasm"
out=bindings/wasm/pkg
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target nodejs --out-dir "$out/node" --out-name byokit "$wasm"
wasm-bindgen --target web --out-dir "$out/web" --out-name byokit "$wasm"
cp bindings/wasm/package.json bindings/wasm/README.md "$out/"
(cd "$out" && npm pack --silent >/dev/null)
ls -l "$out"/*.tgz "$out"/node/*.wasm
