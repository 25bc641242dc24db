//! Project files (`--config eventlake.toml`): several sources in one lake, each in its own folder
//! `sources/<name>/`: Paidy's CSV, Passei Direto's entity exports as JSON arrays, Tier's Segment
//! events and weather feed. The configurations are the worked examples in `examples/`.

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{ParquetFile, Run, TestLake, eventlake, fixtures_dir, run};

on_each_backend!(
    csv_rows_are_typed_by_the_schema,
    entity_snapshots_keep_the_latest_arrival,
    sources_share_a_lake_but_not_their_books,
    envelope_fields_by_json_pointer,
    csv_without_a_header_row_names_its_columns
);

fn example(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples")).join(name)
}

/// `eventlake <job> --lake <lake> --config <config> <args>`.
fn job(lake: &TestLake, name: &str, config: &PathBuf, args: &[&str]) -> Run {
    let mut cmd = eventlake();
    cmd.arg(name).arg("--lake").arg(lake.url()).arg("--config").arg(config).args(args);
    run(cmd)
}

fn json(lake: &TestLake, key: &str) -> Value {
    let bytes = lake.get(key).unwrap_or_else(|| panic!("{key} is missing"));
    serde_json::from_slice(&bytes).unwrap()
}

fn rows(lake: &TestLake, prefix: &str) -> Vec<serde_json::Map<String, Value>> {
    let keys = lake.keys(prefix);
    keys.iter().flat_map(|k| ParquetFile::read(k, lake.get(k).unwrap()).rows()).collect()
}

/// One query through `eventlake query --format json`, as JSON lines.
fn query(lake: &TestLake, config: &PathBuf, extra: &[&str], sql: &str) -> Vec<Value> {
    let out = job(lake, "query", config, &[extra, &["--format", "json", sql]].concat());
    out.assert_exit(0);
    out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Paidy's hourly CSV: `NA` is null, `"57"` an integer, a cell that is not its column's type a
/// quarantined row with its raw line, gzip detected by content; counts reconcile per source.
fn csv_rows_are_typed_by_the_schema(lake: TestLake) {
    let config = example("paidy/eventlake.toml");
    let csv = std::fs::read_to_string(example("paidy/bronze/file001.csv")).unwrap();
    lake.put("paidy/yyyy=2026/mm=11/dd=20/hh=05/file001.csv", csv.as_bytes());
    // A re-delivery of three rows, gzipped, with CRLF line ends and a quoted cell.
    let lines: Vec<&str> = csv.lines().collect();
    let again = format!("{}\r\n{}\r\n{}\r\n\"{}\r\n", lines[0], lines[1], lines[2], lines[3].replacen(',', "\",", 1));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(again.as_bytes()).unwrap();
    lake.put("paidy/yyyy=2026/mm=11/dd=20/hh=05/file002", &gz.finish().unwrap());

    let hourly = job(&lake, "hourly", &config, &["--hour", "2026-11-20T05", "--no-metrics"]);
    hourly.assert_exit(0);
    let manifest = json(&lake, "sources/paidy/_manifests/hourly/dt=2026-11-20/hour=05.json");
    let counts = &manifest["counts"];
    assert_eq!(
        (counts["records"].as_u64(), counts["valid"].as_u64(), counts["quarantined"].as_u64()),
        (Some(24), Some(23), Some(1)),
        "{hourly}"
    );
    assert_eq!(counts["by_event_name"]["loan_applications"].as_u64(), Some(23));
    assert!(lake.keys("_manifests/").is_empty(), "a named source keeps its books in its own folder");

    let silver = rows(&lake, "sources/paidy/silver/event_type=loan_applications/dt=2026-11-20/hour=05/");
    assert_eq!(silver.len(), 23);
    let row7 =
        silver.iter().find(|r| r["source_line"] == 8 && r["source_key"].as_str().unwrap().ends_with("file001.csv"));
    let row7 = row7.unwrap();
    assert_eq!((row7["age"].as_i64(), row7["debtratio"].as_f64()), (Some(57), Some(5710.0)));
    assert_eq!(row7["monthlyincome"], Value::Null, "NA is null");
    assert_eq!(row7["created_datetime"], "2026-11-20T05:00:00Z", "an entity row takes its arrival hour");
    assert_eq!(row7["event_id"].as_str().map(str::len), Some(64));

    let quarantine = lake.keys("sources/paidy/quarantine/");
    let text = String::from_utf8(lake.get(&quarantine[0]).unwrap()).unwrap();
    let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(line["record"], "21,0,0.2002,forty,0,0.1,4000,3,0,0,0,0", "the raw row, byte for byte");
    assert_eq!((line["reason"].as_str(), line["pointer"].as_str()), (Some("schema_violation"), Some("/age")));
    assert_eq!((line["line"].as_u64(), line["event_name"].as_str()), (Some(22), Some("loan_applications")));

    let day = job(&lake, "daily", &config, &["--date", "2026-11-20", "--allow-incomplete", "--no-metrics"]);
    day.assert_exit(0);
    let daily = json(&lake, "sources/paidy/_manifests/daily/dt=2026-11-20.json");
    assert_eq!(
        (daily["counts"]["gold_rows"].as_u64(), daily["counts"]["duplicates"].as_u64()),
        (Some(20), Some(3)),
        "the re-delivered rows are the same applications: {day}"
    );
    let found = query(
        &lake,
        &config,
        &[],
        "SELECT count(*) AS n, count(monthlyincome) AS income, sum(age) AS ages FROM gold_loan_applications",
    );
    assert_eq!(found[0]["n"], 20);
    assert_eq!(found[0]["income"], 17);
    let quarantined = query(&lake, &config, &[], "SELECT reason, count(*) AS n FROM paidy_quarantine GROUP BY reason");
    assert_eq!((quarantined[0]["reason"].as_str(), quarantined[0]["n"].as_i64()), (Some("schema_violation"), Some(1)));

    let ddl = job(&lake, "setup", &config, &["--database", "paidy", "--print"]);
    ddl.assert_exit(0);
    let location = "/sources/paidy/gold/events/event_type=loan_applications/'";
    assert!(ddl.stdout.contains("`gold_loan_applications`") && ddl.stdout.contains(location), "{ddl}");
    assert!(ddl.stdout.contains("`monthlyincome` bigint"), "{ddl}");
    assert!(ddl.stdout.contains("`paidy_daily_quality`") && !ddl.stdout.contains("`paidy_silver_events`"));

    // What the schema author runs before shipping gives the same verdicts.
    let mut cmd = eventlake();
    cmd.args(["validate", "--config"]).arg(&config).args(["--source", "paidy", "--format", "json"]);
    cmd.arg(example("paidy/bronze/file001.csv"));
    let checked = run(cmd);
    checked.assert_exit(1);
    let invalid: Vec<Value> = checked
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["valid"] == false)
        .collect();
    assert_eq!(invalid.len(), 1, "{checked}");
    assert_eq!((invalid[0]["line"].as_u64(), invalid[0]["pointer"].as_str()), (Some(22), Some("/age")));

    let rerun = job(&lake, "hourly", &config, &["--hour", "2026-11-20T05", "--no-metrics"]);
    rerun.assert_exit(0);
    assert_eq!(rerun.summary_status("2026-11-20T05"), "skipped (current)", "{rerun}");
}

