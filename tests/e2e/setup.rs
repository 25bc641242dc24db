//! The setup job: Athena DDL printed from the schemas, and planned and executed against moto's
//! Athena with the schema history kept in the lake.
//!
//! ```text
//!   schemas ──► eventlake setup --print   ──► CREATE … (templates checked against the files the jobs wrote)
//!           └─► eventlake setup --execute ──► moto Athena (StartQueryExecution … SUCCEEDED)
//!                                         └─► _schema_history/athena-<db>.json in the lake
//! ```
//!
//! moto never parses the SQL, so the executed statements are read back (ListQueryExecutions,
//! GetQueryExecution in a workgroup of the test's own) and compared with what `--print`/`--plan` say.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arrow::datatypes::DataType;
use bytes::Bytes;
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::daily::{DAY, DAY_HOURS, daily, hourly_range, put_daily_fixture};
use crate::support::{Backend, Run, TestLake, eventlake, fixtures_dir, run};

const DATABASE: &str = "analytics";
/// The event types of `tests/fixtures/schemas`.
const EVENT_TYPES: [&str; 4] = ["account", "lesson", "payment", "signup"];

on_each_backend!(print_declares_every_table_where_the_jobs_write);

fn print_declares_every_table_where_the_jobs_write(lake: TestLake) {
    lake.put_bronze("sample");
    put_daily_fixture(&lake, "dedup");
    hourly_range(&lake, DAY_HOURS);
    daily(&lake, &["--date", DAY]).assert_exit(0);

    let sql = setup(&lake.url(), &lake.schemas, &["--database", DATABASE, "--print"]);
    sql.assert_exit(0);
    let as_json = setup(&lake.url(), &lake.schemas, &["--database", DATABASE, "--print", "--format", "json"]);
    as_json.assert_exit(0);
    let statements: Vec<String> = serde_json::from_str(&as_json.stdout)
        .unwrap_or_else(|e| panic!("--format json is not a JSON array of strings ({e})\n{as_json}"));
    let rendered: String = statements.iter().map(|s| format!("{s};\n\n")).collect();
    assert_eq!(sql.stdout, rendered, "--format sql and --format json print the same statements");
    assert!(statements[0].starts_with(&format!("CREATE DATABASE IF NOT EXISTS `{DATABASE}`")), "{}", statements[0]);

    let tables: Vec<Table> = statements[1..].iter().map(|s| Table::parse(s)).collect();
    let names: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut expected: BTreeSet<String> =
        ["silver_events", "gold_events", "daily_event_counts", "daily_quality", "quarantine"].map(String::from).into();
    for t in EVENT_TYPES {
        expected.extend([format!("silver_{t}"), format!("gold_{t}")]);
    }
    assert_eq!(names, expected.iter().map(String::as_str).collect(), "one table each");
    assert_eq!(tables.len(), expected.len(), "no table twice");

    let base = lake_url(&lake);
    for t in &tables {
        assert!(t.sql.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS"), "{}", t.sql);
        assert_eq!(t.props.get("projection.enabled").map(String::as_str), Some("true"), "{}", t.sql);
        assert!(t.location.starts_with(&format!("{base}/")) && t.location.ends_with('/'), "{}: {}", t.name, t.location);
        assert!(t.template.starts_with(&t.location), "{}: template {} outside {}", t.name, t.template, t.location);
        let format = if t.name == "quarantine" { "JsonSerDe" } else { "STORED AS PARQUET" };
        assert!(t.sql.contains(format), "{}: expected {format}", t.name);
    }

    // Every file the jobs wrote lies in a partition folder of exactly the tables meant to read it.
    let files: Vec<String> = ["silver/", "gold/", "quarantine/"].iter().flat_map(|p| lake.keys(p)).collect();
    assert!(files.len() > 20, "{files:?}");
    let mut read_by: BTreeMap<&str, usize> = BTreeMap::new();
    for key in &files {
        let dir = format!("{base}/{}", &key[..key.rfind('/').unwrap()]);
        let matching: BTreeSet<&str> =
            tables.iter().filter(|t| t.template_matches(&dir)).map(|t| t.name.as_str()).collect();
        let want: BTreeSet<String> = tables_for(key);
        assert_eq!(matching, want.iter().map(String::as_str).collect(), "tables reading {key}");
        let ext = if key.starts_with("quarantine/") { ".jsonl" } else { ".parquet" };
        assert!(key.ends_with(ext), "{key}");
        for t in matching {
            *read_by.entry(t).or_default() += 1;
        }
    }
    for name in &expected {
        assert!(read_by.contains_key(name.as_str()), "no written file lies under table {name}'s template");
    }

    // And the columns the tables declare are the ones in the files, with the same types.
    for key in &files {
        for t in tables.iter().filter(|t| tables_for(key).contains(&t.name)) {
            let declared = t.columns();
            if key.starts_with("quarantine/") {
                let text = String::from_utf8(lake.get(key).unwrap()).unwrap();
                for line in text.lines() {
                    let line: Value = serde_json::from_str(line).unwrap();
                    let keys: BTreeSet<&str> = line.as_object().unwrap().keys().map(String::as_str).collect();
                    // The JSON SerDe reads a missing key as null; an undeclared one would be lost.
                    let columns: BTreeSet<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
                    assert!(keys.is_subset(&columns), "{key}: {keys:?} not all declared by {}: {columns:?}", t.name);
                }
                continue;
            }
            let schema = parquet_schema(&lake.get(key).unwrap());
            let in_file: Vec<(String, String)> =
                schema.fields().iter().map(|f| (f.name().clone(), hive_type(f.data_type()))).collect();
            if t.name.ends_with("_events") {
                // The cross-type tables declare the envelope: a subset of every file's columns.
                for column in &declared {
                    assert!(in_file.contains(column), "{}: {column:?} is not in {key}: {in_file:?}", t.name);
                }
            } else {
                assert_eq!(declared, in_file, "{} declares other columns than {key} holds", t.name);
            }
        }
    }
}

/// The Arrow schema of a Parquet file.
fn parquet_schema(bytes: &[u8]) -> arrow::datatypes::SchemaRef {
    let builder = ParquetRecordBatchReaderBuilder::try_new(Bytes::copy_from_slice(bytes)).unwrap();
    builder.schema().clone()
}

/// The Athena type a reader needs for an Arrow type (README: Types), written here independently.
fn hive_type(dt: &DataType) -> String {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float64 => "double".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::List(item) => format!("array<{}>", hive_type(item.data_type())),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("map<{},{}>", hive_type(kv[0].data_type()), hive_type(kv[1].data_type()))
            }
            other => panic!("map entries are not a key/value struct: {other}"),
        },
        DataType::Struct(fields) => {
            let parts: Vec<String> =
                fields.iter().map(|f| format!("{}:{}", f.name(), hive_type(f.data_type()))).collect();
            format!("struct<{}>", parts.join(","))
        }
        other => panic!("no Athena type for {other}"),
    }
}

