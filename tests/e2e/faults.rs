//! S3 faults: the jobs run through `tests/faults/proxy.py` in front of the S3 server, which fails a
//! share of their requests (500 InternalError, 503 SlowDown, connection resets, truncated bodies)
//! from a seeded schedule. A run either succeeds or exits 1 having committed nothing; repeating it
//! through the same faults ends where a clean run ends: silver, quarantine, manifests and gold
//! equal, Parquet compared by content.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::daily::{DAY, DAY_HOURS, daily, put_daily_fixture};
use crate::golden::assert_same_text;
use crate::support::{Backend, ParquetFile, Run, TestLake, run};

/// Attempts a job gets through the faults before the test gives up on it.
const ATTEMPTS: usize = 8;

#[test]
fn hourly_daily_and_report_survive_s3_faults() {
    for (rate, seed) in [(0.05, 11), (0.2, 12)] {
        let Some(lake) = TestLake::create(Backend::S3, &format!("faults-{seed}")) else { return };
        let clean = lake.fresh("clean");
        for l in [&lake, &clean] {
            put_daily_fixture(l, "dedup");
        }
        let (from, to) = DAY_HOURS;
        clean.hourly(&["--from", from, "--to", to, "--no-metrics"]).assert_exit(0);
        daily(&clean, &["--date", DAY, "--no-metrics"]).assert_exit(0);
        run({
            let mut cmd = crate::support::eventlake();
            cmd.args(["report", "--lake", &clean.url(), "--date", DAY]);
            cmd
        })
        .assert_exit(0);

        let proxy = FaultProxy::start(rate, seed);
        let hourly = until_success(&lake, "hourly", || {
            let mut cmd = lake.hourly_command(&["--from", from, "--to", to, "--no-metrics"]);
            proxy.route(&mut cmd);
            run(cmd)
        });
        let daily_runs = until_success(&lake, "daily", || {
            let mut cmd = crate::support::eventlake();
            cmd.args(["daily", "--lake", &lake.url(), "--schemas"]).arg(&lake.schemas);
            cmd.args(["--date", DAY, "--no-metrics"]);
            proxy.route(&mut cmd);
            run(cmd)
        });
        let report_runs = until_success(&lake, "report", || {
            let mut cmd = crate::support::eventlake();
            cmd.args(["report", "--lake", &lake.url(), "--date", DAY]);
            proxy.route(&mut cmd);
            run(cmd)
        });
        let faults = proxy.injected();
        eprintln!(
            "faults at rate {rate} (seed {seed}): {} injected {:?}; attempts: hourly {hourly}, daily {daily_runs}, \
             report {report_runs}",
            faults.len(),
            count_kinds(&faults)
        );
        assert!(!faults.is_empty(), "the proxy injected no fault at rate {rate}");

        assert_same_text("the lake after faults vs a clean run", &outcome_text(&clean), &outcome_text(&lake));
        assert!(lake.get(&format!("reports/dt={DAY}/index.html")).is_some(), "the report was written");
    }
}

/// The Passei Direto project: entity files → hourly → daily → SQL models → a model exported to
/// PostgreSQL, the models and the export through the faults.
#[test]
fn models_and_export_survive_s3_faults() {
    let Some(lake) = TestLake::create(Backend::S3, "faults-models") else { return };
    let clean = lake.fresh("clean");
    let config = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/passei_direto/eventlake.toml"));
    let job = |l: &TestLake, args: &[&str]| {
        let mut cmd = crate::support::eventlake();
        cmd.arg(args[0]).arg("--lake").arg(l.url()).arg("--config").arg(&config).args(&args[1..]);
        cmd
    };
    let entities = crate::support::fixtures_dir().join("passei_direto/entities");
    for l in [&lake, &clean] {
        for entity in ["students", "courses", "universities", "sessions", "subjects", "student_follow_subject"] {
            let bytes = std::fs::read(entities.join(format!("{entity}.json"))).unwrap();
            l.put(&format!("passei_direto/{entity}/dt=2019-01-03/hour=00/{entity}.json"), &bytes);
        }
        run(job(l, &["hourly", "--hour", "2019-01-03T00", "--no-metrics"])).assert_exit(0);
        let days = ["daily", "--from", "2019-01-01", "--to", "2019-01-04", "--allow-incomplete", "--no-metrics"];
        run(job(l, &days)).assert_exit(0);
    }
    run(job(&clean, &["models"])).assert_exit(0);

    let proxy = FaultProxy::start(0.1, 21);
    let models = until_success(&lake, "models", || {
        let mut cmd = job(&lake, &["models"]);
        proxy.route(&mut cmd);
        run(cmd)
    });
    assert_same_text("the lake after faults vs a clean run", &outcome_text(&clean), &outcome_text(&lake));
    let mut exported = 0;
    if let Ok(pg) = std::env::var("EVENTLAKE_TEST_POSTGRES_URL") {
        exported = until_success(&lake, "export", || {
            let mut cmd = job(&lake, &["export", "--to", &pg, "--table", "denormalized_students", "--no-metrics"]);
            proxy.route(&mut cmd);
            run(cmd)
        });
        let count = Command::new("psql")
            .arg(&pg)
            .args(["-At", "-c", "SELECT count(*) FROM denormalized_students"])
            .output()
            .unwrap();
        let rows: usize = clean
            .written_keys()
            .iter()
            .filter(|k| k.contains("models/denormalized_students/") && k.ends_with(".parquet"))
            .map(|k| ParquetFile::read(k, clean.get(k).unwrap()).num_rows())
            .sum();
        assert_eq!(String::from_utf8_lossy(&count.stdout).trim(), rows.to_string(), "exported rows");
    }
    let faults = proxy.injected();
    eprintln!(
        "faults at rate 0.1 (seed 21): {} injected {:?}; attempts: models {models}, export {exported}",
        faults.len(),
        count_kinds(&faults)
    );
}

