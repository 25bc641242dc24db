//! The official JSON-Schema-Test-Suite: required tests, `optional/format` and `optional/bignum`.
//!
//! ```text
//! tests/fixtures/json-schema-test-suite/<draft>/**/*.json   suite files (MIT, see LICENSE there)
//!        │ each group: {description, schema, tests: [{description, data, valid}]}
//!        ▼
//! Resources: remotes/ at http://localhost:1234/ + the schema   `$ref`s to other documents resolve
//! Schema::compile_in(allow_undeclared_fields = true)          the suite assumes open objects
//!        ├─ loads ──▶ every case: serde_json::to_vec(data) → Tape::parse → validate == `valid`
//!        └─ fails ──▶ the group must be listed in tests/fixtures/suite-unsupported.txt
//! ```
//!
//! What the harness holds the validator to:
//! - A group loads exactly when its schema uses only supported keywords: [`unsupported_feature`] is
//!   an independent, structural reading of the schema, so a group that fails to load for any other
//!   reason (a bug) cannot hide in the golden file.
//! - The golden file `suite-unsupported.txt` lists every group that does not load, one line each:
//!   `<file>\t<group description>\t<reason>` (the reason is the compile error, less the file name).
//!   Regenerate it with `EVENTLAKE_REGENERATE=1 cargo test -p eventlake-contract --test suite`.
//! - Every case of a loading group gets the suite's verdict, except the product rules in
//!   [`EXCEPTIONS`], which must each still differ from the suite (so the list cannot go stale).
//!
//! Deliberate choices:
//! - The suite's draft-04, -06 and -07 schemas carry no `$schema`; the harness adds their folder's
//!   URI so they compile in that dialect (array-form `items`, `$ref` overriding its siblings,
//!   draft-04's boolean exclusive bounds).
//! - Each draft's top-level `format.json` is not copied: it tests the annotation-only default for
//!   `format`, whereas eventlake asserts every format it can check. The assertion behaviour is
//!   covered by `optional/format/*`.
//! - The suite serves `remotes/` at `http://localhost:1234/`; the harness adds those documents
//!   (the shared ones and the draft's own folder) to the schema's [`Resources`], as a schema folder
//!   would. Nothing is fetched.
//! - Instances go through `serde_json` (no arbitrary precision), so a bignum literal reaches the
//!   tape as its nearest double (`1.2345678910111213e52`), which is still an integral literal.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use eventlake_contract::Resources;
use eventlake_contract::json::Tape;
use eventlake_contract::schema::{CompileOptions, Schema};
use serde_json::Value as J;

const SUITE_DIR: &str = "tests/fixtures/json-schema-test-suite";
/// The suite's `remotes/` folder, which the suite serves at `http://localhost:1234/`.
const REMOTES: &str = "remotes";
const REMOTES_URI: &str = "http://localhost:1234/";
const GOLDEN: &str = "tests/fixtures/suite-unsupported.txt";
const REGENERATE_ENV: &str = "EVENTLAKE_REGENERATE";

const DRAFT7_URI: &str = "http://json-schema.org/draft-07/schema#";

/// A case where eventlake's verdict deliberately differs from the suite's.
struct Exception {
    file: &'static str,
    group: &'static str,
    case: &'static str,
    reason: &'static str,
}

const BIGINT: &str = "product rule: an integer outside i64 is not a valid `integer` (Kind::BigInt), \
                      because silver stores integers as Int64";

/// Product rules that override the suite's verdict (the verdict is flipped for these cases).
const EXCEPTIONS: &[Exception] = &[
    Exception {
        file: "draft2020-12/optional/bignum.json",
        group: "integer",
        case: "a bignum is an integer",
        reason: BIGINT,
    },
    Exception {
        file: "draft2020-12/optional/bignum.json",
        group: "integer",
        case: "a negative bignum is an integer",
        reason: BIGINT,
    },
    Exception { file: "draft7/optional/bignum.json", group: "integer", case: "a bignum is an integer", reason: BIGINT },
    Exception {
        file: "draft7/optional/bignum.json",
        group: "integer",
        case: "a negative bignum is an integer",
        reason: BIGINT,
    },
];

