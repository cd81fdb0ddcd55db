#!/usr/bin/env bash
# Checks the API against its own OpenAPI document, from outside: serves the
# release build on a fresh database with the demo data, validates
# /api/v1/openapi.json as OpenAPI 3 (openapi-spec-validator), then lets
# schemathesis generate requests from it for a bounded time. It fails on any
# 5xx, any status or content type the document does not list, and any
# response body that does not match its schema.
#
# Expects the release binary (`cargo leptos build --release`, or the
# end-to-end run before it) and DATABASE_URL's server (scripts/pg.sh).
#   API_CHECK_SECONDS   schemathesis' time budget (default 120)
#   LOCKSTEP_BIN        another build to check (default: the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/pg.sh

VENV="$HOME/.cache/lockstep/venv"
PORT=${API_CHECK_PORT:-3107}
TOKEN=api-check-token
BIN=${LOCKSTEP_BIN:-$CARGO_TARGET_DIR/release/lockstep}
[ -x "$BIN" ] || { echo "no release build at $BIN (cargo leptos build --release)" >&2; exit 1; }

[ -x "$VENV/bin/schemathesis" ] || { echo "run scripts/tools.sh --e2e first (schemathesis)" >&2; exit 1; }

URL=$(lockstep_pg_database lockstep_api_check --fresh)
LOG=$(mktemp)
DATABASE_URL=$URL LOCKSTEP_ADMIN_TOKEN=$TOKEN LOCKSTEP_ADDR=127.0.0.1:$PORT \
  LOCKSTEP_LOG_FORMAT=json "$BIN" --demo serve >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG" "$DOC"' EXIT
DOC=$(mktemp --suffix=.json)
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/api/v1/openapi.json" -o "$DOC"

echo "validating the OpenAPI document"
"$VENV/bin/openapi-spec-validator" "$DOC"

echo "fuzzing the API from its document (${API_CHECK_SECONDS:-120} s at most)"
# Reports go to a temporary folder, not the repository.
REPORTS=$(mktemp -d)
SCHEMATHESIS_HOOKS=api_check_hooks PYTHONPATH=scripts \
  "$VENV/bin/schemathesis" run "$DOC" \
  --url "http://127.0.0.1:$PORT" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-time "${API_CHECK_SECONDS:-120}" \
  --max-examples 30 \
  --seed 7 \
  --workers 2 \
  --report-dir "$REPORTS" \
  --suppress-health-check too_slow,filter_too_much \
  || { echo "server log (last 40 lines):" >&2; tail -n 40 "$LOG" >&2; exit 1; }
