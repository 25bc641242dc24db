//! Bronze that is not Firehose's: other arrival layouts (`--bronze-layout`), creation times spelled
//! as text (`--created-at-format`, `--created-at-timezone`), names that are not identifiers and
//! events without ids (`--content-id`).

use std::io::Write;

use serde_json::Value;

use crate::daily::{DAY_HOURS, daily};
use crate::support::{TestLake, eventlake, run};

on_each_backend!(
    hive_layout_hours_are_read_and_checked,
    text_creation_times_are_read_in_their_zone,
    segment_events_without_ids_deduplicate_by_content,
    page_views_with_run_together_times_load,
    json_array_exports_frame_their_elements
);

const HOUR: &str = "2026-11-20T05";
const ACCOUNT: &str = r#"{"event_uuid": "h-1", "event_name": "account:created", "created_at": 1795150800, "account_id": "u1", "email": "u1@example.com"}"#;

/// A Hive-style exporter writes `yyyy=/mm=/dd=/hh=` folders: the hourly job reads exactly those, the
/// daily job checks their completeness, and a Firehose folder beside them is not this source's.
fn hive_layout_hours_are_read_and_checked(lake: TestLake) {
    let hive = ["--bronze-layout", "hive"];
    lake.put("bronze/yyyy=2026/mm=11/dd=20/hh=05/file001.ndjson", format!("{ACCOUNT}\n").as_bytes());
    lake.put("bronze/yyyy=2026/mm=11/dd=20/hh=05/_SUCCESS", b"");
    lake.put("bronze/2026/11/20/05/firehose-object", format!("{ACCOUNT}\n").as_bytes());
    let run = lake.hourly(&[&["--from", DAY_HOURS.0, "--to", DAY_HOURS.1, "--no-metrics"][..], &hive[..]].concat());
    run.assert_exit(0);
    let manifest = lake.manifest(HOUR).unwrap();
    let inputs: Vec<&str> = manifest["inputs"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert_eq!(inputs, ["bronze/yyyy=2026/mm=11/dd=20/hh=05/file001.ndjson"], "{run}");
    assert_eq!(manifest["counts"]["valid"].as_u64(), Some(1));

    // The same hour under Firehose's layout is another listing (one object), and would run.
    let firehose = lake.hourly(&["--hour", HOUR, "--no-metrics", "--dry-run"]);
    firehose.assert_exit(0);
    let plan = crate::support::summary_rows(&firehose.stdout);
    assert_eq!((plan[0][1].as_str(), plan[0][3].as_str()), ("1", "run"), "{firehose}");

    // The daily job lists the day's hours the same way: all of them are current.
    let day = daily(&lake, &[&["--date", "2026-11-20", "--no-metrics"][..], &hive[..]].concat());
    day.assert_exit(0);
    let bad = lake.hourly(&["--hour", HOUR, "--bronze-layout", "{YYYY}/{MM}/{DD}"]);
    bad.assert_exit(2);
    assert!(bad.stderr.contains("{HH} exactly once"), "{bad}");
}

/// Segment-style events carry a naive `"2019-05-13 14:23:41"` instead of Unix seconds.
fn text_creation_times_are_read_in_their_zone(lake: TestLake) {
    let schemas = tempfile::tempdir().unwrap();
    let schema = serde_json::json!({
        "type": "object",
        "required": ["event_uuid", "event_name", "original_timestamp"],
        "properties": {
            "event_uuid": {"type": "string"},
            "event_name": {"const": "signup:started", "type": "string"},
            "original_timestamp": {"type": "string"}
        }
    });
    std::fs::write(schemas.path().join("signup.json"), schema.to_string()).unwrap();
    let lines = [
        r#"{"event_uuid": "a", "event_name": "signup:started", "original_timestamp": "2026-11-20 06:10:00"}"#,
        r#"{"event_uuid": "b", "event_name": "signup:started", "original_timestamp": "2026-11-20T06:10:00Z"}"#,
        r#"{"event_uuid": "c", "event_name": "signup:started", "original_timestamp": 1795150800}"#,
    ];
    lake.put("bronze/2026/11/20/05/segment", format!("{}\n", lines.join("\n")).as_bytes());
    let hourly = |extra: &[&str]| {
        let mut cmd = eventlake();
        cmd.arg("hourly").arg("--lake").arg(lake.url()).arg("--schemas").arg(schemas.path());
        cmd.args(["--hour", HOUR, "--no-metrics", "--force", "--created-at-field", "original_timestamp"]).args(extra);
        run(cmd)
    };
    hourly(&["--created-at-format", "%Y-%m-%d %H:%M:%S", "--created-at-timezone", "Europe/Berlin"]).assert_exit(0);
    let silver = lake.silver_files();
    assert_eq!(silver.len(), 1);
    let rows = silver[0].rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["event_uuid"], "a");
    assert_eq!(rows[0]["created_datetime"], "2026-11-20T05:10:00Z", "06:10 in Berlin is 05:10 UTC");
    let quarantined: Vec<(String, String)> = lake
        .quarantine()
        .into_iter()
        .map(|(_, q)| (q["reason"].as_str().unwrap().to_owned(), q["detail"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(quarantined.len(), 2, "{quarantined:?}");
    assert!(quarantined.iter().all(|(reason, _)| reason == "bad_envelope"), "{quarantined:?}");
    assert!(
        quarantined[0]
            .1
            .contains(r#"original_timestamp must be a time like "%Y-%m-%d %H:%M:%S" (read in Europe/Berlin)"#),
        "{quarantined:?}"
    );
    // Unix seconds need a numeric field: the schema says string, so the load fails naming it.
    let wrong = hourly(&[]);
    wrong.assert_exit(2);
    assert!(wrong.stderr.contains("original_timestamp") && wrong.stderr.contains("Unix seconds"), "{wrong}");
    let manifest: Value = lake.manifest(HOUR).unwrap();
    assert_eq!(manifest["counts"]["quarantined"].as_u64(), Some(2));
}

/// Tier's Segment export: field names with dots, an event name with a space, naive UTC times and no
/// event id. With `--content-id` the records get an id from their content: stable across reruns,
/// equal for a re-delivery (whatever its key order), so the daily job keeps one of each.
fn segment_events_without_ids_deduplicate_by_content(lake: TestLake) {
    let schemas = crate::support::fixtures_dir().join("tier/schemas");
    let sample =
        std::fs::read_to_string(crate::support::fixtures_dir().join("tier/track_events_sample.ndjson")).unwrap();
    let first: serde_json::Map<String, Value> = serde_json::from_str(sample.lines().next().unwrap()).unwrap();
    // The same event again, its keys in reverse order and spaced out.
    let mut reversed: Vec<(String, Value)> = first.into_iter().collect();
    reversed.reverse();
    let redelivered: Vec<String> = reversed.iter().map(|(k, v)| format!("{} : {v}", Value::from(k.as_str()))).collect();
    lake.put("bronze/2019/05/13/14/segment-a", sample.as_bytes());
    lake.put("bronze/2019/05/13/14/segment-b", format!("{{ {} }}\n", redelivered.join(" , ")).as_bytes());
    let envelope = [
        "--event-name-field",
        "segment_tracks.event_name",
        "--created-at-field",
        "segment_tracks.original_timestamp_time",
        "--created-at-format",
        "%Y-%m-%d %H:%M:%S",
        "--content-id",
    ];
    let job = |name: &str, args: &[&str]| {
        let mut cmd = eventlake();
        cmd.arg(name).arg("--lake").arg(lake.url()).arg("--schemas").arg(&schemas).args(args).args(envelope);
        run(cmd)
    };
    let ids = || -> Vec<String> {
        let mut ids: Vec<String> = lake
            .silver_files()
            .iter()
            .flat_map(|f| f.rows())
            .map(|r| r["event_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    job("hourly", &["--hour", "2019-05-13T14", "--no-metrics"]).assert_exit(0);
    let silver = lake.silver_files();
    assert_eq!(silver.len(), 1);
    assert!(silver[0].key.starts_with("silver/event_type=signup_started/dt=2019-05-13/hour=14/"), "{}", silver[0].key);
    let rows = silver[0].rows();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r["segment_tracks_event_name"] == "Signup Started" && r["event_type"] == "signup_started")
    );
    assert_eq!(rows[0]["created_datetime"], "2019-05-13T14:23:41Z");
    let first_ids = ids();
    let mut distinct = first_ids.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 2, "the two deliveries of one event share an id: {first_ids:?}");
    assert!(first_ids.iter().all(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())));

    job("hourly", &["--hour", "2019-05-13T14", "--no-metrics", "--force"]).assert_exit(0);
    assert_eq!(ids(), first_ids, "content ids are stable across reruns");

    let day = job("daily", &["--date", "2019-05-13", "--no-metrics", "--allow-incomplete"]);
    day.assert_exit(0);
    let manifest: Value = serde_json::from_slice(&lake.get("_manifests/daily/dt=2019-05-13.json").unwrap()).unwrap();
    assert_eq!(
        (manifest["counts"]["gold_rows"].as_u64(), manifest["counts"]["duplicates"].as_u64()),
        (Some(2), Some(1)),
        "{day}"
    );

    let ddl = job("setup", &["--database", "tier", "--print"]);
    ddl.assert_exit(0);
    assert!(
        ddl.stdout.contains("`silver_signup_started`") && ddl.stdout.contains("`segment_tracks_event_name` string"),
        "{ddl}"
    );
    assert!(ddl.stdout.contains(r#"JSON field "segment_tracks.event_name""#), "the original name stays visible\n{ddl}");
}

/// Passei Direto's page views: the name in `name`, the time as `"2017-11-1602:10:20"` (date and
/// time run together), mixed-case and dashed field names, no event id.
fn page_views_with_run_together_times_load(lake: TestLake) {
    let fixtures = crate::support::fixtures_dir().join("passei_direto");
    let data = std::fs::read(fixtures.join("page_views.ndjson")).unwrap();
    lake.put("bronze/2017/11/16/02/part-0000.json", &data);
    let mut cmd = eventlake();
    cmd.arg("hourly").arg("--lake").arg(lake.url()).arg("--schemas").arg(fixtures.join("schemas"));
    cmd.args(["--hour", "2017-11-16T02", "--no-metrics", "--event-name-field", "name", "--created-at-field", "at"]);
    cmd.args(["--created-at-format", "%Y-%m-%d%H:%M:%S", "--content-id"]);
    let run = run(cmd);
    run.assert_exit(0);
    let manifest = lake.manifest("2017-11-16T02").unwrap();
    assert_eq!(
        (manifest["counts"]["records"].as_u64(), manifest["counts"]["valid"].as_u64()),
        (Some(4), Some(4)),
        "{run}"
    );
    let rows: Vec<_> = lake.silver_files().iter().flat_map(|f| f.rows()).collect();
    assert_eq!(rows.len(), 4);
    let first = rows.iter().find(|r| r["created_datetime"] == "2017-11-16T02:10:20Z").unwrap();
    assert_eq!(first["event_type"], "pageview");
    assert_eq!(first["pagename"], "/perfil/22482764/materiais");
    assert!(first.contains_key("first_accessed_page") && first.contains_key("studentid_clienttype"), "{first:?}");
}

/// Tier's files are JSON arrays written one element per line (`{…},`): each element is a record, and
/// a trailing comma before `]` is quarantined on its own, so input = silver + quarantine still holds.
fn json_array_exports_frame_their_elements(lake: TestLake) {
    let fixtures = crate::support::fixtures_dir().join("tier");
    let sample = std::fs::read_to_string(fixtures.join("track_events_sample.ndjson")).unwrap();
    let elements: Vec<&str> = sample.lines().collect();
    let array = format!("[\n{},\n]\n", elements.join(",\n"));
    lake.put("bronze/2019/05/13/14/track_events.json", array.as_bytes());
    let mut cmd = eventlake();
    cmd.arg("hourly").arg("--lake").arg(lake.url()).arg("--schemas").arg(fixtures.join("schemas"));
    cmd.args(["--hour", "2019-05-13T14", "--no-metrics", "--content-id"]);
    cmd.args(["--event-name-field", "segment_tracks.event_name"]);
    cmd.args([
        "--created-at-field",
        "segment_tracks.original_timestamp_time",
        "--created-at-format",
        "%Y-%m-%d %H:%M:%S",
    ]);
    let run = run(cmd);
    run.assert_exit(0);
    let counts = &lake.manifest("2019-05-13T14").unwrap()["counts"];
    assert_eq!((counts["records"].as_u64(), counts["valid"].as_u64()), (Some(3), Some(2)), "{run}");
    let quarantined = lake.quarantine();
    assert_eq!(quarantined.len(), 1);
    let (_, line) = &quarantined[0];
    assert_eq!(
        (line["reason"].as_str(), line["record"].as_str(), line["line"].as_u64()),
        (Some("malformed_json"), Some("]"), Some(4))
    );
}

/// A 100 MB JSON array (one object, pretty-printed elements over many lines) is streamed: cut
/// between elements and never loaded whole, so the run stays under the hourly memory bound
/// (512 MiB peak RSS, whatever the hour's size); every element is counted exactly once.
#[test]
fn a_100_mb_json_array_is_streamed_under_the_memory_bound() {
    let Some(lake) = TestLake::create(crate::support::Backend::Local, "json_array_100mb") else { return };
    let name = "x".repeat(420);
    let mut array = Vec::with_capacity(105 << 20);
    array.extend_from_slice(b"[\n");
    let mut elements = 0u64;
    while array.len() < 100 << 20 {
        if elements > 0 {
            array.extend_from_slice(b",\n");
        }
        write!(
            array,
            "  {{\n    \"event_uuid\": \"big-{elements}\",\n    \"event_name\": \"account:created\",\n    \"created_at\": {},\n    \"account_id\": \"u{elements}\",\n    \"email\": \"u{elements}@example.com\",\n    \"name\": \"{name}\"\n  }}",
            1_795_150_800 + elements % 3600
        )
        .unwrap();
        elements += 1;
    }
    array.extend_from_slice(b"\n]\n");
    lake.put("bronze/2026/11/20/05/accounts.json", &array);
    drop(array);

    // Peak RSS of the child, as the kernel accounts it.
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); \
        print('peak_kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"]);
    let hourly = lake.hourly_command(&["--hour", HOUR, "--no-metrics"]);
    cmd.arg(hourly.get_program()).args(hourly.get_args());
    let out = run(cmd);
    out.assert_exit(0);
    let counts = &lake.manifest(HOUR).unwrap()["counts"];
    assert_eq!((counts["records"].as_u64(), counts["valid"].as_u64()), (Some(elements), Some(elements)), "{out}");
    let peak_kib: u64 = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_kib "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak in {out}"));
    assert!(peak_kib < 512 << 10, "peak RSS {} MiB for a 100 MB array", peak_kib >> 10);
}
