//! The schedule files (`schedules/<job>.json`) are what Terraform deploys: each one becomes an ECS
//! task definition (command, CPU, memory) and an EventBridge Scheduler schedule (cron, time zone,
//! retries). These tests keep them deployable: the shape Terraform reads, timing that cannot make a
//! retried run pick the wrong hour or day, and commands the binary's own argument parser accepts.

// The helpers below are test code too: a panic with the file name is the failure message.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::support::{eventlake, run};

/// The environment every ECS task gets (`local.environment` in `terraform/modules/jobs/main.tf`),
/// with dummy values. Flags a schedule's command does not carry must come from here.
const TASK_ENVIRONMENT: &[(&str, &str)] = &[
    ("EVENTLAKE_LAKE", "s3://bucket/lake"),
    ("EVENTLAKE_SCHEMAS", "/app/schemas"),
    ("EVENTLAKE_MODELS", "/app/models"),
    ("EVENTLAKE_CONFIG", "/app/eventlake.toml"),
    ("EVENTLAKE_LOG_FORMAT", "json"),
    ("RUST_LOG", "info"),
    ("EVENTLAKE_ATHENA_WORKGROUP", "eventlake-test"),
    ("EVENTLAKE_ATHENA_DATABASE", "eventlake_test"),
    ("TMPDIR", "/tmp"),
];

/// What Terraform adds for one job (`terraform/modules/jobs`: the export's database and tables).
fn job_environment(job: &str) -> &'static [(&'static str, &'static str)] {
    match job {
        "export" => &[
            ("EVENTLAKE_EXPORT_TO", "postgresql://eventlake@analytics.internal:5432/analytics"),
            ("EVENTLAKE_EXPORT_TABLE", "gold_order,daily_event_counts"),
        ],
        _ => &[],
    }
}

/// The keys Terraform reads. Anything else would be a typo that Terraform silently ignores.
const KEYS: [&str; 7] = ["command", "cpu", "cron", "description", "memory", "retry_policy", "timezone"];

/// Time from the scheduler firing to the container running: RunTask, image pull, start-up.
const START_UP_SECONDS: u64 = 600;

struct Schedule {
    job: String,
    path: PathBuf,
    json: Map<String, Value>,
}

impl Schedule {
    fn command(&self) -> Vec<String> {
        let Some(args) = self.json["command"].as_array() else {
            panic!("{}: command must be an array of arguments", self.path.display())
        };
        args.iter()
            .map(|a| match a.as_str() {
                Some(s) => s.to_owned(),
                None => panic!("{}: command arguments must be strings, got {a}", self.path.display()),
            })
            .collect()
    }

    fn number(&self, value: &Value, what: &str) -> u64 {
        value.as_u64().unwrap_or_else(|| panic!("{}: {what} must be a whole number, got {value}", self.path.display()))
    }

    fn cron(&self) -> Vec<String> {
        let cron =
            self.json["cron"].as_str().unwrap_or_else(|| panic!("{}: cron must be a string", self.path.display()));
        cron.split_whitespace().map(str::to_owned).collect()
    }
}

fn schedules_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schedules"))
}

/// Every `schedules/*.json`, sorted by job name (the file name).
fn schedules() -> Vec<Schedule> {
    let dir = schedules_dir();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json = match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => map,
            Ok(other) => panic!("{}: expected a JSON object, got {other}", path.display()),
            Err(e) => panic!("{}: not JSON: {e}", path.display()),
        };
        let job = path.file_stem().unwrap().to_string_lossy().into_owned();
        out.push(Schedule { job, path, json });
    }
    out.sort_by(|a, b| a.job.cmp(&b.job));
    out
}

/// Fargate's valid task sizes: CPU units and the memory (MiB) each allows.
fn fargate_size_is_valid(cpu: u64, memory: u64) -> bool {
    let (min, max, step) = match cpu {
        256 => return [512, 1024, 2048].contains(&memory),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        16384 => (32768, 122880, 8192),
        _ => return false,
    };
    (min..=max).contains(&memory) && memory.is_multiple_of(step)
}

#[test]
fn the_scheduled_jobs_have_schedule_files() {
    let jobs: Vec<String> = schedules().into_iter().map(|s| s.job).collect();
    for job in ["hourly", "daily", "models"] {
        assert!(jobs.iter().any(|j| j == job), "schedules/{job}.json is missing; found {jobs:?}");
    }
    assert!(
        !jobs.iter().any(|j| j == "setup"),
        "setup runs on deploy, not on a schedule: schedules/setup.json would replace its task definition"
    );
}

