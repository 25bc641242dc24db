//! The validator on the seed challenges' own schemas and events (copied under
//! `tests/fixtures/seeds/`).
//!
//! - `gpass0s-data-challenge/`: the iti data-challenge schema (draft-07, no `additionalProperties`)
//!   and the researcher's derived cases. The challenge's rule "fields not in the schema are rejected"
//!   is eventlake's closed-object default, so the schema compiles as it is.
//! - `babbel/`: the Babbel challenge sample events, with one schema per event name written for them
//!   in `babbel/schemas/` (also the demo registry). Envelope: `event_uuid` (string), `event_name`
//!   (`const`), `created_at` (number, Unix seconds).

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use eventlake_contract::json::Tape;
use eventlake_contract::schema::{CompileOptions, Schema};
use eventlake_contract::{Registry, RegistryOptions};
use serde_json::{Value as J, json};

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds")
}

fn read_json(path: &Path) -> J {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn compile(doc: &J, source: &str, allow_undeclared_fields: bool) -> Schema {
    Schema::compile(doc, source, &CompileOptions { allow_undeclared_fields, ..CompileOptions::default() })
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `(pointer, keyword)` of every error for `bytes`, checking `is_valid` agrees.
fn errors_for_bytes(schema: &Schema, bytes: &[u8]) -> Vec<(String, &'static str)> {
    let mut tape = Tape::default();
    let value = tape.parse(bytes).unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(bytes)));
    let errors = schema.validate(value);
    assert_eq!(schema.is_valid(value), errors.is_empty(), "is_valid disagrees with validate: {errors:?}");
    for e in &errors {
        assert!(!e.message.is_empty(), "empty message: {e:?}");
        assert_eq!(
            e.to_string(),
            format!("{}: {}", if e.pointer.is_empty() { "/" } else { e.pointer.as_str() }, e.message)
        );
    }
    errors.into_iter().map(|e| (e.pointer, e.keyword)).collect()
}

fn errors_for(schema: &Schema, event: &J) -> Vec<(String, &'static str)> {
    errors_for_bytes(schema, &serde_json::to_vec(event).unwrap())
}

// ---------------------------------------------------------------------------------------------
// gpass0s data-challenge

/// The single error each invalid derived case must produce, by case description prefix.
const GPASS0S_ERRORS: &[(&str, &str, &str)] = &[
    ("missing required documentNumber", "/documentNumber", "required"),
    ("unknown top-level field", "/extra", "additionalProperties"),
    ("unknown nested field inside address", "/address/zip", "additionalProperties"),
    ("age as string", "/age", "type"),
    ("age as boolean", "/age", "type"),
    ("age as 32.5", "/age", "type"),
    ("mailAddress as string", "/address/mailAddress", "type"),
    ("address null", "/address", "type"),
    ("missing nested required mailAddress", "/address/mailAddress", "required"),
    ("top-level JSON array", "", "type"),
];

fn gpass0s_schema(allow_undeclared_fields: bool) -> Schema {
    let dir = seeds().join("gpass0s-data-challenge");
    compile(&read_json(&dir.join("schema.json")), "gpass0s-data-challenge/schema.json", allow_undeclared_fields)
}

fn gpass0s_cases() -> Vec<(String, bool, J)> {
    let doc = read_json(&seeds().join("gpass0s-data-challenge/derived_cases.json"));
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["description"].as_str().unwrap().to_owned(), c["valid"].as_bool().unwrap(), c["event"].clone()))
        .collect()
}

#[test]
fn gpass0s_derived_cases_get_their_verdict_with_closed_objects() {
    let schema = gpass0s_schema(false);
    let cases = gpass0s_cases();
    assert_eq!(cases.len(), 12);
    for (description, valid, event) in &cases {
        let errors = errors_for(&schema, event);
        if *valid {
            assert!(errors.is_empty(), "{description}: expected valid, got {errors:?}");
            continue;
        }
        let &(_, pointer, keyword) = GPASS0S_ERRORS
            .iter()
            .find(|(prefix, ..)| description.starts_with(prefix))
            .unwrap_or_else(|| panic!("no expected error listed for {description:?}"));
        assert_eq!(errors, [(pointer.to_owned(), keyword)], "{description}");
    }
}

