#!/usr/bin/env bash
# byokd, byokit and the FFI library cross-built for x86_64-pc-windows-gnu with Debian's toolchain
# (rustc-web builds std from source, mingw-w64 links), then run under Wine: byokd.exe in the
# background serving byokit.exe over a named pipe (settings, records, a 30-day summary, `daemon
# stop`), and byokit-client's tests as a Windows program. See docs/windows.md.
# Usage: scripts/windows.sh [--build-only]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
cd "$(dirname "$0")/.."

need=()
for pkg in rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  debian_install "${need[@]}"
fi

triple=x86_64-pc-windows-gnu
# Its own target dir, cached across runs: Debian's rustc and rustup's never share artifacts.
target_dir="${CARGO_TARGET_DIR:-target}/windows"
# A debug build without debug info: faster to build than a release one (thin LTO), small enough
# to link quickly, and fast enough for the flow.
profile=debug
cargo_windows() {
  RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0 \
  CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    /usr/bin/cargo "$@" --locked --target "$triple" -Zbuild-std=std,panic_abort --target-dir "$target_dir"
}

start=$SECONDS
cargo_windows build -p byokit-daemon --bins -p byokit-ffi --lib
client_tests=$(cargo_windows test --no-run -p byokit-client --test client --message-format=json |
  python3 -c 'import json, sys; print(*(m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable")))')
out="$target_dir/$triple/$profile"
ls -l "$out/byokd.exe" "$out/byokit.exe" "$out/byokit_ffi.dll"
echo "windows build: $((SECONDS - start)) s"
[[ "${1:-}" == --build-only ]] && exit 0

# Wine 8.0 has no bcryptprimitives.dll, whose ProcessPrng Rust's std calls for randomness: a shim
# that answers with RtlGenRandom, beside the programs. For Wine only; never shipped.
shim_dir="$target_dir/wine-shim"
mkdir -p "$shim_dir"
if [[ ! -f "$shim_dir/bcryptprimitives.dll" ]]; then
  cat >"$shim_dir/shim.c" <<'EOF'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (!SystemFunction036(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
EOF
  x86_64-w64-mingw32-gcc -shared -O2 -o "$shim_dir/bcryptprimitives.dll" "$shim_dir/shim.c" -ladvapi32
fi
run_dir=$(mktemp -d)
export WINEPREFIX="$run_dir/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
  [[ -n "${byokd_pid:-}" ]] && kill "$byokd_pid" 2>/dev/null || true
  /usr/lib/wine/wineserver -k 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
# Windows looks for a DLL beside the program first.
cp "$shim_dir/bcryptprimitives.dll" "$out/"
cp "$shim_dir/bcryptprimitives.dll" "$(dirname "$client_tests")/"
bin="$out"
wine() { timeout 300 /usr/lib/wine/wine64 "$@"; }

echo "-- byokit-client's tests, as a Windows program"
wine "$client_tests" --test-threads 1

# Without --data-dir: byokit then never starts a byokd of its own, so every byokd here is
# started by the script. Output goes through a file, not a pipe: a process that outlived its
# parent and inherited the pipe would keep it open. Every Windows program gets a time limit.
unset BYOKIT_DATA_DIR BYOKIT_SOCKET
byokit() {
  local rc=0
  timeout 120 /usr/lib/wine/wine64 "$bin/byokit.exe" --socket "$pipe" "$@" >"$run_dir/out" || rc=$?
  tr -d '\r' <"$run_dir/out"
  return $rc
}
check() { # check NAME EXPECTED-SUBSTRING OUTPUT
  if [[ "$3" == *"$2"* ]]; then echo "ok: $1"; printf "%s\n" "$3" | head -12 | sed "s/^/    /"; else
    echo "FAILED: $1: expected '$2' in:"; echo "$3"; cat "$run_dir/byokd.log"; exit 1
  fi
}
start_byokd() { # byokd.exe on $pipe and $data in the background, until it answers
  /usr/lib/wine/wine64 "$bin/byokd.exe" --socket "$pipe" --data-dir "$data" "$@" >>"$run_dir/byokd.log" 2>&1 &
  byokd_pid=$!
  for _ in $(seq 1 100); do
    byokit daemon status >/dev/null 2>&1 && return
    kill -0 "$byokd_pid" 2>/dev/null || { cat "$run_dir/byokd.log"; echo "byokd.exe exited" >&2; exit 1; }
    sleep 0.3
  done
  echo "byokd.exe does not answer on $pipe" >&2; exit 1
}
stop_byokd() { # daemon stop, and byokd.exe gone
  check "daemon stop" "stopped" "$(byokit daemon stop)"
  for _ in $(seq 1 50); do kill -0 "$byokd_pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$byokd_pid" 2>/dev/null; then echo "FAILED: byokd.exe still running after daemon stop"; exit 1; fi
  byokd_pid=
}

pipe='\\.\pipe\byokit-ci'
data='C:\byokit-ci'
echo "-- byokd.exe on $pipe, byokit.exe through it"
start_byokd
check "daemon status, through the pipe" "socket $pipe" "$(byokit daemon status)"
key=sk-proj-TESTKEY0000000000000000000000000000wxyz
check "config save (the key from stdin)" "openai" "$(printf '%s' "$key" | byokit config save --provider openai)"
got=$(byokit config get)
check "config get (masked)" "wxyz" "$got"
[[ "$got" != *"$key"* ]] || { echo "FAILED: the key came back whole"; exit 1; }
check "usage record" "0.00" "$(byokit usage record --provider openai --model gpt-4o --input 2000 --cached-input 1536 --output 300 --feature portfolio_chat)"
byokit usage record --provider openai --model gpt-4o-mini --input 1000 --output 100 >/dev/null
check "usage --days 30" "portfolio_chat" "$(byokit usage --days 30)"
totals=$(byokit usage --days 30 --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(s["window"]["days"], s["totals"]["requests"], s["totals"]["cost_usd"], sorted(s["by_model"]))')
check "usage --days 30 --json: 30 days, 2 records, their exact cost, by model" \
  "30 2 0.00629 ['openai/gpt-4o', 'openai/gpt-4o-mini']" "$totals"
refused=$(wine "$bin/byokd.exe" --socket "$pipe" --data-dir 'C:\byokit-ci-2' >"$run_dir/out" 2>&1 || true
  tr -d '\r' <"$run_dir/out")
check "a second byokd.exe on the same pipe is refused" "already listening" "$refused"
stop_byokd

pipe='\\.\pipe\byokit-ci-keyring'
data='C:\byokit-ci-keyring'
echo "-- the master key in the Credential Manager (--master-key keyring)"
start_byokd --master-key keyring
check "config save" "openai" "$(printf '%s' "$key" | byokit config save --provider openai)"
stop_byokd
[[ ! -e "$WINEPREFIX/drive_c/byokit-ci-keyring/master.key" ]] ||
  { echo "FAILED: a master.key file, not the Credential Manager"; exit 1; }
# byokd checks the master key against the database before it serves: it starts again only
# with the key read back from the Credential Manager.
start_byokd
check "byokd started again, its key from the Credential Manager" "wxyz" "$(byokit config get)"
stop_byokd
echo "the Windows build passed under Wine ($((SECONDS - start)) s in all)"
