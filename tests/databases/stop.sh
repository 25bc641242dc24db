#!/usr/bin/env bash
# Stops the servers tests/databases/start.sh started under $1.
DIR="$1"
if [ -f "$DIR/postgres.bin" ]; then
  PG_BIN="$(cat "$DIR/postgres.bin")"
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DIR/postgres/data" -m fast stop >/dev/null 2>&1 || true
  else "$PG_BIN/pg_ctl" -D "$DIR/postgres/data" -m fast stop >/dev/null 2>&1 || true; fi
fi
if [ -f "$DIR/mariadb/pid" ]; then kill "$(cat "$DIR/mariadb/pid")" 2>/dev/null || true; fi
