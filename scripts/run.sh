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
if [ "$LOCKSTEP_DEMO" = true ] && [ -z "${LOCKSTEP_DEMO_DATABASES:-}" ]; then
  # The live demo: orders and customers get databases beside Lockstep's,
  # payments one in MariaDB (a private one unless MYSQL_URL is given);
  # collectors inside the server report them, their dumps go to .data/demo.
  source scripts/mysql.sh
  pg_server=${LOCKSTEP_PG_SERVER:-${DATABASE_URL%/*}}
  export LOCKSTEP_DEMO_DATABASES="orders=$pg_server/shop_orders,customers=$pg_server/shop_customers,payments=${MYSQL_URL%/}/shop_payments"
  export LOCKSTEP_DEMO_DIR=${LOCKSTEP_DEMO_DIR:-$PWD/.data/demo}
  echo "Live demo: orders, customers and payments have real databases. Try a disaster: scripts/lockstep demo disaster orders"
fi
echo "Lockstep: http://127.0.0.1:3000   (database: ${DATABASE_URL%%\?*}, admin token: \$LOCKSTEP_ADMIN_TOKEN)"
echo "Sign in as admin, architect, operator or viewer; the demo password is lockstep-demo."
exec cargo leptos serve --release