/// Keywords the compiler enforces.
const SUPPORTED: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "format",
    "$ref",
    "allOf",
    "anyOf",
    "oneOf",
    "$defs",
    "definitions",
    "multipleOf",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "not",
    "propertyNames",
    "if",
    "then",
    "else",
    "contains",
    "patternProperties",
];

/// Keywords of some dialects only.
const LEGACY_ONLY: &[&str] = &["dependencies", "additionalItems"];
const MODERN_ONLY: &[&str] = &[
    "minContains",
    "maxContains",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$anchor",
    "contentSchema",
    "$vocabulary",
];
const DRAFT2019_ONLY: &[&str] = &["$recursiveRef", "$recursiveAnchor", "additionalItems"];
const DRAFT2020_ONLY: &[&str] = &["$dynamicRef", "$dynamicAnchor", "prefixItems"];

/// Keywords accepted and ignored.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "examples",
    "default",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentEncoding",
    "contentMediaType",
];

const KNOWN_DRAFTS: &[&str] = &[
    "http://json-schema.org/draft-04/schema#",
    "http://json-schema.org/draft-04/schema",
    "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-07/schema#",
    "http://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2019-09/schema#",
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2020-12/schema#",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Draft {
    Draft4,
    Draft6,
    Draft7,
    Draft2019,
    Draft2020,
}

impl Draft {
    /// The suite folder's dialect, and the `$schema` the harness adds where a schema has none
    /// (the older drafts' files carry none).
    fn of(file: &str) -> (Draft, &'static str) {
        match file.split('/').next() {
            Some("draft4") => (Draft::Draft4, "http://json-schema.org/draft-04/schema#"),
            Some("draft6") => (Draft::Draft6, "http://json-schema.org/draft-06/schema#"),
            Some("draft7") => (Draft::Draft7, DRAFT7_URI),
            Some("draft2019-09") => (Draft::Draft2019, "https://json-schema.org/draft/2019-09/schema"),
            _ => (Draft::Draft2020, "https://json-schema.org/draft/2020-12/schema"),
        }
    }

    fn legacy(self) -> bool {
        matches!(self, Draft::Draft4 | Draft::Draft6 | Draft::Draft7)
    }

    /// Keywords of the supported set that this dialect does not have.
    fn lacks(self, keyword: &str) -> bool {
        match keyword {
            "const" | "contains" | "propertyNames" => self == Draft::Draft4,
            "if" | "then" | "else" => matches!(self, Draft::Draft4 | Draft::Draft6),
            _ => false,
        }
    }
}

/// The first feature outside eventlake's subset that `schema` uses, read from the schema's
/// structure alone (independently of the compiler). `None`: the schema must load.
fn unsupported_feature(schema: &J, draft: Draft) -> Option<String> {
    walk(schema, "", draft)
}

