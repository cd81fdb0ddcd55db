#!/usr/bin/env bash
# Source this file: it leaves MYSQL_URL pointing at a running MariaDB (or
# MySQL), for the collector's tests and the demo's `payments` service.
#
# With MYSQL_URL already set, it is used as it is. Otherwise Lockstep runs
# its own MariaDB under .data/mariadb (ignored by git) from Debian's
# mariadb-server, installing it with apt-get when absent, on a free port
# from 33069 up; the next run reuses it.

LOCKSTEP_ROOT=${LOCKSTEP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
MY_HOME="$LOCKSTEP_ROOT/.data/mariadb"

my_log() { printf '\033[1;35m[mariadb]\033[0m %s\n' "$*" >&2; }

my_install() {
  if [ ! -x /usr/sbin/mariadbd ] || ! command -v mariadb-install-db >/dev/null; then
    my_log "installing MariaDB from Debian's packages"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      mariadb-server mariadb-client >&2
  fi
}

# mariadbd refuses to run as root: as root it runs as the `mysql` user the
# Debian package creates.
my_owner() { if [ "$(id -u)" -eq 0 ]; then echo mysql; else id -un; fi; }

my_ping() { mariadb-admin --no-defaults --socket="$MY_HOME/mysqld.sock" -uroot ping >/dev/null 2>&1; }

lockstep_mysql_start() {
  my_install || return 1
  local owner; owner=$(my_owner)
  mkdir -p "$MY_HOME"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$owner" "$MY_HOME"
    # As for PostgreSQL: a clone in a private directory is out of the
    # mysql user's reach, so the server lives in a shared place then.
    if ! runuser -u "$owner" -- test -w "$MY_HOME"; then
      MY_HOME="/var/tmp/lockstep-mariadb-$(printf '%s' "$LOCKSTEP_ROOT" | md5sum | cut -c1-12)"
      my_log "the project folder is not reachable by the mysql user; using $MY_HOME"
      mkdir -p "$MY_HOME" && chown "$owner" "$MY_HOME"
    fi
  fi
  if [ ! -d "$MY_HOME/data/mysql" ]; then
    my_log "creating a private server in $MY_HOME/data"
    mariadb-install-db --no-defaults --datadir="$MY_HOME/data" --user="$owner" \
      --auth-root-authentication-method=normal --skip-test-db >"$MY_HOME/install.log" 2>&1 \
      || { tail -n 20 "$MY_HOME/install.log" >&2; return 1; }
  fi
  if my_ping; then
    MY_PORT=$(cat "$MY_HOME/port")
  else
    MY_PORT=$(cat "$MY_HOME/port" 2>/dev/null || echo 33069)
    while ! (! (exec 3<>"/dev/tcp/127.0.0.1/$MY_PORT") 2>/dev/null); do MY_PORT=$((MY_PORT + 1)); done
    echo "$MY_PORT" > "$MY_HOME/port"
    my_log "starting on 127.0.0.1:$MY_PORT"
    (setsid /usr/sbin/mariadbd --no-defaults --datadir="$MY_HOME/data" --user="$owner" \
      --socket="$MY_HOME/mysqld.sock" --pid-file="$MY_HOME/mysqld.pid" --port="$MY_PORT" \
      --bind-address=127.0.0.1 --log-error="$MY_HOME/server.log" --innodb-buffer-pool-size=256M \
      >/dev/null 2>&1 &)
    local waited=0
    until my_ping; do
      sleep 1; waited=$((waited + 1))
      if [ "$waited" -ge 60 ]; then tail -n 20 "$MY_HOME/server.log" >&2; return 1; fi
    done
    # Connections over TCP come from 127.0.0.1, which root@localhost
    # may not match: give that address its own password-less root.
    mariadb --no-defaults --socket="$MY_HOME/mysqld.sock" -uroot -e \
      "create user if not exists 'root'@'127.0.0.1'; grant all privileges on *.* to 'root'@'127.0.0.1' with grant option" \
      || return 1
  fi
  export MYSQL_URL="mysql://root@127.0.0.1:$MY_PORT"
}

if [ -z "${MYSQL_URL:-}" ]; then
  lockstep_mysql_start || { my_log "could not start MariaDB"; return 1 2>/dev/null || exit 1; }
fi
