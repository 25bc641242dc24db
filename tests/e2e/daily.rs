//! The daily job end to end: the silver of an event date → deduplicated gold, the daily aggregates
//! and the day's manifest; completeness, reruns, late silver, leases, a memory limit and backfills.
//!
//! Gold is checked two ways: hand-counted expectations on a small fixture
//! (`tests/fixtures/daily/dedup`, see its README) and a reference computation — plain Rust over
//! the silver Parquet rows, in [`Reference`] — on generated days.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, NaiveDate};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value, json};

use crate::golden::assert_same_text;
use crate::support::{ParquetFile, Run, TestLake, eventlake, fixtures_dir, run};

/// The event date of the fixture and of most generated days.
pub(crate) const DAY: &str = "2026-11-20";
/// The arrival hours 2026-11-20 needs with the default lateness (2h): `[DAY 00, DAY+1 02)`.
pub(crate) const DAY_HOURS: (&str, &str) = ("2026-11-20T00", "2026-11-21T02");
/// The arrival hours of the fixture `tests/fixtures/daily/dedup`.
const DEDUP_HOURS: [&str; 4] = ["2026-11-20T05", "2026-11-20T06", "2026-11-20T23", "2026-11-21T01"];

on_each_backend!(
    dedup_keeps_the_earliest_delivery_and_counts_the_rest,
    missing_hours_fail_the_day_unless_allowed,
    day_built_incomplete_is_rebuilt_once_complete,
    quality_follows_a_reprocessed_hour,
    silver_of_a_removed_schema_still_builds_gold,
    gold_matches_a_reference_computation,
    rerun_is_skipped_force_is_identical_and_late_silver_is_caught_up,
    held_lease_exits_75_and_writes_nothing,
    small_memory_limit_still_builds_the_day,
    backfill_builds_each_day_and_dry_run_writes_nothing,
);

// ---------------------------------------------------------------------------------------------
// Scenarios

