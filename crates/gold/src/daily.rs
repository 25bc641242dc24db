//! One daily run: lease → inputs (silver of the date) → completeness → per event type: dedup with
//! DataFusion, stream to gold → aggregates → check → manifest → clean up.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use arrow::row::{OwnedRow, RowConverter, SortField};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use chrono::{Duration, NaiveDate, Utc};
use eventlake_contract::registry::{derived, is_pointer};
use eventlake_contract::types::identifier;
use eventlake_contract::{Reason, Registry};
use eventlake_lake::bronze::BronzeListing;
use eventlake_lake::catalog::{event_counts_table, quality_table};
use eventlake_lake::layout::{self, DailyFile, GoldFile, Hour, LeaseKey, ManifestKey};
use eventlake_lake::manifest::{
    ConflictExample, Counts, DailyCounts, DailyManifest, EventNameCounts, HourlyManifest, InputObject, OutputFile,
    Timings, commit_manifest, read_manifest, read_manifest_for_commit,
};
use eventlake_lake::project::QualityRule;
use eventlake_lake::write::{RollingParquet, WrittenFile, writer_properties};
use eventlake_lake::{Fence, Lake, with_lease};
use eventlake_quality::{DayFacts, load_history, rules};
use futures::StreamExt;
use object_store::path::Path;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::session::{LakeSession, SessionOptions, quote};

/// Settings of the daily job.
#[derive(Debug, Clone)]
pub struct DailyConfig {
    /// Arrival hours after the day that must have run before the day is complete.
    pub lateness: Duration,
    /// Build even when hourly manifests are missing.
    pub allow_incomplete: bool,
    /// Rebuild even when the day's manifest is current.
    pub force: bool,
    pub lock_ttl: Duration,
    /// A gold file rolls over to a new part at this size.
    pub target_file_bytes: u64,
    pub session: SessionOptions,
    /// Conflicting deliveries kept as examples in the manifest.
    pub conflict_examples: usize,
    /// The bronze the hourly job reads: an hour whose listing no longer matches its manifest has
    /// records that are not in silver yet.
    pub bronze: BronzeListing,
    /// The bronze store when it is not the lake itself.
    pub bronze_store: Option<Lake>,
    /// The project's quality rules, evaluated for every day built and recorded in its manifest.
    pub rules: Vec<QualityRule>,
}

impl Default for DailyConfig {
    fn default() -> Self {
        DailyConfig {
            lateness: Duration::hours(2),
            allow_incomplete: false,
            force: false,
            lock_ttl: Duration::hours(2),
            target_file_bytes: 256 << 20,
            session: SessionOptions::default(),
            conflict_examples: 5,
            bronze: BronzeListing::default(),
            bronze_store: None,
            rules: Vec::new(),
        }
    }
}

/// What a daily run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayStatus {
    Committed,
    /// The manifest was current: same silver files, same schemas.
    Skipped,
}

/// The result of one date.
#[derive(Debug, Clone)]
pub struct DailyOutcome {
    pub date: NaiveDate,
    pub status: DayStatus,
    pub manifest: DailyManifest,
    pub removed: Vec<String>,
}

/// Gold drops the lineage columns that only matter for debugging a delivery.
const DROPPED_IN_GOLD: &[&str] = &[derived::SOURCE_KEY, derived::SOURCE_LINE];
/// Columns that say where a delivery came from, not what the event is.
const LINEAGE: &[&str] = &[derived::ARRIVAL_HOUR, derived::SOURCE_KEY, derived::SOURCE_LINE];

