//! Hostile input, fuzzed: the record framing, the tape parser, the validator (through the one
//! verdict, `Acceptor::accept`) and the CSV and JSON-array readers get inputs built three ways —
//! random bytes, the sample events mutated byte by byte (flips, inserts of JSON's structural bytes
//! and of invalid UTF-8, deletions, duplications, splices), and generated JSON whose member names
//! come from the schemas — and must never panic, and must agree with themselves:
//!
//! - framing a stream whole and in two pieces (`RecordReader::for_chunk`, as the hourly job's
//!   workers do) yields the same records at the same lines and offsets;
//! - every record's raw bytes lie inside the input, in order;
//! - whatever the tape parser accepts, serde_json accepts too;
//! - a verdict is the same when asked twice, and an accepted record names a known event.
//!
//! `EVENTLAKE_FUZZ_CASES` sets the cases per target (default 20,000 in `tests/run`); the documented
//! campaign is `EVENTLAKE_FUZZ_CASES=1000000 cargo test --release -p eventlake-contract --test fuzz`.
//! `tests/fuzz-corpus/*` (inputs that once broke a target, the bronze fixtures, and the corpus a
//! coverage-guided campaign kept) run through every target on each run; the same checks are the
//! libFuzzer targets in `fuzz/` (`fuzz/run`).

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fuzz_checks;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use fuzz_checks::Checks;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

static CHECKS: LazyLock<Checks> = LazyLock::new(|| Checks::load(&fixtures().join("seeds/babbel/schemas")));

/// The sample events, one per line: what mutations start from.
static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let text = std::fs::read(fixtures().join("seeds/babbel/sample_events.ndjson")).unwrap();
    text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
});

/// Member names the schemas declare, for generated JSON that gets past the first checks.
static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| CHECKS.member_names());

fn cases() -> u32 {
    std::env::var("EVENTLAKE_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(20_000)
}

/// A fixed seed, so that a run in CI is the same run; `PROPTEST_RNG_SEED` explores others.
fn runner() -> TestRunner {
    let seed: u64 = std::env::var("PROPTEST_RNG_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xf022);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// Bytes that steer a JSON or CSV parser into its corners.
const INTERESTING: &[u8] = b"{}[]\",:\\/0123456789eE+-. \n\r\ttfnul\x00\x7f\x80\xbf\xc3\xe2\xed\xf0\xf4\xff;'";

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Splice(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), prop::sample::select(INTERESTING)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, s)| Mutation::Splice(i, s)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Flip(i, b) if !bytes.is_empty() => bytes[i % len] ^= b,
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Delete(i, n) if !bytes.is_empty() => {
                let at = i % len;
                bytes.drain(at..(at + n).min(bytes.len()));
            }
            Mutation::Duplicate(i, n) if !bytes.is_empty() => {
                let at = i % len;
                let piece = bytes[at..(at + n).min(bytes.len())].to_vec();
                bytes.splice(at..at, piece);
            }
            Mutation::Splice(i, s) => {
                let other = &SEEDS[s % SEEDS.len()];
                let cut = i % (other.len() + 1);
                bytes.extend_from_slice(&other[cut..]);
            }
            _ => {}
        }
    }
    bytes
}

/// Several sample events, joined by line ends, commas or nothing, maybe in an array, mutated.
fn mutated_stream() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(0..SEEDS.len(), 1..5),
        prop::sample::select(vec![&b"\n"[..], b"\r\n", b",\n", b" ", b""]),
        any::<bool>(),
        prop::collection::vec(mutation(), 0..6),
    )
        .prop_map(|(picks, sep, array, mutations)| {
            let mut out = Vec::new();
            if array {
                out.push(b'[');
            }
            for (n, p) in picks.iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(sep);
                }
                out.extend_from_slice(&SEEDS[*p]);
            }
            if array {
                out.push(b']');
            }
            apply(out, &mutations)
        })
}

/// JSON text from generated values whose member names are the schemas' (often valid in parts).
fn generated_json() -> impl Strategy<Value = Vec<u8>> {
    let name = prop::sample::select(NAMES.clone());
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)),
        "\\PC{0,12}".prop_map(serde_json::Value::String),
        prop::sample::select(vec!["account:created", "lesson:started", "payment:order:completed", "x:y"])
            .prop_map(|s| serde_json::Value::String(s.into())),
    ];
    let value = leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec((name.clone(), inner), 0..8)
                .prop_map(|members| serde_json::Value::Object(members.into_iter().collect())),
        ]
    });
    prop::collection::vec(value, 1..4).prop_map(|values| {
        let mut out = Vec::new();
        for v in values {
            out.extend_from_slice(&serde_json::to_vec(&v).unwrap());
            out.push(b'\n');
        }
        out
    })
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..256), mutated_stream(), generated_json()]
}

// ---------------------------------------------------------------------------------------------
// Targets

fn fuzz(target: &str, check: fn(&Checks, &[u8]), strategy: impl Strategy<Value = Vec<u8>>) {
    let clock = std::time::Instant::now();
    runner()
        .run(&strategy, |input| {
            check(&CHECKS, &input);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{target}: {e}"));
    eprintln!("fuzz {target}: {} cases in {:.1}s", cases(), clock.elapsed().as_secs_f64());
}

#[test]
fn framing() {
    fuzz("framing", Checks::framing, any_input());
}

#[test]
fn tape() {
    fuzz("tape", Checks::tape, any_input());
}

#[test]
fn validator() {
    fuzz("validator", Checks::verdicts, prop_oneof![mutated_stream(), generated_json()]);
}

#[test]
fn csv_rows() {
    fuzz("csv", Checks::csv, any_input());
}

/// JSON arrays of entities, cut into pieces as the hourly job's workers cut them.
#[test]
fn json_array() {
    let arrays = (mutated_stream(), any::<bool>()).prop_map(|(mut s, open)| {
        if open && s.first() != Some(&b'[') {
            s.insert(0, b'[');
        }
        s
    });
    fuzz("json-array", Checks::framing, arrays);
}

/// Inputs that once broke a target, the bronze fixtures, and what the libFuzzer campaign kept for
/// each target (`fuzz-corpus/<target>/`), through every target.
#[test]
fn corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let files = files_under(&dir);
    assert!(files.len() > 3, "{} holds only {} inputs", dir.display(), files.len());
    for file in files {
        let input = std::fs::read(&file).unwrap();
        let outcome = std::panic::catch_unwind(|| CHECKS.all(&input));
        assert!(outcome.is_ok(), "{} broke a target", file.display());
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}
