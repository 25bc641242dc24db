//! `eventlake models`: Passei Direto's SQL models over its entity tables, compared row for row with
//! the seed's expected outputs; incremental dates rebuilt only when their inputs change; errors a
//! model author meets, with file and line.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Run, TestLake, eventlake, fixtures_dir, run};

on_each_backend!(passei_direto_models_match_the_seed, model_errors_name_file_and_line);

fn config() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/passei_direto/eventlake.toml"))
}

fn job(lake: &TestLake, args: &[&str]) -> Run {
    let mut cmd = eventlake();
    cmd.arg(args[0]).arg("--lake").arg(lake.url()).arg("--config").arg(config()).args(&args[1..]);
    run(cmd)
}

/// What each build did, from its `model finished` log line: (model, date, built).
fn statuses(run: &Run) -> Vec<(String, String, String)> {
    run.logs()
        .into_iter()
        .filter(|l| l["message"] == "model finished")
        .map(|l| {
            let status = if l["built"] == true { "built" } else { "skipped" };
            (l["model"].as_str().unwrap().to_owned(), l["date"].as_str().unwrap().to_owned(), status.to_owned())
        })
        .collect()
}

fn query(lake: &TestLake, sql: &str) -> Vec<Value> {
    let out = job(lake, &["query", "--format", "json", sql]);
    out.assert_exit(0);
    out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn expected(file: &str) -> Vec<Value> {
    serde_json::from_slice(&std::fs::read(fixtures_dir().join("passei_direto").join(file)).unwrap()).unwrap()
}

/// The seed's Spark job, as models: denormalised students (left joins keep a student whose
/// university is missing) and follows by date. A late follow rebuilds exactly its date; a rerun
/// with nothing new writes nothing.
fn passei_direto_models_match_the_seed(lake: TestLake) {
    let entities = fixtures_dir().join("passei_direto/entities");
    for entity in ["students", "courses", "universities", "sessions", "subjects", "student_follow_subject"] {
        let bytes = std::fs::read(entities.join(format!("{entity}.json"))).unwrap();
        lake.put(&format!("passei_direto/{entity}/dt=2019-01-03/hour=00/{entity}.json"), &bytes);
    }
    job(&lake, &["hourly", "--hour", "2019-01-03T00", "--no-metrics"]).assert_exit(0);
    let days = ["daily", "--from", "2019-01-01", "--to", "2019-01-04", "--allow-incomplete", "--no-metrics"];
    job(&lake, &days).assert_exit(0);

    let plan = job(&lake, &["models", "--dry-run"]);
    plan.assert_exit(0);
    let order: Vec<&str> = plan.stdout.lines().filter_map(|l| l.strip_prefix("-- ")?.split(' ').next()).collect();
    let position = |m: &str| order.iter().position(|o| *o == m).unwrap_or_else(|| panic!("{m} not planned: {plan}"));
    assert!(position("latest_students") < position("denormalized_students"), "dependency order: {plan}");
    assert!(lake.keys("models/").is_empty(), "--dry-run writes nothing");

    let built = job(&lake, &["models"]);
    built.assert_exit(0);
    assert!(statuses(&built).iter().all(|(_, _, s)| s == "built"), "{built}");

    let students = query(&lake, "SELECT * FROM denormalized_students ORDER BY id");
    let want: Vec<Value> = expected("denormalizedStudents.json")
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "id": s["Id"], "date": s["Date"], "state": s["State"], "city": s["City"],
                "university": s.get("University").cloned().unwrap_or(Value::Null),
                "course": s.get("Course").cloned().unwrap_or(Value::Null),
                "signup_source": s["SignupSource"],
            })
        })
        .collect();
    // Arrow's JSON writer leaves nulls out; the seed's output does too.
    let strip = |v: Vec<Value>| -> Vec<Value> {
        v.into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().retain(|_, x| !x.is_null());
                r
            })
            .collect()
    };
    assert_eq!(strip(students), strip(want), "row for row the seed's denormalizedStudents");

    let follows = query(&lake, "SELECT student_id, subject, date FROM denormalized_follows ORDER BY student_id, date");
    let want: Vec<Value> = expected("denormalizedFollows.json")
        .into_iter()
        .map(|f| serde_json::json!({"student_id": f["StudentId"], "subject": f["Subject"], "date": f["Date"]}))
        .collect();
    assert_eq!(follows, want, "row for row the seed's denormalizedFollows");
    assert!(lake.get("_manifests/models/denormalized_follows/dt=2019-01-01.json").is_some());

    let again = job(&lake, &["models"]);
    again.assert_exit(0);
    assert!(statuses(&again).iter().all(|(_, _, s)| s.starts_with("skipped")), "nothing new, nothing built: {again}");

    // A follow of 2019-01-01 arrives late: its date is rebuilt, nothing else.
    let late = r#"[{"StudentId": "3", "SubjectId": 2, "FollowDate": "2019-01-01 18:00:00.0000"}]"#;
    lake.put("passei_direto/student_follow_subject/dt=2019-01-03/hour=01/late.json", late.as_bytes());
    job(&lake, &["hourly", "--hour", "2019-01-03T01", "--source", "follows", "--no-metrics"]).assert_exit(0);
    job(&lake, &["daily", "--date", "2019-01-01", "--source", "follows", "--allow-incomplete", "--no-metrics"])
        .assert_exit(0);
    let caught_up = job(&lake, &["models"]);
    caught_up.assert_exit(0);
    let rebuilt: Vec<(String, String)> =
        statuses(&caught_up).into_iter().filter(|(_, _, s)| s == "built").map(|(m, d, _)| (m, d)).collect();
    assert_eq!(rebuilt, [("denormalized_follows".to_owned(), "2019-01-01".to_owned())], "{caught_up}");
    let day = query(&lake, "SELECT count(*) AS n FROM denormalized_follows WHERE dt = '2019-01-01'");
    assert_eq!(day[0]["n"], 3);

    let ddl = job(&lake, &["setup", "--database", "pd", "--print"]);
    ddl.assert_exit(0);
    assert!(ddl.stdout.contains("`pd`.`denormalized_follows`") && ddl.stdout.contains("PARTITIONED BY (`dt` string)"));
    assert!(ddl.stdout.contains("/models/denormalized_students/'"), "{ddl}");
}

