#!/usr/bin/env bash
# Source this file: it leaves DATABASE_URL pointing at a running PostgreSQL.
#
# With DATABASE_URL already set, it is used as it is. Otherwise Lockstep runs
# its own cluster under .data/postgres (ignored by git) from the system's
# PostgreSQL binaries, installing them with apt-get when they are absent, on a
# free non-default port; the next run reuses the same cluster.
#
#   lockstep_pg_database NAME [--fresh]   prints a URL for database NAME on that
#                                         server, creating (or recreating) it

LOCKSTEP_ROOT=${LOCKSTEP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PG_HOME="$LOCKSTEP_ROOT/.data/postgres"

pg_log() { printf '\033[1;34m[postgres]\033[0m %s\n' "$*" >&2; }

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    pg_log "installing PostgreSQL from Debian's packages"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  echo "$dir"
}

# initdb and postgres refuse to run as root: run them as the `postgres` user
# the Debian package creates.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

lockstep_pg_start() {
  local bin; bin=$(pg_bindir) || return 1
  mkdir -p "$PG_HOME"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PG_HOME"
    # A clone under a private directory (mode 700, as mktemp makes) is out
    # of the postgres user's reach: keep the cluster in a shared place then.
    if ! runuser -u postgres -- test -w "$PG_HOME"; then
      PG_HOME="/var/tmp/lockstep-postgres-$(printf '%s' "$LOCKSTEP_ROOT" | md5sum | cut -c1-12)"
      pg_log "the project folder is not reachable by the postgres user; using $PG_HOME"
      mkdir -p "$PG_HOME" && chown postgres:postgres "$PG_HOME"
    fi
  fi
  if [ ! -f "$PG_HOME/data/PG_VERSION" ]; then
    pg_log "creating a private cluster in $PG_HOME/data"
    pg_as_owner "$bin/initdb" -D "$PG_HOME/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null || return 1
  fi
  if pg_as_owner "$bin/pg_ctl" -D "$PG_HOME/data" status >/dev/null 2>&1; then
    PG_PORT=$(cat "$PG_HOME/port")
  else
    PG_PORT=$(cat "$PG_HOME/port" 2>/dev/null || echo 54329)
    while ! port_is_free "$PG_PORT"; do PG_PORT=$((PG_PORT + 1)); done
    echo "$PG_PORT" > "$PG_HOME/port"
    pg_log "starting on 127.0.0.1:$PG_PORT"
    pg_as_owner "$bin/pg_ctl" -D "$PG_HOME/data" -l "$PG_HOME/server.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_HOME -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=512MB -c work_mem=32MB -c maintenance_work_mem=256MB -c max_wal_size=4GB" start >/dev/null \
      || { tail -n 20 "$PG_HOME/server.log" >&2; return 1; }
  fi
  export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres
  export LOCKSTEP_PG_SERVER="postgres://postgres@127.0.0.1:$PG_PORT"
}

lockstep_pg_database() {
  local name=$1 fresh=${2:-}
  local server=${LOCKSTEP_PG_SERVER:-${DATABASE_URL%/*}}
  if [ "$fresh" = "--fresh" ]; then
    psql "$server/postgres" -qXc "drop database if exists \"$name\" with (force)" >/dev/null
  fi
  psql "$server/postgres" -qXtAc "select 1 from pg_database where datname = '$name'" | grep -q 1 \
    || psql "$server/postgres" -qXc "create database \"$name\"" >/dev/null
  echo "$server/$name"
}

if [ -z "${DATABASE_URL:-}" ]; then
  lockstep_pg_start || { pg_log "could not start PostgreSQL"; return 1 2>/dev/null || exit 1; }
  DATABASE_URL=$(lockstep_pg_database lockstep)
  export DATABASE_URL
fi
