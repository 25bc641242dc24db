//! One hourly run: lease → list → (skip if current) → pipeline → check → manifest → clean up.

use std::collections::{BTreeSet, HashMap};
use std::io::BufReader;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use chrono::{Duration, Utc};
use eventlake_contract::Registry;
use eventlake_contract::chunks::{Chunker, CsvCut};
use eventlake_contract::delimited::CsvRows;
use eventlake_contract::records::{DEFAULT_MAX_RECORD_BYTES, RecordFormat, decompressed};
use eventlake_lake::bronze::{ArrivalLayout, BronzeListing};
use eventlake_lake::layout::{self, Hour, LeaseKey, ManifestKey, QuarantineFile, SilverFile, event_window};
use eventlake_lake::manifest::{
    Attempt, Counts, HourlyManifest, InputObject, OriginalNames, OutputFile, Timings, commit_manifest, read_manifest,
    read_manifest_for_commit, write_manifest,
};
use eventlake_lake::write::{RollingLines, WrittenFile};
use eventlake_lake::{Fence, Lake, with_lease};
use object_store::path::Path;
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;

use crate::bronze::BronzeObjects;
use crate::encoders::{EncoderSetup, SilverEncoders};
use crate::error::{Error, Result};
use crate::transform::{Chunk, ChunkOutput, HourContext, Tally, Worker};

/// Settings of the hourly job.
#[derive(Debug, Clone)]
pub struct HourlyConfig {
    /// Where bronze is and which of its objects are events.
    pub bronze: BronzeListing,
    /// The bronze store when it is not the lake itself (a landing bucket).
    pub bronze_store: Option<Lake>,
    /// How bronze objects hold records.
    pub format: RecordFormat,
    /// Events created longer than this before their arrival hour are quarantined `out_of_window`.
    pub max_lateness: Duration,
    /// Events created longer than this after their arrival hour ends are quarantined too.
    pub max_early: Duration,
    /// A silver or quarantine file rolls over to a new part at this size.
    pub target_file_bytes: u64,
    /// How long a lease holds before another run may take it over.
    pub lock_ttl: Duration,
    /// Rerun even when the manifest is current.
    pub force: bool,
    /// Parse/validate threads.
    pub workers: usize,
    /// Bytes per work unit.
    pub chunk_bytes: usize,
    /// Largest record accepted.
    pub max_record_bytes: usize,
    /// Arrow bytes of silver rows waiting to be encoded; a row group holds at most a quarter.
    pub buffer_budget_bytes: usize,
    /// Crash the process at this point (crash-recovery tests).
    pub crash_at: Option<CrashPoint>,
}

/// Where a run can be made to crash, to prove that a rerun recovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// After the data files are written, before the manifest.
    BeforeManifest,
    /// After the manifest, before stale files are removed.
    AfterManifest,
}

fn maybe_crash(cfg: &HourlyConfig, point: CrashPoint) {
    if cfg.crash_at == Some(point) {
        tracing::error!(?point, "crashing on purpose (--crash-at)");
        std::process::abort();
    }
}

impl Default for HourlyConfig {
    fn default() -> Self {
        HourlyConfig {
            bronze: BronzeListing::default(),
            bronze_store: None,
            format: RecordFormat::Json,
            max_lateness: Duration::days(7),
            max_early: Duration::hours(1),
            target_file_bytes: 256 << 20,
            lock_ttl: Duration::hours(1),
            force: false,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            chunk_bytes: 4 << 20,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            buffer_budget_bytes: 96 << 20,
            crash_at: None,
        }
    }
}

impl HourlyConfig {
    /// Where bronze objects are read from.
    pub fn bronze_lake<'a>(&'a self, lake: &'a Lake) -> &'a Lake {
        self.bronze_store.as_ref().unwrap_or(lake)
    }

    /// Hash of the settings that change what a run writes.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!(
            "hourly-settings-v1\0{}\0{:?}\0{}\0{}\0{}",
            self.bronze.prefix,
            self.bronze.error_prefixes,
            self.max_lateness.num_seconds(),
            self.max_early.num_seconds(),
            self.target_file_bytes
        ));
        // Hashed only when not Firehose's, so the lakes that predate layouts keep their fingerprints.
        if self.bronze.layout != ArrivalLayout::default() {
            h.update(format!("\0layout={}", self.bronze.layout.template()));
        }
        if let RecordFormat::Csv(dialect) = &self.format {
            h.update(format!("\0{}", dialect.describe()));
        }

        format!("sha256:{:x}", h.finalize())
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HourStatus {
    /// Processed and committed.
    Committed,
    /// The manifest was already current; nothing was rewritten.
    Skipped,
}