/// Which tables should read a file the jobs wrote, from its key.
fn tables_for(key: &str) -> BTreeSet<String> {
    let event_type = || key.split('/').find_map(|s| s.strip_prefix("event_type=")).unwrap().to_owned();
    let names: Vec<String> = if key.starts_with("silver/") {
        vec![format!("silver_{}", event_type()), "silver_events".into()]
    } else if key.starts_with("gold/events/") {
        vec![format!("gold_{}", event_type()), "gold_events".into()]
    } else if key.starts_with("gold/daily_event_counts/") {
        vec!["daily_event_counts".into()]
    } else if key.starts_with("gold/daily_quality/") {
        vec!["daily_quality".into()]
    } else if key.starts_with("quarantine/") {
        vec!["quarantine".into()]
    } else {
        panic!("unexpected file {key}")
    };
    names.into_iter().collect()
}

/// The lake URL as setup writes it in DDL: `s3://…` as is, a local directory as `file://<path>`.
fn lake_url(lake: &TestLake) -> String {
    match lake.backend {
        Backend::S3 => lake.url(),
        Backend::Local => format!("file://{}", std::fs::canonicalize(lake.url()).unwrap().display()),
    }
}

/// One `CREATE EXTERNAL TABLE` statement, taken apart.
struct Table {
    name: String,
    location: String,
    template: String,
    props: BTreeMap<String, String>,
    sql: String,
}