/// Passei Direto's entity files: JSON arrays whose ids are strings (students) or integers (courses).
/// A later export of `students` changes one row: gold keeps the latest arrival. The entity tables
/// join into the seed's denormalised students table.
fn entity_snapshots_keep_the_latest_arrival(lake: TestLake) {
    let config = example("passei_direto/eventlake.toml");
    let entities = fixtures_dir().join("passei_direto/entities");
    for entity in ["students", "courses", "universities", "sessions"] {
        let bytes = std::fs::read(entities.join(format!("{entity}.json"))).unwrap();
        lake.put(&format!("passei_direto/{entity}/dt=2019-01-03/hour=00/{entity}.json"), &bytes);
    }
    let students = std::fs::read_to_string(entities.join("students.json")).unwrap();
    let moved = students.replacen("\"City\": \"Rio de Janeiro\"", "\"City\": \"Niterói\"", 1);
    assert_ne!(moved, students);
    lake.put("passei_direto/students/dt=2019-01-03/hour=01/students.json", moved.as_bytes());

    let hourly = job(&lake, "hourly", &config, &["--from", "2019-01-03T00", "--to", "2019-01-03T02", "--no-metrics"]);
    hourly.assert_exit(0);
    for (source, hour, records) in
        [("students", "00", 3), ("students", "01", 3), ("courses", "00", 2), ("sessions", "00", 3)]
    {
        let m = json(&lake, &format!("sources/{source}/_manifests/hourly/dt=2019-01-03/hour={hour}.json"));
        assert_eq!(
            (m["counts"]["records"].as_u64(), m["counts"]["valid"].as_u64()),
            (Some(records), Some(records)),
            "{source} {hour}: {hourly}"
        );
    }
    let courses = rows(&lake, "sources/courses/silver/");
    assert_eq!(courses[0]["id"], 1, "integer ids stay integers");
    let sessions = rows(&lake, "sources/sessions/silver/");
    let mut times: Vec<&str> = sessions.iter().map(|r| r["created_datetime"].as_str().unwrap()).collect();
    times.sort();
    assert_eq!(times, ["2019-01-01T11:30:00Z", "2019-01-01T11:35:00Z", "2019-01-02T11:30:00Z"]);

    let day = job(
        &lake,
        "daily",
        &config,
        &["--from", "2019-01-01", "--to", "2019-01-04", "--allow-incomplete", "--no-metrics"],
    );
    day.assert_exit(0);
    let students_day = json(&lake, "sources/students/_manifests/daily/dt=2019-01-03.json");
    assert_eq!(
        (students_day["counts"]["gold_rows"].as_u64(), students_day["counts"]["duplicates"].as_u64()),
        (Some(3), Some(2)),
        "{day}"
    );
    let conflict = &students_day["conflict_examples"][0];
    assert_eq!(conflict["event_id"], "1", "the changed student is an update: {students_day}");
    assert!(conflict["kept"].as_str().unwrap().starts_with("2019-01-03T01"), "the latest arrival wins: {conflict}");

    let sql = "SELECT s.id AS \"Id\", s.registereddate AS \"Date\", s.state AS \"State\", s.city AS \"City\", \
               u.name AS \"University\", c.name AS \"Course\", s.signupsource AS \"SignupSource\" \
               FROM gold_students s LEFT JOIN gold_universities u ON s.universityid = u.id \
               LEFT JOIN gold_courses c ON s.courseid = c.id ORDER BY s.id";
    let joined = query(&lake, &config, &[], sql);
    let mut expected: Vec<Value> =
        serde_json::from_slice(&std::fs::read(fixtures_dir().join("passei_direto/denormalizedStudents.json")).unwrap())
            .unwrap();
    expected[0]["City"] = "Niterói".into();
    assert_eq!(joined, expected, "the seed's denormalised students, with the later export's city");
}

