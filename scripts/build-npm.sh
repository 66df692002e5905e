#!/usr/bin/env bash
# Builds the npm package `byokit` from bindings/wasm into bindings/wasm/pkg and packs it
# (bindings/wasm/pkg/byokit-<version>.tgz). Installs the wasm toolchain and the wasm-bindgen CLI
# (pinned to the wasm-bindgen crate version in Cargo.lock) when missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."

version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
  echo "installing wasm-bindgen-cli $version"
  cargo install --quiet wasm-bindgen-cli --version "$version"
fi

# Optimised for size: the whole program at once, `z` level, std built for size, a panic is an
# immediate trap (no message formatting, no source locations: nothing in the package prints
# them). Without reference types, which Debian's wasm-opt (binaryen 108) cannot optimise correctly.
CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_PANIC=abort WASM_BUILD_STD_FEATURES=optimize_for_size \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=-reference-types,-multivalue -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
  bash scripts/wasm-build.sh byokit-wasm
wasm="${CARGO_TARGET_DIR:-target}/wasm/wasm32-unknown-unknown/release/byokit_wasm.wasm"
out=bindings/wasm/pkg
rm -rf "$out"
mkdir -p "$out"
if ! command -v wasm-opt >/dev/null; then
  debian_install binaryen
fi
# The wasm module and its JS glue (byokit_wasm.js, the same for Node and the browser), then the
# package's entry (byokit.js) in front of it; in Node, the entry reads and instantiates the wasm
# as it is imported.
wasm-bindgen --target web --out-dir "$out/web" --out-name byokit_wasm "$wasm"
# Optimised for size (control flow flattened and re-structured first, then -Oz until no pass
# shrinks it further: 3.3 KB less than -Oz alone; docs/benchmarks.md); the features are those the
# wasm32 output above uses.
wasm-opt --flatten --rereloop -Oz -Oz --converge --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-nontrapping-float-to-int \
  "$out/web/byokit_wasm_bg.wasm" -o "$out/web/byokit_wasm_bg.wasm"
# esbuild (which bundles the entries below and byokit/ui) and uPlot (byokit/ui's charts), at the
# exact versions of the manifest's devDependencies, installed beside the build (not in the sources).
tools="${CARGO_TARGET_DIR:-target}/ui-tools"
manifest="$PWD/bindings/wasm/package.json"
mkdir -p "$tools"
ui_deps=$(node -e 'const d = require("./bindings/wasm/package.json").devDependencies; console.log(Object.entries(d).map(([n, v]) => `${n}@${v}`).join(" "))')
if ! (cd "$tools" && node -e 'const d = require(process.argv[1]).devDependencies; for (const [n, v] of Object.entries(d)) if (require(`./node_modules/${n}/package.json`).version !== v) process.exit(1)' "$manifest") 2>/dev/null; then
  echo "installing $ui_deps (byokit/ui's bundler and chart library)"
  # shellcheck disable=SC2086
  (cd "$tools" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --silent --no-audit --no-fund --save-exact $ui_deps)
fi
# The package's entry (js/byokit.mjs; in Node, js/node-init.mjs after it) and the glue bundled into
# one module per build, so that an import reads, compiles and links one file of JavaScript before
# the wasm, not three (the entry, the glue, the glue's copy of keys.js): 1.5 ms of a Node import
# (docs/benchmarks.md). Not minified: a stack trace still names the functions.
# The glue as wasm-bindgen wrote it stays beside the package, not in it: the package's tests take
# the JSON forms of its functions as the reference of the entry's compact forms.
cp -r "$out/web" "$out/node"
mkdir "$out/glue"
cp -r "$out/web/byokit_wasm.js" "$out/web/snippets" "$out/glue/"
cp bindings/wasm/js/byokit.mjs "$out/web/entry.mjs"
cat bindings/wasm/js/byokit.mjs bindings/wasm/js/node-init.mjs >"$out/node/entry.mjs"
for build in node web; do
  "$tools/node_modules/.bin/esbuild" "$out/$build/entry.mjs" --bundle --format=esm --target=es2022 \
    --platform="$([ $build = node ] && echo node || echo browser)" --external:node:module \
    --legal-comments=none --log-level=warning --outfile="$out/$build/byokit.js"
  rm -r "$out/$build/entry.mjs" "$out/$build/byokit_wasm.js" "$out/$build/snippets"
done
# The TypeScript declarations: the functions' as wasm-bindgen wrote them, then the package's types,
# made from the Rust types (rustdoc links become plain code spans).
cargo run --quiet --locked -p byokit-wasm --features ts --example typescript |
  perl -pe 's/\[(`[^`]+`)\]\([^)]*\)/$1/g; s/\[(`[^`]+`)\]/$1/g; s/`None`/`null`/g' >"$out/types.d.ts"
for build in node web; do
  cat "$out/$build/byokit_wasm.d.ts" "$out/types.d.ts" >"$out/$build/byokit.d.ts"
  rm "$out/$build/byokit_wasm.d.ts" "$out/$build/byokit_wasm_bg.wasm.d.ts"
done
rm "$out/types.d.ts"
node bindings/wasm/ui/build.mjs "$(cd "$tools" && pwd)" "$out/ui"
cp bindings/wasm/ui/byokit-ui.d.ts "$out/ui/"
cp bindings/wasm/package.json bindings/wasm/README.md bindings/wasm/js/daemon.mjs bindings/wasm/js/daemon.d.ts bindings/wasm/js/keys.js "$out/"
# The manifest's `prepack` guards the source folder (bindings/wasm) against `npm pack`; the
# package needs none.
(cd "$out" && npm pkg delete scripts >/dev/null && npm pack --silent >/dev/null)
ls -l "$out"/*.tgz "$out"/node/*.wasm
echo "gzipped wasm: $(gzip -9 -c "$out/node/byokit_wasm_bg.wasm" | wc -c) bytes"
# byokit/ui's size, held to its budget.
bash scripts/ui-size.sh