/// A model author's mistakes fail before anything is written, naming the file and line.
fn model_errors_name_file_and_line(lake: TestLake) {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().to_str().unwrap();
    let cases = [
        (
            "typo.sql",
            "-- materialized: table\nSELECT id\nFROM gold_student\n",
            "typo.sql:3: unknown table \"gold_student\" (did you mean \"gold_students\"?)",
        ),
        ("broken.sql", "SELECT id FROM gold_students WHERE\n", "broken.sql:1:"),
        ("daily_x.sql", "-- materialized: incremental\nSELECT id FROM gold_students\n", "must have a dt column"),
        ("shout.sql", "SELECT id AS \"Id\" FROM gold_students\n", "output column \"Id\" is not lower snake case"),
        ("setting.sql", "-- materialised: table\nSELECT 1 AS one\n", "setting.sql:1: unknown setting \"materialised\""),
    ];
    for (file, sql, want) in cases {
        std::fs::write(dir.path().join(file), sql).unwrap();
        let out = job(&lake, &["models", "--models", models]);
        out.assert_exit(2);
        assert!(out.stderr.contains(want), "{file}: {out}");
        assert!(lake.keys("models/").is_empty());
        std::fs::remove_file(dir.path().join(file)).unwrap();
    }
    std::fs::write(dir.path().join("a.sql"), "SELECT * FROM b\n").unwrap();
    std::fs::write(dir.path().join("b.sql"), "SELECT * FROM a\n").unwrap();
    let cycle = job(&lake, &["models", "--models", models]);
    cycle.assert_exit(2);
    assert!(cycle.stderr.contains("a → b → a"), "{cycle}");
}
