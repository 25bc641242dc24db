//! Differential test: eventlake's validator against the `jsonschema` crate (draft 2020-12).
//!
//! ```text
//! proptest ──► schema (every applicator and assertion keyword ──► instance biased towards the
//!              of 2020-12 but `format` and `$dynamicRef`)              schema's shape
//!                 │                                      │
//!                 ├─ Schema::compile (open objects) ─────┼─► Tape::parse ─► is_valid ─┐
//!                 └─ jsonschema::draft202012::new ───────┴─► is_valid ────────────────┴─► equal?
//! ```
//!
//! Properties:
//! 1. `open_objects_agree_with_jsonschema`: with `allow_undeclared_fields = true` both validators
//!    give the same verdict.
//! 2. `closed_objects_are_stricter`: with eventlake's default closed objects, valid for ours implies
//!    valid for `jsonschema`. Keywords that are not monotone are left out of these schemas: `oneOf`
//!    (closing a nested object can turn "two branches match" into "exactly one matches"), `not`,
//!    `if`, `maxContains` and `unevaluated*`.
//! 3. `undeclared_field_is_rejected`: adding an undeclared key to a valid instance of an object
//!    schema with `properties` (and no `additionalProperties`) makes ours reject it, at that key.
//!
//! The generators avoid what the two crates deliberately disagree on or what is not in the subset:
//! integers stay far inside `i64`, floats always have a fractional part (`1.0` is an integer for us
//! and a float to `serde_json`), patterns are plain, and `format` is not generated (the crate treats
//! it as an annotation in 2020-12; eventlake asserts it).
//!
//! Cases per property: 256, or `PROPTEST_CASES`; from a fixed seed, or `PROPTEST_RNG_SEED`. One
//! known difference a random seed can find: an `anyOf` branch that fails still marks properties
//! evaluated for `unevaluatedProperties` in the `jsonschema` crate; 2020-12 drops annotations of
//! failed subschemas (§7.7.1.2), as eventlake does.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;

use eventlake_contract::json::Tape;
use eventlake_contract::schema::{CompileOptions, Schema};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value as J, json};

const DEFAULT_CASES: u32 = 256;
const UNDECLARED: &str = "zz_undeclared";

/// Property names; `a/b` and `t~` exercise pointer escaping.
const KEYS: &[&str] = &["a", "b", "c", "a/b", "t~"];
const PATTERNS: &[&str] = &["^a", "b", "^[ab]*$", "c$", "é"];
const TYPES: &[&str] = &["null", "boolean", "integer", "number", "string", "array", "object"];