/// A lake with the flags' own source and a project's: each source writes its own folder, one can
/// be selected with `--source`, and two sources naming one table fail before anything runs.
fn sources_share_a_lake_but_not_their_books(lake: TestLake) {
    let config = example("tier/eventlake.toml");
    let tier = fixtures_dir().join("tier");
    lake.put("tier/tracks/2019/05/13/14/tracks-1", &std::fs::read(tier.join("track_events_sample.ndjson")).unwrap());
    lake.put("tier/weather/2019/06/04/14/weather-1", &std::fs::read(tier.join("weather_sample.ndjson")).unwrap());

    let weather_only =
        job(&lake, "hourly", &config, &["--hour", "2019-06-04T14", "--source", "tier_weather", "--no-metrics"]);
    weather_only.assert_exit(0);
    assert!(lake.keys("sources/tier_tracks/").is_empty(), "--source runs only that source");
    let weather = json(&lake, "sources/tier_weather/_manifests/hourly/dt=2019-06-04/hour=14.json");
    assert_eq!(
        (weather["counts"]["valid"].as_u64(), weather["counts"]["by_reason"]["bad_envelope"].as_u64()),
        (Some(2), Some(1)),
        "a row without its time is quarantined: {weather_only}"
    );
    let observed = rows(&lake, "sources/tier_weather/silver/");
    assert!(observed.iter().any(|r| r["created_datetime"] == "2019-06-04T14:10:13Z"));

    // The flags' source (at the lake root) and both of the project's, in one command.
    let mut cmd = eventlake();
    cmd.arg("hourly").arg("--lake").arg(lake.url()).arg("--schemas").arg(&lake.schemas).arg("--config").arg(&config);
    cmd.args(["--hour", "2019-05-13T14", "--no-metrics"]);
    let all = run(cmd);
    all.assert_exit(0);
    assert!(lake.get(&crate::support::manifest_key("2019-05-13T14")).is_some(), "{all}");
    let tracks = json(&lake, "sources/tier_tracks/_manifests/hourly/dt=2019-05-13/hour=14.json");
    assert_eq!((tracks["counts"]["records"].as_u64(), tracks["counts"]["valid"].as_u64()), (Some(2), Some(2)), "{all}");
    let names = &tracks["names"]["signup_started"];
    assert_eq!(names["event_type"], "Signup Started", "the manifest maps table names to the records' spelling");
    assert_eq!(names["columns"]["segment_tracks_event_name"], "segment_tracks.event_name");
    let tables = query(
        &lake,
        &config,
        &["--schemas", lake.schemas.to_str().unwrap()],
        "SELECT (SELECT count(*) FROM silver_weather) AS weather, (SELECT count(*) FROM silver_signup_started) AS signups",
    );
    assert_eq!((tables[0]["weather"].as_i64(), tables[0]["signups"].as_i64()), (Some(2), Some(2)));

    let clash = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("schemas/", &format!("{}/schemas/", example("tier").display()));
    let twice = text
        .replace("[sources.tier_weather]", "[sources.tier_weather]\n")
        .replace("table = \"weather\"", "table = \"signup_started\"");
    std::fs::write(clash.path().join("eventlake.toml"), twice).unwrap();
    let refused = job(&lake, "hourly", &clash.path().join("eventlake.toml"), &["--hour", "2019-06-04T14"]);
    refused.assert_exit(2);
    assert!(
        refused
            .stderr
            .contains("\"silver_signup_started\" is named by both source \"tier_tracks\" and source \"tier_weather\""),
        "{refused}"
    );
}