fn dedup_keeps_the_earliest_delivery_and_counts_the_rest(lake: TestLake) {
    put_daily_fixture(&lake, "dedup");
    hourly_range(&lake, DAY_HOURS);
    let run = daily(&lake, &["--date", DAY]);
    run.assert_exit(0);
    assert_eq!(day_status(&run, DAY), "committed", "{run}");

    let m = daily_manifest(&lake, DAY).expect("a built day has a manifest");
    assert_eq!(m["date"], DAY);
    assert_eq!(
        m["counts"],
        json!({
            "silver_rows": 14, "gold_rows": 7, "duplicates": 6, "conflicts": 1,
            "by_event_type": {"account": 2, "lesson": 3, "payment": 1, "signup": 1},
        }),
        "counted by hand in tests/fixtures/daily/README.md"
    );
    assert_eq!(m["missing_hours"], json!([]));
    let examples = m["conflict_examples"].as_array().expect("conflict_examples is an array");
    assert_eq!(examples.len(), 1, "{m:#}");
    let ex = &examples[0];
    assert_eq!((ex["event_id"].as_str(), ex["event_type"].as_str()), (Some("conf-1"), Some("lesson")), "{ex}");
    assert_eq!(ex["event_name"], "lesson:started", "{ex}");
    // Same arrival hour: the object key decides, before the line (b.ndjson:1 loses to a.ndjson:4).
    let (kept, dropped) = (ex["kept"].as_str().unwrap(), ex["dropped"].as_str().unwrap());
    assert!(kept.contains("bronze/2026/11/20/05/a.ndjson") && kept.ends_with(":4"), "kept: {ex}");
    assert!(dropped.contains("bronze/2026/11/20/05/b.ndjson") && dropped.ends_with(":1"), "dropped: {ex}");

    // The manifest lists exactly the silver of the date and the files it wrote.
    let inputs: Vec<&str> = m["inputs"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert_eq!(inputs, silver_keys_of(&lake, DAY), "manifest inputs");
    let outputs: BTreeSet<&str> = m["outputs"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap()).collect();
    let gold_keys = gold_keys_of(&lake, DAY);
    assert_eq!(outputs, gold_keys.iter().map(String::as_str).collect(), "manifest outputs vs gold files");
    let expected_keys: Vec<String> = ["account", "lesson", "payment", "signup"]
        .iter()
        .map(|t| format!("gold/events/event_type={t}/dt={DAY}/part-0.parquet"))
        .chain([
            format!("gold/daily_event_counts/dt={DAY}/part-0.parquet"),
            format!("gold/daily_quality/dt={DAY}/part-0.parquet"),
        ])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(gold_keys, expected_keys);

    // One gold row per id; the kept row is the earliest delivery.
    let gold = gold_rows(&lake, DAY);
    let ids = |t: &str| -> Vec<&str> { gold[t].iter().map(|r| r["event_uuid"].as_str().unwrap()).collect() };
    assert_eq!(gold.keys().collect::<Vec<_>>(), ["account", "lesson", "payment", "signup"]);
    assert_eq!(sorted(ids("account")), ["dup-1", "edge-1"], "next-1 (00:00:00 of the next day) and prev-1 stay out");
    assert_eq!(sorted(ids("lesson")), ["conf-1", "key-1", "late-1"]);
    assert_eq!(ids("payment"), ["float-1"]);
    assert_eq!(ids("signup"), ["sig-1"]);
    let row = |id: &str| gold.values().flatten().find(|r| r["event_uuid"] == id).unwrap();
    for r in gold.values().flatten() {
        assert!(r.get("source_key").is_none() && r.get("source_line").is_none(), "gold drops lineage: {r:?}");
        assert!(r.contains_key("arrival_hour"), "gold keeps arrival_hour: {r:?}");
        assert!(micros(&r["created_datetime"]) >= day_start(DAY) && micros(&r["created_datetime"]) < day_end(DAY));
    }
    assert_eq!(
        micros(&row("dup-1")["arrival_hour"]),
        at(DAY, "05:00:00"),
        "dup-1 arrived at 05, 06 and 01 the next day"
    );
    assert_eq!(micros(&row("key-1")["arrival_hour"]), at(DAY, "05:00:00"));
    assert_eq!(row("conf-1")["title"], "Past tense", "the earliest delivery (a.ndjson) wins the conflict");
    assert_eq!(row("float-1")["created_at"], json!(1795151000.25));
    assert_eq!(micros(&row("float-1")["created_datetime"]), at(DAY, "05:03:20.250"), "float created_at");
    assert_eq!(micros(&row("edge-1")["created_datetime"]), at(DAY, "23:59:59.999"), "the last millisecond of the day");
    assert_eq!(micros(&row("late-1")["arrival_hour"]), at("2026-11-21", "01:00:00"));
    assert_eq!(row("sig-1")["device"], json!({"os": "ios", "screenwidth": 390}));

    // Per event name: events, removed deliveries, event-time range, late arrivals.
    let t = |time: &str| json!(at(DAY, time));
    assert_eq!(
        event_counts(&lake, DAY),
        vec![
            json!({"event_type": "account", "event_name": "account:created", "events": 2, "duplicates_removed": 3,
                   "conflicts": 0, "first_event_time": t("05:01:40"), "last_event_time": t("23:59:59.999"),
                   "late_arrivals": 0}),
            json!({"event_type": "lesson", "event_name": "lesson:completed", "events": 2, "duplicates_removed": 1,
                   "conflicts": 0, "first_event_time": t("05:06:40"), "last_event_time": t("22:30:00"),
                   "late_arrivals": 1}),
            json!({"event_type": "lesson", "event_name": "lesson:started", "events": 1, "duplicates_removed": 1,
                   "conflicts": 1, "first_event_time": t("05:05:00"), "last_event_time": t("05:05:00"),
                   "late_arrivals": 0}),
            json!({"event_type": "payment", "event_name": "payment:order:completed", "events": 1,
                   "duplicates_removed": 0, "conflicts": 0, "first_event_time": t("05:03:20.250"),
                   "last_event_time": t("05:03:20.250"), "late_arrivals": 0}),
            json!({"event_type": "signup", "event_name": "signup", "events": 1, "duplicates_removed": 1,
                   "conflicts": 0, "first_event_time": t("05:08:20"), "last_event_time": t("05:08:20"),
                   "late_arrivals": 0}),
        ]
    );

    // Quality of the day's 24 arrival hours (not the next day's 01:00, whose events are late).
    let quality = json!({"records": 15, "valid": 14, "quarantined": 1, "malformed_json": 1, "malformed_csv": 0, "bad_envelope": 0,
                         "unknown_event_name": 0, "schema_violation": 0, "out_of_window": 0});
    assert_eq!(quality_row(&lake, DAY), quality);
    assert_eq!(
        (&m["quality"]["records"], &m["quality"]["valid"], &m["quality"]["quarantined"]),
        (&json!(15), &json!(14), &json!(1))
    );

    let emf = run.emf();
    assert_eq!(emf.len(), 1, "one metrics line per committed day\n{run}");
    assert_eq!(emf[0]["gold_rows"].as_f64(), Some(7.0), "{}", emf[0]);
    assert_eq!(emf[0]["duplicates"].as_f64(), Some(6.0), "{}", emf[0]);
}

fn missing_hours_fail_the_day_unless_allowed(lake: TestLake) {
    put_daily_fixture(&lake, "dedup");
    for hour in DEDUP_HOURS {
        lake.hourly(&["--hour", hour, "--no-metrics"]).assert_exit(0);
    }
    let missing: Vec<String> =
        hours_between(DAY_HOURS).into_iter().filter(|h| !DEDUP_HOURS.contains(&h.as_str())).collect();
    assert_eq!(missing.len(), 22);

    let failed = daily(&lake, &["--date", DAY]);
    failed.assert_exit(1);
    let message = error_line(&failed);
    for hour in &missing {
        assert!(message.contains(hour.as_str()), "the message lists missing hour {hour}\n{failed}");
    }
    for hour in DEDUP_HOURS {
        assert!(!message.contains(hour), "{hour} has a manifest\n{failed}");
    }
    assert!(message.contains("--allow-incomplete"), "the message says how to proceed\n{failed}");
    assert!(lake.keys("gold/").is_empty(), "a failed day writes no gold");
    assert!(daily_manifest(&lake, DAY).is_none(), "a failed day commits no manifest");

    let allowed = daily(&lake, &["--date", DAY, "--allow-incomplete"]);
    allowed.assert_exit(0);
    assert_eq!(day_status(&allowed, DAY), "committed");
    let m = daily_manifest(&lake, DAY).unwrap();
    assert_eq!(m["missing_hours"], json!(missing), "the manifest records what was missing");
    assert_eq!(m["counts"]["gold_rows"], 7, "all of the silver was there");

    // The window ends `--lateness` after the day: 3h needs the next day's 02:00 as well.
    hourly_range(&lake, DAY_HOURS);
    let longer = daily(&lake, &["--date", DAY, "--lateness", "3h", "--force"]);
    longer.assert_exit(1);
    let message = error_line(&longer);
    assert!(message.contains("2026-11-21T02"), "{longer}");
    assert!(!message.contains("2026-11-21T01") && !message.contains("2026-11-20T00"), "{longer}");
    daily(&lake, &["--date", DAY, "--force"]).assert_exit(0);
    assert_eq!(daily_manifest(&lake, DAY).unwrap()["missing_hours"], json!([]));
}

fn day_built_incomplete_is_rebuilt_once_complete(lake: TestLake) {
    put_daily_fixture(&lake, "dedup");
    // An arrival hour of the day that holds only a malformed record: no silver, one quarantined.
    lake.put("bronze/2026/11/20/10/x.ndjson", b"{not json\n");
    for hour in DEDUP_HOURS {
        lake.hourly(&["--hour", hour, "--no-metrics"]).assert_exit(0);
    }
    daily(&lake, &["--date", DAY, "--allow-incomplete"]).assert_exit(0);
    assert_eq!(daily_manifest(&lake, DAY).unwrap()["missing_hours"].as_array().unwrap().len(), 22);
    assert_eq!(quality_row(&lake, DAY)["records"], 15);

    // The missing hours run (10:00 quarantines its record); the scheduled daily run comes again.
    hourly_range(&lake, DAY_HOURS);
    let rerun = daily(&lake, &["--date", DAY]);
    rerun.assert_exit(0);
    assert_eq!(
        day_status(&rerun, DAY),
        "committed",
        "a day built with hours missing is not current once they have run (its quality and missing_hours are \
         out of date)\n{rerun}"
    );
    assert_eq!(daily_manifest(&lake, DAY).unwrap()["missing_hours"], json!([]));
    let q = quality_row(&lake, DAY);
    assert_eq!((&q["records"], &q["quarantined"], &q["malformed_json"]), (&json!(16), &json!(2), &json!(2)), "{q}");
}

fn quality_follows_a_reprocessed_hour(lake: TestLake) {
    put_daily_fixture(&lake, "dedup");
    hourly_range(&lake, DAY_HOURS);
    daily(&lake, &["--date", DAY]).assert_exit(0);
    assert_eq!(quality_row(&lake, DAY)["records"], 15);

    // Firehose delivers one more object to 12:00, all of it malformed: the hour is reprocessed, the
    // day's silver does not change, its quality does.
    lake.put("bronze/2026/11/20/12/late-garbage.ndjson", b"{not json\n[1,\n");
    let rerun = lake.hourly(&["--hour", "2026-11-20T12", "--no-metrics"]);
    rerun.assert_exit(0);
    assert_eq!(rerun.summary_status("2026-11-20T12"), "committed");
    assert_eq!(lake.manifest("2026-11-20T12").unwrap()["counts"]["quarantined"], 2);

    let caught = daily(&lake, &["--catch-up", "--scheduled-time", "2026-11-21T03:15:00Z"]);
    caught.assert_exit(0);
    assert_eq!(
        summary_dates(&caught),
        [DAY],
        "the day's daily_quality no longer matches its hourly manifests, so it is stale\n{caught}"
    );
    assert_eq!(quality_row(&lake, DAY), summed_quality(&lake, DAY));
}

/// Silver is what was valid when it was written: retiring a schema later loses none of it. The day's
/// gold is built from the files (their own Parquet schema), exactly as before the schema went.
fn silver_of_a_removed_schema_still_builds_gold(lake: TestLake) {
    put_daily_fixture(&lake, "dedup");
    hourly_range(&lake, DAY_HOURS);
    std::fs::remove_file(lake.schemas.join("signup.json")).unwrap();

    let run = daily(&lake, &["--date", DAY]);
    run.assert_exit(0);
    assert_eq!(day_status(&run, DAY), "committed", "{run}");
    Reference::compute(&lake, DAY).assert_matches(&lake);
    let signup_gold = lake.keys(&format!("gold/events/event_type=signup/dt={DAY}/"));
    assert!(!signup_gold.is_empty(), "the retired type's gold is built\n{run}");
    assert!(lake.get(&format!("_locks/daily/{DAY}.lock")).is_none(), "the run released its lease");
}

fn gold_matches_a_reference_computation(lake: TestLake) {
    let bronze = generate(&Spec { day: DAY, seed: 7, events: 600, pad: 0, heavy: None });
    bronze.put(&lake);
    hourly_range(&lake, DAY_HOURS);
    assert_nothing_quarantined(&lake);
    daily(&lake, &["--date", DAY]).assert_exit(0);

    let reference = Reference::compute(&lake, DAY);
    assert_eq!(reference.silver_rows, bronze.day_deliveries, "silver of the day vs the generated deliveries");
    assert_eq!(reference.gold_rows(), bronze.day_events, "distinct ids of the day vs the generated events");
    assert!(reference.duplicates > 50 && reference.conflicts > 20, "the generator makes both kinds: {reference:?}");
    reference.assert_matches(&lake);
}

fn rerun_is_skipped_force_is_identical_and_late_silver_is_caught_up(lake: TestLake) {
    put_daily_fixture(&lake, "dedup");
    hourly_range(&lake, DAY_HOURS);
    daily(&lake, &["--date", DAY]).assert_exit(0);
    let manifest = daily_manifest(&lake, DAY).unwrap();
    let gold = gold_text(&lake, DAY);

    let again = daily(&lake, &["--date", DAY]);
    again.assert_exit(0);
    assert_eq!(day_status(&again, DAY), "skipped (current)", "{again}");
    assert!(again.emf().is_empty(), "no metrics for a skipped day\n{again}");
    assert_eq!(daily_manifest(&lake, DAY).unwrap(), manifest, "a skipped day keeps its manifest");
    assert_same_text("gold after a skipped rerun", &gold, &gold_text(&lake, DAY));

    let forced = daily(&lake, &["--date", DAY, "--force"]);
    forced.assert_exit(0);
    assert_eq!(day_status(&forced, DAY), "committed", "{forced}");
    let rebuilt = daily_manifest(&lake, DAY).unwrap();
    assert_ne!(rebuilt["run_id"], manifest["run_id"], "--force commits a new run");
    assert_eq!(rebuilt["counts"], manifest["counts"]);
    assert_same_text("gold after --force (same keys, same rows)", &gold, &gold_text(&lake, DAY));

    // Late silver for the day, after it was built: arrival hour 03:00 of the next day (past the
    // completeness window) brings one new event and one more re-delivery. A file of an earlier
    // attempt lies in the day's gold as well.
    let late = [
        r#"{"event_uuid": "late-2", "event_name": "lesson:started", "created_at": 1795216200, "lesson_id": "lesson-9", "title": "Numbers", "duration_minutes": 5}"#,
        r#"{"event_uuid": "dup-1", "event_name": "account:created", "created_at": 1795150900, "account_id": "acc-1", "email": "one@example.com", "name": "Mei Chen", "age": 31}"#,
    ];
    lake.put("bronze/2026/11/21/03/f.ndjson", format!("{}\n", late.join("\n")).as_bytes());
    let orphan = format!("gold/events/event_type=account/dt={DAY}/part-9.parquet");
    lake.put(&orphan, &lake.get(&format!("gold/events/event_type=account/dt={DAY}/part-0.parquet")).unwrap());
    lake.hourly(&["--hour", "2026-11-21T03", "--no-metrics"]).assert_exit(0);
    assert!(
        lake.keys(&format!("silver/event_type=lesson/dt={DAY}/"))
            .iter()
            .any(|k| k.ends_with("part-2026112103-0.parquet")),
        "the late hour writes silver of {DAY}"
    );

    let caught = daily(&lake, &["--catch-up", "--scheduled-time", "2026-11-22T03:15:00Z"]);
    caught.assert_exit(0);
    assert_eq!(summary_dates(&caught), [DAY], "only the stale day is rebuilt\n{caught}");
    assert_eq!(day_status(&caught, DAY), "committed", "{caught}");
    let m = daily_manifest(&lake, DAY).unwrap();
    assert_eq!((&m["counts"]["silver_rows"], &m["counts"]["gold_rows"]), (&json!(16), &json!(8)), "{m:#}");
    assert_eq!((&m["counts"]["duplicates"], &m["counts"]["conflicts"]), (&json!(7), &json!(1)));
    let gold = gold_rows(&lake, DAY);
    let late2 = gold["lesson"].iter().find(|r| r["event_uuid"] == "late-2").expect("the late event is in gold");
    assert_eq!(micros(&late2["arrival_hour"]), at("2026-11-21", "03:00:00"));
    let started = event_counts(&lake, DAY).into_iter().find(|r| r["event_name"] == "lesson:started").unwrap();
    assert_eq!((&started["events"], &started["late_arrivals"]), (&json!(2), &json!(1)), "{started}");
    assert!(lake.get(&orphan).is_none(), "the rebuild removes gold files it did not write");
    Reference::compute(&lake, DAY).assert_matches(&lake);

    let nothing = daily(&lake, &["--catch-up", "--scheduled-time", "2026-11-22T03:15:00Z"]);
    nothing.assert_exit(0);
    assert!(summary_dates(&nothing).is_empty(), "nothing is stale any more\n{nothing}");
}

fn held_lease_exits_75_and_writes_nothing(lake: TestLake) {
    put_daily_fixture(&lake, "dedup");
    hourly_range(&lake, DAY_HOURS);
    let lease = serde_json::to_vec(
        &json!({"owner": "x", "acquired_at": "2026-01-01T00:00:00Z", "expires_at": "2999-01-01T00:00:00Z"}),
    )
    .unwrap();
    let key = format!("_locks/daily/{DAY}.lock");
    lake.put(&key, &lease);
    let before = lake.written_keys();

    let run = daily(&lake, &["--date", DAY]);
    run.assert_exit(75);
    assert!(run.stderr.contains("another run"), "a clear message\n{run}");
    assert!(run.emf().is_empty(), "{run}");
    assert_eq!(lake.written_keys(), before, "nothing written while another run holds the day");
    assert_eq!(lake.get(&key).unwrap(), lease, "the other run's lease is untouched");

    // Once the holder is gone the scheduled run (the day before its time) builds the day and
    // releases its own lease.
    lake.delete(&key);
    let scheduled = daily(&lake, &["--previous-day", "--scheduled-time", "2026-11-21T03:15:00Z"]);
    scheduled.assert_exit(0);
    assert_eq!(summary_dates(&scheduled), [DAY], "{scheduled}");
    assert_eq!(day_status(&scheduled, DAY), "committed", "{scheduled}");
    assert!(lake.get(&key).is_none(), "the lease is released");
}

fn small_memory_limit_still_builds_the_day(lake: TestLake) {
    // About 13 MiB of lesson:started rows, more than a fair share of the limit: the sorts spill.
    let bronze = generate(&Spec { day: DAY, seed: 11, events: 6000, pad: 2000, heavy: Some("lesson:started") });
    bronze.put(&lake);
    lake.hourly(&["--from", DAY_HOURS.0, "--to", DAY_HOURS.1, "--parallel", "2", "--no-metrics"]).assert_exit(0);
    assert_nothing_quarantined(&lake);

    let run = daily(&lake, &["--date", DAY, "--memory-limit", "48MiB"]);
    run.assert_exit(0);
    assert_eq!(day_status(&run, DAY), "committed", "{run}");
    let reference = Reference::compute(&lake, DAY);
    assert_eq!(reference.gold_rows(), bronze.day_events);
    reference.assert_matches(&lake);
}

fn backfill_builds_each_day_and_dry_run_writes_nothing(lake: TestLake) {
    let next = "2026-11-21";
    generate(&Spec { day: DAY, seed: 21, events: 150, pad: 0, heavy: None }).put(&lake);
    generate(&Spec { day: next, seed: 22, events: 150, pad: 0, heavy: None }).put(&lake);
    lake.hourly(&["--from", "2026-11-20T00", "--to", "2026-11-22T02", "--parallel", "2", "--no-metrics"])
        .assert_exit(0);
    let before: Vec<(String, Vec<u8>)> =
        lake.written_keys().into_iter().map(|k| (k.clone(), lake.get(&k).unwrap())).collect();

    let dry = daily(&lake, &["--from", DAY, "--to", "2026-11-22", "--dry-run"]);
    dry.assert_exit(0);
    for d in [DAY, next] {
        assert!(dry.stdout.lines().any(|l| l.starts_with(d)), "the plan lists {d}\n{dry}");
    }
    assert!(!dry.stdout.contains("2026-11-22"), "--to is exclusive\n{dry}");
    let after: Vec<(String, Vec<u8>)> =
        lake.written_keys().into_iter().map(|k| (k.clone(), lake.get(&k).unwrap())).collect();
    assert!(before == after, "--dry-run wrote or changed something: {:?}", lake.written_keys());

    let run = daily(&lake, &["--from", DAY, "--to", "2026-11-22", "--parallel", "2"]);
    run.assert_exit(0);
    assert_eq!(summary_dates(&run), [DAY, next], "{run}");
    for d in [DAY, next] {
        assert_eq!(day_status(&run, d), "committed", "{run}");
        Reference::compute(&lake, d).assert_matches(&lake);
    }
    assert!(daily_manifest(&lake, "2026-11-22").is_none(), "--to is exclusive");
    assert_eq!(run.emf().len(), 2, "{run}");
}

// ---------------------------------------------------------------------------------------------
// The reference computation

/// What the daily job should produce for one date, computed from the silver rows with nothing but
/// maps and sorting: per (event type, id) the earliest delivery by (arrival_hour, source_key,
/// source_line) is kept; each other delivery is a duplicate when its non-lineage columns equal the
/// kept row's, else a conflict.
#[derive(Debug)]
struct Reference {
    date: String,
    silver_rows: usize,
    duplicates: usize,
    conflicts: usize,
    /// (event type, id) of every id delivered with conflicting content.
    conflicting: BTreeSet<(String, String)>,
    /// Event type → the kept rows without `source_key`/`source_line`, canonical JSON, sorted.
    gold: BTreeMap<String, Vec<String>>,
    /// `daily_event_counts` rows (times in µs), by (event type, event name).
    counts: Vec<Value>,
    /// `daily_quality`: the hourly manifests of the date's 24 arrival hours, summed.
    quality: Value,
}

const LINEAGE: [&str; 3] = ["arrival_hour", "source_key", "source_line"];

#[derive(Default)]
struct NameStats {
    events: i64,
    duplicates: i64,
    conflicts: i64,
    first: Option<i64>,
    last: Option<i64>,
    late: i64,
}

impl Reference {
    fn compute(lake: &TestLake, date: &str) -> Reference {
        let mut deliveries: BTreeMap<(String, String), Vec<Map<String, Value>>> = BTreeMap::new();
        let mut silver_rows = 0;
        for key in silver_keys_of(lake, date) {
            let event_type = partition_value(&key, "event_type");
            for row in read_parquet(lake, &key).rows() {
                silver_rows += 1;
                let id = row["event_uuid"].as_str().expect("event_uuid is a string").to_owned();
                deliveries.entry((event_type.clone(), id)).or_default().push(row);
            }
        }
        let without = |row: &Map<String, Value>, drop: &[&str]| -> String {
            let mut row = row.clone();
            row.retain(|k, _| !drop.contains(&k.as_str()));
            canonical(&Value::Object(row))
        };
        let end = day_end(date);
        let (mut duplicates, mut conflicts) = (0, 0);
        let mut conflicting = BTreeSet::new();
        let mut gold: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut stats: BTreeMap<(String, String), NameStats> = BTreeMap::new();
        for ((event_type, id), mut rows) in deliveries {
            rows.sort_by_key(|r| {
                (micros(&r["arrival_hour"]), r["source_key"].as_str().unwrap().to_owned(), r["source_line"].as_i64())
            });
            let kept = &rows[0];
            let name = |r: &Map<String, Value>| (event_type.clone(), r["event_name"].as_str().unwrap().to_owned());
            let s = stats.entry(name(kept)).or_default();
            let created = micros(&kept["created_datetime"]);
            s.events += 1;
            s.first = Some(s.first.map_or(created, |f| f.min(created)));
            s.last = Some(s.last.map_or(created, |l| l.max(created)));
            s.late += i64::from(micros(&kept["arrival_hour"]) >= end);
            let content = without(kept, &LINEAGE);
            for other in &rows[1..] {
                let s = stats.entry(name(other)).or_default();
                if without(other, &LINEAGE) == content {
                    duplicates += 1;
                    s.duplicates += 1;
                } else {
                    conflicts += 1;
                    s.conflicts += 1;
                    conflicting.insert((event_type.clone(), id.clone()));
                }
            }
            gold.entry(event_type.clone()).or_default().push(without(kept, &["source_key", "source_line"]));
        }
        for rows in gold.values_mut() {
            rows.sort();
        }
        let counts = stats
            .into_iter()
            .map(|((t, n), s)| {
                json!({"event_type": t, "event_name": n, "events": s.events, "duplicates_removed": s.duplicates,
                       "conflicts": s.conflicts, "first_event_time": s.first, "last_event_time": s.last,
                       "late_arrivals": s.late})
            })
            .collect();
        Reference {
            date: date.into(),
            silver_rows,
            duplicates,
            conflicts,
            conflicting,
            gold,
            counts,
            quality: summed_quality(lake, date),
        }
    }

    fn gold_rows(&self) -> usize {
        self.gold.values().map(Vec::len).sum()
    }

    /// Gold files, aggregates and manifest of the date equal the reference exactly.
    #[track_caller]
    fn assert_matches(&self, lake: &TestLake) {
        let date = &self.date;
        let actual: BTreeMap<String, Vec<String>> = gold_rows(lake, date)
            .into_iter()
            .map(|(t, rows)| {
                let mut rows: Vec<String> = rows.into_iter().map(|r| canonical(&Value::Object(r))).collect();
                rows.sort();
                (t, rows)
            })
            .collect();
        assert_eq!(
            actual.keys().collect::<Vec<_>>(),
            self.gold.keys().collect::<Vec<_>>(),
            "gold event types of {date}"
        );
        for (t, rows) in &self.gold {
            assert_same_text(
                &format!("gold rows of {t} on {date} vs the reference"),
                &rows.join("\n"),
                &actual[t].join("\n"),
            );
        }
        let counts = event_counts(lake, date);
        assert_same_text(
            &format!("daily_event_counts of {date} vs the reference"),
            &self.counts.iter().map(canonical).collect::<Vec<_>>().join("\n"),
            &counts.iter().map(canonical).collect::<Vec<_>>().join("\n"),
        );
        assert_eq!(quality_row(lake, date), self.quality, "daily_quality of {date}");
        let m = daily_manifest(lake, date).unwrap();
        let by_type: Map<String, Value> = self.gold.iter().map(|(t, r)| (t.clone(), json!(r.len()))).collect();
        assert_eq!(
            m["counts"],
            json!({"silver_rows": self.silver_rows, "gold_rows": self.gold_rows(), "duplicates": self.duplicates,
                   "conflicts": self.conflicts, "by_event_type": by_type}),
            "manifest counts of {date}"
        );
        // A few examples, each naming an id that really has conflicting deliveries.
        let examples = m["conflict_examples"].as_array().unwrap();
        assert_eq!(examples.is_empty(), self.conflicts == 0, "conflict examples of {date}: {examples:?}");
        assert!(examples.len() <= self.conflicts.min(20), "conflict examples of {date}: {examples:?}");
        for ex in examples {
            let at = (ex["event_type"].as_str().unwrap().to_owned(), ex["event_id"].as_str().unwrap().to_owned());
            assert!(self.conflicting.contains(&at), "{ex} names no conflicting id of {date}");
        }
    }
}

/// The hourly manifests of the date's 24 arrival hours, summed as `daily_quality` columns.
fn summed_quality(lake: &TestLake, date: &str) -> Value {
    let mut sums: BTreeMap<&str, u64> = BTreeMap::new();
    let reasons =
        ["malformed_json", "malformed_csv", "bad_envelope", "unknown_event_name", "schema_violation", "out_of_window"];
    for h in 0..24 {
        let Some(m) = lake.manifest(&format!("{date}T{h:02}")) else { continue };
        let c = &m["counts"];
        for field in ["records", "valid", "quarantined"] {
            *sums.entry(field).or_default() += c[field].as_u64().unwrap();
        }
        for r in reasons {
            *sums.entry(r).or_default() += c["by_reason"][r].as_u64().unwrap_or(0);
        }
    }
    let mut out = Map::new();
    for field in ["records", "valid", "quarantined"].into_iter().chain(reasons) {
        out.insert(field.into(), json!(sums.get(field).copied().unwrap_or(0)));
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------------
// Generated days

/// What to generate.
struct Spec<'a> {
    /// The event date most events fall on (a few fall in the hours around it).
    day: &'a str,
    seed: u64,
    events: usize,
    /// Extra characters in one free-text field of every event.
    pad: usize,
    /// An event name that makes up 80% of the events.
    heavy: Option<&'static str>,
}

/// Generated bronze objects and what they hold.
#[derive(Default)]
struct Bronze {
    /// Bronze key → NDJSON.
    objects: BTreeMap<String, String>,
    /// Distinct events with their event time on the day.
    day_events: usize,
    /// Deliveries of those events (re-deliveries included).
    day_deliveries: usize,
}

impl Bronze {
    fn put(&self, lake: &TestLake) {
        for (key, text) in &self.objects {
            lake.put(key, text.as_bytes());
        }
    }
}

/// A deterministic pseudo-random source (xorshift64*), so a failure reproduces.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn text(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b'a' + self.below(26) as u8)).collect()
    }
}

