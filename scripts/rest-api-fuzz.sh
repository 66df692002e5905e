#!/usr/bin/env bash
# byokd's REST door attacked by schemathesis (PyPI), driven by the door's own /openapi.json: a
# live byokd with the mock provider on 127.0.0.1, every operation, authenticated as a user whose
# real-looking key was saved first. Passes only with no 5xx, no response that breaks the schema
# (status, content type, headers, body), and the planted key in no response and no log line.
#
# Nothing leaves loopback: byokd's outbound calls go through a proxy address where nothing
# listens, except to 127.0.0.1 (the mock), so a fuzzed base URL or a key without one reaches no
# real provider.
#
# Usage: scripts/rest-api-fuzz.sh [SECONDS]   (the time budget of the fuzzing phases; default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-60}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${BYOKIT_SCHEMATHESIS_VENV:-$HOME/.cache/byokit/venv-schemathesis}"
version=4.32.5

cargo build -q --locked -p byokit-daemon --bins -p byokit-mock-provider
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -z "${BYOKIT_FUZZ_KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

"$target/debug/byokit-mock" --listen 127.0.0.1:0 --fixtures "$PWD/tests/fixtures/providers" >"$work/mock.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/mock.out" && break; sleep 0.05; done
mock="$(sed -n 's/^listening on //p' "$work/mock.out")"

service_token="svc-$(openssl rand -hex 24)"
printf '%s\n' "$service_token" >"$work/service-token"
# A JWT sign-in for the third run: an RSA key made now, its JWKS in a file, one RS256 token for
# the same user signed by openssl (PKCS#1 v1.5 over SHA-256 is RS256's signature as it is).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/jwt.pem" 2>/dev/null
modulus="$(openssl rsa -in "$work/jwt.pem" -noout -modulus | cut -d= -f2)"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
python3 - "$modulus" >"$work/jwks.json" <<'PY'
import base64, json, sys
n = base64.urlsafe_b64encode(bytes.fromhex(sys.argv[1])).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "kid": "fuzz-1", "alg": "RS256", "use": "sig", "n": n, "e": "AQAB"}]}))
PY
header="$(printf '{"alg":"RS256","typ":"JWT","kid":"fuzz-1"}' | b64url)"
claims="$(printf '{"sub":"fuzz-user","iss":"https://fuzz.invalid","aud":"byokit-fuzz","iat":%d,"exp":%d}' \
  "$(date +%s)" "$(( $(date +%s) + 7200 ))" | b64url)"
signature="$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$work/jwt.pem" -binary | b64url)"
jwt="$header.$claims.$signature"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
  "$target/debug/byokd" --data-dir "$work/data" --socket "$work/run/byokd.sock" \
  --http "127.0.0.1:$port" --rest-rate-limit 1000000 --service-token-file "$work/service-token" \
  --jwt-jwks "$work/jwks.json" --jwt-issuer https://fuzz.invalid --jwt-audience byokit-fuzz \
  2>"$work/byokd.log" &
pids+=($!)
for _ in $(seq 200); do [ -S "$work/run/byokd.sock" ] && break; sleep 0.05; done
base="http://127.0.0.1:$port"
byokit=("$target/debug/byokit" --socket "$work/run/byokd.sock" --data-dir "$work/data")

# The user, the planted key (made up for this run, in OpenAI's format) and some usage.
token="$("${byokit[@]}" --user fuzz-user http token)"
planted="sk-proj-$(openssl rand -hex 30)"
auth=(-H "authorization: Bearer $token" -H "content-type: application/json")
curl -sf "${auth[@]}" -X POST "$base/api/settings/api-config" \
  -d "{\"provider\": \"openai\", \"api_key\": \"$planted\", \"base_url\": \"$mock/openai/v1\"}" >/dev/null
for feature in matching letters letters; do
  curl -sf "${auth[@]}" -H "x-byokit-feature: $feature" "$base/v1/chat/completions" \
    -d '{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}' >/dev/null
done

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth,unsupported_method,missing_required_header
# One worker: with several threads, Python 3.11's ast.parse (which hypothesis calls to describe
# its strategies) can fail inside schemathesis itself ("AST constructor recursion depth
# mismatch"), an error of the tool, not of byokd.
# Three runs, one for each way to authenticate, all as the same user: the user's own token, the
# service token naming the user, the app's JWT.
status=0
for way in user-token service-token jwt; do
  case "$way" in
    user-token) secret="$token" ;;
    service-token) secret="$service_token" ;;
    jwt) secret="$jwt" ;;
  esac
  set +e
  # From the work folder: schemathesis keeps a cache in the folder it runs in.
  (cd "$work" && "$venv/bin/schemathesis" run "$base/openapi.json" \
    -H "Authorization: Bearer $secret" -H "X-Byokit-User: fuzz-user" \
    --checks "$checks" \
    --phases examples,coverage,fuzzing,stateful \
    --max-time "$budget" \
    --workers 1 \
    --report junit,vcr --report-dir "$work/report-$way" \
    --no-color) >"$work/schemathesis-$way.out" 2>&1
  run=$?
  set -e
  cat "$work/schemathesis-$way.out"
  [ "$run" -eq 0 ] || status="$run"
  summary="$(sed -n 's/^  \([0-9]* generated.*\)/\1/p' "$work/schemathesis-$way.out")"
  codes="$(grep -h -A2 '^  response:' "$work/report-$way"/*.yaml | sed -n "s/.*code: '\([0-9]*\)'/\1/p" | sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=", "}')"
  echo "rest-api-fuzz ($way): $summary; responses: $codes"
done

# The planted key: in no response (nor request) of any run, and never in byokd's log.
if grep -rqF "$planted" "$work"/report-* "$work/byokd.log"; then
  echo "rest-api-fuzz: the planted key appears in a response or a log line" >&2
  exit 1
fi
echo "rest-api-fuzz: the planted key is in no response and no log line; schemathesis exit $status"
exit "$status"