/// The result of one hour.
#[derive(Debug, Clone)]
pub struct HourlyOutcome {
    pub hour: Hour,
    pub status: HourStatus,
    pub manifest: HourlyManifest,
    /// Stale files of earlier attempts that were removed.
    pub removed: Vec<String>,
    /// The hour had committed before with other bronze objects: some arrived after its last run.
    pub inputs_changed_after_commit: bool,
}

/// What a run of `hour` would do (`--dry-run`).
#[derive(Debug, Clone)]
pub struct HourPlan {
    pub hour: Hour,
    pub inputs: Vec<InputObject>,
    /// Whether the hour has a manifest at all.
    pub committed: bool,
    /// Whether a current manifest means the run would be skipped.
    pub current: bool,
}

/// Lists the hour's inputs and whether its manifest is current, without writing anything.
pub async fn plan_hour(lake: &Lake, registry: &Registry, hour: Hour, cfg: &HourlyConfig) -> Result<HourPlan> {
    let inputs = cfg.bronze.list_hour(cfg.bronze_lake(lake), hour).await?;
    let previous: Option<HourlyManifest> = read_manifest(lake, &ManifestKey::Hourly(hour)).await?;
    let committed = previous.is_some();
    let current = previous.is_some_and(|p| p.is_current(&inputs, registry.fingerprint(), &cfg.fingerprint()));
    Ok(HourPlan { hour, inputs, committed, current })
}

/// The hours of `hours` that a run would not skip: never committed, or whose bronze listing,
/// schemas or settings changed since their commit (e.g. a Firehose object that landed after the
/// hour's run). One listing and one manifest read per hour; no object is read.
pub async fn stale_hours(
    lake: &Lake,
    registry: &Registry,
    hours: &[Hour],
    cfg: &HourlyConfig,
) -> Result<Vec<HourPlan>> {
    let mut stale = Vec::new();
    for &hour in hours {
        let plan = plan_hour(lake, registry, hour, cfg).await?;
        if !plan.current {
            stale.push(plan);
        }
    }
    Ok(stale)
}

/// Runs one arrival hour under its lease.
pub async fn run_hour(
    lake: &Lake,
    registry: Arc<Registry>,
    hour: Hour,
    cfg: &HourlyConfig,
    run_id: &str,
) -> Result<HourlyOutcome> {
    with_lease(lake, LeaseKey::Hourly(hour), run_id, cfg.lock_ttl, |fence| {
        run_locked(lake, registry, hour, cfg, run_id, fence)
    })
    .await
}

