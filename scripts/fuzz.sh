#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each), seeded with the shared provider
# fixtures and JSON-RPC cases. A crash input is left in core/fuzz/artifacts/<target>/: copy it to
# core/fuzz/regressions/<target>/ and commit it with the fix, so the test suite replays it.
# Usage: scripts/fuzz.sh [seconds per target] [target...]
set -euo pipefail
cd "$(dirname "$0")/../core/fuzz"
seconds="${1:-60}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(sse stream response error catalog jsonrpc)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked || cargo install cargo-fuzz
export RUSTC_BOOTSTRAP=1   # cargo-fuzz passes -Z sanitizer flags; the stable compiler accepts them so
for t in "${targets[@]}"; do
  seeds="corpus/$t"; mkdir -p "$seeds"
  i=0
  for p in openai anthropic groq gemini mistral; do
    for f in ../../tests/fixtures/providers/$p/*; do
      { printf "\\x$(printf %02x $i)"; cat "$f"; } > "$seeds/$p-$(basename "$f")"
    done
    i=$((i + 1))
  done
  # The client codec also starts from every line of the shared JSON-RPC cases.
  python3 -c 'import json, sys
for i, c in enumerate(json.load(open(sys.argv[1]))["lines"]):
    open(f"{sys.argv[2]}/case-{i}", "w").write(c["line"])' ../../tests/fixtures/jsonrpc/cases.json "$seeds"
  cargo fuzz run "$t" "$seeds" -- -max_total_time="$seconds" -max_len=65536
done
