#!/usr/bin/env bash
# Runs the benchmarks in benches/ against a real PostgreSQL (the private
# cluster when DATABASE_URL is unset); results go in BENCHMARKS.md by hand.
#   scripts/bench.sh [NAME]     one benchmark (e.g. topology), or all
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/pg.sh
DATABASE_URL=$(lockstep_pg_database lockstep_bench --fresh)
export DATABASE_URL
# The load benchmark restarts PostgreSQL halfway; this is how, for the
# private cluster (with DATABASE_URL given, set it yourself).
if [ -n "${LOCKSTEP_PG_SERVER:-}" ] && [ -z "${LOCKSTEP_PG_RESTART:-}" ]; then
  owner=""; [ "$(id -u)" -eq 0 ] && owner="runuser -u postgres --"
  export LOCKSTEP_PG_RESTART="$owner $(pg_bindir)/pg_ctl -D $PG_HOME/data -w restart -m fast >/dev/null"
fi
cargo bench -p lockstep ${1:+--bench "$1"}
