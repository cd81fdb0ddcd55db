#!/usr/bin/env bash
# Everything CI checks, in order of cost: formatting, clippy (server and
# browser builds, warnings denied), unit and integration tests against a real
# PostgreSQL, then the Playwright suite against the release build, then the
# API fuzzed from its own OpenAPI document.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
start=$(date +%s)
step() { printf '\n\033[1;32m==> %s\033[0m (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "tools"
scripts/tools.sh --e2e
source scripts/pg.sh
source scripts/mysql.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy (server, ssr)"
cargo clippy -p lockstep -p app --all-targets --locked -- -D warnings
step "clippy (browser, hydrate)"
cargo clippy -p frontend --target wasm32-unknown-unknown --locked -- -D warnings

step "unit and integration tests"
cargo test -p lockstep -p app --locked

step "end-to-end (Playwright, release build, Chromium)"
E2E_DATABASE_URL=$(lockstep_pg_database lockstep_e2e --fresh)
# cargo-leptos can report success when the browser build fails (and then
# never starts Playwright): trust Playwright's own record of the run.
rm -f end2end/test-results/.last-run.json
# The live demo's spec gets databases of its own, a fast workload, and the
# binary it runs `lockstep demo disaster orders` with.
pg_server=${E2E_DATABASE_URL%/*}
export LOCKSTEP_DEMO_DATABASES="orders=$pg_server/lockstep_e2e_orders,customers=$pg_server/lockstep_e2e_customers,payments=${MYSQL_URL%/}/lockstep_e2e_payments"
export LOCKSTEP_DEMO_DIR="$PWD/.data/e2e-demo" LOCKSTEP_DEMO_TICK=2
export LOCKSTEP_BIN="$CARGO_TARGET_DIR/release/lockstep"
DATABASE_URL=$E2E_DATABASE_URL LOCKSTEP_ADMIN_TOKEN=e2e-admin-token \
  cargo leptos end-to-end --release
grep -q '"status": *"passed"' end2end/test-results/.last-run.json 2>/dev/null \
  || { echo "the Playwright suite did not run or did not pass" >&2; exit 1; }

step "API against its OpenAPI document (validator, schemathesis)"
scripts/api-check.sh

step "all checks passed"
