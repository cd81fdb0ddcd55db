#!/usr/bin/env bash
# Runs the dashboard on http://127.0.0.1:3000 with everything it needs:
# installs missing tools, starts a private PostgreSQL when DATABASE_URL is
# unset, builds with cargo-leptos and serves (migrating at start).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/tools.sh
source scripts/pg.sh
export LOCKSTEP_ADMIN_TOKEN=${LOCKSTEP_ADMIN_TOKEN:-lockstep-dev-admin}
# The demo shop, loaded into an empty database; LOCKSTEP_DEMO=false starts empty.
export LOCKSTEP_DEMO=${LOCKSTEP_DEMO:-true}
echo "Lockstep: http://127.0.0.1:3000   (database: ${DATABASE_URL%%\?*}, admin token: \$LOCKSTEP_ADMIN_TOKEN)"
echo "Sign in as admin, architect, operator or viewer; the demo password is lockstep-demo."
exec cargo leptos serve --release
