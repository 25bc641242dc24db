//! Every shape of bronze input, good and bad, in one arrival hour (`tests/fixtures/bronze/bad_input`),
//! with the outcome of each record spelled out: its silver partition, or its quarantine reason,
//! pointer, line and byte offset.

use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{Map, Value};

use crate::support::{TestLake, bronze_fixture, decompressed};

const CASE: &str = "bad_input";
const HOUR: &str = "2026-11-20T11";
const BRONZE_DIR: &str = "2026/11/20/11";

/// What should happen to a record.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// A row in `silver/event_type=<table>/dt=<dt>/hour=<hour>/` (event time, not arrival time).
    Silver { table: &'static str, dt: &'static str, hour: &'static str },
    /// A quarantine line; `event_name` is set once the envelope could be read.
    Quarantine { reason: &'static str, pointer: &'static str, event_name: Option<&'static str> },
}

/// One record of the fixture: its object, the first bytes of the record (unique in that object),
/// and what should happen to it.
struct Case {
    object: &'static str,
    starts_with: &'static str,
    want: Want,
}

const fn silver(table: &'static str, dt: &'static str, hour: &'static str) -> Want {
    Want::Silver { table, dt, hour }
}

const fn quarantined(reason: &'static str, pointer: &'static str, event_name: Option<&'static str>) -> Want {
    Want::Quarantine { reason, pointer, event_name }
}

const ACCOUNT: Option<&str> = Some("account:created");

/// a-shapes.ndjson: CRLF line ends, a BOM, a blank and a whitespace-only line, no final newline.
/// b-firehose-gzip-no-extension: gzip without a .gz name. c-concatenated.json: `{..}{..}{..}`.
/// d-empty.ndjson: zero bytes. Skipped, so not listed: processing-failed/…, _SUCCESS, .hidden.ndjson.
#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-bom""#, want: silver("account", "2026-11-20", "11") },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-truncated""#, want: quarantined("malformed_json", "", None) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-after-bad-line""#, want: silver("account", "2026-11-20", "11") },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-wrong-type""#, want: quarantined("schema_violation", "/age", ACCOUNT) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-undeclared-top""#, want: quarantined("schema_violation", "/favourite_colour", ACCOUNT) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "0b6f5d0e-0000-4000-8000-000000000007""#, want: quarantined("schema_violation", "/customer/vip", Some("payment:refund:issued")) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-missing-required""#, want: quarantined("schema_violation", "/email", ACCOUNT) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-unknown-name""#, want: quarantined("unknown_event_name", "/event_name", Some("quiz:started")) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_name": "account:created", "created_at": 1795172706"#, want: quarantined("bad_envelope", "/event_uuid", None) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-created-at-string""#, want: quarantined("bad_envelope", "/created_at", None) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-name-number""#, want: quarantined("bad_envelope", "/event_name", None) },
    Case { object: "a-shapes.ndjson", starts_with: "[1,2]", want: quarantined("bad_envelope", "", None) },
    // The strict parser rejects the record before its envelope is read.
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-duplicate-key""#, want: quarantined("schema_violation", "/account_id", None) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-float-created-at""#, want: silver("account", "2026-11-20", "11") },
    // 10:59 arriving at 11: late but within --max-lateness, so in the event-time partition hour=10.
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-late-in-window""#, want: silver("account", "2026-11-20", "10") },
    // The window is [arrival - 7d, arrival end + 1h): 2026-11-13T11:00:00 is in, one second earlier is not.
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-too-late""#, want: quarantined("out_of_window", "/created_at", ACCOUNT) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-oldest-in-window""#, want: silver("account", "2026-11-13", "11") },
    // 2026-11-20T13:00:00 is out, 12:59:59 is in.
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-too-early""#, want: quarantined("out_of_window", "/created_at", ACCOUNT) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-newest-in-window""#, want: silver("account", "2026-11-20", "12") },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "bad-invalid-utf8""#, want: quarantined("malformed_json", "", None) },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-concat-1""#, want: silver("account", "2026-11-20", "11") },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-concat-2""#, want: silver("account", "2026-11-20", "11") },
    Case { object: "a-shapes.ndjson", starts_with: r#"{"event_uuid": "ok-last-line-no-newline""#, want: silver("account", "2026-11-20", "11") },
    Case { object: "b-firehose-gzip-no-extension", starts_with: r#"{"event_uuid": "ok-gzip-1""#, want: silver("lesson", "2026-11-20", "11") },
    Case { object: "b-firehose-gzip-no-extension", starts_with: r#"{"event_uuid": "bad-gzip-duration-zero""#, want: quarantined("schema_violation", "/duration_minutes", Some("lesson:started")) },
    Case { object: "b-firehose-gzip-no-extension", starts_with: r#"{"event_uuid": "ok-gzip-signup""#, want: silver("signup", "2026-11-20", "11") },
    Case { object: "c-concatenated.json", starts_with: r#"{"event_uuid": "ok-cat-1""#, want: silver("lesson", "2026-11-20", "11") },
    Case { object: "c-concatenated.json", starts_with: r#"{"event_uuid": "bad-cat-unknown""#, want: quarantined("unknown_event_name", "/event_name", Some("quiz:started")) },
    Case { object: "c-concatenated.json", starts_with: r#"{"event_uuid": "ok-cat-3""#, want: silver("lesson", "2026-11-20", "11") },
];

/// The objects the run reads, in key order.
const INPUTS: &[&str] = &["a-shapes.ndjson", "b-firehose-gzip-no-extension", "c-concatenated.json", "d-empty.ndjson"];

on_each_backend!(
    every_input_shape_has_its_outcome,
    hostile_object_names_keep_their_lineage,
    unreadable_object_fails_the_hour_and_commits_nothing,
    empty_error_prefixes_variable_keeps_the_default_error_folders,
);

fn every_input_shape_has_its_outcome(lake: TestLake) {
    lake.put_bronze(CASE);
    lake.hourly(&["--hour", HOUR]).assert_exit(0);

    let manifest = lake.manifest(HOUR).expect("a committed hour has a manifest");
    let inputs: Vec<(String, u64)> = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap().to_owned(), i["size"].as_u64().unwrap()))
        .collect();
    let want_inputs: Vec<(String, u64)> = INPUTS
        .iter()
        .map(|o| (source_key(o), bronze_fixture(CASE, &format!("{BRONZE_DIR}/{o}")).len() as u64))
        .collect();
    assert_eq!(inputs, want_inputs, "inputs: error folders and hidden objects are skipped");

    let counts = &manifest["counts"];
    let wanted_quarantine = CASES.iter().filter(|c| matches!(c.want, Want::Quarantine { .. })).count() as u64;
    assert_eq!(counts["records"], CASES.len() as u64, "{counts}");
    assert_eq!(counts["quarantined"], wanted_quarantine, "{counts}");
    assert_eq!(counts["valid"], CASES.len() as u64 - wanted_quarantine, "{counts}");

    let quarantine = lake.quarantine();
    let rows: Vec<(String, Map<String, Value>)> =
        lake.silver_files().into_iter().flat_map(|f| f.rows().into_iter().map(move |r| (f.key.clone(), r))).collect();
    let mut failures = Vec::new();
    let mut used_lines = BTreeSet::new();
    let mut used_rows = BTreeSet::new();
    for case in CASES {
        let at = case.locate();
        let problem = match case.want {
            Want::Quarantine { .. } => {
                let found: Vec<usize> = (0..quarantine.len())
                    .filter(|&i| record_bytes(&quarantine[i].1).starts_with(case.starts_with.as_bytes()))
                    .collect();
                match found[..] {
                    [i] => {
                        used_lines.insert(i);
                        check_quarantine_line(&quarantine[i].1, case, &at)
                    }
                    _ => Some(format!("{} quarantine lines, expected 1", found.len())),
                }
            }
            Want::Silver { .. } => {
                let id = case.starts_with.trim_start_matches(r#"{"event_uuid": ""#).trim_end_matches('"');
                let found: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].1["event_uuid"] == id).collect();
                match found[..] {
                    [i] => {
                        used_rows.insert(i);
                        check_silver_row(&rows[i].0, &rows[i].1, case, &at)
                    }
                    _ => Some(format!("{} silver rows, expected 1", found.len())),
                }
            }
        };
        if let Some(p) = problem {
            failures.push(format!("{} {}: {p}", case.object, case.starts_with));
        }
    }
    for (i, (_, line)) in quarantine.iter().enumerate() {
        if !used_lines.contains(&i) {
            failures.push(format!("unexpected quarantine line: {line}"));
        }
    }
    for (i, (key, row)) in rows.iter().enumerate() {
        if !used_rows.contains(&i) {
            failures.push(format!("unexpected silver row in {key}: {}", row["event_uuid"]));
        }
    }
    assert!(failures.is_empty(), "{} of {} records went wrong:\n{}", failures.len(), CASES.len(), failures.join("\n"));

    // Values that depend on how a record was framed and parsed.
    let row = |id: &str| &rows.iter().find(|(_, r)| r["event_uuid"] == id).unwrap().1;
    assert_eq!(row("ok-float-created-at")["created_datetime"], "2026-11-20T11:05:10.123456Z");
    assert_eq!(row("ok-float-created-at")["created_at"], 1795172710.123456);
    assert_eq!(row("ok-bom")["name"], "Zoë", "UTF-8 survives");
    assert_eq!(row("ok-late-in-window")["arrival_hour"], "2026-11-20T11:00:00Z");
    assert_eq!(row("ok-gzip-signup")["event_type"], "signup");
    assert_eq!(row("ok-gzip-signup")["event_subtype"], Value::Null, "one-segment name");
    assert_eq!(row("ok-cat-1")["event_subtype"], "started");

    lake.assert_golden("bad_input-2026-11-20T11");
}

/// Object keys are data: spaces, non-ASCII and `%` must reach the manifest and the lineage as is.
fn hostile_object_names_keep_their_lineage(lake: TestLake) {
    let key = "bronze/2026/11/20/11/my events 你好 😊 100%.ndjson";
    lake.put_bronze("hostile_names");
    assert_eq!(lake.keys("bronze/"), [key]);
    lake.hourly(&["--hour", HOUR]).assert_exit(0);
    let manifest = lake.manifest(HOUR).unwrap();
    assert_eq!(manifest["inputs"][0]["key"], key);
    let rows: Vec<_> = lake.silver_files().iter().flat_map(|f| f.rows()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["source_key"], key);
}

/// A corrupt object is not data that can be quarantined record by record: the hour fails (exit 1)
/// and commits nothing, so the object can be repaired and the hour rerun.
fn unreadable_object_fails_the_hour_and_commits_nothing(lake: TestLake) {
    lake.put_bronze("corrupt_gzip");
    let run = lake.hourly(&["--hour", HOUR]);
    run.assert_exit(1);
    assert!(run.stderr.contains("bronze/2026/11/20/11/b-truncated.gz"), "the error names the object\n{run}");
    assert_eq!(run.summary_status(HOUR), "FAILED");
    assert!(run.emf().is_empty(), "{run}");
    // Only the attempt record stays: it lets the rerun clean up whatever the attempt wrote.
    let written: Vec<String> =
        lake.written_keys().into_iter().filter(|k| !k.starts_with("_manifests/attempts/")).collect();
    assert_eq!(written, Vec::<String>::new(), "no manifest, outputs or lease after a failed run");
}

/// Task definitions often carry variables set to "": that must mean the defaults, not "no error
/// folders" (which would read Firehose's error records as events).
fn empty_error_prefixes_variable_keeps_the_default_error_folders(lake: TestLake) {
    lake.put_bronze(CASE);
    let mut cmd = lake.hourly_command(&["--hour", HOUR]);
    cmd.env("EVENTLAKE_ERROR_PREFIXES", "");
    crate::support::run(cmd).assert_exit(0);
    let manifest = lake.manifest(HOUR).unwrap();
    let inputs: Vec<&str> = manifest["inputs"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    let want: Vec<String> = INPUTS.iter().map(|o| source_key(o)).collect();
    assert_eq!(inputs, want, "objects under processing-failed/ are not events");
}

/// Where a case's record sits in its (decompressed) object, found independently of the product.
struct Located {
    content: Vec<u8>,
    offset: usize,
    line: u64,
}

impl Case {
    fn locate(&self) -> Located {
        let content = decompressed(bronze_fixture(CASE, &format!("{BRONZE_DIR}/{}", self.object)));
        let offset = unique_position(&content, self.starts_with.as_bytes(), self.object);
        let line = 1 + content[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        Located { content, offset, line }
    }
}

/// What is wrong with the silver row of `case`, if anything.
fn check_silver_row(key: &str, row: &Map<String, Value>, case: &Case, at: &Located) -> Option<String> {
    let Want::Silver { table, dt, hour } = case.want else { unreachable!() };
    let mut errs = Vec::new();
    let want_key = format!("silver/event_type={table}/dt={dt}/hour={hour}/part-{}-0.parquet", compact(HOUR));
    if key != want_key {
        errs.push(format!("in {key}, expected {want_key}"));
    }
    let source = source_key(case.object);
    if row["source_key"] != source.as_str() || row["source_line"] != at.line {
        errs.push(format!(
            "lineage {} line {}, expected {source} line {}",
            row["source_key"], row["source_line"], at.line
        ));
    }
    (!errs.is_empty()).then(|| errs.join("; "))
}

/// What is wrong with the quarantine line of `case`, if anything.
fn check_quarantine_line(q: &Value, case: &Case, at: &Located) -> Option<String> {
    let Want::Quarantine { reason, pointer, event_name } = case.want else { unreachable!() };
    let mut errs = Vec::new();
    let mut expect = |what: &str, got: &Value, want: Value| {
        if *got != want {
            errs.push(format!("{what} {got}, expected {want}"));
        }
    };
    expect("reason", &q["reason"], reason.into());
    expect("pointer", &q["pointer"], pointer.into());
    expect("event_name", q.get("event_name").unwrap_or(&Value::Null), event_name.map_or(Value::Null, Into::into));
    expect("source_key", &q["source_key"], source_key(case.object).into());
    expect("line", &q["line"], at.line.into());
    expect("byte_offset", &q["byte_offset"], (at.offset as u64).into());
    expect("arrival_hour", &q["arrival_hour"], HOUR.into());
    // Text that is not UTF-8 is kept as base64 of the original bytes.
    let content = &at.content;
    let line_end = content[at.offset..].iter().position(|&b| b == b'\n').map_or(content.len(), |p| at.offset + p);
    let encoding = if std::str::from_utf8(&content[at.offset..line_end]).is_ok() { "utf8" } else { "base64" };
    expect("record_encoding", &q["record_encoding"], encoding.into());
    if reason == "schema_violation" && q.get("errors").is_some() {
        expect("first error pointer", &q["errors"][0]["pointer"], pointer.into());
    }
    // The record is the exact original bytes, from its first byte to a record boundary.
    let record = record_bytes(q);
    let end = at.offset + record.len();
    if content.get(at.offset..end) != Some(&record[..]) {
        errs.push(format!("record {:?} is not the original bytes", String::from_utf8_lossy(&record)));
    } else if !matches!(content.get(end), None | Some(b'\r' | b'\n' | b'{')) {
        errs.push(format!("record {:?} stops inside a record", String::from_utf8_lossy(&record)));
    }
    (!errs.is_empty()).then(|| errs.join("; "))
}

/// The original bytes of a quarantined record.
fn record_bytes(q: &Value) -> Vec<u8> {
    let record = q["record"].as_str().unwrap_or_default();
    match q["record_encoding"].as_str() {
        Some("base64") => base64::engine::general_purpose::STANDARD.decode(record).unwrap(),
        _ => record.as_bytes().to_vec(),
    }
}

fn unique_position(content: &[u8], needle: &[u8], object: &str) -> usize {
    let hits: Vec<usize> =
        content.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i).collect();
    assert_eq!(hits.len(), 1, "{object}: {:?} must occur exactly once", String::from_utf8_lossy(needle));
    hits[0]
}

fn source_key(object: &str) -> String {
    format!("bronze/{BRONZE_DIR}/{object}")
}

/// `2026-11-20T11` → `2026112011`, as in part file names.
fn compact(hour: &str) -> String {
    hour.replace(['-', 'T'], "")
}
