//! Run manifests: written last, they are a run's commit point and its proof that
//! `records = silver rows + quarantined`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use object_store::path::Path;

use crate::conditional::Observed;
use crate::error::{Error, Result};
use crate::layout::ManifestKey;
use crate::lease::Fence;
use crate::store::Lake;

/// An input object as the run saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputObject {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
}

/// A file the run wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    pub key: String,
    /// `silver` or `quarantine`.
    pub kind: String,
    /// Silver only: the partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Event date (silver) or arrival date (quarantine), `YYYY-MM-DD`.
    pub dt: String,
    /// Two-digit hour of the partition.
    pub hour: String,
    pub rows: u64,
    pub bytes: u64,
}

/// Record counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Records read (every framed record, valid or not).
    pub records: u64,
    /// Rows written to silver.
    pub valid: u64,
    /// Records written to quarantine.
    pub quarantined: u64,
    /// Decompressed input bytes.
    pub bytes: u64,
    /// Valid records per event name.
    pub by_event_name: BTreeMap<String, u64>,
    /// Quarantined records per reason.
    pub by_reason: BTreeMap<String, u64>,
    /// Quarantined records per event name (`""` where none could be read).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quarantined_by_event_name: BTreeMap<String, u64>,
    /// Quarantined records by kind, most frequent first, at most [`QUARANTINE_GROUPS`] of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarantine_groups: Vec<QuarantineGroup>,
}

/// How many kinds of quarantined records a manifest lists.
pub const QUARANTINE_GROUPS: usize = 50;

/// Quarantined records of one kind: reason, event name, where in the record (array indices as
/// `*`) and the failing schema keyword; with one explanation whose values are masked, so that a
/// report can show it without showing the records' contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineGroup {
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub event_name: String,
    pub pointer: String,
    pub keyword: String,
    pub records: u64,
    pub example: String,
}

impl Counts {
    /// Adds another run's counts (the day's 24 hours, a range's days).
    pub fn add(&mut self, other: &Counts) {
        self.records += other.records;
        self.valid += other.valid;
        self.quarantined += other.quarantined;
        self.bytes += other.bytes;
        for (k, v) in &other.by_event_name {
            *self.by_event_name.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.by_reason {
            *self.by_reason.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.quarantined_by_event_name {
            *self.quarantined_by_event_name.entry(k.clone()).or_default() += v;
        }
        self.quarantine_groups = merge_groups(self.quarantine_groups.iter().chain(&other.quarantine_groups).cloned());
    }
}

/// Sums groups of the same kind (the first example stays), most frequent first, then by kind;
/// keeps at most [`QUARANTINE_GROUPS`].
pub fn merge_groups(groups: impl IntoIterator<Item = QuarantineGroup>) -> Vec<QuarantineGroup> {
    let mut by_kind: BTreeMap<(String, String, String, String), QuarantineGroup> = BTreeMap::new();
    for g in groups {
        let key = (g.reason.clone(), g.event_name.clone(), g.pointer.clone(), g.keyword.clone());
        match by_kind.get_mut(&key) {
            Some(have) => have.records += g.records,
            None => {
                by_kind.insert(key, g);
            }
        }
    }
    let mut out: Vec<QuarantineGroup> = by_kind.into_values().collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.records));
    out.truncate(QUARANTINE_GROUPS);
    out
}

/// Wall-clock timings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub started_at: String,
    pub finished_at: String,
    pub seconds: f64,
}

/// The manifest of one hourly run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourlyManifest {
    pub run_id: String,
    /// eventlake version that wrote it.
    pub version: String,
    /// `YYYY-MM-DDTHH`.
    pub arrival_hour: String,
    /// Registry fingerprint: equal fingerprints validate identically.
    pub schema_fingerprint: String,
    /// Fingerprint of the settings that change the output (windows, prefixes, sizes).
    pub settings_fingerprint: String,
    pub inputs: Vec<InputObject>,
    pub counts: Counts,
    pub outputs: Vec<OutputFile>,
    pub timings: Timings,
    /// Tables whose names differ from what the records spell: by table, the original names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, OriginalNames>,
}