const NAMES: [&str; 6] = [
    "account:created",
    "lesson:started",
    "lesson:completed",
    "payment:order:completed",
    "payment:refund:issued",
    "signup",
];

/// Events of `spec.day` (and 8% in the two hours before and the hour after it), each delivered in
/// its own or a later arrival hour up to 01:00 the next day: 25% re-delivered once, 5% twice, 8%
/// once more with different content (another value, null vs "", a nested field, another event
/// name of the same type). Every event is valid.
fn generate(spec: &Spec<'_>) -> Bronze {
    let d0 = day_start(spec.day) / 1_000_000;
    let mut rng = Rng(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = Bronze::default();
    for i in 0..spec.events {
        let name = match spec.heavy {
            Some(h) if rng.chance(80) => h,
            _ => NAMES[rng.below(NAMES.len() as u64) as usize],
        };
        let offset = match rng.below(100) {
            0..4 => -1 - rng.below(7200) as i64,
            4..8 => 86_400 + rng.below(3600) as i64,
            _ => rng.below(86_400) as i64,
        };
        let id = if name == "payment:refund:issued" {
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                spec.seed,
                i >> 12,
                i & 0xfff,
                rng.below(4096),
                rng.next() >> 16
            )
        } else {
            format!("g{}-{i}", spec.seed)
        };
        let created = if name == "signup" || rng.chance(70) {
            json!(d0 + offset)
        } else {
            json!((d0 + offset) as f64 + 0.25 * (1 + rng.below(3)) as f64)
        };
        let original = event(name, &id, &created, &mut rng, spec.pad);
        let first = (offset.div_euclid(3600).clamp(0, 25) + rng.below(2) as i64).min(25);
        let later = |rng: &mut Rng| first + rng.below((26 - first) as u64) as i64;
        let mut deliveries = vec![(first, original.clone())];
        let extra = if rng.chance(25) {
            1
        } else if rng.chance(5) {
            2
        } else {
            0
        };
        for _ in 0..extra {
            deliveries.push((later(&mut rng), original.clone()));
        }
        if rng.chance(8) {
            deliveries.push((later(&mut rng), variant(&original, &mut rng, spec.pad)));
        }
        if (0..86_400).contains(&offset) {
            out.day_events += 1;
            out.day_deliveries += deliveries.len();
        }
        for (hour, record) in deliveries {
            let start = DateTime::from_timestamp(d0 + hour * 3600, 0).unwrap();
            let object = ["a", "b", "c"][rng.below(3) as usize];
            let key = format!("bronze/{}/{object}.ndjson", start.format("%Y/%m/%d/%H"));
            let text = out.objects.entry(key).or_default();
            text.push_str(&record.to_string());
            text.push('\n');
        }
    }
    out
}

