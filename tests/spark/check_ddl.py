#!/usr/bin/env python3
"""Proves that the Athena DDL `eventlake setup` prints is valid Hive DDL and matches the lake's files.

Spark with Hive support is the local stand-in for Athena's DDL engine (no Athena runs here):

1. every statement from `eventlake setup --print --format json` is executed by Spark's Hive DDL
   parser against a fresh Derby metastore; any error fails the check and prints the statement;
2. every Parquet table gets `MSCK REPAIR TABLE` (Spark has no partition projection), then
   `count(*)`, rows per file and partition, and a full `SELECT *` collected in Python, so every
   column of every row is decoded through the DDL's types; the counts must equal the manifests';
3. each DDL column must exist in the files with the same type (a misspelled column or struct field
   would otherwise read as NULL in Athena, which no count catches);
4. one nested field of each struct and `size()` of each array and map are selected;
5. the Athena-only partition projection properties are checked against the files: every file's
   folder must be what `storage.location.template` renders for its partition values, and the values
   must fit `projection.<col>.*`;
6. the JSON quarantine table: pyspark bundles no JSON SerDe, so the CREATE is retried with the SerDe
   class swapped for LazySimpleSerDe (still parsing the whole statement), and its columns are then
   checked by reading the JSON files with the table's schema (FAILFAST) against the manifests.

`--self-test` first feeds statements that must be rejected (a trailing comma in `struct<>` and
friends) and one that must be accepted, so a parser that accepts anything cannot pass.

Usage (tests/spark/run.sh builds a demo lake and calls this):
  check_ddl.py --binary target/debug/eventlake --lake LAKE --schemas SCHEMAS --database DB --work DIR
  check_ddl.py --self-test --work DIR
  check_ddl.py --ddl-file FILE.sql --lake LAKE ...      # statements from a file instead of the binary
Exit status: 0 all checks passed, 1 a check failed, 2 bad usage or the tools did not run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

# Athena's JSON SerDes. pyspark bundles neither (nor Hive 3's org.apache.hadoop.hive.serde2.JsonSerDe).
ATHENA_JSON_SERDES = ("org.openx.data.jsonserde.JsonSerDe", "org.apache.hive.hcatalog.data.JsonSerDe")
STANDIN_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"

# (what is broken, statement): each must be rejected by Spark.
MUST_REJECT = [
    ("a trailing comma in struct<>", "CREATE EXTERNAL TABLE `selftest`.`t1` (`s` struct<a:string,b:bigint,>) STORED AS PARQUET LOCATION '{root}/t1/'"),
    ("a trailing comma in the column list", "CREATE EXTERNAL TABLE `selftest`.`t2` (`a` string, `b` bigint,) STORED AS PARQUET LOCATION '{root}/t2/'"),
    ("an unknown type", "CREATE EXTERNAL TABLE `selftest`.`t3` (`a` strin) STORED AS PARQUET LOCATION '{root}/t3/'"),
    ("an unclosed struct<", "CREATE EXTERNAL TABLE `selftest`.`t4` (`s` struct<a:string) STORED AS PARQUET LOCATION '{root}/t4/'"),
    ("a partition column repeated as a data column", "CREATE EXTERNAL TABLE `selftest`.`t5` (`dt` string) PARTITIONED BY (`dt` string) STORED AS PARQUET LOCATION '{root}/t5/'"),
]
MUST_ACCEPT = (
    "CREATE EXTERNAL TABLE IF NOT EXISTS `selftest`.`ok` (`s` struct<a:string,b:array<struct<c:bigint>>> COMMENT 'it\\'s fine', `t` timestamp)"
    " COMMENT 'x' PARTITIONED BY (`dt` string) STORED AS PARQUET LOCATION '{root}/ok/'"
    " TBLPROPERTIES ('projection.enabled'='true', 'storage.location.template'='{root}/ok/dt=${{dt}}')"
)


class ToolError(Exception):
    """The check could not run (exit status 2), as opposed to a check that failed (1)."""


class Report:
    """Collects failures and prints progress; the run fails if any failure was recorded."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.warnings: list[str] = []

    def fail(self, msg: str) -> None:
        self.failures.append(msg)
        print(f"FAIL {msg}", flush=True)

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)
        print(f"warn {msg}", flush=True)

    def ok(self, msg: str) -> None:
        print(f"ok   {msg}", flush=True)


# --- statements ------------------------------------------------------------------------------


