#!/usr/bin/env bash
# examples/web-app in headless Chromium against a real byokd and the mock provider (loopback only):
# the spec's settings pages (byokit/ui's two web components) clicked through, every usage figure
# checked against the REST API's summary to the last digit, axe-core on both pages, and
# screenshots at desktop and phone widths, light and dark, left in $BYOKIT_ARTIFACTS (default:
# <target dir>/web-app-screenshots); and the same two elements in React, Vue and Svelte pages,
# built from the example's frameworks/ with esbuild, each clicked through. Installs Debian's
# chromium when missing, and the pinned npm packages (playwright-core, axe-core, and the example's
# devDependencies: the frameworks, their compilers, esbuild) into a temporary folder beside the
# freshly built package.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."
repo=$PWD
target="${CARGO_TARGET_DIR:-target}"
[[ "$target" = /* ]] || target="$repo/$target"
artifacts="${BYOKIT_ARTIFACTS:-$target/web-app-screenshots}"
mkdir -p "$artifacts"
rm -f "$artifacts"/*.png
if ! [ -x /usr/bin/chromium ]; then
  debian_install chromium
fi
bash scripts/build-npm.sh
cargo build --locked -q -p byokit-daemon --bin byokd -p byokit-mock-provider
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp examples/web-app/package.json examples/web-app/server.mjs examples/web-app/test.mjs "$dir/"
cp -r examples/web-app/public examples/web-app/frameworks "$dir/"
(cd "$dir" && npm install --silent --no-audit --no-fund "$repo"/bindings/wasm/pkg/byokit-*.tgz playwright-core@1.65.1 axe-core@4.14.1)
(cd "$dir" && node frameworks/build.mjs)
(cd "$dir" && BYOKD="$target/debug/byokd" BYOKIT_MOCK="$target/debug/byokit-mock" BYOKIT_ARTIFACTS="$artifacts" \
  BYOKIT_FIXTURES="$repo/tests/fixtures/providers" \
  BYOKIT_PACKAGE_DIR="$dir/node_modules/byokit" AXE_PATH="$dir/node_modules/axe-core/axe.min.js" \
  node --test --test-concurrency=1 test.mjs)
echo "screenshots of both pages (desktop and phone, light and dark) and of the framework pages: $artifacts"
ls "$artifacts"