/// A valid event of `name` (see `tests/fixtures/schemas`).
fn event(name: &str, id: &str, created: &Value, rng: &mut Rng, pad: usize) -> Value {
    let n = rng.below(1000);
    let padding = rng.text(pad);
    let mut e = json!({"event_uuid": id, "event_name": name, "created_at": created});
    let fields = match name {
        // `name` is optional but not nullable: absent in 20%.
        "account:created" if rng.chance(20) => json!({
            "account_id": format!("acc-{n}"), "email": format!("user{n}@example.com"), "age": 18 + n % 60,
        }),
        "account:created" => json!({
            "account_id": format!("acc-{n}"), "email": format!("user{n}@example.com"),
            "name": format!("Name {n}{padding}"),
            "age": if rng.chance(20) { Value::Null } else { json!(18 + n % 60) },
        }),
        "lesson:started" => json!({
            "lesson_id": format!("lesson-{n}"), "title": format!("Title {n}{padding}"), "duration_minutes": 1 + n % 90,
            "instructor": match rng.below(3) { 0 => Value::Null, 1 => json!(""), _ => json!(format!("Teacher {n}")) },
        }),
        "lesson:completed" => json!({
            "lesson_id": format!("lesson-{n}{padding}"),
            "completion_status": if rng.chance(50) { "completed" } else { "abandoned" },
            "completion_date": "2026-11-20",
        }),
        "payment:order:completed" => json!({
            "order_id": format!("order-{n}"), "amount": (100 + n) as f64 / 100.0, "currency": "EUR",
            "payment_method": format!("card{padding}"), "status": "completed",
        }),
        "payment:refund:issued" => json!({
            "order_id": format!("order-{n}{padding}"), "refunded_at": "2026-11-20T12:00:00.250Z",
            "total": {"amount": n as f64 / 4.0, "currency": "EUR"},
            "customer": {"id": format!("c{n}"), "country": if rng.chance(30) { Value::Null } else { json!("DE") }},
            "items": [{"sku": format!("SKU-{n}"), "quantity": 1 + n % 3, "price": {"amount": 9.5, "currency": "EUR"}}],
            "tags": ["support"], "metadata": {"provider": "adyen", "ref": n},
        }),
        "signup" => json!({
            "plan": if rng.chance(50) { "free" } else { "pro" },
            "UtmSource": if rng.chance(30) { Value::Null } else { json!(format!("news{padding}")) },
            "Device": {"OS": "ios", "ScreenWidth": 320 + n},
        }),
        other => panic!("no generator for {other}"),
    };
    e.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    e
}