async fn run_locked(
    lake: &Lake,
    registry: Arc<Registry>,
    hour: Hour,
    cfg: &HourlyConfig,
    run_id: &str,
    fence: Fence,
) -> Result<HourlyOutcome> {
    let started_at = Utc::now();
    let clock = Instant::now();
    let inputs = cfg.bronze.list_hour(cfg.bronze_lake(lake), hour).await?;
    let manifest_key = ManifestKey::Hourly(hour);
    let (previous, basis): (Option<HourlyManifest>, _) = read_manifest_for_commit(lake, &manifest_key).await?;
    let settings = cfg.fingerprint();
    let window = event_window(hour, cfg.max_lateness, cfg.max_early);
    let attempt_key = ManifestKey::HourlyAttempt(hour);
    // An unfinished earlier attempt may have written partitions outside today's window.
    let earlier: Option<Attempt> = read_manifest(lake, &attempt_key).await?;
    let cleanup = earlier.map_or(window, |a| (a.window_start.min(window.0), a.window_end.max(window.1)));
    if let Some(prev) = previous.clone()
        && !cfg.force
        && prev.is_current(&inputs, registry.fingerprint(), &settings)
    {
        // A crash after the last commit may have left files of an older attempt behind.
        fence.check()?;
        let removed = remove_stale(lake, hour, cleanup, &prev.outputs, &[]).await?;
        lake.delete(&attempt_key.path()).await?;
        return Ok(HourlyOutcome {
            hour,
            status: HourStatus::Skipped,
            manifest: prev,
            removed,
            inputs_changed_after_commit: false,
        });
    }
    let inputs_changed_after_commit = previous.as_ref().is_some_and(|p| p.inputs != inputs);
    if inputs_changed_after_commit {
        tracing::warn!("bronze of this hour changed after its last commit; reprocessing it");
    }
    fence.check()?;
    write_manifest(lake, &attempt_key, &Attempt { window_start: cleanup.0, window_end: cleanup.1 }).await?;
    let ctx = Arc::new(HourContext::new(registry.clone(), hour, window));
    let handle = Handle::current();
    let (lake2, inputs2, cfg2) = (lake.clone(), inputs.clone(), cfg.clone());
    // The pipeline's threads log under this run's span (job, run id, hour).
    let span = tracing::Span::current();
    let out = tokio::task::spawn_blocking(move || span.in_scope(|| pipeline(&ctx, &lake2, &inputs2, &cfg2, &handle)))
        .await
        .map_err(|e| Error::Internal(format!("pipeline task: {e}")))??;
    let tally = out.tally;
    if tally.records != tally.valid + tally.quarantined {
        return Err(Error::CountMismatch {
            records: tally.records,
            valid: tally.valid,
            quarantined: tally.quarantined,
        });
    }
    let silver_rows: u64 = out.outputs.iter().filter(|o| o.kind == "silver").map(|o| o.rows).sum();
    let quarantine_rows: u64 = out.outputs.iter().filter(|o| o.kind == "quarantine").map(|o| o.rows).sum();
    if silver_rows != tally.valid || quarantine_rows != tally.quarantined {
        return Err(Error::CountMismatch { records: tally.records, valid: silver_rows, quarantined: quarantine_rows });
    }
    let finished_at = Utc::now();
    let manifest = HourlyManifest {
        run_id: run_id.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        arrival_hour: hour.to_string(),
        schema_fingerprint: registry.fingerprint().into(),
        settings_fingerprint: settings,
        inputs,
        counts: Counts {
            records: tally.records,
            valid: tally.valid,
            quarantined: tally.quarantined,
            bytes: tally.bytes,
            by_event_name: tally.by_event_name.clone(),
            by_reason: tally.by_reason.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            quarantined_by_event_name: tally.quarantined_by_event_name.clone(),
            quarantine_groups: tally.groups(),
        },
        outputs: out.outputs,
        timings: Timings {
            started_at: started_at.to_rfc3339(),
            finished_at: finished_at.to_rfc3339(),
            seconds: clock.elapsed().as_secs_f64(),
        },
        names: OriginalNames::of(&registry),
    };
    maybe_crash(cfg, CrashPoint::BeforeManifest);
    commit_manifest(lake, &fence, &manifest_key, &manifest, &basis).await?;
    maybe_crash(cfg, CrashPoint::AfterManifest);
    let previous_outputs = previous.map(|p| p.outputs).unwrap_or_default();
    let removed = remove_stale(lake, hour, cleanup, &manifest.outputs, &previous_outputs).await?;
    lake.delete(&attempt_key.path()).await?;
    Ok(HourlyOutcome { hour, status: HourStatus::Committed, manifest, removed, inputs_changed_after_commit })
}

/// Deletes files this arrival hour owns that the committed outputs do not list: silver parts
/// named `part-<arrival>-*` in the event-time `window` and anything else in its quarantine folder.
async fn remove_stale(
    lake: &Lake,
    hour: Hour,
    window: (i64, i64),
    outputs: &[OutputFile],
    previous: &[OutputFile],
) -> Result<Vec<String>> {
    let keep: BTreeSet<&str> = outputs.iter().map(|o| o.key.as_str()).collect();
    let mut candidates: BTreeSet<String> = previous.iter().map(|o| o.key.clone()).collect();
    let mut unfinished = Vec::new();
    let (start, end) = window;
    let first_day = Hour::of_micros(start).date();
    let last_day = Hour::of_micros(end - 1).date();
    for type_dir in lake.list_dirs(&Path::from(layout::SILVER)).await? {
        for day in first_day.iter_days().take_while(|d| *d <= last_day) {
            let dir = layout::date_dir(&type_dir, day);
            for meta in lake.list(&dir).await? {
                if meta.location.filename().is_some_and(|n| SilverFile::owned_by(n, hour)) {
                    candidates.insert(meta.location.to_string());
                }
            }
            unfinished.extend(lake.remove_unfinished(&dir, move |n| SilverFile::owned_by(n, hour)).await?);
        }
    }
    let quarantine = QuarantineFile::dir(hour);
    for meta in lake.list(&quarantine).await? {
        candidates.insert(meta.location.to_string());
    }
    unfinished.extend(lake.remove_unfinished(&quarantine, |_| true).await?);
    let mut removed = unfinished;
    for key in candidates {
        if !keep.contains(key.as_str()) {
            let location = Path::parse(&key)
                .map_err(|e| eventlake_lake::Error::Corrupt { key: key.clone(), reason: e.to_string() })?;
            lake.delete(&location).await?;
            tracing::info!(key = %key, "removed a file of an earlier attempt");
            removed.push(key);
        }
    }
    Ok(removed)
}