def split_sql(text: str) -> list[str]:
    """Splits on `;` at the end of a line, outside quotes and backticks (fallback for `--print`)."""
    stmts, buf, quote, i = [], [], None, 0
    while i < len(text):
        c = text[i]
        buf.append(c)
        if quote:
            if c == "\\" and quote == "'" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "'`\"":
            quote = c
        elif c == ";" and text[i + 1 : i + 2] in ("\n", "\r", ""):
            stmts.append("".join(buf[:-1]).strip())
            buf = []
        i += 1
    tail = "".join(buf).strip()
    if tail:
        stmts.append(tail)
    return [s for s in stmts if s]


def statements_from_binary(binary: str, lake: str, schemas: str, database: str, config: str | None = None) -> list[str]:
    base = [binary, "setup", "--lake", lake, "--schemas", schemas, "--database", database, "--print"]
    if config:
        base += ["--config", config]
    env = dict(os.environ, EVENTLAKE_LOG_FORMAT="json")
    r = subprocess.run(base + ["--format", "json"], capture_output=True, text=True, env=env)
    if r.returncode == 0:
        try:
            stmts = json.loads(r.stdout)
        except ValueError:
            stmts = None
        if not (isinstance(stmts, list) and all(isinstance(s, str) for s in stmts)):
            raise ToolError(f"setup --format json did not print a JSON array of strings:\n{r.stdout[:2000]}")
        return [s.strip().rstrip(";").strip() for s in stmts]
    if "--format" not in r.stderr:  # a real failure, not an older binary without --format
        raise ToolError(f"`{' '.join(base)} --format json` failed ({r.returncode}):\n{r.stderr}")
    print("note: this binary's `setup` has no --format json; splitting its text output", flush=True)
    r = subprocess.run(base, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise ToolError(f"`{' '.join(base)}` failed ({r.returncode}):\n{r.stderr}")
    return split_sql(r.stdout)


STRING_LITERAL_RE = re.compile(r"'(?:[^'\\]|\\.)*'")


def adjacent_literals(stmt: str) -> list[str]:
    """String literals written as 'a''b'. Spark 4 reads that as a'b, but Hive (so Athena's DDL)
    concatenates adjacent literals into ab; Hive escapes a quote as \\'."""
    found, i, in_backticks = [], 0, False
    while i < len(stmt):
        c = stmt[i]
        if c == "`":
            in_backticks = not in_backticks
        elif c == "'" and not in_backticks:
            m = STRING_LITERAL_RE.match(stmt, i)
            if not m:
                break
            if stmt.startswith("'", m.end()):
                nxt = STRING_LITERAL_RE.match(stmt, m.end())
                found.append(stmt[i : nxt.end() if nxt else m.end() + 1])
            i = m.end()
            continue
        i += 1
    return found


# https://docs.aws.amazon.com/athena/latest/ug/reserved-words.html (DDL list). Spark accepts these as
# bare struct field names; Athena fails the statement unless they are backticked.
ATHENA_DDL_RESERVED = set(
    """ALL ALTER AND ARRAY AS AUTHORIZATION BETWEEN BIGINT BINARY BOOLEAN BOTH BY CASE CASHE CAST CHAR
    COLUMN CONF CONSTRAINT COMMIT CREATE CROSS CUBE CURRENT CURRENT_DATE CURRENT_TIMESTAMP CURSOR DATABASE
    DATE DAYOFWEEK DECIMAL DELETE DESCRIBE DISTINCT DIV DOUBLE DROP ELSE END EXCHANGE EXISTS EXTENDED
    EXTERNAL EXTRACT FALSE FETCH FLOAT FLOOR FOLLOWING FOR FOREIGN FROM FULL FUNCTION GRANT GROUP GROUPING
    HAVING IF IMPORT IN INNER INSERT INT INTEGER INTERSECT INTERVAL INTO IS JOIN LATERAL LEFT LESS LIKE
    LOCAL MACRO MAP MORE NONE NOT NULL NUMERIC OF ON ONLY OR ORDER OUT OUTER OVER PARTIALSCAN PARTITION
    PERCENT PRECEDING PRECISION PRESERVE PRIMARY PROCEDURE RANGE READS REDUCE REGEXP REFERENCES REVOKE
    RIGHT RLIKE ROLLBACK ROLLUP ROW ROWS SELECT SET SMALLINT START TABLE TABLESAMPLE THEN TIME TIMESTAMP
    TO TRANSFORM TRIGGER TRUE TRUNCATE UNBOUNDED UNION UNIQUEJOIN UPDATE USER USING UTC_TIMESTAMP VALUES
    VARCHAR VIEWS WHEN WHERE WINDOW WITH""".split()
)
STRUCT_FIELD_RE = re.compile(r"[<,]\s*([A-Za-z_][A-Za-z0-9_]*)\s*:")


def reserved_struct_fields(stmt: str) -> list[str]:
    """Bare struct field names that Athena's DDL parser reserves."""
    code = STRING_LITERAL_RE.sub("''", stmt)
    return sorted({m.group(1) for m in STRUCT_FIELD_RE.finditer(code) if m.group(1).upper() in ATHENA_DDL_RESERVED})


CREATE_TABLE_RE = re.compile(r"^\s*CREATE\s+(?:EXTERNAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(`[^`]+`|\w+)\.(`[^`]+`|\w+)", re.I)


def created_table(stmt: str) -> tuple[str, str] | None:
    m = CREATE_TABLE_RE.match(stmt)
    return (m.group(1).strip("`").lower(), m.group(2).strip("`").lower()) if m else None


# --- the lake's manifests --------------------------------------------------------------------


@dataclass
class Output:
    """One data file as a manifest lists it."""

    path: Path
    kind: str
    rows: int
    fields: dict  # event_type / dt / hour as the manifest states them
    manifest: Path


def is_hidden(rel: Path) -> bool:
    # Athena, Hive and Spark all skip files and folders starting with `_` or `.`.
    return any(p.startswith(("_", ".")) for p in rel.parts)


def load_manifests(lake: Path, report: Report) -> dict[Path, Output]:
    """Manifest outputs that exist on disk; checks every data file on disk is listed exactly once.

    The lake root and each named source's folder (`sources/<name>/`) keep their own manifests, whose
    keys are relative to that folder; models' manifests are the lake root's."""
    listed: dict[Path, list[Output]] = defaultdict(list)
    roots = [lake] + sorted(p for p in (lake / "sources").glob("*") if p.is_dir())
    manifests = [
        (root, m)
        for root in roots
        for m in sorted((root / "_manifests").glob("hourly/dt=*/hour=*.json"))
        + sorted((root / "_manifests").glob("daily/dt=*.json"))
        + sorted((root / "_manifests").glob("models/*.json"))
        + sorted((root / "_manifests").glob("models/*/dt=*.json"))
    ]
    if not manifests:
        report.fail(f"no manifests under {lake}/_manifests")
    for root, m in manifests:
        for o in json.loads(m.read_text()).get("outputs", []):
            p = (root / o["key"]).resolve()
            listed[p].append(Output(p, o["kind"], int(o["rows"]), {k: str(o.get(k) or "") for k in ("event_type", "dt", "hour")}, m))
    outputs = {}
    for p, outs in listed.items():
        if not p.exists():
            continue  # superseded by a later run; the files on disk are what counts
        if len(outs) > 1:
            report.fail(f"{p.relative_to(lake)} is listed by {len(outs)} manifests: {', '.join(str(o.manifest.relative_to(lake)) for o in outs)}")
        outputs[p] = outs[-1]
    for p in sorted(lake.rglob("*")):
        rel = p.relative_to(lake)
        if p.is_file() and p.suffix in (".parquet", ".jsonl") and not is_hidden(rel) and p.resolve() not in outputs:
            report.fail(f"{rel} is on disk but no manifest lists it")
    return outputs


# --- Spark -----------------------------------------------------------------------------------


def start_spark(work: Path):
    """A local Spark with Hive support and a fresh Derby metastore in `work` (stale tables would hide
    errors: every CREATE is IF NOT EXISTS)."""
    for stale in ("metastore_db", "warehouse", "selftest", "tmp"):
        shutil.rmtree(work / stale, ignore_errors=True)
    (work / "tmp").mkdir(parents=True)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    # The JVM inherits fd 2 when it starts: send its log noise to a file, keep ours on the terminal.
    log = work / "spark.log"
    saved = os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 2)
    try:
        spark = (
            SparkSession.builder.master("local[1]")
            .appName("eventlake-ddl-check")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.warehouse.dir", str(work / "warehouse"))
            .config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={work}/metastore_db;create=true")
            .config("spark.driver.memory", "512m")
            # Derby's log and Hive's scratch and resource folders, otherwise in the cwd and /tmp.
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={work} -Djava.io.tmpdir={work / 'tmp'}")
            .config("spark.local.dir", str(work / "tmp"))
            .config("spark.sql.shuffle.partitions", "1")
            # Otherwise Spark replaces `${dt}` in 'storage.location.template' with '' (Athena does not).
            .config("spark.sql.variable.substitute", "false")
            .config("spark.default.parallelism", "1")
            .enableHiveSupport()
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("OFF")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)
    from pyspark.logger import PySparkLogger

    # PySpark logs every failed query as JSON on stderr; we report errors ourselves.
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True
    return spark


