#!/usr/bin/env bash
# The Athena DDL check: builds a demo lake with the real binary (hourly via `eventlake demo`, then
# `eventlake daily`), then has Spark's Hive DDL parser run every statement `eventlake setup` prints
# and read every table back against the manifests (tests/spark/check_ddl.py says what is checked).
#   tests/spark/run.sh                   uses target/debug/eventlake (or $EVENTLAKE_BIN)
#   tests/spark/run.sh --ddl-file F.sql  checks hand-written statements instead of `setup`'s
# Scratch files go to a temp dir, kept (and named) only when the check fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${EVENTLAKE_BIN:-$ROOT/target/debug/eventlake}"
[ -x "$BIN" ] || { echo "tests/spark/run.sh: no eventlake binary at $BIN (cargo build first)" >&2; exit 2; }

PY="$("$ROOT/tests/spark/install.sh")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/eventlake-ddl-check.XXXXXX")"
keep=1
trap '[ "$keep" = 1 ] && echo "scratch files kept in $WORK" >&2 || rm -rf "$WORK"' EXIT

# The demo lake: hours 2026-11-20T05 and T06 (silver + quarantine), then that day's gold, for the
# sample events and the demo's CSV source (sources/paidy/).
{
  "$BIN" --log-format json demo --dir "$WORK/demo"
  "$BIN" --log-format json daily --lake "$WORK/demo/lake" --schemas "$WORK/demo/schemas" \
    --config "$WORK/demo/paidy/eventlake.toml" --date 2026-11-20 --allow-incomplete --no-metrics
} >"$WORK/demo.log" 2>&1 || { cat "$WORK/demo.log" >&2; echo "tests/spark/run.sh: building the demo lake failed" >&2; exit 2; }

"$PY" "$ROOT/tests/spark/check_ddl.py" --self-test --binary "$BIN" \
  --lake "$WORK/demo/lake" --schemas "$WORK/demo/schemas" --config "$WORK/demo/paidy/eventlake.toml" \
  --database eventlake_ddl_check \
  --work "$WORK/spark" "$@"
keep=0
