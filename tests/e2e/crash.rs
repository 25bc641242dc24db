//! Crash and rerun: whatever point a run dies at, the next run (once the dead run's lease has
//! expired) leaves exactly what a clean run leaves.

use std::time::Duration;

use crate::golden::assert_same_text;
use crate::rerun::{GZIP_OBJECT, LATE_PARTITION_FILE, assert_no_duplicates};
use crate::support::{Run, TestLake, lease_key, manifest_key};

const HOUR: &str = "2026-11-20T05";
/// Longer than the crashed run's `--lock-ttl 1s`.
const LEASE_EXPIRY: Duration = Duration::from_millis(1300);

on_each_backend!(
    crash_before_manifest_on_a_new_hour_then_rerun,
    crash_before_manifest_after_inputs_changed_then_rerun,
    crash_after_manifest_after_inputs_changed_then_rerun,
    crash_with_a_wider_window_then_rerun_leaves_no_orphans,
);

fn crash(lake: &TestLake, point: &str) -> Run {
    crash_hour(lake, HOUR, point, &[])
}

fn crash_hour(lake: &TestLake, hour: &str, point: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--hour", hour, "--crash-at", point, "--lock-ttl", "1s"];
    args.extend(extra);
    let run = lake.hourly(&args);
    assert!(!run.status.success(), "--crash-at {point} should abort the process\n{run}");
    assert!(lake.get(&lease_key(hour)).is_some(), "a crashed run cannot release its lease");
    run
}

/// A lake with the sample hour processed cleanly, minus the gzip object when `without_gzip`.
fn clean_lake(lake: &TestLake, without_gzip: bool) -> TestLake {
    let clean = lake.fresh("clean");
    clean.put_bronze("sample");
    if without_gzip {
        clean.delete(GZIP_OBJECT);
    }
    clean.hourly(&["--hour", HOUR]).assert_exit(0);
    clean
}

fn crash_before_manifest_on_a_new_hour_then_rerun(lake: TestLake) {
    lake.put_bronze("sample");
    crash(&lake, "before-manifest");
    assert!(lake.get(&manifest_key(HOUR)).is_none(), "nothing is committed before the manifest");

    std::thread::sleep(LEASE_EXPIRY);
    let rerun = lake.hourly(&["--hour", HOUR]);
    rerun.assert_exit(0);
    assert_eq!(rerun.summary_status(HOUR), "committed");
    let clean = clean_lake(&lake, false);
    assert_same_text("crash + rerun vs a clean run", &clean.snapshot().to_string(), &lake.snapshot().to_string());
    assert_no_duplicates(&lake);
}

fn crash_before_manifest_after_inputs_changed_then_rerun(lake: TestLake) {
    lake.put_bronze("sample");
    lake.hourly(&["--hour", HOUR]).assert_exit(0);
    lake.delete(GZIP_OBJECT);
    crash(&lake, "before-manifest");

    std::thread::sleep(LEASE_EXPIRY);
    let rerun = lake.hourly(&["--hour", HOUR]);
    rerun.assert_exit(0);
    assert_eq!(rerun.summary_status(HOUR), "committed");
    assert!(lake.get(LATE_PARTITION_FILE).is_none(), "stale {LATE_PARTITION_FILE} was left behind");
    let clean = clean_lake(&lake, true);
    assert_same_text("crash + rerun vs a clean run", &clean.snapshot().to_string(), &lake.snapshot().to_string());
    assert_no_duplicates(&lake);
}

fn crash_after_manifest_after_inputs_changed_then_rerun(lake: TestLake) {
    lake.put_bronze("sample");
    lake.hourly(&["--hour", HOUR]).assert_exit(0);
    lake.delete(GZIP_OBJECT);
    crash(&lake, "after-manifest");
    // The crash point: the new manifest is written, the earlier run's files are not yet removed.
    let manifest = lake.manifest(HOUR).unwrap();
    assert_eq!(manifest["inputs"].as_array().unwrap().len(), 1, "the new manifest is committed");
    assert!(lake.get(LATE_PARTITION_FILE).is_some(), "the crash should leave the stale file behind");

    std::thread::sleep(LEASE_EXPIRY);
    let rerun = lake.hourly(&["--hour", HOUR]);
    rerun.assert_exit(0);
    assert!(rerun.summary_status(HOUR).starts_with("skipped"), "the committed manifest is current\n{rerun}");
    assert!(lake.get(LATE_PARTITION_FILE).is_none(), "stale {LATE_PARTITION_FILE} was left behind");
    let clean = clean_lake(&lake, true);
    assert_same_text("crash + rerun vs a clean run", &clean.snapshot().to_string(), &lake.snapshot().to_string());
    assert_no_duplicates(&lake);
}

/// An attempt with a wider `--max-lateness` writes a partition ten days back, then dies; the rerun
/// with the default seven days quarantines that event, and must not leave the attempt's file behind
/// (the event would then be both in silver and in quarantine).
fn crash_with_a_wider_window_then_rerun_leaves_no_orphans(lake: TestLake) {
    let hour = "2026-11-20T11";
    let old_partition = "silver/event_type=signup/dt=2026-11-10/hour=11/part-2026112011-0.parquet";
    lake.put_bronze("lateness");
    crash_hour(&lake, hour, "before-manifest", &["--max-lateness", "30d"]);
    assert!(lake.get(old_partition).is_some(), "the attempt should have written {old_partition}");

    std::thread::sleep(LEASE_EXPIRY);
    lake.hourly(&["--hour", hour]).assert_exit(0);
    let clean = lake.fresh("clean");
    clean.put_bronze("lateness");
    clean.hourly(&["--hour", hour]).assert_exit(0);
    assert_same_text("crash + rerun vs a clean run", &clean.snapshot().to_string(), &lake.snapshot().to_string());
    assert_no_duplicates(&lake);
}
