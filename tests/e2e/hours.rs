//! Which hours a run processes: empty and missing hours, ranges, `--dry-run` and `--previous-hour`.

use serde_json::{Value, json};

use crate::golden::assert_same_text;
use crate::support::{TestLake, manifest_key};

on_each_backend!(
    missing_bronze_hour_commits_zero_counts,
    empty_bronze_hour_commits_zero_counts,
    range_runs_every_hour_of_the_half_open_range,
    dry_run_lists_the_plan_and_writes_nothing,
    previous_hour_counts_back_from_the_scheduled_time,
);

/// Counts of an hour without records.
fn zero_counts() -> Value {
    json!({"records": 0, "valid": 0, "quarantined": 0, "bytes": 0, "by_event_name": {}, "by_reason": {}})
}

fn missing_bronze_hour_commits_zero_counts(lake: TestLake) {
    let hour = "2026-11-20T07";
    let run = lake.hourly(&["--hour", hour]);
    run.assert_exit(0);
    assert_eq!(run.summary_status(hour), "committed");
    let manifest = lake.manifest(hour).expect("an hour without bronze still gets a manifest");
    assert_eq!(manifest["counts"], zero_counts());
    assert_eq!(manifest["inputs"], json!([]));
    assert_eq!(manifest["outputs"], json!([]));
    assert_eq!(lake.written_keys(), vec![manifest_key(hour)], "the manifest is all a run without inputs writes");
    assert_eq!(run.emf().len(), 1, "the metrics line reports the empty hour\n{run}");
    assert_eq!(run.emf()[0]["records"], 0.0);

    let quiet = lake.hourly(&["--hour", "2026-11-20T08", "--no-metrics"]);
    quiet.assert_exit(0);
    assert_eq!(quiet.stdout, "", "--no-metrics prints nothing on stdout");
}

fn empty_bronze_hour_commits_zero_counts(lake: TestLake) {
    let hour = "2026-11-20T07";
    // Only an empty object and objects that are not events.
    lake.put("bronze/2026/11/20/07/events-empty.ndjson", b"");
    lake.put("bronze/2026/11/20/07/processing-failed/failed.json", b"{\"errorCode\": \"x\"}\n");
    lake.put("bronze/2026/11/20/07/_SUCCESS", b"");
    lake.hourly(&["--hour", hour]).assert_exit(0);
    let manifest = lake.manifest(hour).unwrap();
    assert_eq!(manifest["counts"], zero_counts());
    let inputs: Vec<(&str, u64)> = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap(), i["size"].as_u64().unwrap()))
        .collect();
    assert_eq!(inputs, vec![("bronze/2026/11/20/07/events-empty.ndjson", 0)]);
    assert_eq!(manifest["outputs"], json!([]));
    assert_eq!(lake.written_keys(), vec![manifest_key(hour)]);
}

fn range_runs_every_hour_of_the_half_open_range(lake: TestLake) {
    lake.put_bronze("sample");
    let run = lake.hourly(&["--from", "2026-11-20T05", "--to", "2026-11-20T08", "--parallel", "2"]);
    run.assert_exit(0);
    let hours = ["2026-11-20T05", "2026-11-20T06", "2026-11-20T07"];
    let summary: Vec<(String, String)> = run.summary().into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    assert_eq!(summary, hours.map(|h| (h.to_owned(), "committed".to_owned())), "{run}");
    let mut emf_hours: Vec<String> = run.emf().iter().map(|m| m["arrival_hour"].as_str().unwrap().to_owned()).collect();
    emf_hours.sort();
    assert_eq!(emf_hours, hours, "one metrics line per hour");
    let manifests = lake.keys("_manifests/");
    assert_eq!(manifests, hours.map(manifest_key), "--to is exclusive");

    // Hours run in parallel give what hours run one by one give.
    let serial = lake.fresh("serial");
    serial.put_bronze("sample");
    for hour in hours {
        serial.hourly(&["--hour", hour]).assert_exit(0);
    }
    assert_same_text(
        "--parallel 2 vs one hour at a time",
        &serial.snapshot().to_string(),
        &lake.snapshot().to_string(),
    );

    // Hour 06 wrote a late event into hour=05; redoing arrival hour 05 must leave that file alone.
    let late = "silver/event_type=lesson/dt=2026-11-20/hour=05/part-2026112006-0.parquet";
    assert!(lake.get(late).is_some(), "the fixture should write {late}");
    let before = lake.snapshot();
    lake.hourly(&["--hour", "2026-11-20T05", "--force"]).assert_exit(0);
    assert_same_text("after redoing hour 05", &before.to_string(), &lake.snapshot().to_string());
}

fn dry_run_lists_the_plan_and_writes_nothing(lake: TestLake) {
    lake.put_bronze("sample");
    let before = lake.keys("");
    let plan = lake.hourly(&["--from", "2026-11-20T05", "--to", "2026-11-20T08", "--dry-run"]);
    plan.assert_exit(0);
    let rows = crate::support::summary_rows(&plan.stdout);
    let cells: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[3].as_str())).collect();
    assert_eq!(
        cells,
        [("2026-11-20T05", "2", "run"), ("2026-11-20T06", "1", "run"), ("2026-11-20T07", "0", "run")],
        "hour, inputs, action\n{plan}"
    );
    assert_eq!(lake.keys(""), before, "--dry-run wrote to the lake");

    lake.hourly(&["--hour", "2026-11-20T05"]).assert_exit(0);
    let committed = lake.keys("");
    let plan = lake.hourly(&["--from", "2026-11-20T05", "--to", "2026-11-20T07", "--dry-run"]);
    plan.assert_exit(0);
    let actions: Vec<String> = crate::support::summary_rows(&plan.stdout).into_iter().map(|r| r[3].clone()).collect();
    assert_eq!(actions, ["skip (manifest current)", "run"], "{plan}");
    let forced = lake.hourly(&["--hour", "2026-11-20T05", "--dry-run", "--force"]);
    forced.assert_exit(0);
    assert_eq!(crate::support::summary_rows(&forced.stdout)[0][3], "run", "{forced}");
    assert_eq!(lake.keys(""), committed, "--dry-run wrote to the lake");
}

fn previous_hour_counts_back_from_the_scheduled_time(lake: TestLake) {
    lake.put_bronze("sample");
    let run = lake.hourly(&["--previous-hour", "--scheduled-time", "2026-11-20T06:05:00Z"]);
    run.assert_exit(0);
    assert_eq!(lake.keys("_manifests/"), [manifest_key("2026-11-20T05")], "{run}");

    // The same through the environment, as the ECS task sets it; on the hour counts as the new hour.
    let mut cmd = lake.hourly_command(&[]);
    cmd.env("EVENTLAKE_PREVIOUS_HOUR", "true").env("EVENTLAKE_SCHEDULED_TIME", "2026-11-20T07:00:00Z");
    crate::support::run(cmd).assert_exit(0);
    assert_eq!(lake.keys("_manifests/"), [manifest_key("2026-11-20T05"), manifest_key("2026-11-20T06")]);
}
