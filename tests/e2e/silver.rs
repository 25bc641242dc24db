//! One sample arrival hour: golden silver rows, the Parquet settings Athena relies on, and counts
//! that add up from bronze to silver + quarantine.

use std::collections::BTreeMap;

use parquet::basic::{Compression, LogicalType, TimeUnit, Type as PhysicalType};
use serde_json::Value;

use crate::support::{TestLake, manifest_key};

/// The sample arrival hour: a CRLF NDJSON object and a gzip object of concatenated records.
const HOUR: &str = "2026-11-20T05";

/// Records in the sample hour, counted by hand: 45 lines in the NDJSON object (none blank) and 24
/// concatenated records in the gzip object.
const SAMPLE_RECORDS: u64 = 45 + 24;

on_each_backend!(
    sample_hour_matches_golden_files,
    silver_parquet_is_zstd_with_utc_micros_and_statistics,
    every_record_lands_in_silver_or_quarantine,
    quarantine_rate_above_threshold_exits_3_after_committing,
);

fn sample_hour_matches_golden_files(lake: TestLake) {
    lake.put_bronze("sample");
    lake.hourly(&["--hour", HOUR]).assert_exit(0);
    lake.assert_golden("sample-2026-11-20T05");
}

fn silver_parquet_is_zstd_with_utc_micros_and_statistics(lake: TestLake) {
    lake.put_bronze("sample");
    lake.hourly(&["--hour", HOUR]).assert_exit(0);
    let files = lake.silver_files();
    assert!(files.len() >= 3, "expected silver files of several event types: {:?}", lake.keys("silver/"));
    for file in &files {
        let key = &file.key;
        let schema = file.metadata.file_metadata().schema_descr();
        let mut timestamps = Vec::new();
        for col in schema.columns() {
            let path = col.path().string();
            // INT96 and nanosecond timestamps are what Athena and Spark read wrongly.
            assert_ne!(col.physical_type(), PhysicalType::INT96, "{key}: {path} is INT96");
            if let Some(LogicalType::Timestamp(ts)) = col.logical_type_ref() {
                assert_eq!(col.physical_type(), PhysicalType::INT64, "{key}: {path}");
                assert!(ts.is_adjusted_to_u_t_c, "{key}: {path} is not adjusted to UTC");
                assert_eq!(ts.unit, TimeUnit::MICROS, "{key}: {path}");
                timestamps.push(path);
            }
        }
        for required in ["created_datetime", "arrival_hour"] {
            assert!(timestamps.iter().any(|p| p == required), "{key}: {required} is not a timestamp: {timestamps:?}");
        }
        assert!(file.metadata.num_row_groups() > 0, "{key}: no row groups");
        for rg in file.metadata.row_groups() {
            for col in rg.columns() {
                let path = col.column_path().string();
                assert!(matches!(col.compression(), Compression::ZSTD(_)), "{key}: {path} is {:?}", col.compression());
                let stats = col.statistics().unwrap_or_else(|| panic!("{key}: {path} has no statistics"));
                assert!(stats.null_count_opt().is_some(), "{key}: {path} has no null count");
            }
            // Partition pruning inside a file needs min/max of the event time.
            let created = rg.columns().iter().find(|c| c.column_path().string() == "created_datetime").unwrap();
            let stats = created.statistics().unwrap();
            assert!(stats.min_bytes_opt().is_some() && stats.max_bytes_opt().is_some(), "{key}: no min/max");
        }
    }
}

fn every_record_lands_in_silver_or_quarantine(lake: TestLake) {
    lake.put_bronze("sample");
    let run = lake.hourly(&["--hour", HOUR]);
    run.assert_exit(0);
    let manifest = lake.manifest(HOUR).expect("a committed hour has a manifest");
    let counts = &manifest["counts"];
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"));
    let (records, valid, quarantined) = (n(&counts["records"]), n(&counts["valid"]), n(&counts["quarantined"]));
    assert_eq!(records, valid + quarantined, "{counts}");
    assert_eq!(records, SAMPLE_RECORDS, "{counts}");

    let files = lake.silver_files();
    let silver_rows: usize = files.iter().map(|f| f.num_rows()).sum();
    assert_eq!(silver_rows as u64, valid, "silver rows vs manifest valid");
    let quarantine = lake.quarantine();
    assert_eq!(quarantine.len() as u64, quarantined, "quarantine lines vs manifest quarantined");

    // Each output listed with its real row count, and nothing written that is not listed.
    let mut real_rows: BTreeMap<String, u64> = files.iter().map(|f| (f.key.clone(), f.num_rows() as u64)).collect();
    for (key, _) in &quarantine {
        *real_rows.entry(key.clone()).or_default() += 1;
    }
    let listed: BTreeMap<String, u64> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["key"].as_str().unwrap().to_owned(), n(&o["rows"])))
        .collect();
    assert_eq!(listed, real_rows, "manifest outputs vs files in the lake");

    // The per-name and per-reason breakdowns add up to the same totals and match the files.
    let mut names: BTreeMap<String, u64> = BTreeMap::new();
    for file in &files {
        for row in file.rows() {
            *names.entry(row["event_name"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    let by_name: BTreeMap<String, u64> =
        counts["by_event_name"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), n(v))).collect();
    assert_eq!(by_name, names, "by_event_name vs silver rows");
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for (_, line) in &quarantine {
        *reasons.entry(line["reason"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let by_reason: BTreeMap<String, u64> =
        counts["by_reason"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), n(v))).collect();
    assert_eq!(by_reason, reasons, "by_reason vs quarantine lines");

    // The metrics line says the same as the manifest.
    let emf = run.emf();
    assert_eq!(emf.len(), 1, "one metrics line per committed hour\n{run}");
    assert_eq!(emf[0]["arrival_hour"], HOUR);
    assert_eq!(emf[0]["run_id"], manifest["run_id"]);
    for field in ["records", "valid", "quarantined"] {
        assert_eq!(emf[0][field].as_f64(), Some(n(&counts[field]) as f64), "EMF {field}");
    }
    assert!(emf[0]["_aws"]["CloudWatchMetrics"].is_array(), "not EMF: {}", emf[0]);

    // Logs are JSON lines (stderr is not a terminal); the last one of the run carries its id.
    let logs = run.logs();
    let finished = logs.iter().find(|l| l["message"] == "run finished").unwrap_or_else(|| panic!("{run}"));
    assert_eq!(finished["records"], records);
    let text = finished.to_string();
    assert!(text.contains(manifest["run_id"].as_str().unwrap()) && text.contains(HOUR), "{finished}");
}

fn quarantine_rate_above_threshold_exits_3_after_committing(lake: TestLake) {
    lake.put_bronze("sample");
    // The sample hour quarantines 7 of 69 records (10%).
    let run = lake.hourly(&["--hour", HOUR, "--max-quarantine-rate", "0.01"]);
    run.assert_exit(3);
    assert!(run.stderr.contains("--max-quarantine-rate"), "the reason is on stderr\n{run}");
    assert_eq!(run.summary_status(HOUR), "committed");
    // Quarantine is data: the hour is committed all the same.
    assert!(lake.get(&manifest_key(HOUR)).is_some(), "no manifest");
    assert!(!lake.keys("silver/").is_empty() && !lake.keys("quarantine/").is_empty());
    // Under the threshold, the (skipped) rerun is fine.
    let rerun = lake.hourly(&["--hour", HOUR, "--max-quarantine-rate", "0.5"]);
    rerun.assert_exit(0);
    assert!(rerun.summary_status(HOUR).starts_with("skipped"), "{rerun}");
}
