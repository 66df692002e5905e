#!/usr/bin/env bash
# The size of byokit/ui as a browser downloads it: the elements' JavaScript with uPlot bundled in,
# without the WebAssembly (loaded only by <byokit-api-config>'s key check), gzipped at level 9.
# Fails above the budget of 40 KB (40,960 bytes). Reads the build of scripts/build-npm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
file=bindings/wasm/pkg/ui/byokit-ui.js
[ -f "$file" ] || bash scripts/build-npm.sh
raw=$(wc -c <"$file")
gz=$(gzip -9 -c "$file" | wc -c)
echo "byokit/ui: $raw bytes minified, $gz bytes gzipped (budget 40960)"
[ "$gz" -le 40960 ] || { echo "byokit/ui is over its 40 KB budget" >&2; exit 1; }