/// The same event id and time with other content, still valid.
fn variant(original: &Value, rng: &mut Rng, pad: usize) -> Value {
    let mut v = original.clone();
    match original["event_name"].as_str().unwrap() {
        "account:created" => v["age"] = if v["age"].is_null() { json!(40) } else { Value::Null },
        "lesson:started" => match rng.below(2) {
            // null vs "" is a difference.
            0 => v["instructor"] = if v["instructor"].is_null() { json!("") } else { Value::Null },
            _ => v["title"] = json!(format!("{}!", v["title"].as_str().unwrap())),
        },
        "lesson:completed" => match rng.below(2) {
            0 => {
                v["completion_status"] =
                    json!(if v["completion_status"] == "completed" { "abandoned" } else { "completed" })
            }
            // Another event name of the same type under the same id.
            _ => v = event("lesson:started", v["event_uuid"].as_str().unwrap(), &original["created_at"], rng, pad),
        },
        "payment:order:completed" => v["amount"] = json!(v["amount"].as_f64().unwrap() + 1.0),
        "payment:refund:issued" => match rng.below(2) {
            0 => v["items"][0]["quantity"] = json!(v["items"][0]["quantity"].as_i64().unwrap() + 1),
            _ => {
                let c = &mut v["customer"]["country"];
                *c = if c.is_null() { json!("FR") } else { Value::Null };
            }
        },
        "signup" => v["Device"]["ScreenWidth"] = json!(v["Device"]["ScreenWidth"].as_i64().unwrap() + 1),
        other => panic!("no variant for {other}"),
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Running the jobs and reading what they wrote

/// `eventlake daily --lake <lake> --schemas <its schemas> <args>`, run to completion.
pub(crate) fn daily(lake: &TestLake, args: &[&str]) -> Run {
    let mut cmd = eventlake();
    cmd.arg("daily").arg("--lake").arg(lake.url()).arg("--schemas").arg(&lake.schemas).args(args);
    run(cmd)
}

/// Runs the hourly job over the half-open range of arrival hours.
pub(crate) fn hourly_range(lake: &TestLake, (from, to): (&str, &str)) {
    lake.hourly(&["--from", from, "--to", to, "--no-metrics"]).assert_exit(0);
}

/// `YYYY-MM-DDTHH` of every hour in `[from, to)`.
fn hours_between((from, to): (&str, &str)) -> Vec<String> {
    let start = micros(&json!(format!("{from}:00:00Z"))) / 3_600_000_000;
    let end = micros(&json!(format!("{to}:00:00Z"))) / 3_600_000_000;
    (start..end).map(|h| DateTime::from_timestamp(h * 3600, 0).unwrap().format("%Y-%m-%dT%H").to_string()).collect()
}

/// Uploads `tests/fixtures/daily/<case>/**` to `bronze/**`, byte for byte.
pub(crate) fn put_daily_fixture(lake: &TestLake, case: &str) {
    fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { collect(&path, out) } else { out.push(path) }
        }
    }
    let root = fixtures_dir().join("daily").join(case);
    let mut files = Vec::new();
    collect(&root, &mut files);
    assert!(!files.is_empty(), "no fixture files under {}", root.display());
    for path in files {
        let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        lake.put(&format!("bronze/{rel}"), &std::fs::read(&path).unwrap());
    }
}