/// How the records spell a table's event type and columns, where it is not the identifier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginalNames {
    /// The event type as the event names spell it (`Signup Started` for `signup_started`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Column → the member name it comes from (`page_name` → `Page Name`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
}

impl OriginalNames {
    /// Every table of `registry` whose type or columns are spelled otherwise in the records.
    pub fn of(registry: &eventlake_contract::Registry) -> BTreeMap<String, OriginalNames> {
        let mut out = BTreeMap::new();
        for table in registry.tables() {
            let event_type = table
                .event_names
                .iter()
                .map(|n| eventlake_contract::registry::split_event_name(n).0)
                .find(|raw| *raw != table.event_type)
                .filter(|_| registry.options().entity.is_none())
                .map(str::to_owned);
            let columns: BTreeMap<String, String> = table
                .columns
                .iter()
                .filter(|c| c.name != c.source_name)
                .map(|c| (c.name.clone(), c.source_name.clone()))
                .collect();
            if event_type.is_some() || !columns.is_empty() {
                out.insert(table.event_type.clone(), OriginalNames { event_type, columns });
            }
        }
        out
    }
}

impl HourlyManifest {
    /// Whether this manifest already covers exactly these inputs with these schemas and settings.
    pub fn is_current(&self, inputs: &[InputObject], schema_fingerprint: &str, settings_fingerprint: &str) -> bool {
        self.inputs == inputs
            && self.schema_fingerprint == schema_fingerprint
            && self.settings_fingerprint == settings_fingerprint
    }
}

/// What an hourly attempt may write, recorded before it writes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Event-time window `[start, end)` in microseconds: silver partitions it can touch.
    pub window_start: i64,
    pub window_end: i64,
}

/// A silver row the daily job dropped because another delivery of its id had other content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictExample {
    pub event_type: String,
    pub event_id: String,
    pub event_name: String,
    pub kept: String,
    pub dropped: String,
}

/// One event name's day in gold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventNameCounts {
    pub event_type: String,
    pub event_name: String,
    /// Events in gold (distinct ids).
    pub events: u64,
    /// Identical re-deliveries removed.
    pub duplicates: u64,
    /// Deliveries of a known id with other content, removed.
    pub conflicts: u64,
    /// Earliest and latest event time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_time: Option<String>,
    /// Events that arrived after their day ended.
    pub late: u64,
}

/// What one quality rule found for one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub rule: String,
    pub kind: String,
    pub passed: bool,
    /// The worst observation against the limit, e.g. `4.1% for order:placed (max 2.0%)`.
    pub summary: String,
    /// Every subject that broke the rule (event names, types, hours).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

/// Counts of one daily run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCounts {
    /// Silver rows read.
    pub silver_rows: u64,
    /// Gold rows written (one per event id and event type).
    pub gold_rows: u64,
    /// Identical re-deliveries removed.
    pub duplicates: u64,
    /// Deliveries of a known id with other content, removed.
    pub conflicts: u64,
    /// Gold rows per event type.
    pub by_event_type: BTreeMap<String, u64>,
}

/// The manifest of one daily run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyManifest {
    pub run_id: String,
    pub version: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub schema_fingerprint: String,
    /// Silver files read; a different listing later means gold is stale (late data).
    pub inputs: Vec<InputObject>,
    /// Arrival hours of the completeness window without an hourly manifest.
    pub missing_hours: Vec<String>,
    /// Committed arrival hours whose bronze changed after their run (built anyway with
    /// `--allow-incomplete`): their late records are not in this gold yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_hours: Vec<String>,
    /// Run id of each hourly manifest of the completeness window: a rerun hour makes the day stale.
    #[serde(default)]
    pub hourly_runs: BTreeMap<String, String>,
    pub counts: DailyCounts,
    /// A few conflicting deliveries, to start an investigation from.
    pub conflict_examples: Vec<ConflictExample>,
    /// Records and quarantined by reason over the day's 24 arrival hours.
    pub quality: Counts,
    /// Per event name: events, re-deliveries and conflicts removed, event times, lateness.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_event_name: Vec<EventNameCounts>,
    /// The project's quality rules for this day, as the daily job found them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleOutcome>,
    pub outputs: Vec<OutputFile>,
    pub timings: Timings,
}

