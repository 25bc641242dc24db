//! Objects larger than the job's work unit (4 MiB chunks cut at record boundaries, processed by
//! parallel workers): lines, byte offsets and output order must not depend on where the cuts fall
//! or on the number of workers.

use std::collections::BTreeMap;

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;

use crate::golden::assert_same_text;
use crate::support::TestLake;

const HOUR: &str = "2026-11-20T11";
/// The product's chunk size (`HourlyConfig::chunk_bytes`).
const CHUNK_BYTES: usize = 4 << 20;
/// Enough ~95-byte records for each object to span two chunks.
const RECORDS: usize = 50_000;

on_each_backend!(records_across_chunk_boundaries_keep_their_place);

/// What a generated record should become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Silver,
    SchemaViolation,
    Malformed,
}

/// A generated object: its bytes and, per record, (id, byte offset, line, fate).
struct Generated {
    bytes: Vec<u8>,
    records: Vec<(String, usize, u64, Fate)>,
}

/// `RECORDS` signup events, newline-separated or concatenated. The record that straddles the first
/// chunk boundary breaks the schema and the one after it is truncated JSON; a few more break the
/// schema along the way.
fn generate(prefix: &str, separator: &str) -> Generated {
    let mut bytes = Vec::new();
    let mut records = Vec::new();
    let mut line = 1u64;
    let mut after_straddle = false;
    for i in 0..RECORDS {
        let id = format!("{prefix}-{i:06}");
        let good =
            format!(r#"{{"event_uuid": "{id}", "event_name": "signup", "created_at": 1795172700, "plan": "free"}}"#);
        let start = bytes.len();
        let straddles = start < CHUNK_BYTES && start + good.len() + separator.len() > CHUNK_BYTES;
        let (text, fate) = if straddles || i % 9973 == 0 {
            (good.replace("\"free\"", "\"gold\""), Fate::SchemaViolation)
        } else if after_straddle && !separator.is_empty() {
            // Truncated JSON needs a line end to stop at, so only the NDJSON object gets one.
            after_straddle = false;
            (format!(r#"{{"event_uuid": "{id}", "event_name": "#), Fate::Malformed)
        } else {
            (good, Fate::Silver)
        };
        after_straddle |= straddles;
        bytes.extend_from_slice(text.as_bytes());
        records.push((id, start, line, fate));
        bytes.extend_from_slice(separator.as_bytes());
        line += separator.matches('\n').count() as u64;
    }
    assert!(bytes.len() > CHUNK_BYTES, "the object must span chunks");
    Generated { bytes, records }
}

fn records_across_chunk_boundaries_keep_their_place(lake: TestLake) {
    let objects = [("a-lines.ndjson", generate("l", "\n")), ("b-concatenated.json", generate("c", ""))];
    for (name, object) in &objects {
        lake.put(&format!("bronze/2026/11/20/11/{name}"), &object.bytes);
    }
    lake.hourly(&["--hour", HOUR, "--workers", "3"]).assert_exit(0);

    // Silver: every good record once, on its own line.
    let mut lines: BTreeMap<String, (String, i64)> = BTreeMap::new();
    for file in lake.silver_files() {
        for batch in &file.batches {
            let ids = batch.column_by_name("event_uuid").unwrap().as_string::<i32>();
            let keys = batch.column_by_name("source_key").unwrap().as_string::<i32>();
            let at = batch.column_by_name("source_line").unwrap().as_primitive::<Int64Type>();
            for i in 0..batch.num_rows() {
                let previous = lines.insert(ids.value(i).to_owned(), (keys.value(i).to_owned(), at.value(i)));
                assert!(previous.is_none(), "{} is in silver twice", ids.value(i));
            }
        }
    }
    // Quarantine: the bad ones, each at its exact offset.
    let quarantine: BTreeMap<(String, u64), (String, u64, String)> = lake
        .quarantine()
        .into_iter()
        .map(|(_, q)| {
            let key = (q["source_key"].as_str().unwrap().to_owned(), q["byte_offset"].as_u64().unwrap());
            (
                key,
                (
                    q["reason"].as_str().unwrap().to_owned(),
                    q["line"].as_u64().unwrap(),
                    q["record"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();

    let mut wrong = Vec::new();
    let mut quarantined = 0;
    for (name, object) in &objects {
        let source_key = format!("bronze/2026/11/20/11/{name}");
        for (id, offset, line, fate) in &object.records {
            let found = quarantine.get(&(source_key.clone(), *offset as u64));
            match fate {
                Fate::Silver => {
                    if lines.get(id) != Some(&(source_key.clone(), *line as i64)) {
                        wrong.push(format!("{id}: silver at {:?}, expected line {line}", lines.get(id)));
                    }
                }
                Fate::SchemaViolation | Fate::Malformed => {
                    quarantined += 1;
                    let reason = if *fate == Fate::Malformed { "malformed_json" } else { "schema_violation" };
                    match found {
                        Some((r, l, record))
                            if r == reason
                                && l == line
                                && object.bytes[*offset..].starts_with(record.as_bytes())
                                && record.contains(id.as_str()) => {}
                        other => {
                            wrong.push(format!("{id} at byte {offset}: quarantined as {other:?}, expected {reason}"))
                        }
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} records misplaced:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(quarantine.len(), quarantined, "unexpected quarantine lines");
    let valid = objects.iter().flat_map(|(_, o)| &o.records).filter(|r| r.3 == Fate::Silver).count();
    assert_eq!(lines.len(), valid, "unexpected silver rows");

    // One worker writes byte-identical files.
    let serial = lake.fresh("one-worker");
    for (name, object) in &objects {
        serial.put(&format!("bronze/2026/11/20/11/{name}"), &object.bytes);
    }
    serial.hourly(&["--hour", HOUR, "--workers", "1"]).assert_exit(0);
    let outputs = |l: &TestLake| -> Vec<(String, usize)> {
        l.written_keys()
            .into_iter()
            .filter(|k| !k.starts_with("_"))
            .map(|k| (k.clone(), l.get(&k).unwrap().len()))
            .collect()
    };
    assert_eq!(outputs(&serial), outputs(&lake), "file sizes with --workers 1 vs --workers 3");
    for (key, _) in outputs(&lake) {
        assert!(serial.get(&key) == lake.get(&key), "{key} differs with --workers 1 vs --workers 3");
    }
    assert_same_text("manifests", &serial.manifests_text(), &lake.manifests_text());
}