#[test]
fn every_schedule_has_the_shape_terraform_reads() {
    for s in schedules() {
        let at = s.path.display();
        let mut keys: Vec<&str> = s.json.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, KEYS, "{at}: keys");

        assert!(s.json["description"].as_str().is_some_and(|d| !d.trim().is_empty()), "{at}: description");
        assert_eq!(s.json["timezone"], "UTC", "{at}: schedules run in UTC, like the lake's hours and days");

        // EventBridge cron(...): minutes hours day-of-month month day-of-week year, and exactly one
        // of day-of-month and day-of-week is `?`.
        let cron = s.cron();
        assert_eq!(cron.len(), 6, "{at}: cron {cron:?} needs 6 fields (EventBridge syntax, with year)");
        assert!(
            (cron[2] == "?") != (cron[4] == "?"),
            "{at}: cron {cron:?}: exactly one of day-of-month and day-of-week must be `?`"
        );

        let command = s.command();
        assert_eq!(
            command.first(),
            Some(&s.job),
            "{at}: the command is the arguments after the `eventlake` entrypoint and starts with the \
             subcommand of the same name as the file"
        );

        let Some(retry) = s.json["retry_policy"].as_object() else { panic!("{at}: retry_policy must be an object") };
        let mut retry_keys: Vec<&str> = retry.keys().map(String::as_str).collect();
        retry_keys.sort_unstable();
        assert_eq!(retry_keys, ["maximum_event_age_in_seconds", "maximum_retry_attempts"], "{at}: retry_policy keys");
        let attempts = s.number(&retry["maximum_retry_attempts"], "maximum_retry_attempts");
        let age = s.number(&retry["maximum_event_age_in_seconds"], "maximum_event_age_in_seconds");
        assert!(attempts <= 185, "{at}: EventBridge Scheduler allows 0-185 retry attempts, got {attempts}");
        assert!((60..=86_400).contains(&age), "{at}: EventBridge Scheduler allows a maximum event age of 60-86400 s");

        let (cpu, memory) = (s.number(&s.json["cpu"], "cpu"), s.number(&s.json["memory"], "memory"));
        assert!(fargate_size_is_valid(cpu, memory), "{at}: {cpu} CPU units with {memory} MiB is not a Fargate size");
    }
}

/// `--previous-hour` and `--previous-day` count back from the time the task starts (the templated
/// ECS target cannot pass the scheduled time). A retry must therefore still start within the period
/// the schedule fired in, or it would process the wrong hour or day.
#[test]
fn retries_start_within_the_period_they_were_scheduled_in() {
    for s in schedules() {
        let at = s.path.display();
        let cron = s.cron();
        let command = s.command();
        let age = s.number(&s.json["retry_policy"]["maximum_event_age_in_seconds"], "maximum_event_age_in_seconds");
        let field = |i: usize| -> u64 {
            cron[i]
                .parse()
                .unwrap_or_else(|_| panic!("{at}: cron field {i} must be a single number here, got {cron:?}"))
        };
        let (fires_at, period) = if command.iter().any(|a| a == "--previous-hour") {
            assert_eq!(cron[1], "*", "{at}: --previous-hour runs every hour");
            (field(0) * 60, 3_600)
        } else if command.iter().any(|a| a == "--previous-day") {
            (field(1) * 3_600 + field(0) * 60, 86_400)
        } else {
            continue;
        };
        let latest_start = fires_at + age + START_UP_SECONDS;
        assert!(
            latest_start < period,
            "{at}: fires {fires_at} s into its period, retries for up to {age} s, plus {START_UP_SECONDS} s to \
             start: a retry could begin in the next period ({latest_start} s >= {period} s) and process the \
             wrong one. Lower maximum_event_age_in_seconds or fire earlier."
        );
    }
}

#[test]
fn every_schedule_command_is_accepted_by_the_binary() {
    let mut rejected = Vec::new();
    for s in schedules() {
        let mut cmd = eventlake();
        cmd.arg("check-args").args(s.command());
        for (name, value) in TASK_ENVIRONMENT.iter().chain(job_environment(&s.job)) {
            cmd.env(name, value);
        }
        let out = run(cmd);
        if out.status.code() != Some(0) {
            rejected.push(format!("{}: `eventlake {}`\n{out}", s.path.display(), s.command().join(" ")));
        }
    }
    assert!(
        rejected.is_empty(),
        "schedule commands the binary rejects (with the ECS task environment set):\n{}",
        rejected.join("\n\n")
    );
}

/// The check above is only as good as `check-args`: it must fail where the real parse fails.
#[test]
fn check_args_rejects_what_the_parser_rejects() {
    let mut unknown_flag = eventlake();
    unknown_flag.args(["check-args", "hourly", "--previous-hour", "--no-such-flag"]);
    for (name, value) in TASK_ENVIRONMENT {
        unknown_flag.env(name, value);
    }
    run(unknown_flag).assert_exit(2);

    // Without the task environment, the required --lake and --schemas are missing.
    let mut no_environment = eventlake();
    no_environment.args(["check-args", "hourly", "--previous-hour"]);
    run(no_environment).assert_exit(2);
}

/// Models read gold and exports read both: each starts after the job it reads from.
#[test]
fn each_day_runs_daily_then_models_then_export() {
    let all = schedules();
    let start = |job: &str| {
        let s = all.iter().find(|s| s.job == job).unwrap_or_else(|| panic!("schedules/{job}.json"));
        let cron = s.cron();
        let field =
            |i: usize| cron[i].parse::<u32>().unwrap_or_else(|_| panic!("{job}: a fixed time, not {}", cron[i]));
        field(1) * 60 + field(0)
    };
    assert!(start("daily") < start("models") && start("models") < start("export"), "daily, models, export in turn");
}