/// The cases a run generates: the same on every run (a test that passes on one CI run and fails on
/// the next lands nothing); `PROPTEST_RNG_SEED` explores others.
const DEFAULT_SEED: u64 = 20_261_120;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    let rng_seed = match std::env::var("PROPTEST_RNG_SEED") {
        Ok(_) => Config::default().rng_seed,
        Err(_) => proptest::test_runner::RngSeed::Fixed(DEFAULT_SEED),
    };
    // Closed objects reject schemas that require an undeclared field; those cases are skipped.
    Config {
        cases,
        rng_seed,
        failure_persistence: None,
        max_global_rejects: cases.saturating_mul(4),
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Values

fn small_int() -> impl Strategy<Value = i64> + Clone {
    -12i64..=12
}

/// Quarters with a fractional part: never an integral float.
fn fraction() -> impl Strategy<Value = f64> + Clone {
    (-24i64..=24).prop_map(|n| (2 * n + 1) as f64 / 4.0)
}

fn text() -> impl Strategy<Value = String> + Clone {
    "[abcé]{0,5}"
}

fn key() -> impl Strategy<Value = String> + Clone {
    prop::sample::select(KEYS).prop_map(str::to_owned)
}

fn number() -> BoxedStrategy<J> {
    prop_oneof![small_int().prop_map(J::from), fraction().prop_map(J::from)].boxed()
}

fn any_json() -> BoxedStrategy<J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        small_int().prop_map(J::from),
        fraction().prop_map(J::from),
        text().prop_map(J::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::vec((key(), inner), 0..4).prop_map(|kv| J::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Schemas

fn with_optional(mut base: Map<String, J>, extra: Vec<(&'static str, Option<J>)>) -> J {
    for (k, v) in extra {
        if let Some(v) = v {
            base.insert(k.to_owned(), v);
        }
    }
    J::Object(base)
}

fn bound() -> impl Strategy<Value = Option<J>> {
    prop::option::weighted(0.3, number())
}

fn numeric_keywords(ty: Option<&'static str>) -> BoxedStrategy<J> {
    (bound(), bound(), bound(), bound())
        .prop_map(move |(min, max, xmin, xmax)| {
            let mut base = Map::new();
            if let Some(t) = ty {
                base.insert("type".into(), t.into());
            }
            with_optional(
                base,
                vec![("minimum", min), ("maximum", max), ("exclusiveMinimum", xmin), ("exclusiveMaximum", xmax)],
            )
        })
        .boxed()
}

fn string_schema() -> BoxedStrategy<J> {
    let len = || prop::option::weighted(0.3, (0u64..5).prop_map(J::from));
    let pattern = prop::option::weighted(0.3, prop::sample::select(PATTERNS).prop_map(J::from));
    (any::<bool>(), len(), len(), pattern)
        .prop_map(|(typed, min, max, pattern)| {
            let mut base = Map::new();
            if typed {
                base.insert("type".into(), "string".into());
            }
            with_optional(base, vec![("minLength", min), ("maxLength", max), ("pattern", pattern)])
        })
        .boxed()
}

fn type_schema() -> BoxedStrategy<J> {
    prop_oneof![
        prop::sample::select(TYPES).prop_map(|t| json!({ "type": t })),
        prop::sample::subsequence(TYPES, 1..4).prop_map(|ts| json!({ "type": ts })),
    ]
    .boxed()
}

fn leaf_schema() -> BoxedStrategy<J> {
    prop_oneof![
        3 => numeric_keywords(Some("integer")),
        3 => numeric_keywords(Some("number")),
        1 => numeric_keywords(None),
        3 => string_schema(),
        3 => type_schema(),
        2 => prop::collection::vec(any_json(), 1..4).prop_map(|e| json!({ "enum": e })),
        1 => (prop::sample::select(TYPES), prop::collection::vec(any_json(), 1..4))
            .prop_map(|(t, e)| json!({ "type": t, "enum": e })),
        2 => any_json().prop_map(|c| json!({ "const": c })),
        1 => Just(json!({})),
        1 => any::<bool>().prop_map(J::Bool),
    ]
    .boxed()
}

fn object_schema(inner: BoxedStrategy<J>, additional: bool) -> BoxedStrategy<J> {
    let props = prop::collection::vec((key(), inner.clone()), 0..4);
    let required = prop::collection::vec(prop::sample::select(&["a", "b", "c", "a/b", "t~", "d"][..]), 0..3);
    let extra = if additional {
        prop::option::weighted(0.4, prop_oneof![3 => any::<bool>().prop_map(J::Bool), 1 => inner]).boxed()
    } else {
        Just(None).boxed()
    };
    (any::<bool>(), props, required, extra)
        .prop_map(|(typed, props, required, extra)| {
            let mut base = Map::new();
            if typed {
                base.insert("type".into(), "object".into());
            }
            base.insert("properties".into(), J::Object(props.into_iter().collect()));
            let mut names: Vec<J> = Vec::new();
            for r in required {
                if !names.iter().any(|n| n == r) {
                    names.push(r.into());
                }
            }
            if !names.is_empty() {
                base.insert("required".into(), J::Array(names));
            }
            with_optional(base, vec![("additionalProperties", extra)])
        })
        .boxed()
}

fn array_schema(inner: BoxedStrategy<J>) -> BoxedStrategy<J> {
    let count = || prop::option::weighted(0.3, (0u64..4).prop_map(J::from));
    (any::<bool>(), prop::option::weighted(0.8, inner), count(), count())
        .prop_map(|(typed, items, min, max)| {
            let mut base = Map::new();
            if typed {
                base.insert("type".into(), "array".into());
            }
            with_optional(base, vec![("items", items), ("minItems", min), ("maxItems", max)])
        })
        .boxed()
}

fn applicator(keyword: &'static str, inner: BoxedStrategy<J>) -> BoxedStrategy<J> {
    (prop::collection::vec(inner, 1..4), prop::option::weighted(0.3, prop::sample::select(TYPES)))
        .prop_map(move |(list, ty)| {
            let mut base = Map::new();
            base.insert(keyword.into(), J::Array(list));
            if let Some(t) = ty {
                base.insert("type".into(), t.into());
            }
            J::Object(base)
        })
        .boxed()
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    p: f64,
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::weighted(p, s).boxed()
}

fn bool_or(inner: BoxedStrategy<J>) -> BoxedStrategy<J> {
    prop_oneof![2 => any::<bool>().prop_map(J::Bool), 1 => inner].boxed()
}

/// Keywords that are monotone under closed objects: a stricter subschema never makes them pass
/// more (`patternProperties`, `propertyNames`, `dependent*`, `uniqueItems`, `multipleOf`,
/// `min/maxProperties`, `prefixItems`, `contains` with `minContains`).
fn monotone_keywords(inner: BoxedStrategy<J>) -> BoxedStrategy<J> {
    let pattern = || prop::sample::select(PATTERNS).prop_map(str::to_owned);
    let count = || (0u64..4).prop_map(J::from);
    prop_oneof![
        (prop::collection::vec((pattern(), inner.clone()), 1..3), maybe(0.5, bool_or(inner.clone())))
            .prop_map(|(patterns, additional)| {
                with_optional(
                    Map::from_iter([("patternProperties".to_owned(), J::Object(patterns.into_iter().collect()))]),
                    vec![("additionalProperties", additional)],
                )
            }),
        (pattern(), maybe(0.5, count()))
            .prop_map(|(p, max)| json!({"type": "object", "propertyNames": with_optional(Map::from_iter([("pattern".to_owned(), J::from(p))]), vec![("maxLength", max)])})),
        (key(), prop::collection::btree_set(key(), 1..3)).prop_map(|(k, names)| json!({"dependentRequired": {k: names}})),
        (key(), inner.clone()).prop_map(|(k, s)| json!({"type": "object", "dependentSchemas": {k: s}})),
        maybe(0.6, inner.clone()).prop_map(|items| with_optional(
            Map::from_iter([("type".to_owned(), J::from("array")), ("uniqueItems".to_owned(), J::Bool(true))]),
            vec![("items", items)],
        )),
        // Whole divisors only: the `jsonschema` crate calls -1 not a multiple of 0.5.
        prop::sample::select(vec![2, 3]).prop_map(|m| json!({"multipleOf": m})),
        (maybe(0.6, count()), maybe(0.6, count()))
            .prop_map(|(min, max)| with_optional(Map::new(), vec![("minProperties", min), ("maxProperties", max)])),
        (prop::collection::vec(inner.clone(), 1..3), maybe(0.5, bool_or(inner.clone())))
            .prop_map(|(prefix, rest)| with_optional(
                Map::from_iter([("type".to_owned(), J::from("array")), ("prefixItems".to_owned(), J::Array(prefix))]),
                vec![("items", rest)],
            )),
        (inner, maybe(0.5, count()))
            .prop_map(|(s, min)| with_optional(
                Map::from_iter([("type".to_owned(), J::from("array")), ("contains".to_owned(), s)]),
                vec![("minContains", min)],
            )),
    ]
    .boxed()
}

/// Keywords whose verdict can flip either way when a subschema gets stricter: `not`, `if`, `oneOf`,
/// `maxContains`, and the annotation-driven `unevaluated*`.
fn flipping_keywords(inner: BoxedStrategy<J>) -> BoxedStrategy<J> {
    prop_oneof![
        inner.clone().prop_map(|s| json!({"not": s})),
        (inner.clone(), maybe(0.8, inner.clone()), maybe(0.6, inner.clone())).prop_map(|(cond, then, otherwise)| {
            with_optional(Map::from_iter([("if".to_owned(), cond)]), vec![("then", then), ("else", otherwise)])
        }),
        (inner.clone(), (0u64..3)).prop_map(|(s, max)| json!({"type": "array", "contains": s, "maxContains": max})),
        (
            prop::collection::vec(inner.clone(), 1..3),
            prop::collection::vec((key(), inner.clone()), 0..2),
            bool_or(inner.clone())
        )
            .prop_map(|(branches, props, rest)| json!({
                "anyOf": branches,
                "properties": J::Object(props.into_iter().collect()),
                "unevaluatedProperties": rest
            })),
        (prop::collection::vec(inner.clone(), 1..3), any::<bool>(), bool_or(inner)).prop_map(
            |(prefix, all_of, rest)| {
                let tuple = json!({"prefixItems": prefix});
                let base = if all_of { json!({"allOf": [tuple]}) } else { tuple };
                let mut base = base.as_object().unwrap().clone();
                base.insert("type".into(), "array".into());
                base.insert("unevaluatedItems".into(), rest);
                J::Object(base)
            }
        ),
    ]
    .boxed()
}

/// A schema from the supported keywords; `flipping` allows those whose verdict is not monotone
/// under closed objects (`oneOf`, `not`, `if`, `maxContains`, `unevaluated*`).
fn schema(flipping: bool) -> BoxedStrategy<J> {
    leaf_schema()
        .prop_recursive(3, 24, 4, move |inner| {
            let mut choices: Vec<(u32, BoxedStrategy<J>)> = vec![
                (4, object_schema(inner.clone(), true)),
                (3, array_schema(inner.clone())),
                (1, applicator("allOf", inner.clone())),
                (2, applicator("anyOf", inner.clone())),
                (3, monotone_keywords(inner.clone())),
            ];
            if flipping {
                choices.push((2, applicator("oneOf", inner.clone())));
                choices.push((3, flipping_keywords(inner)));
            }
            Union::new_weighted(choices)
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Instances shaped by a schema

fn instance(schema: &J) -> BoxedStrategy<J> {
    prop_oneof![4 => shaped(schema), 1 => any_json()].boxed()
}

fn shaped(schema: &J) -> BoxedStrategy<J> {
    let J::Object(m) = schema else {
        return any_json();
    };
    let mut options: Vec<BoxedStrategy<J>> = Vec::new();
    if let Some(J::Array(values)) = m.get("enum") {
        options.push(prop::sample::select(values.clone()).boxed());
    }
    if let Some(c) = m.get("const") {
        options.push(Just(c.clone()).boxed());
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        if let Some(J::Array(list)) = m.get(keyword) {
            options.extend(list.iter().map(instance));
        }
    }
    for keyword in ["then", "else", "if", "not"] {
        if let Some(sub) = m.get(keyword) {
            options.push(instance(sub));
        }
    }
    if !options.is_empty() {
        return Union::new(options).boxed();
    }
    let types: Vec<&str> = match m.get("type") {
        Some(J::String(t)) => vec![t.as_str()],
        Some(J::Array(ts)) => ts.iter().filter_map(J::as_str).collect(),
        _ if ["properties", "patternProperties", "dependentRequired", "minProperties", "maxProperties"]
            .iter()
            .any(|k| m.contains_key(*k)) =>
        {
            vec!["object"]
        }
        _ if ["items", "prefixItems", "minItems", "maxItems"].iter().any(|k| m.contains_key(*k)) => vec!["array"],
        _ if m.contains_key("multipleOf") => vec!["number"],
        _ if m.contains_key("pattern") || m.contains_key("minLength") || m.contains_key("maxLength") => vec!["string"],
        _ if m.contains_key("minimum")
            || m.contains_key("maximum")
            || m.contains_key("exclusiveMinimum")
            || m.contains_key("exclusiveMaximum") =>
        {
            vec!["number"]
        }
        _ => return any_json(),
    };
    let strategies: Vec<BoxedStrategy<J>> = types.into_iter().map(|t| of_type(t, m)).collect();
    Union::new(strategies).boxed()
}

fn of_type(ty: &str, m: &Map<String, J>) -> BoxedStrategy<J> {
    match ty {
        "null" => Just(J::Null).boxed(),
        "boolean" => any::<bool>().prop_map(J::Bool).boxed(),
        "integer" => small_int().prop_map(J::from).boxed(),
        "number" => number(),
        "string" => {
            let prefixed = match m.get("pattern").and_then(J::as_str) {
                Some("^a") => "a[abc]{0,3}",
                Some("b") => "[ac]{0,2}b[ac]{0,2}",
                Some("c$") => "[ab]{0,3}c",
                Some("é") => "[ab]{0,2}é",
                _ => "[ab]{0,4}",
            };
            prop_oneof![prefixed.prop_map(J::String), text().prop_map(J::String)].boxed()
        }
        "array" => {
            let item = m.get("items").or(m.get("contains")).map_or_else(any_json, instance);
            let rest = prop::collection::vec(item, 0..4);
            match m.get("prefixItems") {
                Some(J::Array(prefix)) => {
                    let head: Vec<BoxedStrategy<J>> = prefix.iter().map(instance).collect();
                    (head, rest, 0..=prefix.len())
                        .prop_map(|(mut head, rest, cut)| {
                            head.truncate(cut);
                            if cut == head.len() {
                                head.extend(rest);
                            }
                            J::Array(head)
                        })
                        .boxed()
                }
                _ => rest.prop_map(J::Array).boxed(),
            }
        }
        "object" => {
            let required: Vec<&str> = m
                .get("required")
                .and_then(J::as_array)
                .map(|r| r.iter().filter_map(J::as_str).collect())
                .unwrap_or_default();
            let mut members: Vec<BoxedStrategy<Option<(String, J)>>> = Vec::new();
            if let Some(J::Object(patterns)) = m.get("patternProperties") {
                for sub in patterns.values() {
                    members.push(prop::option::weighted(0.5, (key(), instance(sub))).boxed());
                }
            }
            if let Some(J::Object(props)) = m.get("properties") {
                for (name, sub) in props {
                    let p = if required.contains(&name.as_str()) { 0.95 } else { 0.5 };
                    let name = name.clone();
                    members.push(prop::option::weighted(p, instance(sub).prop_map(move |v| (name.clone(), v))).boxed());
                }
            }
            let extra = match m.get("additionalProperties") {
                Some(J::Bool(false)) => Just(None).boxed(),
                Some(sub @ J::Object(_)) => prop::option::weighted(0.3, ("[xy]", instance(sub))).boxed(),
                _ => prop::option::weighted(0.2, ("[xy]", any_json())).boxed(),
            };
            (members, extra)
                .prop_map(|(members, extra)| {
                    let mut obj: Map<String, J> = members.into_iter().flatten().collect();
                    if let Some((k, v)) = extra {
                        obj.insert(k, v);
                    }
                    J::Object(obj)
                })
                .boxed()
        }
        _ => any_json(),
    }
}

fn with_instance(schema: BoxedStrategy<J>) -> impl Strategy<Value = (J, J)> {
    schema.prop_flat_map(|s| {
        let i = instance(&s);
        (Just(s), i)
    })
}

// ---------------------------------------------------------------------------------------------
// Oracles

fn ours(schema: &J, allow_undeclared_fields: bool) -> Result<Schema, TestCaseError> {
    Schema::compile(schema, "generated.json", &CompileOptions { allow_undeclared_fields, ..CompileOptions::default() })
        .map_err(|e| match e {
            // With closed objects, `type: object` requiring an undeclared field is rejected on purpose.
            eventlake_contract::Error::InvalidKeyword { ref keyword, .. }
                if keyword == "required" && !allow_undeclared_fields =>
            {
                TestCaseError::reject("required field not declared under closed objects")
            }
            _ => TestCaseError::fail(format!("supported schema failed to compile: {e}\nschema: {schema}")),
        })
}

fn theirs(schema: &J) -> Result<jsonschema::Validator, TestCaseError> {
    jsonschema::draft202012::new(schema)
        .map_err(|e| TestCaseError::fail(format!("jsonschema rejected the schema: {e}\nschema: {schema}")))
}

/// Our verdict and error list for `instance`, going through the same bytes the hourly job sees.
fn our_errors(schema: &Schema, instance: &J) -> Result<Vec<String>, TestCaseError> {
    let bytes = serde_json::to_vec(instance).unwrap();
    let mut tape = Tape::default();
    let value = tape
        .parse(&bytes)
        .map_err(|e| TestCaseError::fail(format!("Tape cannot parse {}: {e}", String::from_utf8_lossy(&bytes))))?;
    let errors: Vec<String> = schema.validate(value).iter().map(|e| format!("{} [{}]", e, e.keyword)).collect();
    if schema.is_valid(value) != errors.is_empty() {
        return Err(TestCaseError::fail(format!("is_valid disagrees with validate for {instance}: {errors:?}")));
    }
    Ok(errors)
}

/// What a property saw, to show the generators reach both verdicts.
#[derive(Default)]
struct Seen {
    valid: Cell<u32>,
    invalid: Cell<u32>,
}

impl Seen {
    fn record(&self, valid: bool) {
        let c = if valid { &self.valid } else { &self.invalid };
        c.set(c.get() + 1);
    }
}

/// Runs `test` on generated `(schema, instance)` pairs; returns how many of our verdicts were valid
/// and invalid (counted by the test through [`Seen`]).
fn run(
    name: &str,
    strategy: impl Strategy<Value = (J, J)>,
    test: impl Fn(&J, &J, &Seen) -> Result<(), TestCaseError>,
) -> (u32, u32) {
    let seen = Seen::default();
    let mut runner = TestRunner::new(config());
    if let Err(e) = runner.run(&strategy, |(schema, instance)| test(&schema, &instance, &seen)) {
        panic!("{name}: {e}");
    }
    let (valid, invalid) = (seen.valid.get(), seen.invalid.get());
    eprintln!("{name}: {valid} valid, {invalid} invalid");
    (valid, invalid)
}

/// Both verdicts must turn up (at least 5% each), or the property tests little.
fn assert_balanced(name: &str, (valid, invalid): (u32, u32)) {
    let total = (valid + invalid).max(1);
    assert!(
        valid * 20 >= total && invalid * 20 >= total,
        "{name}: generators are lopsided ({valid} valid, {invalid} invalid)"
    );
}

#[test]
fn open_objects_agree_with_jsonschema() {
    let seen = run("open objects", with_instance(schema(true)), |schema, instance, seen| {
        let ours = ours(schema, true)?;
        let theirs = theirs(schema)?;
        let errors = our_errors(&ours, instance)?;
        seen.record(errors.is_empty());
        let expected = theirs.is_valid(instance);
        prop_assert_eq!(
            errors.is_empty(),
            expected,
            "verdicts differ (jsonschema says {})\nschema:   {}\ninstance: {}\nour errors: {:?}",
            if expected { "valid" } else { "invalid" },
            schema,
            instance,
            errors
        );
        Ok(())
    });
    assert_balanced("open objects", seen);
}

#[test]
fn closed_objects_are_stricter() {
    let seen = run("closed objects", with_instance(schema(false)), |schema, instance, seen| {
        let ours = ours(schema, false)?;
        let theirs = theirs(schema)?;
        let errors = our_errors(&ours, instance)?;
        seen.record(errors.is_empty());
        if errors.is_empty() {
            prop_assert!(
                theirs.is_valid(instance),
                "valid with closed objects but invalid for jsonschema\nschema:   {}\ninstance: {}",
                schema,
                instance
            );
        }
        Ok(())
    });
    assert_balanced("closed objects", seen);
}

#[test]
fn undeclared_field_is_rejected() {
    let root = object_schema(schema(true), false);
    let seen = run("undeclared field", with_instance(root), |schema, instance, seen| {
        let ours = ours(schema, false)?;
        let J::Object(members) = instance else {
            return Ok(());
        };
        let valid = our_errors(&ours, instance)?.is_empty();
        // Counts the instances the property could extend (valid) against those it had to skip.
        seen.record(valid);
        if !valid {
            return Ok(());
        }
        let mut extended = members.clone();
        extended.insert(UNDECLARED.into(), J::from(1));
        let extended = J::Object(extended);
        let errors = our_errors(&ours, &extended)?;
        let pointer = format!("/{UNDECLARED}: ");
        prop_assert!(
            errors.iter().any(|e| e.starts_with(&pointer) && e.ends_with("[additionalProperties]")),
            "undeclared field not reported at {}\nschema:   {}\ninstance: {}\nerrors: {:?}",
            pointer,
            schema,
            extended,
            errors
        );
        Ok(())
    });
    assert_balanced("undeclared field", seen);
}
