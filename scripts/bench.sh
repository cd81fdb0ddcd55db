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
cargo bench -p lockstep ${1:+--bench "$1"}
