//! One writer per hour: a held lease stops a second run (exit 75, nothing written), an expired one
//! is taken over, and two runs started at once commit the hour once.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::golden::assert_same_text;
use crate::rerun::assert_no_duplicates;
use crate::support::{Run, TestLake, lease_key};

const HOUR: &str = "2026-11-20T05";

on_each_backend!(
    held_lease_stops_the_run_and_writes_nothing,
    expired_lease_is_taken_over,
    two_runs_at_once_commit_once
);

/// A lease object as another run would have written it.
fn lease_body(expires_in: Duration) -> Vec<u8> {
    let now = Utc::now();
    let body = json!({
        "owner": "other-run-7f3a",
        "acquired_at": (now - Duration::minutes(5)).to_rfc3339(),
        "expires_at": (now + expires_in).to_rfc3339(),
    });
    serde_json::to_vec(&body).unwrap()
}

fn held_lease_stops_the_run_and_writes_nothing(lake: TestLake) {
    lake.put_bronze("sample");
    let lease = lease_body(Duration::days(1));
    lake.put(&lease_key(HOUR), &lease);

    let run = lake.hourly(&["--hour", HOUR]);
    run.assert_exit(75);
    assert!(run.stderr.contains("another run is processing this hour"), "a clear message\n{run}");
    assert!(run.stderr.contains("other-run-7f3a"), "the message names the holder\n{run}");
    assert_eq!(run.summary_status(HOUR), "lease held");
    assert!(run.emf().is_empty(), "no metrics for an hour that did not run\n{run}");
    assert_eq!(lake.written_keys(), vec![lease_key(HOUR)], "only the other run's lease is in the lake");
    assert_eq!(lake.get(&lease_key(HOUR)).unwrap(), lease, "the other run's lease is untouched");
}

fn expired_lease_is_taken_over(lake: TestLake) {
    lake.put_bronze("sample");
    lake.put(&lease_key(HOUR), &lease_body(-Duration::minutes(1)));

    let run = lake.hourly(&["--hour", HOUR]);
    run.assert_exit(0);
    assert_eq!(run.summary_status(HOUR), "committed");
    assert!(lake.get(&lease_key(HOUR)).is_none(), "the run releases the lease it took over");
    assert!(lake.manifest(HOUR).is_some());
}

fn two_runs_at_once_commit_once(lake: TestLake) {
    lake.put_bronze("sample");
    let children: Vec<_> = (0..2)
        .map(|_| {
            let mut cmd = lake.hourly_command(&["--hour", HOUR]);
            cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
            (format!("{cmd:?}"), cmd.spawn().unwrap())
        })
        .collect();
    let runs: Vec<Run> =
        children.into_iter().map(|(text, child)| Run::new(text, child.wait_with_output().unwrap())).collect();
    // The loser either finds the lease held (75) or, if the winner has finished, a current manifest.
    for run in &runs {
        assert!(matches!(run.status.code(), Some(0 | 75)), "{run}");
    }
    let committed = runs.iter().filter(|r| r.status.code() == Some(0) && r.summary_status(HOUR) == "committed").count();
    assert_eq!(committed, 1, "exactly one run commits\n{}\n{}", runs[0], runs[1]);

    let clean = lake.fresh("clean");
    clean.put_bronze("sample");
    clean.hourly(&["--hour", HOUR]).assert_exit(0);
    assert_same_text("two runs at once vs one clean run", &clean.snapshot().to_string(), &lake.snapshot().to_string());
    assert_no_duplicates(&lake);
}
