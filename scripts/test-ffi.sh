#!/usr/bin/env bash
# Tests the native bindings (bindings/ffi): generates them, checks that generation is
# deterministic and that docs/ffi-api.md lists exactly the generated API, runs the Python tests
# and the Kotlin tests and example (on the JVM) with a real byokd for their daemon clients, and
# checks the Swift output as far as this machine can: the C header compiles, every symbol it declares is
# exported by the library, the Swift sources parse (the package's, with its example target and
# main.swift, and the repository's), those that use URLRequest, URLSession or HTTPURLResponse
# import FoundationNetworking under #if canImport(FoundationNetworking) (Linux needs it), and
# Package.swift declares the executable target Example (swift run Example).
# Installs what it needs: Debian's libjna-java and python3-venv, the Kotlin compiler (npm
# kotlin-compiler), and tree-sitter with its Swift grammar (PyPI) in a cached virtualenv.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."
root=$PWD

KOTLIN_VERSION=2.4.20
cache="${XDG_CACHE_HOME:-$HOME/.cache}/byokit"
mkdir -p "$cache"

missing=()
dpkg -s libjna-java >/dev/null 2>&1 || missing+=(libjna-java)
command -v java >/dev/null || missing+=(default-jdk-headless)
command -v gcc >/dev/null || missing+=(gcc)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
if ((${#missing[@]})); then
  debian_install "${missing[@]}"
fi

kotlin="$cache/kotlin-$KOTLIN_VERSION"
if [[ ! -x "$kotlin/bin/kotlinc" ]]; then
  echo "fetching kotlin-compiler@$KOTLIN_VERSION from npm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null && tar xzf kotlin-compiler-*.tgz)
  rm -rf "$kotlin"
  mv "$tmp/package" "$kotlin"
  chmod +x "$kotlin/bin/"*
  rm -rf "$tmp"
fi

venv="$cache/venv-swift"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import tree_sitter, tree_sitter_swift' 2>/dev/null; then
  echo "installing tree-sitter and tree-sitter-swift from PyPI"
  python3 -m venv "$venv" || { debian_install python3-venv && python3 -m venv "$venv"; }
  "$venv/bin/pip" install -q "tree-sitter==0.26.1" "tree-sitter-swift==0.7.4"
fi

bash scripts/ffi-generate.sh
build=bindings/ffi/build
target_dir="${CARGO_TARGET_DIR:-target}"

echo "== generation is deterministic"
again=$(mktemp -d)
trap 'rm -rf "$again"' EXIT
for lang in kotlin swift python; do
  "$target_dir/debug/uniffi-bindgen" generate --library "$build/lib/libbyokit_ffi.so" \
    --language "$lang" --no-format --out-dir "$again/$lang" >/dev/null
done
cmp "$again/kotlin/dev/byokit/byokit_ffi.kt" "$build/kotlin/src/main/kotlin/dev/byokit/byokit_ffi.kt"
cmp "$again/python/byokit_ffi.py" "$build/python/byokit_ffi.py"
cmp "$again/swift/Byokit.swift" "$build/swift/Sources/Byokit/Byokit.swift"
cmp "$again/swift/ByokitFFI.h" "$build/swift/Sources/ByokitFFI/ByokitFFI.h"

echo "== docs/ffi-api.md lists the generated API"
PYTHONPATH="$build/python" python3 bindings/ffi/api.py >"$again/api.md"
sed -n '/^```text$/,/^```$/p' docs/ffi-api.md >"$again/documented.md"
if ! diff -u "$again/documented.md" "$again/api.md"; then
  echo "docs/ffi-api.md is out of date: replace its listing with the output of"
  echo "  PYTHONPATH=$build/python python3 bindings/ffi/api.py"
  exit 1
fi


echo "== Swift checks"
header="$build/swift/Sources/ByokitFFI/ByokitFFI.h"
printf '#include "ByokitFFI.h"\n' |
  gcc -fsyntax-only -Wall -Werror -D_Nullable= -D_Nonnull= -I "$(dirname "$header")" -x c -
declared=$(grep -oE '\b(uniffi|ffi)_[A-Za-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$build/lib/libbyokit_ffi.so" | awk '{print $3}' | sort -u)
not_exported=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [[ -n "$not_exported" ]]; then
  echo "declared in the header but not exported by the library:"
  echo "$not_exported"
  exit 1
fi
echo "the header compiles; all $(echo "$declared" | wc -l) functions it declares are exported"
swift_check() { "$venv/bin/python" bindings/ffi/swift_parse.py "$@"; }
# Every .swift file of the generated package (Byokit.swift, Package.swift, the tests, the Example
# target) and the repository's Swift sources.
swift_check --package "$build/swift" bindings/ffi/tests/swift/*.swift examples/swift/*.swift
for file in examples/swift/*.swift; do cmp "$file" "$build/swift/Sources/Example/$(basename "$file")"; done
# The checks fail when what they look for is missing (so a change of the grammar cannot make them
# pass vacuously): a copy of the package without the guarded import, then without the target.
broken="$again/swift-broken"
cp -r "$build/swift" "$broken"
sed -i '/^#if canImport(FoundationNetworking)$/,/^#endif$/d' "$broken/Sources/Example/Example.swift"
if swift_check --package "$broken" >"$again/broken.log"; then
  echo "the Swift check passed an example without the FoundationNetworking import"; exit 1
fi
grep -q "Example.swift:.*uses URLRequest" "$again/broken.log" || { cat "$again/broken.log"; exit 1; }
cp "$build/swift/Sources/Example/Example.swift" "$broken/Sources/Example/"
sed -i '/\.executableTarget(name: "Example"/d' "$broken/Package.swift"
if swift_check --package "$broken" >"$again/broken.log"; then
  echo "the Swift check passed a Package.swift without the Example target"; exit 1
fi
grep -q 'no .executableTarget(name: "Example"' "$again/broken.log" || { cat "$again/broken.log"; exit 1; }
echo "the Swift checks fail without the guarded import and without the Example target"

echo "== a real byokd for the daemon clients; Kotlin compiled (JVM, JNA)"
cargo build --locked -q -p byokit-daemon --bin byokd
cp="/usr/share/java/jna.jar:$kotlin/lib/kotlin-test.jar"
"$kotlin/bin/kotlinc" -nowarn -cp "$cp" -d "$again/byokit-kotlin.jar" \
  "$build/kotlin/src/main/kotlin/dev/byokit/byokit_ffi.kt" \
  bindings/ffi/tests/kotlin/ByokitTest.kt examples/kotlin/Example.kt 2>&1 | grep -v '^warning:' || true
test -s "$again/byokit-kotlin.jar"
run=$(mktemp -d)
"$target_dir/debug/byokd" --data-dir "$run/data" --socket "$run/byokd.sock" >"$run/byokd.log" 2>&1 &
byokd=$!
trap 'kill $byokd 2>/dev/null || true; rm -rf "$again" "$run"' EXIT
for _ in $(seq 100); do [[ -S "$run/byokd.sock" ]] && break; sleep 0.1; done
java_cp="$again/byokit-kotlin.jar:$cp:$kotlin/lib/kotlin-stdlib.jar"
echo "== Python tests (with the daemon client against byokd)"
PYTHONPATH="$build/python" BYOKIT_FIXTURES="$root/tests/fixtures" BYOKIT_TEST_SOCKET="$run/byokd.sock" \
  python3 -m unittest bindings/ffi/tests/python/test_byokit.py
echo "== Kotlin tests"
BYOKIT_FIXTURES="$root/tests/fixtures" BYOKIT_TEST_SOCKET="$run/byokd.sock" \
  java -Djna.library.path="$build/lib" -cp "$java_cp" ByokitTestKt
BYOKIT_SOCKET="$run/byokd.sock" java -Djna.library.path="$build/lib" -cp "$java_cp" example.ExampleKt
echo "native bindings: all checks passed"