/// Runs `job` until it exits 0; every failed attempt must exit 1 with an error line and leave
/// every committed manifest's outputs in place. Returns the number of attempts.
fn until_success(lake: &TestLake, name: &str, mut job: impl FnMut() -> Run) -> usize {
    for attempt in 1..=ATTEMPTS {
        let run = job();
        match run.status.code() {
            Some(0) => return attempt,
            Some(1) => {
                assert!(run.stderr.contains("error"), "{name}: a failed run says why\n{run}");
                assert_commits_complete(lake);
            }
            _ => panic!("{name}: a fault must end in exit 0 or 1, never a crash or another code\n{run}"),
        }
    }
    panic!("{name}: no success in {ATTEMPTS} attempts through the faults");
}

/// Every manifest in the lake lists outputs that exist: nothing was committed half-way.
fn assert_commits_complete(lake: &TestLake) {
    let keys = lake.keys("");
    for key in lake.keys("_manifests/") {
        let manifest: Value = serde_json::from_slice(&lake.get(&key).unwrap()).unwrap();
        for output in manifest["outputs"].as_array().into_iter().flatten() {
            let file = output["key"].as_str().unwrap();
            let full = key.split("_manifests/").next().unwrap_or_default().to_owned() + file;
            assert!(keys.contains(&full), "{key} commits {full}, which is missing");
        }
    }
}

/// What two runs over the same input must agree on, as text: every key (no orphan), every
/// Parquet file's rows (as a set) and quarantine line, every manifest without run ids, times, versions and ETags.
pub(crate) fn outcome_text(lake: &TestLake) -> String {
    let mut out = String::new();
    for key in lake.written_keys() {
        let bytes = lake.get(&key).unwrap();
        out.push_str(&format!("== {key}\n"));
        if key.ends_with(".parquet") {
            // Rows as a set: a model's SQL may return them in any order.
            let mut rows: Vec<String> =
                ParquetFile::read(&key, bytes).rows().into_iter().map(|r| Value::Object(r).to_string()).collect();
            rows.sort();
            for row in rows {
                out.push_str(&format!("{row}\n"));
            }
        } else if key.starts_with("_manifests/") || key.contains("/_manifests/") {
            let mut manifest: Value = serde_json::from_slice(&bytes).unwrap();
            strip_run_details(&mut manifest);
            out.push_str(&format!("{manifest:#}\n"));
        } else if !key.starts_with("_locks/") && !key.ends_with(".html") {
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    out
}

fn strip_run_details(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for k in ["run_id", "timings", "version", "etag", "hourly_runs", "seconds"] {
                o.shift_remove(k);
            }
            o.values_mut().for_each(strip_run_details);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_run_details),
        _ => {}
    }
}

fn count_kinds(faults: &[String]) -> std::collections::BTreeMap<String, usize> {
    let mut kinds = std::collections::BTreeMap::new();
    for line in faults {
        *kinds.entry(line.split(' ').nth(1).unwrap_or_default().to_owned()).or_default() += 1;
    }
    kinds
}

/// `tests/faults/proxy.py` in front of the S3 server that `tests/run` started.
pub(crate) struct FaultProxy {
    child: Child,
    url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl FaultProxy {
    pub(crate) fn start(rate: f64, seed: u64) -> FaultProxy {
        let tools = std::env::var("EVENTLAKE_TOOLS_DIR").expect("tests/run sets EVENTLAKE_TOOLS_DIR");
        let upstream = std::env::var("AWS_ENDPOINT_URL").expect("tests/run sets AWS_ENDPOINT_URL");
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("faults.log");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/faults/proxy.py");
        let mut child = Command::new(format!("{tools}/venv-moto/bin/python"))
            .arg(script)
            .args(["--upstream", &upstream, "--rate", &rate.to_string(), "--seed", &seed.to_string()])
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the fault proxy");
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut port).unwrap();
        let url = format!("http://127.0.0.1:{}", port.trim());
        FaultProxy { child, url, log, _dir: dir }
    }

    /// Sends the command's S3 requests through the proxy.
    pub(crate) fn route(&self, cmd: &mut Command) {
        cmd.env("AWS_ENDPOINT_URL", &self.url);
    }

    /// One line per injected fault: `<request> <fault> <method> <path>`.
    pub(crate) fn injected(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().map(str::to_owned).collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
