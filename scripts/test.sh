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
DATABASE_URL=$E2E_DATABASE_URL LOCKSTEP_ADMIN_TOKEN=e2e-admin-token \
  cargo leptos end-to-end --release

step "API against its OpenAPI document (validator, schemathesis)"
scripts/api-check.sh

step "all checks passed"
