#!/usr/bin/env bash
# Runs every check and test of the workspace, installing what it needs on a fresh Debian machine.
# Usage: scripts/test.sh            (from anywhere; CI runs it through .ci/run)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
if ! command -v cargo >/dev/null; then
  echo "cargo is not on PATH: install Rust with rustup (https://rustup.rs), then run this again" >&2
  exit 1
fi
cargo --version
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The TypeScript declarations' generator (run by scripts/build-npm.sh).
cargo clippy -p byokit-wasm --features ts --all-targets --locked -- -D warnings

step "tests (unit, integration, CLI, benchmarks in test mode)"
cargo test --workspace --all-targets --locked

step "the master key in the OS keyring: gnome-keyring's Secret Service in a D-Bus session of its own"
if ! command -v gnome-keyring-daemon >/dev/null || ! command -v dbus-run-session >/dev/null; then
  debian_install gnome-keyring dbus
fi
keyrings=$(mktemp -d) # the keyring's files, not the user's own
trap 'rm -rf "$keyrings"' EXIT
XDG_DATA_HOME="$keyrings" dbus-run-session -- sh -c 'printf byokit-test |
  gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
  cargo test --locked -q -p byokit-daemon --test daemon -- --ignored the_master_key_can_live_in_the_os_keyring'
rm -rf "$keyrings"
trap - EXIT

step "byokit-core without its default features (no tokenizer tables, no TOML: as in the wasm)"
cargo check --quiet --locked -p byokit-core --no-default-features

step "doc tests"
cargo test --workspace --doc --locked

step "docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "fuzz targets build (crash inputs are replayed by the tests above)"
cargo check --quiet --locked --manifest-path core/fuzz/Cargo.toml

step "examples"
cargo run --quiet --locked -p byokit-examples --example estimate_cost

step "byokit-core for wasm32-unknown-unknown"
bash scripts/wasm-build.sh byokit-core

step "the npm package: built, packed, installed into an empty folder, tested with node --test"
bash scripts/test-npm.sh

step "byokd on PostgreSQL: the daemon's tests, row-level security, two byokd on one database"
bash scripts/test-postgres.sh

step "byokd as a gateway: the openai client and curl through byokd to the mock providers"
bash scripts/test-gateway.sh

step "native bindings: Python and Kotlin tests, Swift checks"
bash scripts/test-ffi.sh

step "examples/node-server: a Node backend with its JWT sign-in, byokd's REST API and the openai package"
bash scripts/test-node-server.sh

step "the REST door attacked: schemathesis against /openapi.json on a live byokd and the mock provider"
bash scripts/rest-api-fuzz.sh 60

step "examples/web-app: the two settings pages in headless Chromium"
bash scripts/test-web-app.sh

step "Windows: cross-built, run under Wine"
bash scripts/windows.sh

step "macOS: the local socket layer and the core type-check for x86_64-apple-darwin"
bash scripts/macos-check.sh

echo
echo "all checks passed"
