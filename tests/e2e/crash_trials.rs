//! Crash trials: the hourly and the daily job killed with SIGKILL at seeded random moments, each
//! kill followed by a rerun, must leave exactly what a clean run leaves: the same keys (no orphaned
//! file, not even a write the kill left unfinished), silver and quarantine rows, gold rows and
//! manifests. `EVENTLAKE_CRASH_SEED` replays
//! another schedule; `EVENTLAKE_CRASH_TRIALS` runs more trials.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::daily::{DAY, DAY_HOURS, Rng, daily, put_daily_fixture};
use crate::faults::outcome_text;
use crate::golden::assert_same_text;
use crate::rerun::assert_no_duplicates;
use crate::support::{Backend, Run, TestLake, eventlake};

const HOUR: &str = "2026-11-20T05";
/// The killed runs' lease lifetime: a rerun after it finds the lease expired.
const LOCK_TTL: &str = "1s";

fn trials() -> u64 {
    std::env::var("EVENTLAKE_CRASH_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(20)
}

fn seed() -> u64 {
    std::env::var("EVENTLAKE_CRASH_SEED").ok().and_then(|t| t.parse().ok()).unwrap_or(0x5eed_c0de)
}

#[test]
fn hourly_killed_at_random_moments_then_rerun_equals_a_clean_run() {
    let clean = TestLake::create(Backend::Local, "trials-hourly-clean").unwrap();
    clean.put_bronze("sample");
    let clean_run = timed(|| clean.hourly(&["--hour", HOUR, "--no-metrics"]));
    let expected = outcome_text(&clean);

    let mut rng = Rng(seed());
    let mut killed_before_commit = 0;
    for trial in 0..trials() {
        let lake = TestLake::create(Backend::Local, &format!("trials-hourly-{trial}")).unwrap();
        lake.put_bronze("sample");
        // Half the trials interrupt a forced rerun of a committed hour, half a first run.
        let forced = trial % 2 == 1;
        if forced {
            lake.hourly(&["--hour", HOUR, "--no-metrics"]).assert_exit(0);
        }
        let mut args = vec!["--hour", HOUR, "--no-metrics", "--lock-ttl", LOCK_TTL];
        if forced {
            args.push("--force");
        }
        let at = kill_moment(&mut rng, clean_run);
        let committed_before = lake.manifest(HOUR).map(|m| m["run_id"].clone());
        kill_at(lake.hourly_command(&args), at);
        let committed_after = lake.manifest(HOUR).map(|m| m["run_id"].clone());
        killed_before_commit += u64::from(committed_before == committed_after);

        rerun_until_done(|| lake.hourly(&["--hour", HOUR, "--no-metrics"]));
        assert_same_text(
            &format!("hourly trial {trial} (killed at {at:?}, forced {forced}) vs a clean run"),
            &expected,
            &outcome_text(&lake),
        );
        assert_no_duplicates(&lake);
    }
    eprintln!("hourly crash trials: {} survived, {killed_before_commit} killed before their commit", trials());
}

#[test]
fn daily_killed_at_random_moments_then_rerun_equals_a_clean_run() {
    let (from, to) = DAY_HOURS;
    let clean = TestLake::create(Backend::Local, "trials-daily-clean").unwrap();
    put_daily_fixture(&clean, "dedup");
    clean.hourly(&["--from", from, "--to", to, "--no-metrics"]).assert_exit(0);
    let clean_run = timed(|| daily(&clean, &["--date", DAY, "--no-metrics"]));
    let expected = outcome_text(&clean);

    let lake = TestLake::create(Backend::Local, "trials-daily").unwrap();
    put_daily_fixture(&lake, "dedup");
    lake.hourly(&["--from", from, "--to", to, "--no-metrics"]).assert_exit(0);
    let mut rng = Rng(seed() ^ 0xda11);
    for trial in 0..trials() {
        // The first trial interrupts the day's first build; the others a forced rebuild.
        let mut cmd = eventlake();
        cmd.args(["daily", "--lake", &lake.url(), "--schemas"]).arg(&lake.schemas);
        cmd.args(["--date", DAY, "--no-metrics", "--lock-ttl", LOCK_TTL]);
        if trial > 0 {
            cmd.arg("--force");
        }
        let at = kill_moment(&mut rng, clean_run);
        kill_at(cmd, at);
        rerun_until_done(|| daily(&lake, &["--date", DAY, "--no-metrics"]));
        let context = format!("daily trial {trial} (killed at {at:?}) vs a clean run");
        assert_same_text(&context, &expected, &outcome_text(&lake));
    }
    eprintln!("daily crash trials: {} survived", trials());
}

/// How long a clean run takes, asserting it succeeds.
fn timed(job: impl FnOnce() -> Run) -> Duration {
    let clock = Instant::now();
    job().assert_exit(0);
    clock.elapsed()
}

/// A moment within 1.2 × a clean run's time (some kills land after the commit).
fn kill_moment(rng: &mut Rng, clean_run: Duration) -> Duration {
    let span = (clean_run.as_micros() as u64 * 6 / 5).max(1);
    Duration::from_micros(rng.below(span))
}

/// Starts the command and sends it SIGKILL after `at` (if it is still running).
fn kill_at(mut cmd: Command, at: Duration) {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(at);
    let _ = child.kill();
    child.wait().unwrap();
}

/// Reruns until the job succeeds; a killed run's lease holds it off (exit 75) for `LOCK_TTL`.
fn rerun_until_done(mut job: impl FnMut() -> Run) {
    for _ in 0..10 {
        let run = job();
        match run.status.code() {
            Some(0) => return,
            Some(75) => std::thread::sleep(Duration::from_millis(300)),
            _ => panic!("a rerun after a crash must succeed\n{run}"),
        }
    }
    panic!("the killed run's lease never expired");
}
