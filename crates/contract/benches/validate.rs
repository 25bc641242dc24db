//! Validation throughput (MB/s of NDJSON) on generated bronze data.
//!
//! ```text
//! bronze NDJSON ──► per line: Tape::parse ──► event_name ──► HashMap<name, Schema> ──► validate
//! ```
//!
//! Data: the file named by `EVENTLAKE_BENCH_DATA`, or else ~20 MB generated once into
//! `<target>/bench-data/` by `shared/bench/gen_bronze.py` (8 event types, ~1% invalid lines of four
//! kinds, ~2% re-deliveries). The script is found at `EVENTLAKE_BENCH_GEN`, or `../shared/bench/`
//! beside the workspace; without it (or without `python3`) the bench says so and measures nothing.
//! The schemas are the generator's, copied into `benches/schemas/` (one per event type, named by
//! `properties.event_name.const`).
//!
//! Before measuring, the verdicts are checked against the generator's manifest when there is one:
//! throughput of a validator that gets the answer wrong means nothing.
//!
//! `cargo bench -p eventlake-contract --bench validate` measures; add `-- --test` for a smoke run.

// A benchmark fails by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use eventlake_contract::json::Tape;
use eventlake_contract::schema::{CompileOptions, Schema};

const DATA_ENV: &str = "EVENTLAKE_BENCH_DATA";
const GEN_ENV: &str = "EVENTLAKE_BENCH_GEN";
const SIZE_MB: u32 = 20;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `<target>` is three levels above the bench binary (`<target>/<profile>/deps/validate-…`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| manifest_dir().join("../../target"))
}

/// The NDJSON to measure, generating it on first use; `None` when it cannot be had.
fn bench_data() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(DATA_ENV) {
        return Some(PathBuf::from(path));
    }
    let dir = target_dir().join("bench-data");
    let stem = format!("bronze-{SIZE_MB}m");
    let data = dir.join(format!("{stem}.ndjson"));
    if data.exists() {
        return Some(data);
    }
    let script = std::env::var_os(GEN_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../../shared/bench/gen_bronze.py"));
    if !script.is_file() {
        eprintln!("validate bench: skipped, no data: set {DATA_ENV}, or {GEN_ENV} to gen_bronze.py");
        return None;
    }
    // The script writes its schemas beside itself: run a copy so shared/ stays untouched.
    let work = dir.join("gen");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(&script, work.join("gen_bronze.py")).unwrap();
    let out = work.join(format!("{stem}.ndjson"));
    eprintln!("validate bench: generating {SIZE_MB} MB into {}", dir.display());
    let status = Command::new("python3")
        .arg(work.join("gen_bronze.py"))
        .args(["--size-mb", &SIZE_MB.to_string(), "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("validate bench: skipped, {} failed: {other:?}", script.display());
            return None;
        }
    }
    // Publish the data last, so an interrupted run regenerates instead of measuring half a file.
    std::fs::rename(work.join(format!("{stem}.manifest.json")), dir.join(format!("{stem}.manifest.json"))).unwrap();
    std::fs::rename(&out, &data).unwrap();
    Some(data)
}

/// The same contract written with the newer keywords: the properties move under `allOf`, the root
/// closes with `unevaluatedProperties: false` (an annotation walk per record), an `if`/`then`
/// re-checks the event name, and `patternProperties` admits `zz_*` string fields (none occur), so
/// every verdict stays the same.
fn with_newer_keywords(doc: &serde_json::Value) -> serde_json::Value {
    let mut root = doc.as_object().unwrap().clone();
    let properties = root.remove("properties").unwrap();
    let required = root.remove("required").unwrap_or_else(|| serde_json::json!([]));
    root.remove("additionalProperties");
    root.insert("allOf".into(), serde_json::json!([{"properties": properties, "required": required}]));
    root.insert("if".into(), serde_json::json!({"required": ["event_name"]}));
    root.insert("then".into(), serde_json::json!({"properties": {"event_name": {"type": "string"}}}));
    root.insert("patternProperties".into(), serde_json::json!({"^zz_": {"type": "string"}}));
    root.insert("unevaluatedProperties".into(), serde_json::Value::Bool(false));
    serde_json::Value::Object(root)
}