impl Table {
    /// `(name, type)` of the declared data columns, struct field names without backticks.
    fn columns(&self) -> Vec<(String, String)> {
        let block = between(&self.sql, " (\n", "\n)\nCOMMENT").unwrap_or_else(|| panic!("{}: no columns", self.name));
        block.lines().map(column).collect()
    }

    fn parse(sql: &str) -> Table {
        let first = sql.lines().next().unwrap();
        let name = first.split('`').nth(3).unwrap_or_else(|| panic!("no table name in {first}")).to_owned();
        let location = between(sql, "\nLOCATION '", "'").unwrap_or_else(|| panic!("{name}: no LOCATION")).to_owned();
        let mut props = BTreeMap::new();
        let block = between(sql, "TBLPROPERTIES (\n", "\n)").unwrap_or_else(|| panic!("{name}: no TBLPROPERTIES"));
        for line in block.lines() {
            let line = line.trim().trim_end_matches(',');
            let (k, v) = line.split_once("'='").unwrap_or_else(|| panic!("{name}: property {line}"));
            props.insert(k.trim_start_matches('\'').to_owned(), v.trim_end_matches('\'').to_owned());
        }
        let template = props.get("storage.location.template").unwrap_or_else(|| panic!("{name}: no template")).clone();
        Table { name, location, template, props, sql: sql.into() }
    }

    /// Whether `dir` is the template with every `${p}` filled by a value partition projection of
    /// `p` can produce.
    fn template_matches(&self, dir: &str) -> bool {
        let (want, got): (Vec<&str>, Vec<&str>) = (self.template.split('/').collect(), dir.split('/').collect());
        want.len() == got.len()
            && want.iter().zip(&got).all(|(w, g)| match w.split_once("${") {
                None => w == g,
                Some((prefix, rest)) => {
                    let column = rest.strip_suffix('}').unwrap();
                    g.strip_prefix(prefix).is_some_and(|value| self.projects(column, value))
                }
            })
    }

    fn projects(&self, column: &str, value: &str) -> bool {
        let prop = |p: &str| self.props.get(&format!("projection.{column}.{p}")).map(String::as_str);
        match prop("type") {
            Some("date") => {
                assert_eq!(prop("format"), Some("yyyy-MM-dd"), "{}", self.name);
                let start = prop("range").and_then(|r| r.split(',').next()).unwrap();
                let start = NaiveDate::parse_from_str(start, "%Y-%m-%d").unwrap();
                NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok_and(|d| d >= start && value.len() == 10)
            }
            Some("integer") => {
                let (lo, hi) = prop("range").and_then(|r| r.split_once(',')).unwrap();
                let digits: usize = prop("digits").map_or(1, |d| d.parse().unwrap());
                value.len() >= digits
                    && value.parse::<i64>().is_ok_and(|v| v >= lo.parse().unwrap() && v <= hi.parse().unwrap())
            }
            Some("enum") => prop("values").unwrap().split(',').any(|v| v == value),
            other => panic!("{}: projection of {column} is {other:?}", self.name),
        }
    }
}

/// `(name, type)` of one column definition line: `` `name` type COMMENT '…', ``.
fn column(line: &str) -> (String, String) {
    let line = line.trim().trim_end_matches(',');
    let (name, rest) = line.strip_prefix('`').and_then(|l| l.split_once("` ")).unwrap_or_else(|| panic!("{line}"));
    let ty = rest.split(" COMMENT ").next().unwrap();
    (name.to_owned(), ty.replace('`', ""))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = from + text[from..].find(end)?;
    Some(&text[from..to])
}

/// `eventlake setup --lake <url> --schemas <dir> <args>`, run to completion.
fn setup(lake: &str, schemas: &Path, args: &[&str]) -> Run {
    let mut cmd = eventlake();
    cmd.arg("setup").arg("--lake").arg(lake).arg("--schemas").arg(schemas).args(args);
    run(cmd)
}

// ---------------------------------------------------------------------------------------------
// Executing through moto's Athena