struct PipelineOutput {
    tally: Tally,
    outputs: Vec<OutputFile>,
}

/// Reader → workers → writer, on blocking threads.
fn pipeline(
    ctx: &HourContext,
    lake: &Lake,
    inputs: &[InputObject],
    cfg: &HourlyConfig,
    handle: &Handle,
) -> Result<PipelineOutput> {
    let workers = cfg.workers.max(1);
    let (chunk_tx, chunk_rx) = mpsc::sync_channel::<Chunk>(workers * 2);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (out_tx, out_rx) = mpsc::sync_channel::<Result<ChunkOutput>>(workers * 2);
    let span = tracing::Span::current();
    let stop = AtomicBool::new(false);

    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("bronze-reader".into())
            .spawn_scoped(s, || {
                span.in_scope(|| read_inputs(ctx, cfg.bronze_lake(lake), inputs, cfg, handle, chunk_tx, &stop))
            })
            .map_err(|e| Error::Internal(format!("cannot start the reader thread: {e}")))?;
        for n in 0..workers {
            let rx = chunk_rx.clone();
            let tx = out_tx.clone();
            let span = &span;
            let spawned = std::thread::Builder::new().name(format!("validate-{n}")).spawn_scoped(s, move || {
                let _entered = span.enter();
                let mut worker = Worker::default();
                loop {
                    let next = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => break,
                    };
                    let Ok(chunk) = next else { break };
                    let result = worker.process(ctx, chunk);
                    if tx.send(result).is_err() {
                        break;
                    }
                }
            });
            if let Err(e) = spawned {
                stop.store(true, Ordering::Relaxed);
                return Err(Error::Internal(format!("cannot start a worker thread: {e}")));
            }
        }
        drop(out_tx);
        let written = write_outputs(s, ctx, lake, cfg, handle, &out_rx, &stop);
        // Drain so no worker stays blocked on a full channel.
        for _ in out_rx.iter() {}
        let read = reader.join().map_err(|_| Error::Internal("reader thread panicked".into()))?;
        match (read, written) {
            (Err(e), Ok(w)) => {
                w.abort();
                Err(e)
            }
            (_, Err(e)) => Err(e),
            (Ok(()), Ok(w)) => w.finish(ctx.arrival),
        }
    })
}