/// Schemas by event name; `newer`: rewritten by [`with_newer_keywords`].
fn load_schemas(newer: bool) -> HashMap<String, Schema> {
    let dir = manifest_dir().join("benches/schemas");
    let mut schemas = HashMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = doc
            .pointer("/properties/event_name/const")
            .and_then(|c| c.as_str())
            .unwrap_or_else(|| panic!("{}: no properties.event_name.const", path.display()))
            .to_owned();
        let doc = if newer { with_newer_keywords(&doc) } else { doc };
        let schema = Schema::compile(&doc, &path.to_string_lossy(), &CompileOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        schemas.insert(name, schema);
    }
    assert_eq!(schemas.len(), 8, "expected the generator's 8 event types in {}", dir.display());
    schemas
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    lines: u64,
    valid: u64,
    invalid: u64,
}

/// The hot path: what the hourly job does with each bronze line.
fn validate_all(data: &[u8], schemas: &HashMap<String, Schema>, tape: &mut Tape) -> Counts {
    let mut counts = Counts::default();
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        counts.lines += 1;
        let ok = match tape.parse(line) {
            Ok(record) => match record.get("event_name").and_then(|n| n.as_str()).and_then(|n| schemas.get(n)) {
                Some(schema) => black_box(schema.validate(record)).is_empty(),
                None => false,
            },
            Err(_) => false,
        };
        if ok {
            counts.valid += 1;
        } else {
            counts.invalid += 1;
        }
    }
    counts
}

/// Parsing alone, to show what validation adds.
fn parse_all(data: &[u8], tape: &mut Tape) -> u64 {
    let mut parsed = 0;
    for line in data.split(|&b| b == b'\n') {
        if !line.is_empty() && black_box(tape.parse(line)).is_ok() {
            parsed += 1;
        }
    }
    parsed
}

/// Checks the verdicts against `<stem>.manifest.json` written by the generator, if present.
fn check_against_manifest(data_path: &Path, counts: &Counts) {
    let name = data_path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let stem = name.strip_suffix(".ndjson").unwrap_or(name);
    let manifest = data_path.with_file_name(format!("{stem}.manifest.json"));
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        eprintln!("validate bench: no {}; verdicts not checked", manifest.display());
        return;
    };
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = Counts {
        lines: m["lines"].as_u64().unwrap(),
        valid: m["valid_lines"].as_u64().unwrap(),
        invalid: m["invalid_lines"].as_u64().unwrap(),
    };
    assert_eq!(counts, &expected, "verdicts differ from the generator's ground truth in {}", manifest.display());
}

fn bench_validate(c: &mut Criterion) {
    let Some(path) = bench_data() else {
        return;
    };
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schemas = load_schemas(false);
    let newer = load_schemas(true);
    let mut tape = Tape::default();
    let counts = validate_all(&data, &schemas, &mut tape);
    assert_eq!(validate_all(&data, &newer, &mut tape), counts, "the newer-keyword contract must agree");
    eprintln!(
        "validate bench: {} ({:.1} MB): {} lines, {} valid, {} invalid",
        path.display(),
        data.len() as f64 / 1e6,
        counts.lines,
        counts.valid,
        counts.invalid
    );
    check_against_manifest(&path, &counts);

    let mut group = c.benchmark_group("bronze");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(12));
    group.bench_function("parse", |b| b.iter(|| parse_all(black_box(&data), &mut tape)));
    group.bench_function("parse+validate", |b| b.iter(|| validate_all(black_box(&data), &schemas, &mut tape)));
    group.bench_function("parse+validate, unevaluatedProperties+if/then+patternProperties", |b| {
        b.iter(|| validate_all(black_box(&data), &newer, &mut tape))
    });
    group.finish();
}

criterion_group!(benches, bench_validate);
criterion_main!(benches);