#[test]
fn execute_applies_plans_through_athena_and_records_them() {
    let Some(lake) = TestLake::create(Backend::S3, "setup-execute") else { return };
    let moto = Moto::from_env();
    let scratch = tempfile::tempdir().unwrap();
    // QUEUED → RUNNING → RUNNING → SUCCEEDED: the client has to poll.
    moto.post(
        "/moto-api/state-manager/set-transition",
        &[],
        r#"{"model_name":"athena::execution","transition":{"progression":"manual","times":2}}"#,
    );
    let workgroup = format!("e2e-{}", unique());
    moto.athena("CreateWorkGroup", json!({"Name": workgroup}));
    let bucket = lake.url().strip_prefix("s3://").unwrap().split('/').next().unwrap().to_owned();
    let output = format!("s3://{bucket}/athena-results/");
    let history = format!("_schema_history/athena-{DATABASE}.json");
    let execute = |schemas: &Path, extra: &[&str]| {
        let mut args = vec!["--database", DATABASE, "--workgroup", &workgroup, "--output-location", &output];
        args.extend(["--execute", "--log", "info,eventlake_athena=debug"]);
        args.extend(extra);
        setup(&lake.url(), schemas, &args)
    };

    // No result location anywhere: a clear error before any statement runs.
    let nowhere = setup(&lake.url(), &lake.schemas, &["--database", DATABASE, "--workgroup", &workgroup, "--execute"]);
    assert_ne!(nowhere.status.code(), Some(0), "{nowhere}");
    assert!(nowhere.stderr.contains("--output-location") && nowhere.stderr.contains(&workgroup), "{nowhere}");
    let default_wg = setup(&lake.url(), &lake.schemas, &["--database", DATABASE, "--execute"]);
    assert_ne!(default_wg.status.code(), Some(0), "{default_wg}");
    assert!(default_wg.stderr.contains("--output-location") && default_wg.stderr.contains("primary"), "{default_wg}");
    assert!(moto.queries(&workgroup).is_empty(), "nothing ran");
    assert!(lake.get(&history).is_none(), "nothing recorded");

    // First execution: exactly what --print prints, each statement polled to SUCCEEDED.
    let first = execute(&lake.schemas, &[]);
    first.assert_exit(0);
    let printed = setup(&lake.url(), &lake.schemas, &["--database", DATABASE, "--print", "--format", "json"]);
    let printed: Vec<String> = serde_json::from_str(&printed.stdout).unwrap();
    let ran = moto.queries(&workgroup);
    assert_eq!(sorted(ran.clone()), sorted(printed.clone()), "executed statements vs --print");
    for (id, state) in moto.states(&workgroup) {
        assert_eq!(state, "SUCCEEDED", "query {id}");
        let waits: Vec<String> = first
            .logs()
            .iter()
            .filter(|l| l["message"] == "waiting" && l["query_id"] == id.as_str())
            .map(|l| l["state"].to_string())
            .collect();
        assert!(
            waits.iter().any(|s| s.contains("Queued")) && waits.iter().any(|s| s.contains("Running")),
            "query {id} was polled through QUEUED and RUNNING: {waits:?}\n{first}"
        );
    }
    let recorded = lake.get(&history).expect("the history is recorded in the lake");
    let applied: Value = serde_json::from_slice(&recorded).unwrap();
    assert_eq!(applied["database"], DATABASE);
    assert_eq!(applied["tables"].as_array().unwrap().len(), printed.len() - 1, "{applied:#}");

    // A rerun has nothing to do.
    let again = execute(&lake.schemas, &[]);
    again.assert_exit(0);
    assert!(again.stderr.contains("is up to date"), "{again}");
    assert_eq!(moto.queries(&workgroup).len(), ran.len(), "no new Athena query");
    assert_eq!(lake.get(&history).unwrap(), recorded);

    // An added optional property: ADD COLUMNS on the type's silver and gold tables.
    let added = edited_schemas(&lake.schemas, &scratch, "added", |account| {
        account["properties"]["referrer"] = json!({"type": "string", "description": "Where the learner came from"});
    });
    let plan = setup(&lake.url(), &added, &["--database", DATABASE, "--plan"]);
    plan.assert_exit(0);
    assert!(plan.stderr.contains("add columns to silver_account: referrer"), "{plan}");
    assert!(plan.stderr.contains("add columns to gold_account: referrer"), "{plan}");
    let planned: Vec<&str> = plan.stdout.split(";\n\n").filter(|s| !s.trim().is_empty()).collect();
    assert_eq!(planned.len(), 2, "{plan}");
    for (s, table) in planned.iter().zip(["silver_account", "gold_account"]) {
        assert!(s.starts_with(&format!("ALTER TABLE `{DATABASE}`.`{table}` ADD COLUMNS")), "{s}");
        assert!(s.contains("`referrer` string"), "{s}");
    }
    assert_eq!(moto.queries(&workgroup).len(), ran.len(), "--plan runs nothing");
    let applied_add = execute(&added, &[]);
    applied_add.assert_exit(0);
    let new: Vec<String> = moto.queries(&workgroup).split_off(ran.len());
    assert_eq!(sorted(new), sorted(planned.iter().map(|s| s.to_string()).collect()), "--execute runs the plan");
    assert!(String::from_utf8(lake.get(&history).unwrap()).unwrap().contains("referrer"));
    let after_add = moto.queries(&workgroup).len();
    let again = execute(&added, &[]);
    again.assert_exit(0);
    assert!(again.stderr.contains("is up to date"), "{again}");

    // A removed property: refused (exit 2) unless --force, which recreates the tables.
    let removed = edited_schemas(&added, &scratch, "removed", |account| {
        account["properties"].as_object_mut().unwrap().shift_remove("name");
    });
    let recorded = lake.get(&history).unwrap();
    for action in ["--plan", "--execute"] {
        let refused = if action == "--plan" {
            setup(&lake.url(), &removed, &["--database", DATABASE, "--plan"])
        } else {
            execute(&removed, &[])
        };
        refused.assert_exit(2);
        assert!(refused.stderr.contains("not BACKWARD compatible"), "{refused}");
        assert!(
            refused.stderr.contains("silver_account") && refused.stderr.contains("column name was removed"),
            "{refused}"
        );
        assert!(refused.stderr.contains("--force"), "the message says how to proceed\n{refused}");
    }
    assert_eq!(moto.queries(&workgroup).len(), after_add, "nothing ran");
    assert_eq!(lake.get(&history).unwrap(), recorded, "nothing recorded");
    let forced = execute(&removed, &["--force"]);
    forced.assert_exit(0);
    let new = moto.queries(&workgroup).split_off(after_add);
    for table in ["silver_account", "gold_account"] {
        let drop = format!("DROP TABLE IF EXISTS `{DATABASE}`.`{table}`");
        let create = new
            .iter()
            .position(|s| s.starts_with(&format!("CREATE EXTERNAL TABLE IF NOT EXISTS `{DATABASE}`.`{table}`")));
        let drop_at = new.iter().position(|s| *s == drop);
        assert!(drop_at.is_some() && create.is_some() && drop_at < create, "{table}: DROP then CREATE in {new:#?}");
        assert!(!new[create.unwrap()].contains("`name`"), "the new table has no name column");
    }
    assert_eq!(new.len(), 4, "only the account tables change: {new:#?}");
    let again = execute(&removed, &[]);
    again.assert_exit(0);
    assert!(again.stderr.contains("is up to date"), "{again}");
}

