#!/usr/bin/env bash
# Type-checks byokd's local socket layer (byokit-client with its `tokio` feature: the Unix socket
# path macOS shares with Linux, its peer check through LOCAL_PEERCRED) and byokit-core for
# x86_64-apple-darwin, with Debian's rustc-web building std from source. Nothing is linked or run:
# there is no macOS linker or SDK here, and the daemon's C dependencies (SQLite, ring) need one
# (docs/windows.md, "macOS").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."

if ! dpkg -s rustc-web cargo-web rust-web-src >/dev/null 2>&1; then
  debian_install rustc-web cargo-web rust-web-src
fi
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_INCREMENTAL=0 \
  /usr/bin/cargo check --locked --target x86_64-apple-darwin -Zbuild-std=std,panic_abort \
  --target-dir "${CARGO_TARGET_DIR:-target}/macos" -p byokit-client --features tokio -p byokit-core