#[test]
fn gpass0s_challenge_rules_hold_on_the_exact_literals() {
    // Straight from bytes, so `32.0` and `true` reach the tape exactly as written.
    let schema = gpass0s_schema(false);
    let event = |age: &str, address: &str| {
        format!(
            r#"{{"eid": "3e628a05-7a4a-4bf3-8770-084c11601a12", "documentNumber": "42323235600", "name": "Joseph", "age": {age}, "address": {address}}}"#
        )
    };
    let address = r#"{"street": "St. Blue", "number": 3, "mailAddress": true}"#;
    let with_zip = r#"{"street": "St. Blue", "number": 3, "mailAddress": true, "zip": "00000"}"#;
    assert_eq!(errors_for_bytes(&schema, event("32", address).as_bytes()), []);
    assert_eq!(errors_for_bytes(&schema, event("32.0", address).as_bytes()), []);
    assert_eq!(errors_for_bytes(&schema, event("3.2e1", address).as_bytes()), []);
    assert_eq!(errors_for_bytes(&schema, event("true", address).as_bytes()), [("/age".to_owned(), "type")]);
    assert_eq!(
        errors_for_bytes(&schema, event("32", with_zip).as_bytes()),
        [("/address/zip".to_owned(), "additionalProperties")]
    );
    let sample = std::fs::read(seeds().join("gpass0s-data-challenge/sample_event_valid.json")).unwrap();
    assert_eq!(errors_for_bytes(&schema, &sample), []);
}

#[test]
fn gpass0s_open_objects_accept_undeclared_fields_only() {
    // The schema itself has no `additionalProperties: false`: with JSON Schema's open objects the
    // two "unknown field" cases become valid and every other verdict stays.
    let schema = gpass0s_schema(true);
    for (description, valid, event) in gpass0s_cases() {
        let undeclared = description.starts_with("unknown");
        let errors = errors_for(&schema, &event);
        assert_eq!(errors.is_empty(), valid || undeclared, "{description}: {errors:?}");
    }
}

#[test]
fn gpass0s_error_messages_name_the_field() {
    let schema = gpass0s_schema(false);
    let mut tape = Tape::default();
    let value = tape
        .parse(br#"{"eid": "x", "name": "Joseph", "age": true, "address": {"street": "s", "number": 3, "mailAddress": true, "zip": "0"}}"#)
        .unwrap();
    let lines: Vec<String> = schema.validate(value).iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("/documentNumber: ")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("/age: ") && l.contains("boolean")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("/address/zip: ")), "{lines:?}");
}

// ---------------------------------------------------------------------------------------------
// Babbel

fn babbel() -> PathBuf {
    seeds().join("babbel")
}

/// Schemas by `properties.event_name.const`.
fn babbel_schemas() -> HashMap<String, Schema> {
    let dir = babbel().join("schemas");
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let doc = read_json(&path);
        let name = doc.pointer("/properties/event_name/const").and_then(J::as_str).unwrap().to_owned();
        let schema = compile(&doc, &path.to_string_lossy(), false);
        assert!(out.insert(name.clone(), schema).is_none(), "{name} declared twice");
    }
    out
}

fn babbel_samples() -> Vec<J> {
    let text = std::fs::read_to_string(babbel().join("sample_events.ndjson")).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn schema_for<'a>(schemas: &'a HashMap<String, Schema>, event: &J) -> &'a Schema {
    let name = event["event_name"].as_str().unwrap();
    schemas.get(name).unwrap_or_else(|| panic!("no schema for {name}"))
}

#[test]
fn babbel_samples_validate_line_by_line() {
    let schemas = babbel_schemas();
    let text = std::fs::read(babbel().join("sample_events.ndjson")).unwrap();
    let mut tape = Tape::default();
    let mut seen = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let record = tape.parse(line).unwrap();
        let name = record.get("event_name").and_then(|n| n.as_str()).unwrap().to_owned();
        let errors = schemas[&name].validate(record);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        seen.push(name);
    }
    assert_eq!(seen, ["account:created", "lesson:started", "payment:order:completed", "lesson:completed"]);
}

#[test]
fn babbel_schemas_load_as_a_registry() {
    let registry = Registry::load_dir(&babbel().join("schemas"), &RegistryOptions::default()).unwrap();
    let mut names: Vec<&str> = registry.events().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["account:created", "lesson:completed", "lesson:started", "payment:order:completed", "quizz:completed"]
    );
    let payment = registry.event("payment:order:completed").unwrap();
    assert_eq!((payment.event_type.as_str(), payment.event_subtype.as_deref()), ("payment", Some("order")));
    let mut types: Vec<&str> = registry.tables().map(|t| t.event_type.as_str()).collect();
    types.sort_unstable();
    assert_eq!(types, ["account", "lesson", "payment", "quizz"]);
}

