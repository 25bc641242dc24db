//! The hourly and the daily job over a store that fails one request in N (errors, bodies cut off,
//! listings broken): each run either commits or fails with nothing committed half-way, and
//! repeating it ends exactly where a run on a healthy store ends.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use chrono::Duration;
use eventlake_contract::{Registry, RegistryOptions};
use eventlake_gold::{DailyConfig, run_day};
use eventlake_lake::Lake;
use eventlake_lake::faults::FaultyStore;
use eventlake_lake::layout::Hour;
use eventlake_silver::{HourlyConfig, run_hour};
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::Value;

fn repo() -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn registry() -> Arc<Registry> {
    Arc::new(Registry::load_dir(&repo().join("tests/fixtures/schemas"), &RegistryOptions::default()).unwrap())
}

/// `tests/fixtures/<fixture>/**` as `bronze/**`, written straight into `store`.
async fn put_bronze(store: &InMemory, fixture: &str) {
    fn walk(dir: &FsPath, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p, out) } else { out.push(p) }
        }
    }
    let root = repo().join("tests/fixtures").join(fixture);
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let key = Path::from_iter(["bronze"].into_iter().chain(rel.split('/')));
        store.put(&key, std::fs::read(&f).unwrap().into()).await.unwrap();
    }
}

/// Every object but leases, manifests without what differs between runs (ids, times, ETags).
async fn state(store: &InMemory) -> BTreeMap<String, String> {
    let metas: Vec<_> = store.list(None).try_collect().await.unwrap();
    let mut out = BTreeMap::new();
    for m in metas {
        let key = m.location.to_string();
        if key.starts_with("_locks/") {
            continue;
        }
        let bytes = store.get(&m.location).await.unwrap().bytes().await.unwrap();
        let text = if key.starts_with("_manifests/") {
            let mut v: Value = serde_json::from_slice(&bytes).unwrap();
            strip(&mut v);
            v.to_string()
        } else {
            format!("{} bytes, sha {:x}", bytes.len(), sha(&bytes))
        };
        out.insert(key, text);
    }
    out
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for k in ["run_id", "timings", "etag", "seconds"] {
                o.remove(k);
            }
            o.values_mut().for_each(strip);
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

fn sha(bytes: &[u8]) -> u64 {
    // FNV-1a: enough to tell two files apart in a test.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

const HOUR: &str = "2026-11-20T05";

fn config() -> HourlyConfig {
    // A short lease: a failed run that could not release its lease holds the hour only briefly.
    HourlyConfig { lock_ttl: Duration::milliseconds(300), workers: 2, ..HourlyConfig::default() }
}

#[tokio::test]
async fn hourly_runs_through_store_faults_end_like_a_clean_run() {
    let hour: Hour = HOUR.parse().unwrap();
    let clean_store = Arc::new(InMemory::new());
    put_bronze(&clean_store, "bronze/sample").await;
    let clean = Lake::from_store(clean_store.clone(), Path::default(), "s3://clean");
    run_hour(&clean, registry(), hour, &config(), "clean").await.unwrap();
    let expected = state(&clean_store).await;

    let mut report = Vec::new();
    for every in ONE_IN {
        for seed in 1..=3u64 {
            let inner = Arc::new(InMemory::new());
            put_bronze(&inner, "bronze/sample").await;
            let faulty = Arc::new(FaultyStore::new(inner.clone(), every, seed));
            let lake = Lake::from_store(faulty.clone(), Path::default(), "s3://faulty");
            let tally = through_faults(&inner, &faulty, async |n| {
                run_hour(&lake, registry(), hour, &config(), &format!("run-{n}")).await.map(|_| ()).map_err(|e| {
                    let held = e.is_lease_held();
                    (e, held)
                })
            })
            .await;
            assert_eq!(state(&inner).await, expected, "1 in {every}, seed {seed}");
            report.push(tally.describe(every, seed, &faulty));
        }
    }
    eprintln!("hourly through store faults: {}", report.join("; "));
}

/// Every manifest lists outputs that exist: no commit points at a file that is not there.
async fn assert_commits_complete(store: &InMemory) {
    let metas: Vec<_> = store.list(None).try_collect().await.unwrap();
    let keys: Vec<String> = metas.iter().map(|m| m.location.to_string()).collect();
    for key in keys.iter().filter(|k| k.starts_with("_manifests/")) {
        let bytes = store.get(&Path::from(key.as_str())).await.unwrap().bytes().await.unwrap();
        let manifest: Value = serde_json::from_slice(&bytes).unwrap();
        for output in manifest["outputs"].as_array().into_iter().flatten() {
            let file = output["key"].as_str().unwrap();
            assert!(keys.iter().any(|k| k == file), "{key} commits {file}, which is missing");
        }
    }
}

/// What the runs through the faults came to.
#[derive(Default)]
struct Tally {
    committed: usize,
    failed: usize,
}

impl Tally {
    fn describe(&self, every: u64, seed: u64, faulty: &FaultyStore) -> String {
        format!(
            "1/{every} seed {seed}: {} committed, {} failed, {} faults",
            self.committed,
            self.failed,
            faulty.injected()
        )
    }
}

/// Runs `attempt` `RUNS_UNDER_FAULTS` times while the store fails (each must commit or fail
/// leaving only complete commits), then ends the outage and reruns until it succeeds (waiting out
/// a lease a failed run could not give up).
async fn through_faults<E: std::fmt::Display>(
    store: &InMemory,
    faulty: &FaultyStore,
    mut attempt: impl AsyncFnMut(usize) -> Result<(), (E, bool)>,
) -> Tally {
    let mut tally = Tally::default();
    for n in 1..=RUNS_UNDER_FAULTS {
        match attempt(n).await {
            Ok(()) => tally.committed += 1,
            Err((e, _)) => {
                tally.failed += 1;
                assert!(!e.to_string().is_empty());
                assert_commits_complete(store).await;
            }
        }
    }
    faulty.set_enabled(false);
    for n in 1..=10 {
        match attempt(RUNS_UNDER_FAULTS + n).await {
            Ok(()) => return tally,
            Err((_, true)) => tokio::time::sleep(std::time::Duration::from_millis(320)).await,
            Err((e, false)) => panic!("a rerun on a healthy store failed: {e}"),
        }
    }
    panic!("a lease a failed run left never expired");
}

/// Runs of one job through the faults, before the outage ends.
const RUNS_UNDER_FAULTS: usize = 4;

/// One request in N fails after the client's own retries.
const ONE_IN: [u64; 3] = [5, 50, 500];

#[tokio::test]
async fn daily_runs_through_store_faults_end_like_a_clean_run() {
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let hours: Vec<Hour> = Hour::range("2026-11-20T00".parse().unwrap(), "2026-11-21T02".parse().unwrap()).collect();
    let daily = DailyConfig { lock_ttl: Duration::milliseconds(300), ..DailyConfig::default() };
    // Silver of the day, on a healthy store (built in each: the daily job checks bronze ETags).
    let with_silver = async || {
        let store = Arc::new(InMemory::new());
        put_bronze(&store, "daily/dedup").await;
        let lake = Lake::from_store(store.clone(), Path::default(), "s3://silver");
        for &h in &hours {
            run_hour(&lake, registry(), h, &config(), "silver").await.unwrap();
        }
        store
    };
    let clean_store = with_silver().await;
    let clean = Lake::from_store(clean_store.clone(), Path::default(), "s3://clean");
    run_day(&clean, registry(), date, &daily, "clean").await.unwrap();
    let expected = state(&clean_store).await;

    let mut report = Vec::new();
    for every in ONE_IN {
        for seed in 1..=3u64 {
            let inner = with_silver().await;
            let faulty = Arc::new(FaultyStore::new(inner.clone(), every, seed));
            let lake = Lake::from_store(faulty.clone(), Path::default(), "s3://faulty");
            let tally = through_faults(&inner, &faulty, async |n| {
                run_day(&lake, registry(), date, &daily, &format!("run-{n}")).await.map(|_| ()).map_err(|e| {
                    let held = e.is_lease_held();
                    (e, held)
                })
            })
            .await;
            assert_eq!(state(&inner).await, expected, "1 in {every}, seed {seed}");
            report.push(tally.describe(every, seed, &faulty));
        }
    }
    eprintln!("daily through store faults: {}", report.join("; "));
}
