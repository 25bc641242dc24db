//! Validates NDJSON events the usual Rust way: each line into a `serde_json::Value`, the schema
//! picked by `event_name` (the `const` of each schema's `properties.event_name`), checked by the
//! `jsonschema` crate with formats asserted, as eventlake asserts them. Prints the counts.
//!
//!     validate-peer <schemas dir> <events.ndjson>

use std::collections::HashMap;
use std::{env, fs, process};

use serde_json::Value;

fn main() {
    let args: Vec<String> = env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: validate-peer <schemas dir> <events.ndjson>");
        process::exit(2);
    }
    let validators = load(&args[1]);
    let data = fs::read(&args[2]).unwrap_or_else(|e| fail(&args[2], e));
    let (mut valid, mut invalid) = (0u64, 0u64);
    for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let ok = serde_json::from_slice::<Value>(line).ok().is_some_and(|event| {
            event
                .get("event_name")
                .and_then(Value::as_str)
                .and_then(|name| validators.get(name))
                .is_some_and(|v| v.is_valid(&event))
        });
        if ok {
            valid += 1;
        } else {
            invalid += 1;
        }
    }
    println!("{} records checked: {valid} valid, {invalid} invalid", valid + invalid);
}

fn load(dir: &str) -> HashMap<String, jsonschema::Validator> {
    let mut out = HashMap::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| fail(dir, e)) {
        let path = entry.unwrap_or_else(|e| fail(dir, e)).path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = fs::read(&path).unwrap_or_else(|e| fail(&path.display().to_string(), e));
        let schema: Value = serde_json::from_slice(&text).unwrap_or_else(|e| fail(&path.display().to_string(), e));
        let Some(name) = schema.pointer("/properties/event_name/const").and_then(Value::as_str) else {
            fail(&path.display().to_string(), "no properties.event_name.const")
        };
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| fail(&path.display().to_string(), e));
        out.insert(name.to_string(), validator);
    }
    out
}

fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("validate-peer: {what}: {err}");
    process::exit(2);
}