#[track_caller]
fn assert_nothing_quarantined(lake: &TestLake) {
    let q = lake.quarantine();
    assert!(q.is_empty(), "the generator writes valid events only: {:#?}", &q[..q.len().min(3)]);
}

/// The rows of the summary table on stderr (`date  status  …`), split into cells.
fn summary(run: &Run) -> Vec<Vec<String>> {
    let lines: Vec<&str> = run.stderr.lines().collect();
    let Some(header) = lines.iter().rposition(|l| l.starts_with("date ")) else { return Vec::new() };
    lines[header + 2..]
        .iter()
        .take_while(|l| NaiveDate::parse_from_str(l.get(..10).unwrap_or_default(), "%Y-%m-%d").is_ok())
        .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect())
        .collect()
}

fn summary_dates(run: &Run) -> Vec<String> {
    summary(run).into_iter().map(|r| r[0].clone()).collect()
}

#[track_caller]
fn day_status(run: &Run, date: &str) -> String {
    let row = summary(run).into_iter().find(|r| r[0] == date);
    row.unwrap_or_else(|| panic!("no summary row for {date}\n{run}"))[1].clone()
}

/// The `error: …` line of a failed run.
#[track_caller]
fn error_line(run: &Run) -> String {
    let line = run.stderr.lines().find(|l| l.starts_with("error:"));
    line.unwrap_or_else(|| panic!("no error line\n{run}")).to_owned()
}