#[test]
fn babbel_mutated_events_are_rejected_where_they_break() {
    let schemas = babbel_schemas();
    let mutate = |event: &J, f: &dyn Fn(&mut serde_json::Map<String, J>)| {
        let mut e = event.clone();
        f(e.as_object_mut().unwrap());
        e
    };
    for event in babbel_samples() {
        let schema = schema_for(&schemas, &event);
        let name = event["event_name"].as_str().unwrap();

        // Wrong type: the timestamp as a string, as a CSV export would write it.
        let e = mutate(&event, &|m| {
            let t = m["created_at"].to_string();
            m.insert("created_at".into(), J::String(t));
        });
        assert_eq!(errors_for(schema, &e), [("/created_at".to_owned(), "type")], "{name}");

        // Wrong type: a numeric event id, as one solver's fixtures have it.
        let e = mutate(&event, &|m| {
            m.insert("event_uuid".into(), json!(1));
        });
        assert_eq!(errors_for(schema, &e), [("/event_uuid".to_owned(), "type")], "{name}");

        // Extra field, top level.
        let e = mutate(&event, &|m| {
            m.insert("_debug".into(), json!({"sdk": "js-3.2.1"}));
        });
        assert_eq!(errors_for(schema, &e), [("/_debug".to_owned(), "additionalProperties")], "{name}");

        // Another event's name: the const pins each schema to one event.
        let e = mutate(&event, &|m| {
            m.insert("event_name".into(), json!("account:deleted"));
        });
        assert_eq!(errors_for(schema, &e), [("/event_name".to_owned(), "const")], "{name}");

        // Each required field missing in turn.
        let doc_required: Vec<String> = schema
            .document()
            .get("required")
            .and_then(J::as_array)
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        for field in &doc_required {
            let e = mutate(&event, &|m| {
                m.shift_remove(field.as_str());
            });
            assert_eq!(errors_for(schema, &e), [(format!("/{field}"), "required")], "{name} without {field}");
        }
    }
}

#[test]
fn babbel_type_specific_rules() {
    let schemas = babbel_schemas();
    let samples = babbel_samples();
    let by_name = |n: &str| samples.iter().find(|e| e["event_name"] == n).unwrap().clone();
    let check = |event: J, expected: &[(&str, &str)]| {
        let errors = errors_for(schema_for(&schemas, &event), &event);
        let expected: Vec<(String, &str)> = expected.iter().map(|&(p, k)| (p.to_owned(), k)).collect();
        assert_eq!(errors, expected, "{event}");
    };

    let mut e = by_name("account:created");
    e["age"] = json!("30");
    check(e.clone(), &[("/age", "type")]);
    e["age"] = json!(30.5);
    check(e.clone(), &[("/age", "type")]);
    e["age"] = J::Null;
    check(e.clone(), &[]);
    e["email"] = json!("user123.example.com");
    check(e, &[("/email", "format")]);

    let mut e = by_name("payment:order:completed");
    e["amount"] = json!(0);
    check(e.clone(), &[("/amount", "exclusiveMinimum")]);
    e["amount"] = json!(49.99);
    e["currency"] = json!("usd");
    check(e.clone(), &[("/currency", "pattern")]);
    e["currency"] = json!("EUR");
    e["status"] = json!("pending");
    check(e, &[("/status", "enum")]);

    let mut e = by_name("lesson:completed");
    e["completion_date"] = json!("2024-02-30");
    check(e.clone(), &[("/completion_date", "format")]);
    e["completion_date"] = json!("2024-02-29");
    check(e, &[]);

    let mut e = by_name("lesson:started");
    e["duration_minutes"] = json!(0);
    check(e.clone(), &[("/duration_minutes", "minimum")]);
    e["duration_minutes"] = json!(60.0);
    e["instructor"] = J::Null;
    check(e.clone(), &[]);
    e["created_at"] = json!(1712511721.022075);
    check(e, &[]);
}

#[test]
fn babbel_solver_fixture_rows_are_judged_by_the_contract() {
    // mohcine-perso's bronze rows: integer event ids, and no payload for types whose schema
    // requires one.
    let schemas = babbel_schemas();
    let doc = read_json(&babbel().join("solver_test_fixtures.json"));
    let rows = doc["mohcine-perso/data-lake-challenge tests/test_data_lake_etl.py"]["bronze_rows_with_duplicate"]
        .as_array()
        .unwrap();
    for row in rows {
        let errors = errors_for(schema_for(&schemas, row), row);
        assert!(errors.contains(&("/event_uuid".to_owned(), "type")), "{row}: {errors:?}");
    }
    let quiz = rows.iter().find(|r| r["event_name"] == "quizz:completed").unwrap();
    assert_eq!(errors_for(schema_for(&schemas, quiz), quiz), [("/event_uuid".to_owned(), "type")]);
}

#[test]
fn malformed_bronze_is_a_parse_error_not_a_verdict() {
    // arpeggito's example file: a JSON array with a trailing comma before `]`.
    let bytes = std::fs::read(babbel().join("example_file.INVALID_trailing_comma.json")).unwrap();
    let mut tape = Tape::default();
    assert!(tape.parse(&bytes).is_err());
    // Duplicate keys cannot be validated either: which value would the schema judge?
    let mut tape = Tape::default();
    assert!(
        tape.parse(br#"{"event_uuid": "1", "event_name": "quizz:completed", "created_at": 1, "created_at": 2}"#)
            .is_err()
    );
}
