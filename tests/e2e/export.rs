//! `eventlake export` into a real PostgreSQL and a real MariaDB (started by `tests/run`, their
//! URLs in `EVENTLAKE_TEST_POSTGRES_URL` and `EVENTLAKE_TEST_MYSQL_URL`): a day of gold with nested
//! columns, nulls and non-ASCII text, read back with each database's own client and compared
//! column for column with DuckDB reading the same Parquet; reruns, a crash mid-load and two
//! concurrent loads all end with exactly the lake's rows; a changed column type fails before
//! anything changes; an hour of silver loads by date and hour.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::{Value, json};

use crate::daily::{DAY_HOURS, daily, hourly_range};
use crate::support::{TestLake, bronze_fixture, decompressed, eventlake, run};

on_each_backend!(a_day_of_gold_loads_into_postgres_and_mariadb_exactly_once);

const DAY: &str = "2026-11-20";

/// (PostgreSQL URL, MySQL URL), or `None` when `tests/run` did not start the servers.
fn databases() -> Option<(String, String)> {
    match (std::env::var("EVENTLAKE_TEST_POSTGRES_URL"), std::env::var("EVENTLAKE_TEST_MYSQL_URL")) {
        (Ok(pg), Ok(my)) => Some((pg, my)),
        _ => {
            eprintln!(
                "note: skipped the export test: no database URLs; run tests/run (it starts PostgreSQL and MariaDB)"
            );
            None
        }
    }
}

/// The answer of `sql` from the database's own client, one line a row.
fn db_lines(url: &str, sql: &str) -> String {
    let output = if url.starts_with("postgresql://") {
        let sql = format!("SET TIME ZONE 'UTC'; {sql}");
        Command::new("psql").arg(url).args(["-At", "-v", "ON_ERROR_STOP=1", "-c", &sql]).output().unwrap()
    } else {
        let (user, host, port, db) = mysql_parts(url);
        Command::new("mariadb")
            .args(["--no-defaults", "--batch", "--raw", "--skip-column-names", "--default-character-set=utf8mb4"])
            .args(["-h", &host, "-P", &port, "-u", &user, &db, "-e", sql])
            .output()
            .unwrap()
    };
    assert!(output.status.success(), "{url}: {sql}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().filter(|l| *l != "SET").map(|l| format!("{l}\n")).collect()
}

fn mysql_parts(url: &str) -> (String, String, String, String) {
    let rest = url.trim_start_matches("mysql://");
    let (user, rest) = rest.split_once('@').unwrap();
    let (host_port, db) = rest.split_once('/').unwrap();
    let (host, port) = host_port.split_once(':').unwrap();
    (user.into(), host.into(), port.into(), db.into())
}

/// One JSON object per line, by the value of `id_column`.
fn keyed(lines: &str, id_column: &str) -> BTreeMap<String, Value> {
    lines
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let row: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            (row[id_column].as_str().unwrap().to_owned(), row)
        })
        .collect()
}

/// The database's rows of `table`, every column, as JSON objects by `id_column`; the columns
/// are DuckDB's (`duck`).
fn read_back(url: &str, table: &str, id_column: &str, duck: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    if url.starts_with("postgresql://") {
        return keyed(&db_lines(url, &format!("SELECT row_to_json(t) FROM \"{table}\" t")), id_column);
    }
    // MariaDB keeps JSON columns as text: JSON_EXTRACT hands them to JSON_OBJECT as JSON.
    let columns: Vec<&String> = duck.values().next().unwrap().as_object().unwrap().keys().collect();
    let nested = |c: &str| duck.values().any(|r| r[c].is_object() || r[c].is_array());
    let pairs: Vec<String> = columns
        .iter()
        .map(|c| if nested(c) { format!("'{c}', JSON_EXTRACT(`{c}`, '$')") } else { format!("'{c}', `{c}`") })
        .collect();
    keyed(&db_lines(url, &format!("SELECT JSON_OBJECT({}) FROM `{table}`", pairs.join(", "))), id_column)
}