/// Setup through a proxy failing 15% of the S3 and Athena requests (500, 503, resets, cut-off
/// bodies): it succeeds or exits 1; once it succeeded, the catalog it recorded is complete and a
/// rerun without faults has nothing to do.
#[test]
fn execute_survives_faults() {
    let Some(lake) = TestLake::create(Backend::S3, "setup-faults") else { return };
    let moto = Moto::from_env();
    let workgroup = format!("e2e-faults-{}", unique());
    moto.athena("CreateWorkGroup", json!({"Name": workgroup}));
    let bucket = lake.url().strip_prefix("s3://").unwrap().split('/').next().unwrap().to_owned();
    let output = format!("s3://{bucket}/athena-results/");
    let database = "faults_db";
    let args = ["--database", database, "--workgroup", &workgroup, "--output-location", &output, "--execute"];
    let proxy = crate::faults::FaultProxy::start(0.15, 31);
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts <= 8, "setup: no success in 8 attempts through the faults");
        let mut cmd = eventlake();
        cmd.arg("setup").arg("--lake").arg(lake.url()).arg("--schemas").arg(&lake.schemas).args(args);
        proxy.route(&mut cmd);
        let out = run(cmd);
        match out.status.code() {
            Some(0) => break,
            Some(1) => assert!(out.stderr.contains("error"), "{out}"),
            _ => panic!("setup through faults must exit 0 or 1\n{out}"),
        }
    }
    eprintln!("setup through faults: {} injected, {attempts} attempt(s)", proxy.injected().len());
    let again = setup(&lake.url(), &lake.schemas, &args);
    again.assert_exit(0);
    assert!(again.stderr.contains("is up to date"), "{again}");
}

