//! Reruns: a current hour is skipped, `--force` rewrites the same result, and a rerun after the
//! inputs or schemas changed leaves exactly what a clean run of the new state leaves.

use std::collections::BTreeMap;

use crate::golden::assert_same_text;
use crate::support::TestLake;

const HOUR: &str = "2026-11-20T05";
/// The gzip object of the sample hour; it holds the hour's only event from 04:59 (hour=04).
pub(crate) const GZIP_OBJECT: &str = "bronze/2026/11/20/05/events-1-2026-11-20-05-19-42-9f3c";
/// The silver file that only the gzip object's late event creates.
pub(crate) const LATE_PARTITION_FILE: &str =
    "silver/event_type=payment/dt=2026-11-20/hour=04/part-2026112005-0.parquet";

on_each_backend!(
    rerun_is_skipped_and_force_rewrites_the_same_result,
    rerun_after_an_input_is_removed_drops_its_rows,
    rerun_after_a_schema_is_removed_moves_events_to_quarantine,
);

fn rerun_is_skipped_and_force_rewrites_the_same_result(lake: TestLake) {
    lake.put_bronze("sample");
    lake.hourly(&["--hour", HOUR]).assert_exit(0);
    let first = lake.snapshot();
    let manifest = lake.manifest(HOUR).unwrap();

    let again = lake.hourly(&["--hour", HOUR]);
    again.assert_exit(0);
    assert!(again.summary_status(HOUR).starts_with("skipped"), "{again}");
    assert!(again.emf().is_empty(), "metrics are for committed hours only\n{again}");
    assert_eq!(lake.manifest(HOUR).unwrap(), manifest, "a skipped run leaves the manifest alone");
    assert_same_text("the lake after a skipped rerun", &first.to_string(), &lake.snapshot().to_string());

    let forced = lake.hourly(&["--hour", HOUR, "--force"]);
    forced.assert_exit(0);
    assert_eq!(forced.summary_status(HOUR), "committed");
    assert_ne!(lake.manifest(HOUR).unwrap()["run_id"], manifest["run_id"], "--force commits a new run");
    assert_same_text("the lake after --force", &first.to_string(), &lake.snapshot().to_string());
    assert_no_duplicates(&lake);
}

fn rerun_after_an_input_is_removed_drops_its_rows(lake: TestLake) {
    lake.put_bronze("sample");
    lake.hourly(&["--hour", HOUR]).assert_exit(0);
    assert!(lake.get(LATE_PARTITION_FILE).is_some(), "the fixture should write {LATE_PARTITION_FILE}");

    lake.delete(GZIP_OBJECT);
    let rerun = lake.hourly(&["--hour", HOUR]);
    rerun.assert_exit(0);
    assert_eq!(rerun.summary_status(HOUR), "committed", "changed inputs are reprocessed\n{rerun}");
    assert!(lake.get(LATE_PARTITION_FILE).is_none(), "stale {LATE_PARTITION_FILE} was left behind");

    let clean = lake.fresh("clean");
    clean.put_bronze("sample");
    clean.delete(GZIP_OBJECT);
    clean.hourly(&["--hour", HOUR]).assert_exit(0);
    assert_same_text(
        "rerun vs a clean run of the same inputs",
        &clean.snapshot().to_string(),
        &lake.snapshot().to_string(),
    );
    assert_no_duplicates(&lake);
}

fn rerun_after_a_schema_is_removed_moves_events_to_quarantine(lake: TestLake) {
    lake.put_bronze("sample");
    lake.hourly(&["--hour", HOUR]).assert_exit(0);
    assert!(!lake.keys("silver/event_type=account/").is_empty());

    // Without its schema, account:created is an unknown event name.
    std::fs::remove_file(lake.schemas.join("account_created.json")).unwrap();
    let rerun = lake.hourly(&["--hour", HOUR]);
    rerun.assert_exit(0);
    assert_eq!(rerun.summary_status(HOUR), "committed", "changed schemas are reprocessed\n{rerun}");
    assert_eq!(lake.keys("silver/event_type=account/"), Vec::<String>::new(), "stale account files");
    let unknown = lake.quarantine().iter().filter(|(_, q)| q["reason"] == "unknown_event_name").count();
    assert!(unknown > 10, "account events are quarantined now: {unknown}");

    let clean = lake.fresh("clean");
    std::fs::remove_file(clean.schemas.join("account_created.json")).unwrap();
    clean.put_bronze("sample");
    clean.hourly(&["--hour", HOUR]).assert_exit(0);
    assert_same_text(
        "rerun vs a clean run with the same schemas",
        &clean.snapshot().to_string(),
        &lake.snapshot().to_string(),
    );
    assert_no_duplicates(&lake);
}

/// No silver row and no quarantined record appears twice, and every record appears once in total.
pub(crate) fn assert_no_duplicates(lake: &TestLake) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for file in lake.silver_files() {
        for row in file.rows() {
            *seen.entry(serde_json::Value::Object(row).to_string()).or_default() += 1;
        }
    }
    for (_, line) in lake.quarantine() {
        let at = format!("{} {} {}", line["source_key"], line["line"], line["byte_offset"]);
        *seen.entry(at).or_default() += 1;
    }
    let twice: Vec<&String> = seen.iter().filter(|(_, n)| **n > 1).map(|(k, _)| k).collect();
    assert!(twice.is_empty(), "written more than once: {twice:#?}");
    let records: u64 = lake
        .keys("_manifests/")
        .iter()
        .map(|k| {
            serde_json::from_slice::<serde_json::Value>(&lake.get(k).unwrap()).unwrap()["counts"]["records"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(seen.len() as u64, records, "silver rows + quarantine lines vs records in the manifests");
}