fn walk(schema: &J, pointer: &str, draft: Draft) -> Option<String> {
    let J::Object(map) = schema else {
        return None;
    };
    let root = pointer.is_empty();
    let at = if root { "#" } else { pointer };
    let id_key = if draft == Draft::Draft4 { "id" } else { "$id" };
    let dialect: &[&[&str]] = match draft {
        Draft::Draft2019 => &[MODERN_ONLY, DRAFT2019_ONLY],
        Draft::Draft2020 => &[MODERN_ONLY, DRAFT2020_ONLY],
        _ => &[LEGACY_ONLY],
    };
    for key in map.keys() {
        let k = key.as_str();
        let draft4_id = draft == Draft::Draft4 && k == "id";
        let known = SUPPORTED.contains(&k) || ANNOTATIONS.contains(&k) || dialect.iter().any(|d| d.contains(&k));
        if (!known && !draft4_id) || draft.lacks(k) {
            return Some(format!("{at}: keyword `{key}`"));
        }
    }
    // drafts 4 to 7: `$ref` overrides its siblings, so they are never compiled.
    if draft.legacy() && map.contains_key("$ref") {
        return None;
    }
    if let Some(s) = map.get("$schema") {
        if !root && !map.contains_key(id_key) {
            return Some(format!("{at}: $schema where no schema resource starts"));
        }
        if !s.as_str().is_some_and(|s| KNOWN_DRAFTS.contains(&s)) {
            return Some(format!("{at}: meta-schema {s}"));
        }
    }
    if draft == Draft::Draft2020 && map.get("items").is_some_and(J::is_array) {
        return Some(format!("{at}: array-form items in 2020-12"));
    }
    if draft == Draft::Draft4
        && ["exclusiveMinimum", "exclusiveMaximum"].iter().any(|k| map.get(*k).is_some_and(|v| !v.is_boolean()))
    {
        return Some(format!("{at}: numeric exclusive bound in draft-04"));
    }
    let mut children: Vec<(String, &J)> = Vec::new();
    for key in ["properties", "$defs", "definitions", "patternProperties"] {
        if let Some(J::Object(subs)) = map.get(key) {
            children.extend(subs.iter().map(|(name, s)| (format!("{pointer}/{key}/{name}"), s)));
        }
    }
    for key in ["dependentSchemas", "dependencies"] {
        if let Some(J::Object(subs)) = map.get(key) {
            children
                .extend(subs.iter().filter(|(_, s)| !s.is_array()).map(|(n, s)| (format!("{pointer}/{key}/{n}"), s)));
        }
    }
    for key in [
        "additionalProperties",
        "items",
        "prefixItems",
        "additionalItems",
        "unevaluatedProperties",
        "unevaluatedItems",
        "not",
        "propertyNames",
        "if",
        "then",
        "else",
        "contains",
    ] {
        match map.get(key) {
            Some(J::Array(list)) => {
                children.extend(list.iter().enumerate().map(|(i, s)| (format!("{pointer}/{key}/{i}"), s)));
            }
            Some(s) => children.push((format!("{pointer}/{key}"), s)),
            None => {}
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(J::Array(list)) = map.get(key) {
            children.extend(list.iter().enumerate().map(|(i, s)| (format!("{pointer}/{key}/{i}"), s)));
        }
    }
    children.into_iter().find_map(|(p, s)| walk(s, &p, draft))
}

/// Every `*.json` under `dir`, as paths relative to `base`, sorted.
fn suite_files(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() && path.file_name().is_some_and(|n| n == REMOTES) {
            // Documents the tests `$ref`, not tests.
        } else if path.is_dir() {
            suite_files(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path.strip_prefix(base).unwrap();
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The compile error, without the source name it starts with.
fn short_reason(err: &impl std::fmt::Display, source: &str) -> String {
    let text = err.to_string().replace(['\t', '\n'], " ");
    let text = text.strip_prefix(source).unwrap_or(&text);
    text.trim_start_matches([':', ' ']).to_owned()
}

#[derive(Default)]
struct Report {
    files: usize,
    groups: usize,
    loaded: usize,
    unsupported: usize,
    cases: usize,
    passed: usize,
    skipped_cases: usize,
    exceptions_applied: usize,
    /// Per kind of file (required, optional, optional/format): (cases, passed, in unsupported groups).
    by_kind: std::collections::BTreeMap<&'static str, (usize, usize, usize)>,
    /// Golden lines: groups that did not load.
    golden: Vec<String>,
    /// Everything that points at a bug (or a stale golden file).
    failures: Vec<String>,
}

#[test]
fn json_schema_test_suite() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = manifest.join(SUITE_DIR);
    let mut files = Vec::new();
    suite_files(&base, &base, &mut files);
    assert!(!files.is_empty(), "no suite files under {}", base.display());

    let mut report = Report::default();
    let mut used_exceptions = vec![0usize; EXCEPTIONS.len()];
    let options = CompileOptions { allow_undeclared_fields: true, ..CompileOptions::default() };
    let mut tape = Tape::default();
    let mut remote_files = Vec::new();
    suite_files(&base.join(REMOTES), &base.join(REMOTES), &mut remote_files);
    let remotes: Vec<(String, J)> = remote_files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(base.join(REMOTES).join(&path)).unwrap();
            (path, serde_json::from_str(&text).unwrap())
        })
        .collect();

    for file in &files {
        report.files += 1;
        let (draft, draft_uri) = Draft::of(file);
        let text = std::fs::read_to_string(base.join(file)).unwrap();
        let groups: Vec<J> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        for group in &groups {
            report.groups += 1;
            let description = group["description"].as_str().unwrap();
            let mut schema_doc = group["schema"].clone();
            if let J::Object(map) = &mut schema_doc
                && !map.contains_key("$schema")
            {
                map.insert("$schema".into(), J::String(draft_uri.into()));
            }
            let tests = group["tests"].as_array().unwrap();
            let expected_failure = unsupported_feature(&schema_doc, draft);
            let mut resources = Resources::new();
            for (path, doc) in remotes.iter().filter(|(path, _)| remote_of(path, draft)) {
                let mut doc = doc.clone();
                if let J::Object(map) = &mut doc
                    && !map.contains_key("$schema")
                {
                    map.insert("$schema".into(), J::String(draft_uri.into()));
                }
                resources
                    .add_with_uri(&format!("{REMOTES}/{path}"), &format!("{REMOTES_URI}{path}"), doc)
                    .unwrap_or_else(|e| panic!("remote {path}: {e}"));
            }
            let compiled = resources
                .add(file, schema_doc.clone())
                .and_then(|doc| Schema::compile_in(&mut resources, doc, &options));
            let schema = match compiled {
                Ok(schema) => {
                    report.loaded += 1;
                    if let Some(feature) = &expected_failure {
                        report.failures.push(format!(
                            "{file} / {description}: loads, but uses an unsupported feature ({feature}); \
                             it should be a load error"
                        ));
                    }
                    schema
                }
                Err(err) => {
                    report.unsupported += 1;
                    report.skipped_cases += tests.len();
                    report.by_kind.entry(kind_of(file)).or_default().2 += tests.len();
                    let reason = short_reason(&err, file);
                    if expected_failure.is_none() {
                        report.failures.push(format!(
                            "{file} / {description}: fails to load although it uses only supported \
                             keywords: {reason}"
                        ));
                    }
                    report.golden.push(format!("{file}\t{description}\t{reason}"));
                    continue;
                }
            };
            for case in tests {
                report.cases += 1;
                report.by_kind.entry(kind_of(file)).or_default().0 += 1;
                let case_description = case["description"].as_str().unwrap();
                let suite_valid = case["valid"].as_bool().unwrap();
                let exception = EXCEPTIONS
                    .iter()
                    .position(|x| x.file == file && x.group == description && x.case == case_description);
                let expected = match exception {
                    Some(i) => {
                        used_exceptions[i] += 1;
                        !suite_valid
                    }
                    None => suite_valid,
                };
                let bytes = serde_json::to_vec(&case["data"]).unwrap();
                let value = match tape.parse(&bytes) {
                    Ok(v) => v,
                    Err(e) => {
                        report.failures.push(format!(
                            "{file} / {description} / {case_description}: Tape cannot parse the data \
                             {}: {e}",
                            String::from_utf8_lossy(&bytes)
                        ));
                        continue;
                    }
                };
                let errors = schema.validate(value);
                let valid = errors.is_empty();
                if schema.is_valid(value) != valid {
                    report.failures.push(format!(
                        "{file} / {description} / {case_description}: is_valid() = {} but validate() \
                         returned {} errors",
                        !valid,
                        errors.len()
                    ));
                }
                if valid == expected {
                    report.passed += 1;
                    report.by_kind.entry(kind_of(file)).or_default().1 += 1;
                    report.exceptions_applied += usize::from(exception.is_some());
                } else {
                    let mut line = format!(
                        "{file} / {description} / {case_description}: expected {}, got {}; data {}",
                        verdict(expected),
                        verdict(valid),
                        String::from_utf8_lossy(&bytes)
                    );
                    for e in &errors {
                        let _ = write!(line, "\n      {e}");
                    }
                    report.failures.push(line);
                }
            }
        }
    }

    for (exception, used) in EXCEPTIONS.iter().zip(&used_exceptions) {
        if *used != 1 {
            report.failures.push(format!(
                "exception {} / {} / {} matched {used} cases (expected 1): {}",
                exception.file, exception.group, exception.case, exception.reason
            ));
        }
    }

    check_golden(&manifest.join(GOLDEN), &mut report);

    eprintln!(
        "JSON-Schema-Test-Suite: {} files, {} groups: {} loaded, {} unsupported; \
         {} cases run, {} passed ({} by product exception), {} in unsupported groups",
        report.files,
        report.groups,
        report.loaded,
        report.unsupported,
        report.cases,
        report.passed,
        report.exceptions_applied,
        report.skipped_cases,
    );
    for (kind, (cases, passed, unsupported)) in &report.by_kind {
        eprintln!(
            "  {kind}: {passed} of {} tests give the suite's verdict ({unsupported} in groups that do not load)",
            cases + unsupported
        );
    }
    if !report.failures.is_empty() {
        panic!("{} suite failures:\n  {}", report.failures.len(), report.failures.join("\n  "));
    }
}

/// Which part of the suite a file is: its required tests, `optional/format`, or the other optional ones.
fn kind_of(file: &str) -> &'static str {
    if file.contains("/optional/format/") {
        "optional/format"
    } else if file.contains("/optional/") {
        "optional"
    } else {
        "required"
    }
}

