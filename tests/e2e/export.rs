//! `eventlake export` into a real PostgreSQL and a real MariaDB (started by `tests/run`, their
//! URLs in `EVENTLAKE_TEST_POSTGRES_URL` and `EVENTLAKE_TEST_MYSQL_URL`): a day of gold with nested
//! columns, nulls and non-ASCII text, read back with each database's own client; reruns, a crash
//! mid-load and two concurrent loads all end with exactly the lake's rows.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::{Value, json};

use crate::daily::{DAY_HOURS, daily, hourly_range};
use crate::support::{ParquetFile, TestLake, bronze_fixture, decompressed, eventlake, run};

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

/// `(event id, attributes)` of every row, by id, as the database's own client prints them.
fn read_back(url: &str, table: &str) -> BTreeMap<String, Value> {
    let output = if url.starts_with("postgresql://") {
        let sql = format!("SELECT event_uuid, coalesce(attributes::text, 'null') FROM \"{table}\" ORDER BY 1");
        Command::new("psql").arg(url).args(["-At", "-F", "\t", "-c", &sql]).output().unwrap()
    } else {
        let rest = url.trim_start_matches("mysql://");
        let (user, rest) = rest.split_once('@').unwrap();
        let (host_port, db) = rest.split_once('/').unwrap();
        let (host, port) = host_port.split_once(':').unwrap();
        let sql = format!("SELECT event_uuid, coalesce(attributes, 'null') FROM `{table}` ORDER BY 1");
        Command::new("mariadb")
            .args(["--no-defaults", "--batch", "--raw", "--skip-column-names", "--default-character-set=utf8mb4"])
            .args(["-h", host, "-P", port, "-u", user, db, "-e", &sql])
            .output()
            .unwrap()
    };
    assert!(output.status.success(), "{url}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (id, attributes) = l.split_once('\t').unwrap();
            (id.to_owned(), serde_json::from_str(attributes).unwrap_or_else(|e| panic!("{attributes}: {e}")))
        })
        .collect()
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

    // The lake's rows, read from the gold Parquet files.
    let mut want: BTreeMap<String, Value> = BTreeMap::new();
    for key in lake.keys(&format!("gold/events/event_type=payment/dt={DAY}/")) {
        for row in ParquetFile::read(&key, lake.get(&key).unwrap()).rows() {
            let attributes = match &row["attributes"] {
                // Arrow's JSON writer spells a map as a list of key/value entries or an object.
                Value::Array(entries) => Value::Object(
                    entries
                        .iter()
                        .map(|e| {
                            (
                                e["keys"].as_str().unwrap_or(e["key"].as_str().unwrap_or_default()).to_owned(),
                                e["values"].clone(),
                            )
                        })
                        .collect(),
                ),
                other => other.clone(),
            };
            want.insert(row["event_uuid"].as_str().unwrap().to_owned(), attributes);
        }
    }
    assert!(want.len() > 10 && want["utf8-order"]["note"] == "Grüße aus 東京 😊", "{want:?}");
    assert!(want.values().any(Value::is_null), "some rows have no attributes");

    let suffix = if lake.url().starts_with("s3://") { "s3" } else { "local" };
    // PostgreSQL trusts local connections: a password in its URL is accepted and must never show.
    let postgres = postgres.replacen("://eventlake@", "://eventlake:s3cret@", 1);
    for url in [&postgres, &mysql] {
        let table = format!("payments_{suffix}");
        let export = |extra: &[&str]| {
            let mut cmd = eventlake();
            cmd.arg("export").arg("--lake").arg(lake.url()).arg("--schemas").arg(&lake.schemas);
            cmd.args(["--table", "gold_payment", "--target-table", &table, "--date", DAY, "--to", url]).args(extra);
            cmd
        };
        let first = run(export(&[]));
        first.assert_exit(0);
        assert!(!first.stderr.contains("s3cret") && !first.stdout.contains("s3cret"), "{first}");
        assert_eq!(read_back(url, &table), want, "{url}: row for row the lake's gold\n{first}");

        let again = run(export(&[]));
        again.assert_exit(0);
        assert_eq!(read_back(url, &table), want, "{url}: a rerun changes nothing");

        // Killed mid-load: the transaction never commits; the rerun is exact.
        let crashed = run(export(&["--crash-after-rows", "5"]));
        assert!(!crashed.status.success(), "{crashed}");
        assert_eq!(read_back(url, &table), want, "{url}: a crash leaves the last commit");

        // Two loads of the same day at once: one waits for the other; one result.
        let (mut a, mut b) = (export(&[]), export(&[]));
        let (ca, cb) = (a.spawn().unwrap(), b.spawn().unwrap());
        let (oa, ob) = (ca.wait_with_output().unwrap(), cb.wait_with_output().unwrap());
        assert!(
            oa.status.success() && ob.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&oa.stderr),
            String::from_utf8_lossy(&ob.stderr)
        );
        assert_eq!(read_back(url, &table), want, "{url}: concurrent loads");

        let manifests = lake.keys("_manifests/exports/");
        let manifest = manifests.iter().find(|k| k.ends_with(&format!("gold_payment/dt={DAY}.json"))).unwrap();
        let text = String::from_utf8(lake.get(manifest).unwrap()).unwrap();
        assert!(text.contains(&format!("\"rows\": {}", want.len())) && !text.contains("s3cret"), "{text}");
    }
}
