#!/usr/bin/env bash
# Builds and packs the npm package, installs the tarball into an empty folder as a user would,
# and tests it there: the TypeScript declarations with tsc (strict) against a typed usage file
# that then runs; the JS tests with Node's test runner, in Node, against a real byokd for the
# daemon client, and in headless Chromium (Debian's, driven by playwright-core) for the web build
# and the dashboard page, whose screenshot is left in bindings/wasm/pkg/dashboard.png.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."
repo=$PWD
bash scripts/build-npm.sh
tarball=$(ls "$PWD"/bindings/wasm/pkg/byokit-*.tgz)
dir=$(mktemp -d)
if ! [ -x /usr/bin/chromium ]; then
  debian_install chromium
fi
(cd "$dir" && npm init -y >/dev/null && npm pkg set type=module >/dev/null &&
  npm install --silent --no-audit --no-fund "$tarball" playwright-core@1.65.1 typescript@5.9.3 @types/node@20.19.43)

echo "== TypeScript: the typed usage file checks (tsc --strict) and runs"
cp bindings/wasm/tests/ts/usage.ts "$dir/"
(cd "$dir" && npx tsc --strict --noEmit --module nodenext --moduleResolution nodenext --target es2022 \
  --types node usage.ts &&
  npx tsc --strict --module nodenext --moduleResolution nodenext --target es2022 --types node --outDir out usage.ts &&
  node out/usage.js)
echo "== TypeScript: byokit/ui's declarations as an app uses them (tsc --strict, DOM)"
cp bindings/wasm/tests/ts/ui.ts "$dir/"
(cd "$dir" && npx tsc --strict --noEmit --module nodenext --moduleResolution nodenext --target es2022 \
  --lib es2022,dom,dom.iterable --types node ui.ts)

echo "== node --test, and the daemon client against a real byokd"
cargo build --locked -q -p byokit-daemon --bin byokd
run=$(mktemp -d)
"${CARGO_TARGET_DIR:-target}/debug/byokd" --data-dir "$run/data" --socket "$run/byokd.sock" >"$run/byokd.log" 2>&1 &
byokd=$!
trap 'kill $byokd 2>/dev/null || true; rm -rf "$dir" "$run"' EXIT
for _ in $(seq 100); do [[ -S "$run/byokd.sock" ]] && break; sleep 0.1; done
cp bindings/wasm/tests/*.test.mjs "$dir/"
cp -r bindings/wasm/pkg/glue "$dir/"
(cd "$dir" && BYOKIT_FIXTURES="$repo/tests/fixtures/providers" BYOKIT_BROWSER_DIR="$repo/bindings/wasm/tests/browser" \
  BYOKIT_SCREENSHOT="$repo/bindings/wasm/pkg/dashboard.png" BYOKIT_TEST_SOCKET="$run/byokd.sock" \
  node --test --test-concurrency=1 ./*.test.mjs)