/// DuckDB (the PyPI wheel `tests/run` installs beside moto) reading the Parquet files under
/// `dir` with their Hive partition folders: `SELECT <select> FROM … t ORDER BY 1`, one line a row.
fn duckdb_lines(dir: &std::path::Path, select: &str) -> String {
    let tools = std::env::var("EVENTLAKE_TOOLS_DIR").expect("tests/run sets EVENTLAKE_TOOLS_DIR");
    let script = "import duckdb, sys\n\
                  con = duckdb.connect()\n\
                  con.execute(\"SET TimeZone = 'UTC'\")\n\
                  sql = f\"SELECT {sys.argv[2]} FROM read_parquet(?, hive_partitioning = true) t ORDER BY 1\"\n\
                  for (row,) in con.execute(sql, [sys.argv[1] + '/**/*.parquet']).fetchall():\n    print(row)\n";
    let output = Command::new(format!("{tools}/venv-moto/bin/python"))
        .args(["-c", script])
        .arg(dir)
        .arg(select)
        .output()
        .unwrap();
    assert!(output.status.success(), "duckdb: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Whether a database's value is DuckDB's: the same JSON, except that booleans may be 1/0,
/// timestamps are compared as instants whatever their text, hours may be numbers or text, and a
/// JSON-text column is JSON in the database.
fn same_value(duck: &Value, db: &Value) -> bool {
    fn instant(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
        let s = v.as_str()?;
        let s = s.replace(' ', "T");
        let with_zone = if s.ends_with("+00") { format!("{s}:00") } else { s.clone() };
        chrono::DateTime::parse_from_rfc3339(&with_zone)
            .map(|t| t.to_utc())
            .ok()
            .or_else(|| chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc()))
    }
    match (duck, db) {
        (Value::Bool(b), Value::Number(n)) => n.as_i64() == Some(i64::from(*b)),
        // A JSON-text column: text in Parquet, JSON in the database.
        (Value::String(s), Value::Object(_) | Value::Array(_)) => {
            serde_json::from_str::<Value>(s).is_ok_and(|parsed| same_value(&parsed, db))
        }
        (Value::String(s), Value::Number(n)) => s.parse::<i64>().ok() == n.as_i64(),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) if a != b => instant(duck).is_some() && instant(duck) == instant(db),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| same_value(x, y)))
        }
        _ => duck == db,
    }
}

/// Row for row, column for column: the database holds exactly DuckDB's rows.
fn assert_same_rows(what: &str, duck: &BTreeMap<String, Value>, db: &BTreeMap<String, Value>) {
    let (dk, bk): (Vec<&String>, Vec<&String>) = (duck.keys().collect(), db.keys().collect());
    assert_eq!(dk, bk, "{what}: the same ids");
    for (id, want) in duck {
        let have = &db[id];
        for (column, value) in want.as_object().unwrap() {
            assert!(
                same_value(value, &have[column]),
                "{what}: row {id}, column {column}: DuckDB reads {value}, the database holds {}",
                have[column]
            );
        }
        assert_eq!(want.as_object().unwrap().len(), have.as_object().unwrap().len(), "{what}: row {id}: columns");
    }
}

/// Copies the lake's files under `base` + `under` into `dir`, keeping the folders below `base`.
fn copy_out(lake: &TestLake, base: &str, under: &str, dir: &std::path::Path) {
    for key in lake.keys(&format!("{base}{under}")) {
        let rel = key.strip_prefix(base).unwrap();
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lake.get(&key).unwrap()).unwrap();
    }
}