#[test]
fn execute_with_a_workgroup_result_location_needs_no_flag() {
    let Some(lake) = TestLake::create(Backend::S3, "setup-workgroup") else { return };
    let moto = Moto::from_env();
    let bucket = lake.url().strip_prefix("s3://").unwrap().split('/').next().unwrap().to_owned();
    let workgroup = format!("e2e-{}", unique());
    moto.athena(
        "CreateWorkGroup",
        json!({"Name": workgroup, "Configuration": {"ResultConfiguration": {"OutputLocation": format!("s3://{bucket}/results/")}}}),
    );
    let run = setup(&lake.url(), &lake.schemas, &["--database", "wg_db", "--workgroup", &workgroup, "--execute"]);
    run.assert_exit(0);
    assert_eq!(moto.queries(&workgroup).len(), 1 + 2 * EVENT_TYPES.len() + 5, "{run}");
    assert!(lake.get("_schema_history/athena-wg_db.json").is_some());
}

#[test]
fn execute_needs_an_s3_lake() {
    let scratch = tempfile::tempdir().unwrap();
    let schemas = fixtures_dir().join("schemas");
    let run = setup(&scratch.path().join("lake").display().to_string(), &schemas, &["--database", "d", "--execute"]);
    assert_ne!(run.status.code(), Some(0), "{run}");
    assert!(run.stderr.contains("s3://"), "the message says what is needed\n{run}");
    assert!(!scratch.path().join("lake/_schema_history").exists(), "nothing recorded");
}

// ---------------------------------------------------------------------------------------------
// Names and the single-schema mode

