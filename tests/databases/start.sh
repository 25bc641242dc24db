#!/usr/bin/env bash
# Starts a real PostgreSQL and a real MariaDB server on 127.0.0.1 for the export tests, each in a
# data folder of its own under $1 (created), on free ports; installs the Debian packages when the
# servers are missing. Prints the two URLs as shell assignments:
#   EVENTLAKE_TEST_POSTGRES_URL=postgresql://eventlake@127.0.0.1:PORT/eventlake
#   EVENTLAKE_TEST_MYSQL_URL=mysql://root@127.0.0.1:PORT/eventlake
# tests/databases/stop.sh $1 stops both.
set -euo pipefail
DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
log() { echo "tests/databases: $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$PG_BIN" ] || ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  log "installing postgresql and mariadb-server (Debian packages)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql mariadb-server >&2
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi

# PostgreSQL refuses to run as root: its data folder belongs to the postgres user.
PG_DATA="$DIR/postgres"
PG_PORT="$(free_port)"
rm -rf "$PG_DATA" && mkdir -p "$PG_DATA" && chown postgres:postgres "$PG_DATA"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$PG_BIN/initdb" -D "$PG_DATA/data" -A trust -U eventlake >"$DIR/postgres-init.log" 2>&1
as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/server.log" -w \
  -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1" start >&2
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U eventlake eventlake
echo "$PG_BIN" >"$DIR/postgres.bin"

MY_DATA="$DIR/mariadb"
MY_PORT="$(free_port)"
MARIADBD="$(command -v mariadbd || echo /usr/sbin/mariadbd)"
rm -rf "$MY_DATA" && mkdir -p "$MY_DATA"
mariadb-install-db --no-defaults --datadir="$MY_DATA/data" --user="$(id -un)" --auth-root-authentication-method=normal \
  >"$DIR/mariadb-init.log" 2>&1
"$MARIADBD" --no-defaults --datadir="$MY_DATA/data" --user="$(id -un)" --port="$MY_PORT" --bind-address=127.0.0.1 \
  --socket="$MY_DATA/sock" --pid-file="$MY_DATA/pid" --skip-name-resolve >"$MY_DATA/server.log" 2>&1 &
for _ in $(seq 1 100); do
  if mariadb --no-defaults -h 127.0.0.1 -P "$MY_PORT" -u root -e 'SELECT 1' >/dev/null 2>&1; then break; fi
  sleep 0.2
done
mariadb --no-defaults -h 127.0.0.1 -P "$MY_PORT" -u root -e 'CREATE DATABASE IF NOT EXISTS eventlake' >&2

echo "EVENTLAKE_TEST_POSTGRES_URL=postgresql://eventlake@127.0.0.1:$PG_PORT/eventlake"
echo "EVENTLAKE_TEST_MYSQL_URL=mysql://root@127.0.0.1:$MY_PORT/eventlake"
