#!/usr/bin/env bash
# Installs PySpark (with its bundled Hive 2.3 jars) into ${EVENTLAKE_TOOLS_DIR:-.tools}/venv-spark,
# once: later runs only print the path. Spark's Hive DDL parser is the local stand-in for Athena's
# DDL engine (tests/spark/check_ddl.py). Prints the venv's python on stdout, progress on stderr.
# Needs python3 and Java 17 (installed with apt-get when missing and we are root).
set -euo pipefail

PYSPARK_VERSION=4.3.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${EVENTLAKE_TOOLS_DIR:-$ROOT/.tools}"
VENV="$TOOLS/venv-spark"
STAMP="$VENV/.installed-pyspark-$PYSPARK_VERSION"

if ! command -v java >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Java 17 (PySpark needs a JVM)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >&2
  else
    echo "tests/spark/install.sh: java not found; PySpark needs Java 17" >&2
    exit 1
  fi
fi

if [ ! -f "$STAMP" ]; then
  echo "installing pyspark==$PYSPARK_VERSION into $VENV (first run only; ~450 MB download, about a minute)" >&2
  rm -rf "$VENV"
  mkdir -p "$TOOLS"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "pyspark==$PYSPARK_VERSION" >&2
  touch "$STAMP"
fi
echo "$VENV/bin/python"
