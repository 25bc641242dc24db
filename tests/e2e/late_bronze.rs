//! No hour missed: a Firehose object that lands in an arrival hour after that hour's run committed
//! is noticed by the daily job (which refuses to build the day without it) and brought to silver by
//! the next scheduled hourly run (`--lookback`), then to gold by the next daily run.

use serde_json::Value;

use crate::daily::{DAY_HOURS, daily};
use crate::support::{ParquetFile, TestLake};

on_each_backend!(a_late_object_reaches_silver_and_gold);

const DAY: &str = "2026-11-20";
const LATE_HOUR: &str = "2026-11-20T05";
const LATE_KEY: &str = "bronze/2026/11/20/05/events-1-2026-11-20-05-58-59-late";
const LATE_EVENT: &str = r#"{"event_uuid": "late-0001", "event_name": "account:created", "created_at": 1795154339, "account_id": "late", "email": "late@example.com", "name": "Late Comer", "age": 30}"#;

fn ids_under(lake: &TestLake, prefix: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for key in lake.keys(prefix) {
        for row in ParquetFile::read(&key, lake.get(&key).unwrap()).rows() {
            if let Some(Value::String(id)) = row.get("event_uuid") {
                ids.push(id.clone());
            }
        }
    }
    ids
}

fn a_late_object_reaches_silver_and_gold(lake: TestLake) {
    lake.put_bronze("sample");
    lake.hourly(&["--from", DAY_HOURS.0, "--to", DAY_HOURS.1, "--no-metrics"]).assert_exit(0);
    let committed = lake.manifest(LATE_HOUR).unwrap();

    // Firehose delivers an object named after 05:58 once the hour's run has committed.
    lake.put(LATE_KEY, format!("{LATE_EVENT}\n").as_bytes());

    let refused = daily(&lake, &["--date", DAY, "--no-metrics"]);
    refused.assert_exit(1);
    assert!(
        refused.stderr.contains("changed after their hourly run") && refused.stderr.contains(LATE_HOUR),
        "the daily job names the hour whose bronze changed\n{refused}"
    );
    assert!(lake.get(&format!("_manifests/daily/dt={DAY}.json")).is_none(), "nothing committed\n{refused}");

    // The next scheduled hourly run (08:07 → hour 07) looks back three hours and finds hour 05.
    let scheduled = lake.hourly(&["--previous-hour", "--scheduled-time", "2026-11-20T08:07:00Z", "--lookback", "3h"]);
    scheduled.assert_exit(0);
    assert_eq!(scheduled.summary_status(LATE_HOUR), "committed", "{scheduled}");
    assert_eq!(scheduled.summary_status("2026-11-20T07"), "skipped (current)", "{scheduled}");
    let hours: Vec<String> = scheduled.summary().into_iter().map(|r| r[0].clone()).collect();
    assert!(!hours.contains(&"2026-11-20T06".to_owned()), "current lookback hours are not rerun\n{scheduled}");
    let emf = scheduled.emf();
    assert_eq!(emf.len(), 1, "{scheduled}");
    assert_eq!(emf[0]["arrival_hour"], LATE_HOUR);
    assert_eq!(emf[0]["inputs_changed_after_commit"].as_f64(), Some(1.0), "the alarm's metric\n{scheduled}");
    let rerun = lake.manifest(LATE_HOUR).unwrap();
    assert_eq!(rerun["counts"]["records"].as_u64(), committed["counts"]["records"].as_u64().map(|n| n + 1));
    assert!(ids_under(&lake, "silver/event_type=account/dt=2026-11-20/").contains(&"late-0001".to_owned()));

    daily(&lake, &["--date", DAY, "--no-metrics"]).assert_exit(0);
    assert!(ids_under(&lake, "gold/events/event_type=account/dt=2026-11-20/").contains(&"late-0001".to_owned()));
    // Caught up: a second scheduled run finds nothing to redo.
    let quiet = lake.hourly(&["--previous-hour", "--scheduled-time", "2026-11-20T08:07:00Z", "--lookback", "3h"]);
    quiet.assert_exit(0);
    assert_eq!(quiet.summary().len(), 1, "only the previous hour, skipped\n{quiet}");
}