/// Whether the remote document at `path` belongs to `draft`'s tests: the shared ones at the top,
/// and the draft's own folder.
fn remote_of(path: &str, draft: Draft) -> bool {
    let folder = match draft {
        Draft::Draft4 => "draft4/",
        Draft::Draft6 => "draft6/",
        Draft::Draft7 => "draft7/",
        Draft::Draft2019 => "draft2019-09/",
        Draft::Draft2020 => "draft2020-12/",
    };
    path.starts_with(folder) || !path.starts_with("draft")
}

fn verdict(valid: bool) -> &'static str {
    if valid { "valid" } else { "invalid" }
}

const GOLDEN_HEADER: &str = "\
# JSON-Schema-Test-Suite groups that eventlake does not load (unsupported keywords or features).
# One line per group: <file under json-schema-test-suite/>\\t<group description>\\t<compile error>.
# Written by `EVENTLAKE_REGENERATE=1 cargo test -p eventlake-contract --test suite`; the test fails
# when a group loads or fails differently. A group listed here must use a feature outside the subset.
";

fn check_golden(path: &Path, report: &mut Report) {
    let mut expected = String::from(GOLDEN_HEADER);
    for line in &report.golden {
        expected.push_str(line);
        expected.push('\n');
    }
    if std::env::var(REGENERATE_ENV).is_ok_and(|v| v == "1") {
        std::fs::write(path, &expected).unwrap();
        eprintln!("rewrote {}", path.display());
        return;
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    let listed: Vec<&str> = actual.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let now: Vec<&str> = report.golden.iter().map(String::as_str).collect();
    for line in &listed {
        if !now.contains(line) {
            report.failures.push(format!("golden lists a group that now loads or fails differently: {line}"));
        }
    }
    for line in &now {
        if !listed.contains(line) {
            report.failures.push(format!("group fails to load but is not in the golden file: {line}"));
        }
    }
    if listed.len() == now.len() && listed.iter().zip(&now).any(|(a, b)| a != b) {
        report.failures.push("golden file lines are out of order".into());
    }
    if report.failures.iter().any(|f| f.starts_with("golden") || f.starts_with("group fails")) {
        report
            .failures
            .push(format!("{} is stale: check the groups above, then run with {REGENERATE_ENV}=1", path.display()));
    }
}

#[test]
fn feature_reader_knows_the_subset() {
    let draft7 = Draft::Draft7;
    let d2020 = Draft::Draft2020;
    let read = |s: &str, d| unsupported_feature(&serde_json::from_str(s).unwrap(), d);
    assert_eq!(
        read(r##"{"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": true}}"##, d2020),
        None
    );
    assert_eq!(read(r##"{"properties": {"a": {"patternProperties": {}}}}"##, d2020), None);
    assert!(read(r##"{"properties": {"a": {"$recursiveRef": "#"}}}"##, d2020).unwrap().contains("$recursiveRef"));
    assert!(read(r##"{"$schema": "http://localhost:1234/my-meta"}"##, d2020).unwrap().contains("meta-schema"));
    assert!(read(r##"{"items": [true]}"##, d2020).is_some());
    assert_eq!(read(r##"{"items": [true]}"##, draft7), None);
    // draft-07: siblings of `$ref` are never compiled, but must still be keywords.
    assert_eq!(read(r##"{"$ref": "#", "definitions": {"x": {"$id": "http://x"}}}"##, draft7), None);
    assert!(read(r##"{"$ref": "#", "unevaluatedProperties": true}"##, draft7).is_some());
    assert!(
        read(r##"{"properties": {"a": {"$schema": "https://json-schema.org/draft/2020-12/schema"}}}"##, d2020)
            .is_some()
    );
}
