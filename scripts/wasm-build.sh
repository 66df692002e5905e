#!/usr/bin/env bash
# Builds a crate (default: byokit-core) for wasm32-unknown-unknown with Debian's rustc-web (rustup
# cannot download the wasm32 target here), linking with the rust-lld of the rustup toolchain.
# Usage: scripts/wasm-build.sh [package]; WASM_BUILD_STD_FEATURES (e.g. optimize_for_size) is
# passed to -Zbuild-std-features.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."

if ! dpkg -s rustc-web cargo-web rust-web-src >/dev/null 2>&1; then
  debian_install rustc-web cargo-web rust-web-src
fi
LLD="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
target_dir="${CARGO_TARGET_DIR:-target}/wasm"
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$LLD" \
  /usr/bin/cargo build --release --locked --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort ${WASM_BUILD_STD_FEATURES:+-Zbuild-std-features=$WASM_BUILD_STD_FEATURES} --target-dir "$target_dir" -p "${1:-byokit-core}"
