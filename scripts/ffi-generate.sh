#!/usr/bin/env bash
# Builds byokit-ffi for this machine and generates its Kotlin (package dev.byokit), Swift (module
# Byokit) and Python bindings in library mode with the pinned uniffi-bindgen, into
# bindings/ffi/build/ (not committed):
#   lib/libbyokit_ffi.so (.dylib)      the library the bindings load
#   kotlin/src/main/kotlin/dev/byokit/ a Kotlin source set, ready to copy into an Android project
#   swift/                             a Swift package: Package.swift, Sources/Byokit, the C module
#                                      Sources/ByokitFFI, Tests/ByokitTests (bindings/ffi/tests/swift),
#                                      the executable Sources/Example (examples/swift: swift run Example)
#   python/                            byokit_ffi.py beside the library
# Usage: scripts/ffi-generate.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
cargo_profile=()
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  cargo_profile=(--release)
fi
target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --locked "${cargo_profile[@]}" -p byokit-ffi -p byokit-uniffi-bindgen
case "$(uname -s)" in
  Darwin) lib="$target_dir/$profile/libbyokit_ffi.dylib" ;;
  *) lib="$target_dir/$profile/libbyokit_ffi.so" ;;
esac
bindgen="$target_dir/$profile/uniffi-bindgen"

out=bindings/ffi/build
rm -rf "$out"
mkdir -p "$out/lib"
cp "$lib" "$out/lib/"
generate() { "$bindgen" generate --library "$lib" --language "$1" --no-format --out-dir "$2" >/dev/null; }

generate kotlin "$out/kotlin/src/main/kotlin"
generate python "$out/python"
cp "$lib" "$out/python/"

# The Swift package: the generated module over a C module that links the library.
swift="$out/swift"
generate swift "$swift/generated"
mkdir -p "$swift/Sources/Byokit" "$swift/Sources/ByokitFFI" "$swift/Sources/Example" "$swift/Tests/ByokitTests"
mv "$swift/generated/Byokit.swift" "$swift/Sources/Byokit/"
mv "$swift/generated/ByokitFFI.h" "$swift/Sources/ByokitFFI/"
cat >"$swift/Sources/ByokitFFI/module.modulemap" <<'EOF'
module ByokitFFI {
    header "ByokitFFI.h"
    link "byokit_ffi"
    export *
}
EOF
rm -r "$swift/generated"
cp bindings/ffi/tests/swift/*.swift "$swift/Tests/ByokitTests/"
# The example as a program, as a Swift user would try it first: `swift run Example`.
cp examples/swift/Example.swift examples/swift/main.swift "$swift/Sources/Example/"
cat >"$swift/Package.swift" <<'EOF'
// swift-tools-version:5.9
// byokit for Swift. Build the library first (see bindings/ffi/README.md), then, with <dir> the
// directory of libbyokit_ffi (on Linux also LD_LIBRARY_PATH=<dir>, on macOS DYLD_LIBRARY_PATH):
//   swift build -Xlinker -L<dir>
//   swift test -Xlinker -L<dir>
//   swift run -Xlinker -L<dir> Example
import PackageDescription

let package = Package(
    name: "Byokit",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [.library(name: "Byokit", targets: ["Byokit"])],
    targets: [
        .systemLibrary(name: "ByokitFFI", path: "Sources/ByokitFFI"),
        .target(name: "Byokit", dependencies: ["ByokitFFI"], path: "Sources/Byokit"),
        .executableTarget(name: "Example", dependencies: ["Byokit"], path: "Sources/Example"),
        .testTarget(name: "ByokitTests", dependencies: ["Byokit"], path: "Tests/ByokitTests"),
    ]
)
EOF
echo "generated Kotlin, Swift and Python bindings in $out"