pub(crate) fn daily_manifest(lake: &TestLake, date: &str) -> Option<Value> {
    lake.get(&format!("_manifests/daily/dt={date}.json")).map(|b| serde_json::from_slice(&b).expect("manifest is JSON"))
}

fn read_parquet(lake: &TestLake, key: &str) -> ParquetFile {
    let bytes = lake.get(key).unwrap_or_else(|| panic!("{key} is missing"));
    let builder = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes))
        .unwrap_or_else(|e| panic!("{key}: not a Parquet file: {e}"));
    let metadata = builder.metadata().clone();
    let batches = builder.build().unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    ParquetFile { key: key.into(), metadata, batches }
}

/// Silver files with event date `date`, sorted.
fn silver_keys_of(lake: &TestLake, date: &str) -> Vec<String> {
    let needle = format!("/dt={date}/");
    lake.keys("silver/").into_iter().filter(|k| k.contains(&needle) && k.ends_with(".parquet")).collect()
}

/// Every gold file of `date`: events and aggregates, sorted.
fn gold_keys_of(lake: &TestLake, date: &str) -> Vec<String> {
    let needle = format!("/dt={date}/");
    lake.keys("gold/").into_iter().filter(|k| k.contains(&needle)).collect()
}

/// Gold event rows of `date` by event type (from the partition folder).
fn gold_rows(lake: &TestLake, date: &str) -> BTreeMap<String, Vec<Map<String, Value>>> {
    let mut out: BTreeMap<String, Vec<Map<String, Value>>> = BTreeMap::new();
    for key in gold_keys_of(lake, date).into_iter().filter(|k| k.starts_with("gold/events/")) {
        out.entry(partition_value(&key, "event_type")).or_default().extend(read_parquet(lake, &key).rows());
    }
    out
}