/// Every silver file with event date `date`, sorted by key.
pub async fn silver_inputs(lake: &Lake, date: NaiveDate) -> Result<Vec<InputObject>> {
    let mut out = Vec::new();
    for type_dir in lake.list_dirs(&Path::from(layout::SILVER)).await? {
        for meta in lake.list(&layout::date_dir(&type_dir, date)).await? {
            if meta.location.as_ref().ends_with(".parquet") {
                out.push(InputObject { key: meta.location.to_string(), size: meta.size, etag: meta.e_tag.clone() });
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Dates in `[from, to]` whose gold is stale: a daily manifest exists but silver or an hourly run
/// of its completeness window changed since.
pub async fn stale_days(lake: &Lake, from: NaiveDate, to: NaiveDate, lateness: Duration) -> Result<Vec<NaiveDate>> {
    let mut stale = Vec::new();
    for meta in lake.list(&layout::daily_manifests_dir()).await? {
        let Some(date) = meta.location.filename().and_then(layout::daily_manifest_date) else { continue };
        if date < from || date > to {
            continue;
        }
        let manifest: Option<DailyManifest> = read_manifest(lake, &ManifestKey::Daily(date)).await?;
        if let Some(m) = manifest
            && (m.inputs != silver_inputs(lake, date).await?
                || m.hourly_runs != hourly_runs(lake, date, lateness).await?)
        {
            stale.push(date);
        }
    }
    stale.sort();
    Ok(stale)
}

/// The first arrival hour of `date`.
fn day_start(date: NaiveDate) -> Hour {
    Hour::containing(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// Arrival hours `[D 00:00, D+1 00:00 + lateness)` that must have run before `date` is complete.
fn completeness_window(date: NaiveDate, lateness: Duration) -> (Hour, Hour) {
    let start = day_start(date);
    let end_micros = start.start_micros() + 86_400_000_000 + lateness.num_microseconds().unwrap_or(0);
    (start, Hour::of_micros(end_micros - 1).next())
}

/// The hourly manifests of the completeness window of `date`, by arrival hour.
async fn window_manifests(lake: &Lake, date: NaiveDate, lateness: Duration) -> Result<BTreeMap<Hour, HourlyManifest>> {
    let (start, end) = completeness_window(date, lateness);
    let mut found = BTreeMap::new();
    for hour in Hour::range(start, end) {
        if let Some(m) = read_manifest::<HourlyManifest>(lake, &ManifestKey::Hourly(hour)).await? {
            found.insert(hour, m);
        }
    }
    Ok(found)
}

fn runs_of(manifests: &BTreeMap<Hour, HourlyManifest>) -> BTreeMap<String, String> {
    manifests.iter().map(|(h, m)| (h.to_string(), m.run_id.clone())).collect()
}

fn missing_of(manifests: &BTreeMap<Hour, HourlyManifest>, date: NaiveDate, lateness: Duration) -> Vec<Hour> {
    let (start, end) = completeness_window(date, lateness);
    Hour::range(start, end).filter(|h| !manifests.contains_key(h)).collect()
}

/// Committed arrival hours whose bronze listing no longer matches their manifest's inputs.
async fn changed_hours(
    bronze_lake: &Lake,
    manifests: &BTreeMap<Hour, HourlyManifest>,
    bronze: &BronzeListing,
) -> Result<Vec<Hour>> {
    let mut changed = Vec::new();
    for (hour, manifest) in manifests {
        if bronze.list_hour(bronze_lake, *hour).await? != manifest.inputs {
            changed.push(*hour);
        }
    }
    Ok(changed)
}

/// Arrival hours of the completeness window of `date` that have no hourly manifest.
pub async fn missing_hours(lake: &Lake, date: NaiveDate, lateness: Duration) -> Result<Vec<Hour>> {
    Ok(missing_of(&window_manifests(lake, date, lateness).await?, date, lateness))
}

/// Run id of every hourly manifest in the completeness window of `date`.
pub async fn hourly_runs(lake: &Lake, date: NaiveDate, lateness: Duration) -> Result<BTreeMap<String, String>> {
    Ok(runs_of(&window_manifests(lake, date, lateness).await?))
}

/// Builds gold for `date` under its lease.
pub async fn run_day(
    lake: &Lake,
    registry: Arc<Registry>,
    date: NaiveDate,
    cfg: &DailyConfig,
    run_id: &str,
) -> Result<DailyOutcome> {
    with_lease(lake, LeaseKey::Daily(date), run_id, cfg.lock_ttl, |fence| {
        run_locked(lake, registry, date, cfg, run_id, fence)
    })
    .await
}

async fn run_locked(
    lake: &Lake,
    registry: Arc<Registry>,
    date: NaiveDate,
    cfg: &DailyConfig,
    run_id: &str,
    fence: Fence,
) -> Result<DailyOutcome> {
    let started_at = Utc::now();
    let clock = Instant::now();
    let date_text = date.format("%Y-%m-%d").to_string();
    let inputs = silver_inputs(lake, date).await?;
    let manifest_key = ManifestKey::Daily(date);
    let (previous, basis): (Option<DailyManifest>, _) = read_manifest_for_commit(lake, &manifest_key).await?;
    let manifests = window_manifests(lake, date, cfg.lateness).await?;
    let runs = runs_of(&manifests);
    if let Some(prev) = previous.clone()
        && !cfg.force
        && prev.inputs == inputs
        && prev.hourly_runs == runs
        && prev.schema_fingerprint == registry.fingerprint()
    {
        fence.check()?;
        let removed = remove_stale(lake, date, &prev.outputs).await?;
        // The day is current, but the rules may have changed since: record what they say now.
        let mut prev = prev;
        let outcomes = evaluate_rules(lake, date, &manifests, &prev, &cfg.rules).await?;
        if outcomes != prev.rules {
            prev.rules = outcomes;
            commit_manifest(lake, &fence, &manifest_key, &prev, &basis).await?;
        }
        return Ok(DailyOutcome { date, status: DayStatus::Skipped, manifest: prev, removed });
    }
    let missing = missing_of(&manifests, date, cfg.lateness);
    if !missing.is_empty() && !cfg.allow_incomplete {
        return Err(Error::Incomplete { date: date_text, missing: missing.iter().map(ToString::to_string).collect() });
    }
    let changed = changed_hours(cfg.bronze_store.as_ref().unwrap_or(lake), &manifests, &cfg.bronze).await?;
    if !changed.is_empty() && !cfg.allow_incomplete {
        return Err(Error::BronzeChanged {
            date: date_text,
            changed: changed.iter().map(ToString::to_string).collect(),
        });
    }
    let quality = quality_of(&manifests, date);

    let session = Arc::new(LakeSession::new(lake, cfg.session)?);
    let handle = Handle::current();
    let mut counts = DailyCounts::default();
    let mut by_name: BTreeMap<(String, String), NameStats> = BTreeMap::new();
    let mut examples = Vec::new();
    let mut outputs = Vec::new();
    let types: BTreeSet<String> = inputs.iter().filter_map(|i| layout::event_type_of(&i.key)).collect();
    let deduplicated = dedup_types(&session, lake, &registry, types, date, cfg).await?;
    // In type order, whichever finished first: the manifest is the same for every run.
    for (event_type, out) in deduplicated.into_values() {
        counts.silver_rows += out.silver_rows;
        counts.gold_rows += out.gold_rows;
        counts.duplicates += out.duplicates;
        counts.conflicts += out.conflicts;
        counts.by_event_type.insert(event_type.clone(), out.gold_rows);
        for (name, s) in out.by_name {
            by_name.insert((event_type.clone(), name), s);
        }
        examples.extend(out.examples.into_iter().take(cfg.conflict_examples.saturating_sub(examples.len())));
        outputs.extend(out.outputs);
    }
    if counts.silver_rows != counts.gold_rows + counts.duplicates + counts.conflicts {
        return Err(Error::CountMismatch {
            date: date_text,
            silver: counts.silver_rows,
            gold: counts.gold_rows,
            duplicates: counts.duplicates,
            conflicts: counts.conflicts,
        });
    }
    let by_event_name = event_name_counts(&by_name);
    let lake2 = lake.clone();
    let quality2 = quality.clone();
    let aggregates = tokio::task::spawn_blocking(move || write_aggregates(&lake2, date, &by_name, &quality2, &handle))
        .await
        .map_err(|e| Error::Internal(format!("aggregate writer task: {e}")))??;
    outputs.extend(aggregates);

    let mut manifest = DailyManifest {
        run_id: run_id.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        date: date_text,
        schema_fingerprint: registry.fingerprint().into(),
        inputs,
        missing_hours: missing.iter().map(ToString::to_string).collect(),
        changed_hours: changed.iter().map(ToString::to_string).collect(),
        hourly_runs: runs,
        counts,
        conflict_examples: examples,
        quality,
        by_event_name,
        rules: Vec::new(),
        outputs,
        timings: Timings {
            started_at: started_at.to_rfc3339(),
            finished_at: Utc::now().to_rfc3339(),
            seconds: clock.elapsed().as_secs_f64(),
        },
    };
    manifest.rules = evaluate_rules(lake, date, &manifests, &manifest, &cfg.rules).await?;
    commit_manifest(lake, &fence, &manifest_key, &manifest, &basis).await?;
    let removed = remove_stale(lake, date, &manifest.outputs).await?;
    Ok(DailyOutcome { date, status: DayStatus::Committed, manifest, removed })
}

/// The quality rules over the day as `daily` describes it and the week before it.
async fn evaluate_rules(
    lake: &Lake,
    date: NaiveDate,
    hourly: &BTreeMap<Hour, HourlyManifest>,
    daily: &DailyManifest,
    quality_rules: &[QualityRule],
) -> Result<Vec<eventlake_lake::manifest::RuleOutcome>> {
    if quality_rules.is_empty() {
        return Ok(Vec::new());
    }
    let history = load_history(lake, date).await?;
    let facts = DayFacts::from_manifests(date, hourly, Some(daily.clone()), history);
    Ok(rules::evaluate(quality_rules, &facts))
}

/// The per event name aggregates as the manifest lists them.
fn event_name_counts(by_name: &BTreeMap<(String, String), NameStats>) -> Vec<EventNameCounts> {
    let time = |micros: Option<i64>| {
        micros
            .and_then(chrono::DateTime::from_timestamp_micros)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    };
    by_name
        .iter()
        .map(|((event_type, event_name), s)| EventNameCounts {
            event_type: event_type.clone(),
            event_name: event_name.clone(),
            events: s.events.max(0) as u64,
            duplicates: s.duplicates.max(0) as u64,
            conflicts: s.conflicts.max(0) as u64,
            first_event_time: time(s.first),
            last_event_time: time(s.last),
            late: s.late.max(0) as u64,
        })
        .collect()
}

/// Sums the hourly manifests of the date's 24 arrival hours.
fn quality_of(manifests: &BTreeMap<Hour, HourlyManifest>, date: NaiveDate) -> Counts {
    let start = day_start(date);
    let mut total = Counts::default();
    for m in Hour::range(start, Hour::from_index(start.index() + 24)).filter_map(|h| manifests.get(&h)) {
        total.add(&m.counts);
    }
    total
}

/// Per event name aggregates of one day.
#[derive(Debug, Default, Clone)]
struct NameStats {
    events: i64,
    duplicates: i64,
    conflicts: i64,
    first: Option<i64>,
    last: Option<i64>,
    late: i64,
}

struct TypeOutput {
    silver_rows: u64,
    gold_rows: u64,
    duplicates: u64,
    conflicts: u64,
    by_name: BTreeMap<String, NameStats>,
    examples: Vec<ConflictExample>,
    outputs: Vec<OutputFile>,
}

/// Event types deduplicated at once: one type's sort overlaps another's dedup and encoding.
/// Under a memory limit one at a time: the engine's final merges cannot spill, and a second
/// type's sorts would take the memory they need.
const TYPES_IN_FLIGHT: usize = 2;

/// Deduplicates every event type of the day, [`TYPES_IN_FLIGHT`] at a time; the outputs by type
/// order. The first failure stops the run (dropping the set aborts the types still running).
async fn dedup_types(
    session: &Arc<LakeSession>,
    lake: &Lake,
    registry: &Arc<Registry>,
    types: BTreeSet<String>,
    date: NaiveDate,
    cfg: &DailyConfig,
) -> Result<BTreeMap<usize, (String, TypeOutput)>> {
    let in_flight = if cfg.session.memory_limit.is_some() { 1 } else { TYPES_IN_FLIGHT };
    let cfg = Arc::new(cfg.clone());
    let mut waiting = types.into_iter().enumerate();
    let mut running = JoinSet::new();
    let mut done = BTreeMap::new();
    loop {
        while running.len() < in_flight
            && let Some((n, event_type)) = waiting.next()
        {
            let (session, lake, registry, cfg) = (session.clone(), lake.clone(), registry.clone(), cfg.clone());
            running.spawn(async move {
                let out = dedup_type(&session, &lake, &registry, &event_type, n, date, &cfg).await;
                (n, event_type, out)
            });
        }
        let Some(joined) = running.join_next().await else {
            return Ok(done);
        };
        let (n, event_type, out) = joined.map_err(|e| Error::Internal(format!("dedup task: {e}")))?;
        done.insert(n, (event_type, out?));
    }
}

/// Deduplicates one event type's silver for `date` and streams the kept rows into gold.
async fn dedup_type(
    session: &LakeSession,
    lake: &Lake,
    registry: &Registry,
    event_type: &str,
    n: usize,
    date: NaiveDate,
    cfg: &DailyConfig,
) -> Result<TypeOutput> {
    let dir = layout::SilverPartition::date_path(event_type, date);
    let schema = registry.table(event_type).map(|t| t.silver_arrow_schema());
    // A table per type, as types run side by side.
    let table = format!("silver_{n}");
    session.register_parquet(&table, &dir, schema, &["hour"]).await?;
    let out = dedup_table(session, lake, registry, event_type, &table, date, cfg).await;
    session.ctx.deregister_table(&table)?;
    out
}

async fn dedup_table(
    session: &LakeSession,
    lake: &Lake,
    registry: &Registry,
    event_type: &str,
    table: &str,
    date: NaiveDate,
    cfg: &DailyConfig,
) -> Result<TypeOutput> {
    let handle = Handle::current();
    let table_schema = session.ctx.table(table).await?.schema().as_arrow().clone();
    let columns: Vec<String> = table_schema.fields().iter().map(|f| f.name().clone()).filter(|n| n != "hour").collect();
    let env = &registry.options().envelope;
    let id = env.id_column();
    // Events keep their first delivery; an entity table is a series of snapshots, so its latest
    // arrival wins.
    let direction = if registry.options().entity.is_some() { "DESC" } else { "ASC" };
    // Rows that take their arrival hour as their time differ in it only by when they arrived.
    let arrival_time = env.created_at.is_none().then_some(derived::CREATED_DATETIME);
    let content: Vec<usize> = (0..columns.len())
        .filter(|i| !LINEAGE.contains(&columns[*i].as_str()) && Some(columns[*i].as_str()) != arrival_time)
        .collect();
    let gold_cols: Vec<String> = columns.iter().filter(|c| !DROPPED_IN_GOLD.contains(&c.as_str())).cloned().collect();
    let order = format!(
        "{} {direction}, {} {direction}, {} {direction}",
        quote(derived::ARRIVAL_HOUR),
        quote(derived::SOURCE_KEY),
        quote(derived::SOURCE_LINE)
    );
    // Sorted by id, then delivery: the first row of each id is the delivery kept. The sort spills
    // under the memory limit, and gold comes out ordered by id.
    let sql = format!(
        "SELECT {cols} FROM {table} ORDER BY {id}, {order}",
        cols = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
        id = quote(&id),
    );
    let df = session.ctx.sql(&sql).await?;
    let mut stream = df.execute_stream().await?;

    let day_end = day_start(date).start_micros() + 86_400_000_000;
    let gold_schema = Arc::new(Schema::new(
        gold_cols.iter().filter_map(|c| table_schema.field_with_name(c).ok().cloned()).collect::<Vec<Field>>(),
    ));
    let (tx, rx) = mpsc::channel::<RecordBatch>(4);
    let writer = {
        let (lake, handle, schema, et) = (lake.clone(), handle.clone(), gold_schema.clone(), event_type.to_owned());
        let target = cfg.target_file_bytes;
        let unique = vec![id.clone(), derived::CREATED_DATETIME.to_owned()];
        tokio::task::spawn_blocking(move || write_gold(&lake, &handle, rx, &et, date, schema, unique, target))
    };

    let idx = |name: &str| columns.iter().position(|c| c == name);
    // Records that carry their name at the root have it as a column; otherwise the type names them.
    let name_column = if registry.options().entity.is_some() || is_pointer(&env.name) {
        derived::EVENT_TYPE.to_owned()
    } else {
        identifier(&env.name)
    };
    let (Some(i_id), Some(i_name), Some(i_created), Some(i_arrival), Some(i_key), Some(i_line)) = (
        idx(&id),
        idx(&name_column),
        idx(derived::CREATED_DATETIME),
        idx(derived::ARRIVAL_HOUR),
        idx(derived::SOURCE_KEY),
        idx(derived::SOURCE_LINE),
    ) else {
        return Err(Error::UnexpectedSilver {
            event_type: event_type.into(),
            what: "envelope or lineage columns missing".into(),
        });
    };
    let gold_idx: Vec<usize> = gold_cols.iter().filter_map(|c| idx(c)).collect();
    let lineage = Lineage { arrival: i_arrival, key: i_key, line: i_line };
    let content = Content::new(&table_schema, content, event_type)?;
    let mut first: Option<FirstDelivery> = None;

    let mut out = TypeOutput {
        silver_rows: 0,
        gold_rows: 0,
        duplicates: 0,
        conflicts: 0,
        by_name: BTreeMap::new(),
        examples: Vec::new(),
        outputs: Vec::new(),
    };
    let mut failure = None;
    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                failure = Some(Error::Engine(e));
                break;
            }
        };
        let n = batch.num_rows();
        out.silver_rows += n as u64;
        let unexpected = |what: &str| Error::UnexpectedSilver {
            event_type: event_type.into(),
            what: format!("{what} has an unexpected type"),
        };
        let names = batch.column(i_name).as_string_opt::<i32>().ok_or_else(|| unexpected("event name"))?;
        // Entity ids may be integers; examples show them as text.
        let ids = cast(batch.column(i_id), &DataType::Utf8).map_err(|_| unexpected("event id"))?;
        let ids = ids.as_string_opt::<i32>().ok_or_else(|| unexpected("event id"))?;
        let created = batch
            .column(i_created)
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| unexpected("created_datetime"))?;
        let arrival = batch
            .column(i_arrival)
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| unexpected("arrival_hour"))?;
        let mut keep = Vec::with_capacity(n);
        for r in 0..n {
            let name = names.value(r);
            let stats = match out.by_name.get_mut(name) {
                Some(s) => s,
                None => out.by_name.entry(name.to_owned()).or_default(),
            };
            let id = ids.value(r);
            let kept = match first.as_mut() {
                Some(f) if f.id == id => f,
                _ => {
                    keep.push(true);
                    out.gold_rows += 1;
                    stats.events += 1;
                    let t = created.value(r);
                    stats.first = Some(stats.first.map_or(t, |f| f.min(t)));
                    stats.last = Some(stats.last.map_or(t, |l| l.max(t)));
                    if arrival.value(r) >= day_end {
                        stats.late += 1;
                    }
                    match first.as_mut() {
                        Some(f) => f.start(id, r),
                        None => first = Some(FirstDelivery::new(id, r)),
                    }
                    continue;
                }
            };
            keep.push(false);
            if content.same(kept, &batch, r)? {
                out.duplicates += 1;
                stats.duplicates += 1;
            } else {
                out.conflicts += 1;
                stats.conflicts += 1;
                if out.examples.len() < cfg.conflict_examples {
                    out.examples.push(ConflictExample {
                        event_type: event_type.to_owned(),
                        event_id: id.to_owned(),
                        event_name: name.to_owned(),
                        kept: lineage.at(kept.batch(&batch), kept.row),
                        dropped: lineage.at(&batch, r),
                    });
                }
            }
        }
        // The kept delivery may be compared with rows of the next batches.
        if let Some(f) = first.as_mut() {
            f.batch.get_or_insert_with(|| batch.clone());
        }
        let arrow = |source| Error::Arrow { context: format!("gold rows of {event_type}"), source };
        let kept = filter_record_batch(&batch, &BooleanArray::from(keep)).map_err(arrow)?;
        let projected = kept.project(&gold_idx).map_err(arrow)?;
        let gold = RecordBatch::try_new(gold_schema.clone(), projected.columns().to_vec()).map_err(arrow)?;
        if gold.num_rows() > 0 && tx.send(gold).await.is_err() {
            break;
        }
    }
    drop(tx);
    let written = writer.await.map_err(|e| Error::Internal(format!("gold writer task: {e}")))?;
    if let Some(e) = failure {
        return Err(e);
    }
    out.outputs = written?;
    Ok(out)
}

/// The delivery kept for the id being read, which its later deliveries are compared with.
struct FirstDelivery {
    id: String,
    /// `None` while it is in the batch being read.
    batch: Option<RecordBatch>,
    row: usize,
    /// Its content in Arrow's row format, once a second delivery asks for it.
    content: Option<OwnedRow>,
}

impl FirstDelivery {
    fn new(id: &str, row: usize) -> FirstDelivery {
        FirstDelivery { id: id.to_owned(), batch: None, row, content: None }
    }

    /// Takes the next id's first delivery, in the batch being read, reusing the id's buffer.
    fn start(&mut self, id: &str, row: usize) {
        self.id.clear();
        self.id.push_str(id);
        self.batch = None;
        self.row = row;
        self.content = None;
    }

    fn batch<'a>(&'a self, current: &'a RecordBatch) -> &'a RecordBatch {
        self.batch.as_ref().unwrap_or(current)
    }
}

/// The columns that make a delivery's content, compared byte for byte in Arrow's row format (only
/// for ids delivered more than once).
struct Content {
    columns: Vec<usize>,
    converter: RowConverter,
    event_type: String,
}

impl Content {
    fn new(schema: &Schema, columns: Vec<usize>, event_type: &str) -> Result<Content> {
        let fields = columns.iter().map(|i| SortField::new(schema.field(*i).data_type().clone())).collect();
        let converter = RowConverter::new(fields)
            .map_err(|source| Error::Arrow { context: format!("comparing deliveries of {event_type}"), source })?;
        Ok(Content { columns, converter, event_type: event_type.to_owned() })
    }

    fn row(&self, batch: &RecordBatch, row: usize) -> Result<OwnedRow> {
        let arrays: Vec<ArrayRef> = self.columns.iter().map(|i| batch.column(*i).slice(row, 1)).collect();
        let rows = self.converter.convert_columns(&arrays).map_err(|source| Error::Arrow {
            context: format!("comparing deliveries of {}", self.event_type),
            source,
        })?;
        Ok(rows.row(0).owned())
    }

    /// Whether row `row` of `batch` has the content of the kept delivery.
    fn same(&self, kept: &mut FirstDelivery, batch: &RecordBatch, row: usize) -> Result<bool> {
        let theirs = self.row(batch, row)?;
        let ours = match kept.content.take() {
            Some(c) => c,
            None => self.row(kept.batch(batch), kept.row)?,
        };
        let same = ours.row() == theirs.row();
        kept.content = Some(ours);
        Ok(same)
    }
}

/// Where a delivery came from: arrival hour, bronze key and line.
struct Lineage {
    arrival: usize,
    key: usize,
    line: usize,
}

impl Lineage {
    fn at(&self, batch: &RecordBatch, row: usize) -> String {
        let arrival = batch.column(self.arrival).as_primitive_opt::<TimestampMicrosecondType>();
        let key = batch.column(self.key).as_string_opt::<i32>();
        let line = batch.column(self.line).as_primitive_opt::<Int64Type>();
        match (arrival, key, line) {
            (Some(a), Some(k), Some(l)) => {
                let t = chrono::DateTime::from_timestamp_micros(a.value(row)).unwrap_or_default();
                format!("{} {}:{}", t.format("%Y-%m-%dT%H"), k.value(row), l.value(row))
            }
            _ => String::new(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_gold(
    lake: &Lake,
    handle: &Handle,
    mut rx: mpsc::Receiver<RecordBatch>,
    event_type: &str,
    date: NaiveDate,
    schema: SchemaRef,
    unique: Vec<String>,
    target: u64,
) -> Result<Vec<OutputFile>> {
    let et = event_type.to_owned();
    let name = Box::new(move |part| GoldFile { event_type: et.clone(), date, part }.path());
    let mut writer =
        RollingParquet::new(lake.clone(), handle.clone(), schema, writer_properties(&unique), target, name);
    while let Some(batch) = rx.blocking_recv() {
        if let Err(e) = writer.write(&batch) {
            writer.abort();
            return Err(e.into());
        }
    }
    let files = writer.finish()?;
    Ok(files.into_iter().map(|f| output(f, "gold", Some(event_type.to_owned()), date)).collect())
}

/// The manifest entry of a written file.
fn output(file: WrittenFile, kind: &str, event_type: Option<String>, date: NaiveDate) -> OutputFile {
    OutputFile {
        key: file.key.to_string(),
        kind: kind.into(),
        event_type,
        dt: date.format("%Y-%m-%d").to_string(),
        hour: String::new(),
        rows: file.rows,
        bytes: file.bytes,
    }
}

fn write_aggregates(
    lake: &Lake,
    date: NaiveDate,
    by_name: &BTreeMap<(String, String), NameStats>,
    quality: &Counts,
    handle: &Handle,
) -> Result<Vec<OutputFile>> {
    let arrow = |table: String| move |source| Error::Arrow { context: format!("{table} of {date}"), source };
    let counts_table = event_counts_table();
    let counts = RecordBatch::try_new(
        counts_table.arrow_schema(),
        vec![
            Arc::new(StringArray::from_iter_values(by_name.keys().map(|k| k.0.as_str()))),
            Arc::new(StringArray::from_iter_values(by_name.keys().map(|k| k.1.as_str()))),
            Arc::new(Int64Array::from_iter_values(by_name.values().map(|s| s.events))),
            Arc::new(Int64Array::from_iter_values(by_name.values().map(|s| s.duplicates))),
            Arc::new(Int64Array::from_iter_values(by_name.values().map(|s| s.conflicts))),
            Arc::new(
                TimestampMicrosecondArray::from(by_name.values().map(|s| s.first).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
            Arc::new(
                TimestampMicrosecondArray::from(by_name.values().map(|s| s.last).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
            Arc::new(Int64Array::from_iter_values(by_name.values().map(|s| s.late))),
        ],
    )
    .map_err(arrow(counts_table.name.clone()))?;
    let quality_table = quality_table();
    let mut q: Vec<Arc<dyn Array>> = vec![
        Arc::new(Int64Array::from(vec![quality.records as i64])),
        Arc::new(Int64Array::from(vec![quality.valid as i64])),
        Arc::new(Int64Array::from(vec![quality.quarantined as i64])),
    ];
    for r in Reason::ALL {
        q.push(Arc::new(Int64Array::from(vec![quality.by_reason.get(r.code()).copied().unwrap_or(0) as i64])));
    }
    let quality_batch =
        RecordBatch::try_new(quality_table.arrow_schema(), q).map_err(arrow(quality_table.name.clone()))?;
    let mut outputs = Vec::new();
    for (file, batch, kind) in [
        (DailyFile::EventCounts(date), counts, counts_table.name.as_str()),
        (DailyFile::Quality(date), quality_batch, quality_table.name.as_str()),
    ] {
        let key = file.path();
        let name = Box::new(move |_| key.clone());
        let mut writer =
            RollingParquet::new(lake.clone(), handle.clone(), batch.schema(), writer_properties(&[]), u64::MAX, name);
        writer.write(&batch)?;
        outputs.extend(writer.finish()?.into_iter().map(|f| output(f, kind, None, date)));
    }
    Ok(outputs)
}

/// Deletes gold files of `date` that the committed outputs do not list.
async fn remove_stale(lake: &Lake, date: NaiveDate, outputs: &[OutputFile]) -> Result<Vec<String>> {
    let keep: BTreeSet<&str> = outputs.iter().map(|o| o.key.as_str()).collect();
    let mut dirs = Vec::new();
    for type_dir in lake.list_dirs(&Path::from_iter([layout::GOLD, layout::GOLD_EVENTS])).await? {
        dirs.push(layout::date_dir(&type_dir, date));
    }
    dirs.extend([DailyFile::EventCounts(date).dir(), DailyFile::Quality(date).dir()]);
    let mut candidates = Vec::new();
    let mut removed = Vec::new();
    for dir in &dirs {
        candidates.extend(lake.list(dir).await?.into_iter().map(|m| m.location));
        removed.extend(lake.remove_unfinished(dir, |_| true).await?);
    }
    for location in candidates {
        let key = location.to_string();
        if !keep.contains(key.as_str()) {
            lake.delete(&location).await?;
            tracing::info!(key = %key, "removed a gold file of an earlier build");
            removed.push(key);
        }
    }
    Ok(removed)
}
