#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with Schemathesis: starts `engram serve`
# (built dist/) on 127.0.0.1 with a fresh data directory and an API key, then checks that no
# generated request gets a 5xx and that every response matches the documented schema.
#   ENGRAM_FUZZ_EXAMPLES   examples per operation and phase (default 150)
#   ENGRAM_FUZZ_SEED       fixed seed for a reproducible run
set -euo pipefail
cd "$(dirname "$0")/.."

services="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}"
venv="$services/schemathesis"
version="4.32.5"
examples="${ENGRAM_FUZZ_EXAMPLES:-150}"

if [[ ! -x "$venv/bin/schemathesis" ]] || ! "$venv/bin/schemathesis" --version | grep -q "$version"; then
  echo "== installing schemathesis $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

[[ -f dist/bin.js ]] || { echo "dist/bin.js is missing: build first (pnpm --filter @engram/server build)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/engram-fuzz-XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export ENGRAM_LLM=none ENGRAM_EMBEDDER=hash ENGRAM_RATE_LIMIT_RPS=1000000 ENGRAM_RATE_LIMIT_BURST=1000000
unset OPENAI_API_KEY REDIS_URL ENGRAM_CONFIG ENGRAM_HOME ENGRAM_PORT ENGRAM_HOST || true

key="$(node dist/bin.js --data-dir "$work/data" --json keys create --project fuzz --name fuzz |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).key))')"

node dist/bin.js --data-dir "$work/data" serve --host 127.0.0.1 --port 0 > "$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(grep -o '"msg":"listening"' -m1 "$work/server.log" >/dev/null && grep -o '"port":[0-9]*' "$work/server.log" | head -1 | cut -d: -f2 || true)"
  [[ -n "$port" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done
[[ -n "$port" ]] || { echo "the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
base="http://127.0.0.1:$port"
echo "== engram serve on $base; schemathesis $version, $examples examples per operation"

# Seed a memory so that routes taking ids also meet existing ones.
curl -fsS -X POST "$base/v1/memories" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"messages":"seed memory for fuzzing","userId":"alice"}' > /dev/null

status=0
"$venv/bin/schemathesis" run "$base/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$examples" \
  --workers 1 \
  --generation-database none \
  --request-timeout 30 \
  --no-color \
  --report junit --report-junit-path "$work/junit.xml" \
  ${ENGRAM_FUZZ_SEED:+--seed "$ENGRAM_FUZZ_SEED"} || status=$?

requests="$(grep -c '"msg":"request"' "$work/server.log" || true)"
server_errors="$(grep '"msg":"request"' "$work/server.log" | grep -c '"status":5[0-9][0-9]' || true)"
echo "== the server answered $requests API requests, $server_errors with a 5xx"
# One test case per API operation, totalled with the other test reports of a CI run.
if [[ -n "${ENGRAM_TEST_REPORTS:-}" && -f "$work/junit.xml" ]]; then
  mkdir -p "$ENGRAM_TEST_REPORTS"
  cp "$work/junit.xml" "$ENGRAM_TEST_REPORTS/server-fuzz.junit.xml"
fi
if [[ "$server_errors" != "0" ]]; then
  grep '"level":50' "$work/server.log" | head -20 >&2
  status=1
fi
exit "$status"
