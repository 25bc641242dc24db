//! The commands around the hourly job: `validate` (what schema authors run) and `demo`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{Backend, TestLake, eventlake, fixtures_dir, run};

fn validate(args: &[&str]) -> crate::support::Run {
    let mut cmd = eventlake();
    cmd.current_dir(fixtures_dir()).arg("validate").args(args);
    run(cmd)
}

#[test]
fn validate_json_reports_every_record() {
    let out = validate(&["--schemas", "schemas", "--format", "json", "validate/mixed.ndjson"]);
    out.assert_exit(1);
    let lines: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "one object per input line\n{out}");
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["file"], "validate/mixed.ndjson");
        assert_eq!(line["line"], i as u64 + 1);
        assert!(line["errors"].is_array(), "{line}");
    }
    let valid: Vec<&Value> = lines.iter().map(|l| &l["valid"]).collect();
    assert_eq!(valid, [true, false, false, false]);
    assert_eq!(lines[0]["errors"], json!([]));
    let first_error = |i: usize| (lines[i]["errors"][0]["pointer"].clone(), lines[i]["errors"][0]["keyword"].clone());
    assert_eq!(first_error(1), (json!("/age"), json!("type")), "wrong type");
    assert_eq!(first_error(2), (json!(""), json!("json")), "truncated line");
    assert_eq!(first_error(3), (json!(""), json!("event_name")), "unknown event name");
    assert_eq!(lines[3]["event_name"], "quiz:started");
}

#[test]
fn validate_exit_codes() {
    let ok = validate(&["--schemas", "schemas", "validate/valid.ndjson"]);
    ok.assert_exit(0);
    assert!(ok.stdout.contains("2 records checked: 2 valid, 0 invalid"), "{ok}");

    let invalid = validate(&["--schemas", "schemas", "validate/mixed.ndjson"]);
    invalid.assert_exit(1);
    assert!(invalid.stdout.contains("validate/mixed.ndjson:2:"), "text output points at file:line\n{invalid}");
    assert!(invalid.stdout.contains("4 records checked: 1 valid, 3 invalid"), "{invalid}");

    // Usage and configuration errors.
    validate(&["--schemas", "schemas", "validate/no-such-file.ndjson"]).assert_exit(2);
    validate(&["--schemas", "no-such-folder", "validate/valid.ndjson"]).assert_exit(2);
    validate(&["--schemas", "schemas"]).assert_exit(2);
}

/// `validate` and `hourly` give every record the same verdict: run over the same hostile fixtures
/// (every input shape, a late event, two arrival hours), each record `validate` rejects is
/// quarantined by the hourly job with the same reason and pointer, and each it accepts is in silver.
#[test]
fn validate_and_hourly_agree_on_every_record() {
    for (case, from, to) in [
        ("bad_input", "2026-11-20T11", "2026-11-20T12"),
        ("lateness", "2026-11-20T11", "2026-11-20T12"),
        ("sample", "2026-11-20T05", "2026-11-20T07"),
    ] {
        let lake = TestLake::create(Backend::Local, &format!("agree-{case}")).unwrap();
        lake.put_bronze(case);
        lake.hourly(&["--from", from, "--to", to, "--no-metrics"]).assert_exit(0);
        // (object key, line) -> (reason, pointer) of every quarantined record.
        let quarantined: BTreeMap<(String, u64), (String, String)> = lake
            .quarantine()
            .into_iter()
            .map(|(_, l)| {
                let at = (l["source_key"].as_str().unwrap().to_owned(), l["line"].as_u64().unwrap());
                (at, (l["reason"].as_str().unwrap().to_owned(), l["pointer"].as_str().unwrap().to_owned()))
            })
            .collect();
        let mut records: i64 = 0;
        let mut rejected = BTreeMap::new();
        let hours: Vec<String> = lake.keys("_manifests/hourly/").into_iter().collect();
        assert!(!hours.is_empty(), "{case}: no manifest");
        for manifest_key in hours {
            let manifest: Value = serde_json::from_slice(&lake.get(&manifest_key).unwrap()).unwrap();
            records += manifest["counts"]["records"].as_i64().unwrap();
            for input in manifest["inputs"].as_array().unwrap() {
                let key = input["key"].as_str().unwrap();
                let file = format!("bronze/{case}/{}", key.strip_prefix("bronze/").unwrap());
                let out = validate(&["--schemas", "schemas", "--format", "json", &file]);
                assert!(matches!(out.status.code(), Some(0 | 1)), "{out}");
                for line in out.stdout.lines() {
                    let v: Value = serde_json::from_str(line).unwrap();
                    records -= 1;
                    if v["valid"] == false {
                        let at = (key.to_owned(), v["line"].as_u64().unwrap());
                        let verdict =
                            (v["reason"].as_str().unwrap().to_owned(), v["pointer"].as_str().unwrap().to_owned());
                        rejected.insert(at, verdict);
                    }
                }
            }
        }
        assert_eq!(records, 0, "{case}: validate and hourly read the same records");
        assert_eq!(rejected, quarantined, "{case}: validate's rejections vs the hourly job's quarantine");
        assert!(!quarantined.is_empty(), "{case}: the fixture has rejected records");
    }
}