def spark_error(e: Exception) -> str:
    """The error's message and its root cause, without the JVM stack traces."""
    full = str(e)
    msg = full
    for marker in ("\n\tat ", "\nJVM stacktrace:"):
        msg = msg.split(marker)[0]
    causes = [line for line in full.splitlines() if line.startswith("Caused by: ")]
    if causes and causes[-1] not in msg:
        msg += "\n" + causes[-1]
    return msg.strip()


def headline(err: str) -> str:
    """The most telling line of a Spark error: its root cause if it has one."""
    lines = [line for line in err.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("Caused by: "):
            return re.sub(r"^Caused by: [\w.$]+: ", "", line)
    return lines[0] if lines else "(no message)"


def self_test(spark, work: Path, report: Report) -> None:
    # The Athena-only rules Spark does not enforce, checked by this script itself.
    if reserved_struct_fields("(`s` struct<date:string,`from`:bigint>)") != ["date"]:
        report.fail("self-test: the reserved struct field check misses struct<date:string>")
    if len(adjacent_literals("COMMENT 'it''s' TBLPROPERTIES ('a'='', 'b'='\\'')")) != 1:
        report.fail("self-test: the '' escape check is wrong")
    spark.sql("CREATE DATABASE IF NOT EXISTS `selftest`")
    root = (work / "selftest").as_uri()
    for what, template in MUST_REJECT:
        stmt = template.format(root=root)
        try:
            spark.sql(stmt)
        except Exception as e:  # noqa: BLE001 - any rejection is what we want
            report.ok(f"self-test: Spark rejects DDL with {what}: {spark_error(e).splitlines()[0][:120]}")
        else:
            report.fail(f"self-test: Spark ACCEPTED DDL with {what}; the DDL check would prove nothing:\n{stmt}")
    stmt = MUST_ACCEPT.format(root=root)
    try:
        spark.sql(stmt)
        report.ok("self-test: Spark accepts a well-formed Athena-style statement")
    except Exception as e:  # noqa: BLE001
        report.fail(f"self-test: Spark rejected a well-formed statement:\n{stmt}\n{spark_error(e)}")


def execute_statements(spark, stmts: list[str], database: str, report: Report) -> dict[str, str]:
    """Runs every statement; returns {table: note} for tables created with a stand-in SerDe."""
    substituted: dict[str, str] = {}
    seen: dict[str, int] = {}
    for i, stmt in enumerate(stmts, 1):
        target = created_table(stmt)
        for word in reserved_struct_fields(stmt):
            report.fail(f"statement {i}: struct field {word} is an Athena DDL reserved word; Athena rejects it unless written `{word}` (Spark accepts both)")
        for lit in adjacent_literals(stmt):
            report.fail(f"statement {i}: the literal {lit} escapes a quote as '', which Hive and so Athena drop (Spark 4 does not); write \\' instead")
        if target:
            db, table = target
            if db != database.lower():
                report.fail(f"statement {i} creates `{db}`.`{table}`, not in database `{database}`:\n{stmt}")
            if table in seen:
                # With IF NOT EXISTS the second one would silently do nothing.
                report.fail(f"statements {seen[table]} and {i} both create `{table}`")
            seen[table] = i
        try:
            spark.sql(stmt)
            continue
        except Exception as e:  # noqa: BLE001
            err = spark_error(e)
        serde = next((s for s in ATHENA_JSON_SERDES if f"'{s}'" in stmt and s in err and "ClassNotFound" in err), None)
        if target and serde:
            try:
                spark.sql(stmt.replace(f"'{serde}'", f"'{STANDIN_SERDE}'"))
                substituted[target[1]] = serde
                report.ok(f"statement {i} (`{target[1]}`): Spark has no {serde} class; the statement parses with {STANDIN_SERDE} in its place")
                continue
            except Exception as e2:  # noqa: BLE001
                err = f"{err}\n(and with {STANDIN_SERDE} in its place:)\n{spark_error(e2)}"
        name = f" (`{target[1]}`)" if target else ""
        report.fail(f"Spark rejected statement {i}{name}: {headline(err)}\n{indent(stmt)}\nerror:\n{indent(err)}")
    if not any(created_table(s) for s in stmts):
        report.fail("the statements create no table")
    return substituted


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# --- per-table checks ------------------------------------------------------------------------


@dataclass
class Table:
    name: str
    location: Path
    parquet: bool
    data_schema: object  # pyspark StructType of the data columns
    partitions: list[str]
    props: dict[str, str]


def describe(spark, database: str, name: str) -> Table:
    from pyspark.sql.types import StructType

    rows = spark.sql(f"DESCRIBE TABLE EXTENDED `{database}`.`{name}`").collect()
    info = {r.col_name.strip(): r.data_type for r in rows}
    cols = spark.catalog.listColumns(f"`{database}`.`{name}`")
    parts = [c.name for c in cols if c.isPartition]
    full = spark.table(f"`{database}`.`{name}`").schema
    data = StructType([f for f in full.fields if f.name not in parts])
    props = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES `{database}`.`{name}`").collect()}
    fmt = (info.get("Serde Library", "") + info.get("InputFormat", "") + info.get("Provider", "")).lower()
    return Table(name, url_path(info.get("Location", "")), "parquet" in fmt, data, parts, props)


def url_path(url: str) -> Path:
    u = urlparse(url)
    if u.scheme not in ("", "file"):
        raise ValueError(f"location {url} is not a local path; run the check on a local lake")
    return Path(unquote(u.path)).resolve()


def same_type(ddl, file) -> bool:
    """Spark types equal, ignoring nullability, name case and timestamp time-zone flavour."""
    from pyspark.sql.types import ArrayType, MapType, StructType, TimestampNTZType, TimestampType

    ts = (TimestampType, TimestampNTZType)
    if isinstance(ddl, ts) and isinstance(file, ts):
        return True
    if isinstance(ddl, StructType) and isinstance(file, StructType):
        return not type_diffs(ddl, file, "")
    if isinstance(ddl, ArrayType) and isinstance(file, ArrayType):
        return same_type(ddl.elementType, file.elementType)
    if isinstance(ddl, MapType) and isinstance(file, MapType):
        return same_type(ddl.keyType, file.keyType) and same_type(ddl.valueType, file.valueType)
    return type(ddl) is type(file)


def type_diffs(ddl, file, prefix: str) -> list[tuple[str, str]]:
    """[(column path, problem)] for DDL fields missing from the file or typed differently."""
    from pyspark.sql.types import ArrayType, StructType

    out = []
    by_name = {f.name.lower(): f for f in file.fields}
    for f in ddl.fields:
        path = f"{prefix}{f.name}"
        got = by_name.get(f.name.lower())
        if got is None:
            out.append((path, "missing"))
        elif isinstance(f.dataType, StructType) and isinstance(got.dataType, StructType):
            out += type_diffs(f.dataType, got.dataType, path + ".")
        elif isinstance(f.dataType, ArrayType) and isinstance(f.dataType.elementType, StructType) and isinstance(got.dataType, ArrayType) and isinstance(got.dataType.elementType, StructType):
            out += type_diffs(f.dataType.elementType, got.dataType.elementType, path + "[].")
        elif not same_type(f.dataType, got.dataType):
            out.append((path, f"DDL {f.dataType.simpleString()}, file {got.dataType.simpleString()}"))
    return out


def check_columns(spark, database: str, table: Table, expected: dict[Path, Output], lake: Path, report: Report, cache: dict) -> None:
    """Each DDL column must be in the files with the DDL's type."""
    files = sorted(expected)
    missing_in: dict[str, int] = defaultdict(int)
    bad = False
    for p in files:
        if p not in cache:
            reader = spark.read.format("parquet" if table.parquet else "json")
            cache[p] = reader.load(str(p)).schema
        for path, problem in type_diffs(table.data_schema, cache[p], ""):
            if problem == "missing":
                missing_in[path] += 1
            elif table.parquet:
                bad = True
                report.fail(f"{table.name}.{path}: {problem} in {p.relative_to(lake)}")
            else:
                # JSON types are only guessed from the values; the FAILFAST read is the real test.
                bad = True
                report.warn(f"{table.name}.{path}: {problem} (inferred from the JSON) in {p.relative_to(lake)}")
    for path, n in missing_in.items():
        # JSON omits optional keys, and older Parquet files may predate a new column: only a column
        # that no file has is surely a mistake (Athena would read it as NULL everywhere).
        msg = f"{table.name}.{path} is in the DDL but not in {n} of {len(files)} files"
        if n == len(files) and table.parquet:
            report.fail(msg + " (misspelled? Athena would read NULL)")
        else:
            report.warn(msg)
    if not bad and not missing_in:
        report.ok(f"{table.name}: every DDL column is in all {len(files)} files with the DDL's type")


def check_projection(spark, database: str, table: Table, expected: dict[Path, Output], lake: Path, report: Report, cache: dict) -> None:
    """Athena finds files through partition projection, which Spark ignores: check it by hand."""
    per_file = {p: partition_values(p, table.partitions) for p in expected}
    props = table.props
    if not table.partitions:
        report.ok(f"{table.name}: unpartitioned, read from its folder (no projection needed)")
        return
    if props.get("projection.enabled", "").lower() != "true":
        report.warn(f"{table.name}: projection.enabled is not 'true'; Athena would need MSCK REPAIR TABLE")
        return
    template = props.get("storage.location.template")
    if not template:
        report.fail(f"{table.name}: projection is enabled but storage.location.template is missing")
        return
    placeholders = re.findall(r"\$\{([^}]*)\}", template)
    if sorted(placeholders) != sorted(table.partitions):
        report.fail(f"{table.name}: storage.location.template {template!r} has placeholders {placeholders}, partitions are {table.partitions}")
        return
    problems = []
    for col in table.partitions:
        kind = props.get(f"projection.{col}.type")
        if kind not in ("enum", "integer", "date", "injected"):
            problems.append(f"projection.{col}.type is {kind!r}")
    for p, values in per_file.items():
        rendered = re.sub(r"\$\{([^}]*)\}", lambda m: values.get(m.group(1), "?"), template)
        if url_path(rendered.rstrip("/") + "/") != p.parent.resolve():
            problems.append(f"template renders {rendered} for {p} (values {values})")
        for col, v in values.items():
            why = projection_rejects(props, col, v)
            if why:
                problems.append(f"{col}={v!r}: {why}")
    problems = sorted(set(problems))
    for msg in problems[:5]:
        report.fail(f"{table.name}: {msg}")
    if len(problems) > 5:
        report.fail(f"{table.name}: ... and {len(problems) - 5} more projection problems")
    if not problems:
        report.ok(f"{table.name}: storage.location.template and projection.* match all {len(per_file)} files")


def projection_rejects(props: dict[str, str], col: str, value: str) -> str | None:
    """Why Athena's projection for `col` would not produce `value`, or None."""
    kind = props.get(f"projection.{col}.type")
    if kind == "enum":
        values = [v.strip() for v in props.get(f"projection.{col}.values", "").split(",")]
        return None if value in values else f"not in projection.{col}.values {values}"
    if kind == "integer":
        lo, _, hi = props.get(f"projection.{col}.range", "").partition(",")
        digits = int(props.get(f"projection.{col}.digits", "0") or 0)
        if not re.fullmatch(r"-?\d+", value):
            return "not an integer"
        if lo and hi and not int(lo) <= int(value) <= int(hi):
            return f"outside projection.{col}.range {lo},{hi}"
        if len(value) != max(digits, len(str(int(value)))):
            return f"Athena renders it with projection.{col}.digits={digits} as {str(int(value)).zfill(digits)!r}"
        return None
    if kind == "date":
        fmt = props.get(f"projection.{col}.format", "")
        if not fmt or not props.get(f"projection.{col}.range"):
            return f"date projection needs projection.{col}.format and .range"
        rx = re.escape(fmt)
        for token, digits in (("yyyy", 4), ("MM", 2), ("dd", 2), ("HH", 2), ("mm", 2), ("ss", 2)):
            rx = rx.replace(token, rf"\d{{{digits}}}")
        return None if re.fullmatch(rx, value) else f"does not have projection.{col}.format {fmt!r}"
    return None


def nested_probe(df, table: Table) -> str | None:
    """Selects one leaf of each struct and size() of each array and map; returns what they gave."""
    from pyspark.sql.types import ArrayType, MapType, StructType

    exprs = []
    for f in table.data_schema.fields:
        col, t, path = f"`{f.name}`", f.dataType, f.name
        if isinstance(t, MapType):
            # size() of a null map is -1: count only the rows that have one.
            exprs.append((f"sum(size({col})) filter (where {col} is not null)", f"sum(size({path}))"))
        if isinstance(t, ArrayType):
            exprs.append((f"sum(size({col}))", f"sum(size({path}))"))
            if isinstance(t.elementType, StructType):
                col, t, path = f"try_element_at({col}, 1)", t.elementType, f"{path}[1]"
        while isinstance(t, StructType):
            first = t.fields[0]
            col, t, path = f"{col}.`{first.name}`", first.dataType, f"{path}.{first.name}"
        if path != f.name:
            exprs.append((f"count({col})", f"count({path})"))
    if not exprs:
        return None
    row = df.selectExpr(*(e for e, _ in exprs)).collect()[0]
    return ", ".join(f"{label}={v}" for (_, label), v in zip(exprs, row))


def check_table(spark, database: str, table: Table, outputs: dict[Path, Output], lake: Path, report: Report, cache: dict) -> None:
    """Reads the table through its DDL and compares it with the manifests and the files."""
    expected = {p: o for p, o in outputs.items() if p.is_relative_to(table.location) and (p.suffix == ".parquet") == table.parquet}
    if not expected:
        report.fail(f"{table.name}: no data file under its LOCATION {table.location}; nothing would be checked")
        return
    # Independent steps: one failing (say, a type the files cannot be read as) must not hide the others.
    for step in (read_and_compare, check_columns, check_projection):
        try:
            step(spark, database, table, expected, lake, report, cache)
        except Exception as e:  # noqa: BLE001
            err = spark_error(e)
            report.fail(f"{table.name}: {step.__name__} failed: {headline(err)}\n{indent(err)}")


def read_and_compare(spark, database: str, table: Table, expected: dict[Path, Output], lake: Path, report: Report, cache: dict) -> None:
    """count(*), a full SELECT *, rows per file and partition, all against the manifests."""
    from pyspark.sql.functions import col, count, input_file_name

    want_rows = sum(o.rows for o in expected.values())
    qname = f"`{database}`.`{table.name}`"
    if table.parquet:
        if table.partitions:  # an unpartitioned table (a `table` model) reads its folder as it is
            spark.sql(f"MSCK REPAIR TABLE {qname}")
        total = spark.sql(f"SELECT count(*) FROM {qname}").collect()[0][0]
        df = spark.table(qname)
        rows = df.collect()  # decodes every column of every row through the DDL's types
        by_file = [r.asDict() for r in df.groupBy(input_file_name().alias("f"), *[col(c) for c in table.partitions]).agg(count("*").alias("n")).collect()]
    else:
        # Spark has no JSON SerDe to read this table with; read its files with the table's schema.
        df = spark.read.schema(table.data_schema).option("mode", "FAILFAST").json([str(p) for p in expected])
        rows = df.collect()
        total = len(rows)
        by_file = [r.asDict() for r in df.groupBy(input_file_name().alias("f")).agg(count("*").alias("n")).collect()]
        for r in by_file:
            r.update(partition_values(url_path(r["f"]), table.partitions))

    got_files = {url_path(r["f"]): r for r in by_file}
    counts_ok = total == want_rows == len(rows)
    if not counts_ok:
        report.fail(f"{table.name}: count(*)={total}, SELECT * returned {len(rows)} rows, manifests say {want_rows}")
    for p, o in sorted(expected.items()):
        got = got_files.get(p)
        rel = p.relative_to(lake)
        if got is None:
            report.fail(f"{table.name}: Spark read no rows from {rel} (manifest: {o.rows})")
            continue
        if got["n"] != o.rows:
            report.fail(f"{table.name}: {rel} has {got['n']} rows through the DDL, manifest {o.manifest.relative_to(lake)} says {o.rows}")
        for c in table.partitions:
            if o.fields.get(c) and str(got[c]) != o.fields[c]:
                report.fail(f"{table.name}: {rel} is in partition {c}={got[c]!r}, its manifest says {o.fields[c]!r}")
    for p in sorted(set(got_files) - set(expected)):
        report.fail(f"{table.name}: Spark read {got_files[p]['n']} rows from {p}, which no manifest lists")
    if counts_ok:
        report.ok(f"{table.name}: {total} rows in {len(expected)} files = manifests (count(*), SELECT * collected, per file and partition)")
    probe = nested_probe(df, table)
    if probe:
        report.ok(f"{table.name}: nested types decode: {probe}")


def expected_tables(outputs: dict[Path, Output]) -> set[str]:
    """The tables `eventlake setup` must create for the data in this lake."""
    names = {"silver_events", "gold_events", "daily_event_counts", "daily_quality", "quarantine"}
    for o in outputs.values():
        if o.kind in ("silver", "gold") and o.fields.get("event_type"):
            names.add(f"{o.kind}_{o.fields['event_type']}")
    return names


def partition_values(path: Path, partitions: list[str]) -> dict[str, str]:
    kv = dict(part.split("=", 1) for part in path.parent.parts if "=" in part)
    return {c: unquote(kv.get(c, "")) for c in partitions}


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", help="the eventlake binary whose `setup --print` is checked")
    ap.add_argument("--ddl-file", help="read the statements from this file instead of the binary")
    ap.add_argument("--lake", help="lake folder written by the jobs")
    ap.add_argument("--schemas", help="event schema folder (passed to setup)")
    ap.add_argument("--config", help="project file declaring more sources (passed to setup)")
    ap.add_argument("--database", default="eventlake_ddl_check")
    ap.add_argument("--work", required=True, help="scratch folder: metastore, warehouse, spark.log")
    ap.add_argument("--self-test", action="store_true", help="check Spark rejects broken DDL (runs first)")
    args = ap.parse_args()
    checking_lake = bool(args.lake)
    if checking_lake and not (args.ddl_file or (args.binary and args.schemas)):
        ap.error("--lake needs --ddl-file, or --binary and --schemas")
    if not checking_lake and not args.self_test:
        ap.error("nothing to do: give --lake ... and/or --self-test")

    started = time.monotonic()
    report = Report()
    work = Path(args.work).resolve()
    stmts, outputs, lake = [], {}, None
    if checking_lake:
        lake = Path(args.lake).resolve()
        if args.ddl_file:
            stmts = split_sql(Path(args.ddl_file).read_text())
        else:
            stmts = statements_from_binary(args.binary, str(lake), args.schemas, args.database, args.config)
        print(f"{len(stmts)} statements; lake {lake}", flush=True)
        outputs = load_manifests(lake, report)

    t0 = time.monotonic()
    try:
        spark = start_spark(work)
    except Exception as e:  # noqa: BLE001
        raise ToolError(f"Spark did not start ({e}); see {work / 'spark.log'}") from e
    print(f"spark {spark.version} started in {time.monotonic() - t0:.1f}s (JVM log: {work / 'spark.log'})", flush=True)
    t0 = time.monotonic()
    try:
        if args.self_test:
            self_test(spark, work, report)
        if checking_lake:
            before = len(report.failures)
            substituted = execute_statements(spark, stmts, args.database, report)
            if len(report.failures) == before:
                report.ok(f"Spark accepted all {len(stmts)} statements ({time.monotonic() - t0:.1f}s)")
            t0 = time.monotonic()
            if not spark.catalog.databaseExists(args.database):
                report.fail(f"no statement created database `{args.database}`")
                return finish(report, started)
            cache: dict = {}
            tables = sorted(t.name for t in spark.catalog.listTables(args.database))
            missing = sorted(expected_tables(outputs) - set(tables))
            if missing:
                report.fail(f"tables the lake needs but no statement creates: {', '.join(missing)}")
            covered: set[Path] = set()
            for name in tables:
                try:
                    table = describe(spark, args.database, name)
                except Exception as e:  # noqa: BLE001
                    report.fail(f"{name}: cannot describe the table: {headline(spark_error(e))}")
                    continue
                if not table.parquet and name not in substituted:
                    report.warn(f"{name}: neither Parquet nor a JSON SerDe table; not checked against files")
                    continue
                check_table(spark, args.database, table, outputs, lake, report, cache)
                covered |= {p for p in outputs if p.is_relative_to(table.location)}
            for p in sorted(set(outputs) - covered):
                report.fail(f"{p.relative_to(lake)} is under no table's LOCATION; Athena cannot see it")
            print(f"{len(tables)} tables read back in {time.monotonic() - t0:.1f}s", flush=True)
    finally:
        spark.stop()
    return finish(report, started)


def finish(report: Report, started: float) -> int:
    took = time.monotonic() - started
    if report.failures:
        print(f"\nDDL check FAILED: {len(report.failures)} problem(s), {len(report.warnings)} warning(s), {took:.0f}s", flush=True)
        for f in report.failures:
            print(f"  - {f.splitlines()[0]}")
        return 1
    print(f"\nDDL check passed ({len(report.warnings)} warning(s)) in {took:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ToolError as e:
        print(f"check_ddl.py: {e}", file=sys.stderr)
        sys.exit(2)