fn read_inputs(
    ctx: &HourContext,
    bronze: &Lake,
    inputs: &[InputObject],
    cfg: &HourlyConfig,
    handle: &Handle,
    tx: mpsc::SyncSender<Chunk>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut seq = 0u64;
    let mut objects = BronzeObjects::open(bronze, inputs, handle)?;
    for input in inputs {
        let key: Arc<str> = Arc::from(input.key.as_str());
        let object = objects.next_object(input)?;
        let stream = decompressed(BufReader::with_capacity(256 << 10, object))
            .map_err(|source| Error::Read { key: input.key.clone(), source })?;
        let mut chunker = match &cfg.format {
            RecordFormat::Json => Chunker::new(stream, cfg.chunk_bytes, cfg.max_record_bytes),
            RecordFormat::Csv(d) => Chunker::csv(
                stream,
                cfg.chunk_bytes,
                cfg.max_record_bytes,
                CsvCut { delimiter: d.delimiter, quote: d.quote, header: d.columns.is_none() },
            ),
        };
        let mut csv: Option<Arc<CsvRows>> = None;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let cut = chunker.next_chunk().map_err(|source| Error::ReadAt {
                key: input.key.clone(),
                line: chunker.line(),
                source,
            })?;
            let Some(cut) = cut else { break };
            if let (RecordFormat::Csv(dialect), None) = (&cfg.format, &csv) {
                let header = chunker.header().unwrap_or_default();
                let rows = CsvRows::new(ctx.acceptor.registry(), dialect, header)
                    .map_err(|reason| Error::BadHeader { key: input.key.clone(), reason })?;
                csv = Some(Arc::new(rows));
            }
            let chunk = Chunk {
                seq,
                source_key: key.clone(),
                bytes: cut.bytes,
                first_line: cut.first_line,
                base_offset: cut.base_offset,
                stream_start: cut.stream_start,
                in_array: cut.in_array,
                csv: csv.clone(),
            };
            seq += 1;
            if tx.send(chunk).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The open writers of a run.
struct Writers<'scope> {
    silver: SilverEncoders<'scope>,
    quarantine: RollingLines,
    tally: Tally,
}

impl Writers<'_> {
    fn abort(self) {
        self.silver.abort();
        self.quarantine.abort();
    }

    /// Abandons the open files after `error`; returns its cause.
    fn fail(self, error: Error) -> Error {
        self.quarantine.abort();
        self.silver.fail(error)
    }

    fn finish(self, arrival: Hour) -> Result<PipelineOutput> {
        let mut outputs = Vec::new();
        let silver = match self.silver.finish() {
            Ok(s) => s,
            Err(e) => {
                self.quarantine.abort();
                return Err(e);
            }
        };
        for (partition, files) in silver {
            let hour = partition.hour;
            let event_type = Some(partition.event_type);
            outputs.extend(files.into_iter().map(|f| output(f, "silver", event_type.clone(), hour)));
        }
        outputs.extend(self.quarantine.finish()?.into_iter().map(|f| output(f, "quarantine", None, arrival)));
        Ok(PipelineOutput { tally: self.tally, outputs })
    }
}

fn write_outputs<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    ctx: &HourContext,
    lake: &Lake,
    cfg: &HourlyConfig,
    handle: &Handle,
    rx: &mpsc::Receiver<Result<ChunkOutput>>,
    stop: &AtomicBool,
) -> Result<Writers<'scope>> {
    let arrival = ctx.arrival;
    let quarantine_part = Box::new(move |part| QuarantineFile { arrival, part }.path());
    let setup = EncoderSetup {
        lake: lake.clone(),
        handle: handle.clone(),
        arrival,
        id_column: ctx.id_column(),
        target_file_bytes: cfg.target_file_bytes,
    };
    let mut w = Writers {
        silver: SilverEncoders::start(scope, &setup, cfg.workers.max(1), cfg.buffer_budget_bytes)?,
        quarantine: RollingLines::new(lake.clone(), handle.clone(), cfg.target_file_bytes, quarantine_part),
        tally: Tally::default(),
    };
    let mut pending: HashMap<u64, ChunkOutput> = HashMap::new();
    let mut next = 0u64;
    for result in rx.iter() {
        let written = result.and_then(|out| {
            pending.insert(out.seq, out);
            while let Some(out) = pending.remove(&next) {
                next += 1;
                write_chunk(&mut w, out)?;
            }
            Ok(())
        });
        if let Err(e) = written {
            stop.store(true, Ordering::Relaxed);
            return Err(w.fail(e));
        }
    }
    Ok(w)
}

fn write_chunk(w: &mut Writers<'_>, out: ChunkOutput) -> Result<()> {
    for (partition, batch) in out.batches {
        w.silver.write(partition, batch)?;
    }
    w.quarantine.write(&out.quarantine, out.tally.quarantined)?;
    w.tally.add(&out.tally);
    Ok(())
}

/// The manifest entry of a written file.
fn output(file: WrittenFile, kind: &str, event_type: Option<String>, hour: Hour) -> OutputFile {
    OutputFile {
        key: file.key.to_string(),
        kind: kind.into(),
        event_type,
        dt: hour.date().format("%Y-%m-%d").to_string(),
        hour: format!("{:02}", hour.hour_of_day()),
        rows: file.rows,
        bytes: file.bytes,
    }
}