/// An envelope nested in the record (`/context/id`, `/context/sent_at`): the id lands in column
/// `event_id`, the time is read through the pointer, and a record missing it is quarantined with
/// that pointer.
fn envelope_fields_by_json_pointer(lake: TestLake) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schemas")).unwrap();
    let schema = serde_json::json!({
        "type": "object",
        "required": ["event_name", "context"],
        "properties": {
            "event_name": {"type": "string", "const": "page:view"},
            "context": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "sent_at": {"type": "string"}}},
            "page": {"type": "string"}
        }
    });
    std::fs::write(dir.path().join("schemas/page_view.json"), schema.to_string()).unwrap();
    let config = dir.path().join("eventlake.toml");
    std::fs::write(
        &config,
        "[sources.web]\nbronze_prefix = \"web\"\nschemas = \"schemas\"\n\
         envelope = { id = \"/context/id\", time = \"/context/sent_at\", time_format = \"rfc3339\" }\n",
    )
    .unwrap();
    let records = [
        r#"{"event_name": "page:view", "context": {"id": "v-1", "sent_at": "2026-11-20T05:10:00Z"}, "page": "/a"}"#,
        r#"{"event_name": "page:view", "context": {"id": "v-2"}, "page": "/b"}"#,
    ];
    lake.put("web/2026/11/20/05/part-1", format!("{}\n", records.join("\n")).as_bytes());
    job(&lake, "hourly", &config, &["--hour", "2026-11-20T05", "--no-metrics"]).assert_exit(0);
    let silver = rows(&lake, "sources/web/silver/");
    assert_eq!(silver.len(), 1);
    assert_eq!(
        (silver[0]["event_id"].as_str(), silver[0]["created_datetime"].as_str()),
        (Some("v-1"), Some("2026-11-20T05:10:00Z"))
    );
    let quarantine = lake.keys("sources/web/quarantine/");
    let line: Value = serde_json::from_slice(&lake.get(&quarantine[0]).unwrap()).unwrap();
    assert_eq!((line["reason"].as_str(), line["pointer"].as_str()), (Some("bad_envelope"), Some("/context/sent_at")));
}

/// CSV files without a header row: the project names the cells (`header = false`, `columns`), and
/// every row, the first included, is a record.
fn csv_without_a_header_row_names_its_columns(lake: TestLake) {
    let dir = tempfile::tempdir().unwrap();
    let schema = serde_json::json!({
        "type": "object",
        "required": ["city", "temperature"],
        "properties": {"city": {"type": "string"}, "temperature": {"type": "number"}, "rain": {"type": ["boolean", "null"]}}
    });
    std::fs::write(dir.path().join("reading.json"), schema.to_string()).unwrap();
    let config = dir.path().join("eventlake.toml");
    std::fs::write(
        &config,
        "[sources.readings]\nbronze_prefix = \"readings\"\nformat = \"csv\"\ntable = \"readings\"\n\
         schema = \"reading.json\"\nenvelope = { content_id = true }\n\
         csv = { header = false, columns = [\"city\", \"temperature\", \"rain\"], delimiter = \";\", null = [\"\"] }\n",
    )
    .unwrap();
    lake.put("readings/2026/11/20/05/r.csv", "Zurich;29.1;true\nBerlin;21;\n\"Sao Paulo; SP\";hot;false\n".as_bytes());
    job(&lake, "hourly", &config, &["--hour", "2026-11-20T05", "--no-metrics"]).assert_exit(0);
    let manifest = json(&lake, "sources/readings/_manifests/hourly/dt=2026-11-20/hour=05.json");
    assert_eq!((manifest["counts"]["records"].as_u64(), manifest["counts"]["valid"].as_u64()), (Some(3), Some(2)));
    let mut cities: Vec<String> = rows(&lake, "sources/readings/silver/")
        .iter()
        .map(|r| format!("{} {} {}", r["city"], r["temperature"], r["rain"]))
        .collect();
    cities.sort();
    assert_eq!(cities, ["\"Berlin\" 21.0 null", "\"Zurich\" 29.1 true"]);
    let quarantine = lake.keys("sources/readings/quarantine/");
    let line: Value = serde_json::from_slice(&lake.get(&quarantine[0]).unwrap()).unwrap();
    assert_eq!((line["record"].as_str(), line["line"].as_u64()), (Some("\"Sao Paulo; SP\";hot;false"), Some(3)));
}