fn a_day_of_gold_loads_into_postgres_and_mariadb_exactly_once(lake: TestLake) {
    let Some((postgres, mysql)) = databases() else { return };
    lake.put_bronze("sample");
    // An order whose attributes hold non-ASCII text, and one with none (null).
    let sample =
        String::from_utf8(decompressed(bronze_fixture("sample", "2026/11/20/05/events-1-2026-11-20-05-19-42-9f3c")))
            .unwrap();
    // Firehose concatenates records: read them as a stream of values.
    let order: Value = serde_json::Deserializer::from_str(&sample)
        .into_iter::<Value>()
        .filter_map(Result::ok)
        .find(|v| v["event_name"] == "payment:order:completed")
        .unwrap();
    let mut unicode = order.clone();
    unicode["event_uuid"] = "utf8-order".into();
    unicode["attributes"] = json!({"note": "Grüße aus 東京 😊", "quote": "\"x\"\\y"});
    lake.put("bronze/2026/11/20/05/extra-orders", format!("{unicode}\n").as_bytes());
    hourly_range(&lake, DAY_HOURS);
    daily(&lake, &["--date", DAY, "--no-metrics"]).assert_exit(0);

    // The lake's rows as DuckDB reads the gold Parquet files.
    let parquet = tempfile::tempdir().unwrap();
    copy_out(&lake, "gold/events/event_type=payment/", &format!("dt={DAY}/"), parquet.path());
    let want = keyed(&duckdb_lines(parquet.path(), "to_json(t)"), "event_uuid");
    assert!(want.len() > 10 && want["utf8-order"]["attributes"]["note"] == "Grüße aus 東京 😊", "{want:?}");
    assert!(want.values().any(|r| r["attributes"].is_null()), "some rows have no attributes");
    // An hour of silver, by its ids.
    let silver = tempfile::tempdir().unwrap();
    copy_out(&lake, "silver/event_type=payment/", &format!("dt={DAY}/hour=05/"), silver.path());
    let sorted = |lines: String| {
        let mut v: Vec<String> = lines.lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    let silver_ids = sorted(duckdb_lines(silver.path(), "event_uuid"));
    assert!(silver_ids.len() > 3, "{silver_ids:?}");

    let suffix = if lake.url().starts_with("s3://") { "s3" } else { "local" };
    // PostgreSQL trusts local connections: a password in its URL is accepted and must never show.
    let postgres = postgres.replacen("://eventlake@", "://eventlake:s3cret@", 1);
    for url in [&postgres, &mysql] {
        let table = format!("payments_{suffix}");
        let export = |extra: &[&str]| {
            let mut cmd = eventlake();
            cmd.arg("export").arg("--lake").arg(lake.url()).arg("--schemas").arg(&lake.schemas).args(["--to", url]);
            cmd.args(extra);
            cmd
        };
        let gold = |extra: &[&str]| {
            let mut cmd = export(&["--table", "gold_payment", "--target-table", &table, "--date", DAY]);
            cmd.args(extra);
            cmd
        };
        let plan = run(gold(&["--plan"]));
        plan.assert_exit(0);
        assert!(plan.stdout.contains("CREATE TABLE IF NOT EXISTS") && plan.stdout.contains("PRIMARY KEY"), "{plan}");

        let first = run(gold(&[]));
        first.assert_exit(0);
        assert!(!first.stderr.contains("s3cret") && !first.stdout.contains("s3cret"), "{first}");
        let emf = first.emf();
        assert!(
            emf.iter().any(|m| m["job"] == "export" && m["rows"] == want.len() as f64 && m["table"] == "gold_payment"),
            "an EMF line for the load: {first}"
        );
        assert_same_rows(url, &want, &read_back(url, &table, "event_uuid", &want));

        let again = run(gold(&["--no-metrics"]));
        again.assert_exit(0);
        assert!(again.stdout.trim().is_empty(), "{again}");
        assert_same_rows(
            &format!("{url}: a rerun changes nothing"),
            &want,
            &read_back(url, &table, "event_uuid", &want),
        );

        // Killed mid-load: the transaction never commits; the rerun is exact.
        let crashed = run(gold(&["--crash-after-rows", "5"]));
        assert!(!crashed.status.success(), "{crashed}");
        assert_same_rows(&format!("{url}: after a crash"), &want, &read_back(url, &table, "event_uuid", &want));

        // Two loads of the same day at once: one waits for the other; one result.
        let (mut a, mut b) = (gold(&[]), gold(&[]));
        let (ca, cb) = (a.spawn().unwrap(), b.spawn().unwrap());
        let (oa, ob) = (ca.wait_with_output().unwrap(), cb.wait_with_output().unwrap());
        assert!(
            oa.status.success() && ob.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&oa.stderr),
            String::from_utf8_lossy(&ob.stderr)
        );
        assert_same_rows(&format!("{url}: concurrent loads"), &want, &read_back(url, &table, "event_uuid", &want));

        let manifests = lake.keys("_manifests/exports/");
        let manifest = manifests.iter().find(|k| k.ends_with(&format!("gold_payment/dt={DAY}.json"))).unwrap();
        let text = String::from_utf8(lake.get(manifest).unwrap()).unwrap();
        assert!(text.contains(&format!("\"rows\": {}", want.len())) && !text.contains("s3cret"), "{text}");

        // A target column of another type: the load fails before it changes anything.
        let conflict = format!("conflict_{suffix}");
        let quoted = if url.starts_with("mysql") { format!("`{conflict}`") } else { format!("\"{conflict}\"") };
        db_lines(url, &format!("DROP TABLE IF EXISTS {quoted}; CREATE TABLE {quoted} (event_uuid integer)"));
        let refused = run(export(&["--table", "gold_payment", "--target-table", &conflict, "--date", DAY]));
        refused.assert_exit(1);
        assert!(
            refused.stderr.contains(&format!("{conflict}: column event_uuid is "))
                && refused.stderr.contains("in the target but"),
            "{refused}"
        );
        assert_eq!(db_lines(url, &format!("SELECT count(*) FROM {quoted}")).trim(), "0", "nothing loaded");
        let columns =
            db_lines(url, &format!("SELECT count(*) FROM information_schema.columns WHERE table_name = '{conflict}'"));
        assert_eq!(columns.trim(), "1", "no column added");

        // One hour of silver, by date and hour.
        let hourly = format!("silver_payments_{suffix}");
        let hour = export(&["--table", "silver_payment", "--target-table", &hourly, "--hour", &format!("{DAY}T05")]);
        run(hour).assert_exit(0);
        let ids = |t: &str| sorted(db_lines(url, &format!("SELECT event_uuid FROM {t}")));
        let quoted_hourly = if url.starts_with("mysql") { format!("`{hourly}`") } else { format!("\"{hourly}\"") };
        assert_eq!(ids(&quoted_hourly), silver_ids, "{url}: the hour's silver rows");
        let hours = db_lines(url, &format!("SELECT DISTINCT dt, hour FROM {quoted_hourly}"));
        assert_eq!(hours.trim().replace('\t', "|"), format!("{DAY}|5"), "{url}");
        let by_date = run(export(&["--table", "gold_payment", "--hour", &format!("{DAY}T05")]));
        by_date.assert_exit(2);
        assert!(by_date.stderr.contains("gold_payment is partitioned by date only"), "{by_date}");
    }
}