#[test]
fn names_become_identifiers_or_fail_naming_them() {
    let scratch = tempfile::tempdir().unwrap();
    let lake = scratch.path().join("lake").display().to_string();
    let fixture = fixtures_dir().join("schemas");

    // An event type and a property that are not identifiers map to lower snake case.
    let spaced = edited_schemas(&fixture, &scratch, "spaced", |account| {
        account["title"] = json!("Bad-Type:x");
        account["properties"]["event_name"]["const"] = json!("Bad-Type:x");
        account["properties"]["utm-source"] = json!({"type": "string"});
    });
    let run = setup(&lake, &spaced, &["--database", "d", "--print"]);
    run.assert_exit(0);
    assert!(run.stdout.contains("`d`.`silver_bad_type`"), "{run}");
    assert!(run.stdout.contains(r#"`utm_source` string COMMENT 'JSON field "utm-source"'"#), "{run}");

    // A property name with nothing to name a column after.
    let bad_column = edited_schemas(&fixture, &scratch, "bad-column", |account| {
        account["properties"]["--"] = json!({"type": "string"});
    });
    let run = setup(&lake, &bad_column, &["--database", "d", "--print"]);
    run.assert_exit(2);
    assert!(run.stderr.contains(r#"field name "--""#), "the message names the property\n{run}");
    assert!(run.stdout.is_empty(), "no statement is printed\n{run}");

    // A database name.
    let run = setup(&lake, &fixture, &["--database", "Bad-DB", "--print"]);
    run.assert_exit(2);
    assert!(run.stderr.contains("\"Bad-DB\""), "{run}");
}

#[test]
fn single_schema_prints_one_table_with_mapped_types() {
    let schema = fixtures_dir().join("setup/people.schema.json");
    let print = |location: &str, format: &str| {
        let mut cmd = eventlake();
        cmd.arg("setup").arg("--schema").arg(&schema);
        cmd.args(["--table", "people", "--location", location, "--database", "d", "--print", "--format", format]);
        run(cmd)
    };
    let out = print("s3://b/people/", "json");
    out.assert_exit(0);
    let statements: Vec<String> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(statements.len(), 2, "{out}");
    assert!(statements[0].starts_with("CREATE DATABASE IF NOT EXISTS `d`"));
    let create = &statements[1];
    assert!(create.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `d`.`people` ("), "{create}");
    let columns: Vec<(String, String)> = between(create, "(\n", "\n)").unwrap().lines().map(column).collect();
    let want = [
        ("eid", "string"),
        ("documentnumber", "string"),
        ("name", "string"),
        ("age", "bigint"),
        ("address", "struct<street:string,number:bigint,mailaddress:boolean>"),
    ];
    assert_eq!(columns, want.map(|(n, t)| (n.to_owned(), t.to_owned())), "{create}");
    assert!(create.contains("\nSTORED AS PARQUET\nLOCATION 's3://b/people/'\n"), "{create}");
    assert!(!create.contains("PARTITIONED BY") && !create.contains("projection"), "{create}");

    let sql = print("s3://b/people", "sql");
    sql.assert_exit(0);
    let rendered: String = statements.iter().map(|s| format!("{s};\n\n")).collect();
    assert_eq!(sql.stdout, rendered, "a location without the trailing slash means the same folder");
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A copy of a schema folder, `<scratch>/<label>`, with `account_created.json` edited.
fn edited_schemas(dir: &Path, scratch: &TempDir, label: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let out = scratch.path().join(label);
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, out.join(path.file_name().unwrap())).unwrap();
    }
    let file = out.join("account_created.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    edit(&mut doc);
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    out
}

fn unique() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{nanos:x}-{n}", std::process::id())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The local moto server (`AWS_ENDPOINT_URL`), spoken to with raw HTTP/1.1 like the bucket setup
/// in `storage.rs`: moto does not check signatures, only reads the service from the credential scope.
struct Moto {
    authority: String,
}

impl Moto {
    fn from_env() -> Moto {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("EVENTLAKE_TEST_S3 is set but AWS_ENDPOINT_URL is not");
        let authority = endpoint.strip_prefix("http://").unwrap_or(&endpoint).trim_end_matches('/').to_owned();
        Moto { authority }
    }

    /// POSTs `body` and returns the response body; panics unless the status is 2xx.
    fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> String {
        let mut stream =
            TcpStream::connect(&self.authority).unwrap_or_else(|e| panic!("moto at {}: {e}", self.authority));
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut request = format!("POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.authority);
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head.lines().next().unwrap_or_default();
        assert!(status.split(' ').nth(1).is_some_and(|c| c.starts_with('2')), "POST {path} {request}\n→ {response}");
        assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "unexpected chunked response");
        body.to_owned()
    }

    /// One Athena API call (JSON 1.1 protocol).
    fn athena(&self, action: &str, body: Value) -> Value {
        let target = format!("AmazonAthena.{action}");
        let headers = [
            ("X-Amz-Target", target.as_str()),
            ("Content-Type", "application/x-amz-json-1.1"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/athena/aws4_request, SignedHeaders=host, Signature=0",
            ),
        ];
        let text = self.post("/", &headers, &body.to_string());
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{action}: {e}: {text}"))
    }

    fn executions(&self, workgroup: &str) -> Vec<Value> {
        let ids = self.athena("ListQueryExecutions", json!({"WorkGroup": workgroup}));
        ids["QueryExecutionIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| self.athena("GetQueryExecution", json!({"QueryExecutionId": id}))["QueryExecution"].clone())
            .collect()
    }

    /// The SQL of every query started in `workgroup`, in the order moto keeps (start order).
    fn queries(&self, workgroup: &str) -> Vec<String> {
        self.executions(workgroup).iter().map(|q| q["Query"].as_str().unwrap().to_owned()).collect()
    }

    /// (query id, state) of every query in `workgroup`.
    fn states(&self, workgroup: &str) -> Vec<(String, String)> {
        self.executions(workgroup)
            .iter()
            .map(|q| (q["QueryExecutionId"].as_str().unwrap().into(), q["Status"]["State"].as_str().unwrap().into()))
            .collect()
    }
}