/// Reads a manifest; `None` when the run never committed.
pub async fn read_manifest<T: for<'de> Deserialize<'de>>(lake: &Lake, key: &ManifestKey) -> Result<Option<T>> {
    let path = key.path();
    match lake.get_opt(&path).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Corrupt { key: path.to_string(), reason: e.to_string() }),
    }
}

/// A manifest as a run found it when it started: what its commit may replace.
#[derive(Debug, Clone)]
pub struct Basis(Option<Observed>);

/// Reads a manifest and the [`Basis`] a later [`commit_manifest`] of the same key needs.
pub async fn read_manifest_for_commit<T: for<'de> Deserialize<'de>>(
    lake: &Lake,
    key: &ManifestKey,
) -> Result<(Option<T>, Basis)> {
    let path = key.path();
    // The caller holds the unit's lease: a half-written replacement of this manifest is a dead
    // writer's (a local lake stages it as `<name>#<digits>`).
    if let Some(name) = path.filename() {
        let name = name.to_owned();
        lake.remove_unfinished(&parent(&path), move |n| n == name).await?;
    }
    let Some(observed) = lake.observe(&path).await? else { return Ok((None, Basis(None))) };
    let manifest = serde_json::from_slice(&observed.bytes)
        .map_err(|e| Error::Corrupt { key: path.to_string(), reason: e.to_string() })?;
    Ok((Some(manifest), Basis(Some(observed))))
}

fn parent(path: &Path) -> Path {
    let parts: Vec<_> = path.parts().collect();
    Path::from_iter(parts[..parts.len().saturating_sub(1)].iter().cloned())
}

/// Commits a run: renews its lease (failing with [`Error::LeaseLost`] if another run took it),
/// then writes the manifest only over the one the run started from (failing with
/// [`Error::CommitConflict`] if another run committed in between, however long this one paused).
/// Returns the basis of a further commit of the same key by the same run.
pub async fn commit_manifest<T: Serialize>(
    lake: &Lake,
    fence: &Fence,
    key: &ManifestKey,
    manifest: &T,
    basis: &Basis,
) -> Result<Basis> {
    let path = key.path();
    let bytes = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Corrupt { key: path.to_string(), reason: e.to_string() })?;
    fence.renew().await?;
    match lake.put_if(&path, bytes.into(), basis.0.as_ref()).await? {
        Some(written) => Ok(Basis(Some(written))),
        None => Err(Error::CommitConflict { key: path.to_string() }),
    }
}

/// Writes a manifest unconditionally (records of an attempt, exports committed by their database).
pub async fn write_manifest<T: Serialize>(lake: &Lake, key: &ManifestKey, manifest: &T) -> Result<()> {
    let path = key.path();
    let bytes = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Corrupt { key: path.to_string(), reason: e.to_string() })?;
    lake.put(&path, bytes).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::NaiveDate;
    use object_store::memory::InMemory;
    use object_store::path::Path;

    use super::*;

    #[tokio::test]
    async fn manifests_round_trip_and_refuse_what_eventlake_did_not_write() {
        let lake = Lake::from_store(Arc::new(InMemory::new()), Path::default(), "memory:///");
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let key = ManifestKey::Daily(date);
        assert_eq!(read_manifest::<Attempt>(&lake, &key).await.unwrap(), None, "never committed");

        let attempt = Attempt { window_start: -5, window_end: 9 };
        write_manifest(&lake, &key, &attempt).await.unwrap();
        assert_eq!(read_manifest::<Attempt>(&lake, &key).await.unwrap(), Some(attempt));
        let text = lake.get_opt(&key.path()).await.unwrap().unwrap();
        assert!(text.starts_with(b"{\n"), "pretty JSON, readable with cat");

        lake.put(&key.path(), bytes::Bytes::from_static(b"{\"window_start\": 1")).await.unwrap();
        let err = read_manifest::<Attempt>(&lake, &key).await.unwrap_err();
        assert!(matches!(&err, Error::Corrupt { key, .. } if key == "_manifests/daily/dt=2026-11-20.json"), "{err}");
    }
}