/// Files of several pieces are checked on every core, and the verdicts still come out one per
/// record, in input order, with their lines: for line-delimited records and for a JSON array whose
/// pieces are cut between elements.
#[test]
fn validate_reports_in_input_order_across_pieces() {
    let dir = tempfile::Builder::new().prefix("eventlake-e2e-validate-pieces-").tempdir().unwrap();
    // About 4 MB, several pieces of 1 MiB; every 997th record carries a text age, which the schema
    // rejects.
    let n = 30_000;
    let record = |i: usize| {
        let age = if i.is_multiple_of(997) { r#", "age": "30""# } else { "" };
        format!(
            r#"{{"event_uuid": "{i}", "event_name": "account:created", "created_at": 1795150800, "account_id": "u{i}", "email": "u{i}@example.com"{age}}}"#
        )
    };
    let records: Vec<String> = (0..n).map(record).collect();
    let lines = dir.path().join("events.ndjson");
    std::fs::write(&lines, records.join("\n") + "\n").unwrap();
    let array = dir.path().join("events.json");
    std::fs::write(&array, format!("[\n{}\n]\n", records.join(",\n"))).unwrap();

    for (file, first_line) in [(&lines, 1), (&array, 2)] {
        let out = validate(&["--schemas", "schemas", "--format", "json", file.to_str().unwrap()]);
        out.assert_exit(1);
        let verdicts: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(verdicts.len(), n, "one verdict per record: {}", file.display());
        for (i, v) in verdicts.iter().enumerate() {
            assert_eq!(v["line"], (i + first_line) as u64, "in input order: {v}");
            assert_eq!(v["valid"], !i.is_multiple_of(997), "{v}");
        }
        let text = validate(&["--schemas", "schemas", file.to_str().unwrap()]);
        text.assert_exit(1);
        assert!(text.stdout.contains(&format!("{n} records checked: {} valid, 31 invalid", n - 31)), "{text}");
    }
}

#[test]
fn hourly_usage_errors_exit_2_and_write_nothing() {
    let dir = tempfile::Builder::new().prefix("eventlake-e2e-usage-").tempdir().unwrap();
    let lake = dir.path().join("lake").display().to_string();
    let schemas = fixtures_dir().join("schemas").display().to_string();
    let (lake, schemas) = (lake.as_str(), schemas.as_str());
    let cases: &[&[&str]] = &[
        &["--lake", lake, "--schemas", schemas, "--hour", "2026-11-20T5x"],
        &["--lake", lake, "--schemas", schemas, "--hour", "2026-11-20T05:30"],
        &["--lake", lake, "--schemas", schemas, "--from", "2026-11-20T06", "--to", "2026-11-20T05"],
        &["--lake", lake, "--schemas", schemas, "--from", "2026-11-20T06"],
        &["--lake", lake, "--schemas", schemas, "--hour", "2026-11-20T05", "--lock-ttl", "5x"],
        &["--lake", lake, "--schemas", schemas],
        &["--lake", lake, "--schemas", "/no/such/folder", "--hour", "2026-11-20T05"],
        &["--lake", "ftp://example.com/lake", "--schemas", schemas, "--hour", "2026-11-20T05"],
    ];
    for args in cases {
        let mut cmd = eventlake();
        cmd.arg("hourly").args(*args);
        let out = run(cmd);
        out.assert_exit(2);
        assert!(out.stderr.contains("error"), "says what is wrong\n{out}");
        assert!(out.stdout.is_empty(), "{out}");
    }
    let lake = dir.path().join("lake");
    let written: Vec<String> = if lake.exists() { walk(&lake) } else { Vec::new() };
    assert_eq!(written, Vec::<String>::new(), "usage errors wrote to the lake");
}

/// Arguments, environment changes (`None` removes), and what the error line names.
type ConfigCase<'a> = (Vec<&'a str>, Vec<(&'a str, Option<&'a str>)>, &'a str);

/// Each misconfiguration fails before any work with exit 2 and one error line naming the cause
/// and the fix (the S3 ones need the local S3 server).
#[test]
fn misconfigurations_exit_2_with_the_cause_and_the_fix() {
    let dir = tempfile::Builder::new().prefix("eventlake-e2e-config-").tempdir().unwrap();
    let schemas = fixtures_dir().join("schemas").display().to_string();
    let empty = dir.path().join("empty-schemas");
    std::fs::create_dir_all(&empty).unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let (empty, file, lake) =
        (empty.display().to_string(), file.display().to_string(), dir.path().join("lake").display().to_string());
    let mut cases: Vec<ConfigCase> = vec![
        (vec!["--lake", &lake, "--schemas", &empty], vec![], "no schema files"),
        (vec!["--lake", &file, "--schemas", &schemas], vec![], "not a folder"),
        (vec!["--lake", "http://example.com/lake", "--schemas", &schemas], vec![], "s3://bucket/prefix"),
    ];
    let s3 = std::env::var_os("EVENTLAKE_TEST_S3").is_some();
    if s3 {
        let no_credentials = vec![
            ("AWS_ACCESS_KEY_ID", None),
            ("AWS_SECRET_ACCESS_KEY", None),
            // Nothing answers here, as nothing answers off EC2.
            ("AWS_METADATA_ENDPOINT", Some("http://127.0.0.1:9")),
        ];
        cases.push((
            vec!["--lake", "s3://eventlake-e2e-any/lake", "--schemas", &schemas],
            no_credentials,
            "no AWS credentials found",
        ));
        cases.push((
            vec!["--lake", "s3://eventlake-e2e-no-such-bucket/lake", "--schemas", &schemas],
            vec![],
            "does not exist",
        ));
    }
    for (args, env, cause) in cases {
        let mut cmd = eventlake();
        cmd.arg("hourly").args(&args).args(["--hour", "2026-11-20T05"]);
        for (name, value) in env {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        let clock = std::time::Instant::now();
        let out = run(cmd);
        out.assert_exit(2);
        let errors: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "one error line\n{out}");
        assert!(errors[0].contains(cause), "names the cause ({cause})\n{out}");
        assert!(clock.elapsed() < std::time::Duration::from_secs(30), "fails fast\n{out}");
    }
}

#[test]
fn demo_builds_a_sample_lake() {
    let dir = tempfile::Builder::new().prefix("eventlake-e2e-demo-").tempdir().unwrap();
    let mut cmd = eventlake();
    cmd.arg("demo").arg("--dir").arg(dir.path());
    let out = run(cmd);
    out.assert_exit(0);
    let lake = dir.path().join("lake");
    let silver: Vec<_> = walk(&lake.join("silver")).into_iter().filter(|p| p.ends_with(".parquet")).collect();
    assert!(silver.len() >= 4, "silver files: {silver:?}\n{out}");
    for hour in ["05", "06"] {
        let manifest = lake.join(format!("_manifests/hourly/dt=2026-11-20/hour={hour}.json"));
        assert!(manifest.is_file(), "{} is missing\n{out}", manifest.display());
    }
    // The demo reuses its folder: a second run rewrites the sample and ends with the same files.
    let mut again = eventlake();
    again.arg("demo").arg("--dir").arg(dir.path());
    let again = run(again);
    again.assert_exit(0);
    let mut after: Vec<_> = walk(&lake.join("silver")).into_iter().filter(|p| p.ends_with(".parquet")).collect();
    after.sort();
    let mut silver = silver;
    silver.sort();
    assert_eq!(after, silver, "{again}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}