/// Every gold file of `date` with its rows, as text (to compare two builds).
fn gold_text(lake: &TestLake, date: &str) -> String {
    let mut out = String::new();
    for key in gold_keys_of(lake, date) {
        out.push_str(&format!("## {key}\n"));
        for row in read_parquet(lake, &key).rows() {
            out.push_str(&canonical(&Value::Object(row)));
            out.push('\n');
        }
    }
    out
}

/// `daily_event_counts` of `date` by (event type, event name), times as µs since the epoch.
fn event_counts(lake: &TestLake, date: &str) -> Vec<Value> {
    let file = read_parquet(lake, &format!("gold/daily_event_counts/dt={date}/part-0.parquet"));
    let mut rows: Vec<Value> = file
        .rows()
        .into_iter()
        .map(|mut r| {
            for t in ["first_event_time", "last_event_time"] {
                let v = if r[t].is_null() { Value::Null } else { json!(micros(&r[t])) };
                r.insert(t.into(), v);
            }
            Value::Object(r)
        })
        .collect();
    rows.sort_by_key(|r| (r["event_type"].as_str().map(str::to_owned), r["event_name"].as_str().map(str::to_owned)));
    rows
}

/// The one row of `daily_quality` of `date`.
fn quality_row(lake: &TestLake, date: &str) -> Value {
    let rows = read_parquet(lake, &format!("gold/daily_quality/dt={date}/part-0.parquet")).rows();
    assert_eq!(rows.len(), 1, "daily_quality has one row: {rows:?}");
    Value::Object(rows.into_iter().next().unwrap())
}

/// `value` of the `name=value` folder in a key.
fn partition_value(key: &str, name: &str) -> String {
    let prefix = format!("{name}=");
    let seg = key.split('/').find_map(|s| s.strip_prefix(&prefix));
    seg.unwrap_or_else(|| panic!("{key} has no {name}= folder")).to_owned()
}

/// JSON with object keys sorted at every depth, as text.
fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

/// µs since the epoch of an RFC 3339 timestamp as Arrow's JSON writer renders it.
#[track_caller]
fn micros(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).timestamp_micros()
}

/// µs of `date` at `time` (`HH:MM:SS[.fff]`), UTC.
fn at(date: &str, time: &str) -> i64 {
    micros(&json!(format!("{date}T{time}Z")))
}

fn day_start(date: &str) -> i64 {
    at(date, "00:00:00")
}

fn day_end(date: &str) -> i64 {
    day_start(date) + 86_400_000_000
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v
}
