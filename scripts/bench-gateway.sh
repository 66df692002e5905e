#!/usr/bin/env bash
# The gateway benchmark (daemon/benches/gateway.rs): byokd's OpenAI-compatible endpoint next to
# calling the mock provider directly, a bare forwarder (the least a gateway does) and, with
# --litellm, LiteLLM's proxy pointed at the same mock (installed from PyPI into a cached
# virtualenv). Loopback only, bounded in time.
# Usage: scripts/bench-gateway.sh [--litellm] [--seconds N] [--rate N] [--connections N]
set -euo pipefail
cd "$(dirname "$0")/.."

LITELLM_VERSION=1.108.7
with_litellm=0
args=()
for a in "$@"; do
  if [[ "$a" == "--litellm" ]]; then with_litellm=1; else args+=("$a"); fi
done

cargo build --locked --release -q -p byokit-mock-provider
target_dir="${CARGO_TARGET_DIR:-target}"
mock="$target_dir/release/byokit-mock"
[[ "$mock" = /* ]] || mock="$PWD/$mock"

cleanup=()
trap 'for p in "${cleanup[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
if ((with_litellm)); then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/byokit/venv-litellm"
  if [[ "$("$venv/bin/pip" show litellm 2>/dev/null | sed -n 's/^Version: //p')" != "$LITELLM_VERSION" ]]; then
    echo "installing litellm[proxy]==$LITELLM_VERSION from PyPI"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION"
  fi
  # LiteLLM calls its own mock: the same binary, on another port, so both see the same provider.
  exec 3< <("$mock" --fixtures "$PWD/tests/fixtures/providers")
  read -r line <&3
  cleanup+=($!)
  mock_url=${line#listening on }
  dir=$(mktemp -d)
  cat >"$dir/config.yaml" <<YAML
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: $mock_url/openai/v1
      api_key: sk-proj-mock
general_settings:
  master_key: sk-bench
litellm_settings:
  telemetry: false
YAML
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$venv/bin/litellm" --config "$dir/config.yaml" --host 127.0.0.1 --port "$port" >"$dir/litellm.log" 2>&1 &
  cleanup+=($!)
  for _ in $(seq 120); do
    curl -sf "http://127.0.0.1:$port/health/liveliness" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$port/health/liveliness" >/dev/null || { echo "LiteLLM did not start:"; tail -20 "$dir/litellm.log"; exit 1; }
  args+=(--litellm "http://127.0.0.1:$port/v1" --litellm-key sk-bench)
fi
BYOKIT_MOCK="$mock" cargo bench --locked -q -p byokit-daemon --bench gateway -- "${args[@]}"
