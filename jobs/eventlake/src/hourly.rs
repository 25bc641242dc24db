//! `eventlake hourly`: bronze arrival hours → silver + quarantine, one hour or a backfill range.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args};
use eventlake_contract::{CompileOptions, Envelope, Registry, RegistryOptions};
use eventlake_lake::Lake;
use eventlake_lake::layout::Hour;
use eventlake_runtime::ExitCode;
use eventlake_runtime::duration::parse_duration;
use eventlake_runtime::metrics::{Metric, emf_record};
use eventlake_silver::{CrashPoint, HourStatus, HourlyConfig, HourlyOutcome, plan_hour, run_hour};
use futures::StreamExt;

use crate::summary::{Table, progress_bar};

/// Schema registry flags shared by every job that reads events.
#[derive(Debug, Clone, Args)]
pub(crate) struct SchemaArgs {
    /// Folder of event schemas (scanned recursively for *.json).
    #[arg(long, env = "EVENTLAKE_SCHEMAS")]
    pub(crate) schemas: PathBuf,

    /// Follow the JSON Schema default (undeclared fields allowed) instead of closed objects.
    #[arg(long, env = "EVENTLAKE_ALLOW_UNDECLARED_FIELDS")]
    pub(crate) allow_undeclared_fields: bool,

    /// Envelope field holding the event id.
    #[arg(long, env = "EVENTLAKE_EVENT_ID_FIELD", default_value = "event_uuid")]
    pub(crate) event_id_field: String,

    /// Envelope field holding the event name.
    #[arg(long, env = "EVENTLAKE_EVENT_NAME_FIELD", default_value = "event_name")]
    pub(crate) event_name_field: String,

    /// Envelope field holding the creation time (Unix seconds, integer or float).
    #[arg(long, env = "EVENTLAKE_CREATED_AT_FIELD", default_value = "created_at")]
    pub(crate) created_at_field: String,
}

impl SchemaArgs {
    pub(crate) fn load(&self) -> anyhow::Result<Registry> {
        let options = RegistryOptions {
            compile: CompileOptions { allow_undeclared_fields: self.allow_undeclared_fields },
            envelope: Envelope {
                id: self.event_id_field.clone(),
                name: self.event_name_field.clone(),
                created_at: self.created_at_field.clone(),
            },
        };
        Registry::load_dir(&self.schemas, &options).context("loading schemas")
    }
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("hours").required(true).args(["hour", "from", "previous_hour"])))]
pub(crate) struct HourlyArgs {
    /// Lake root: a local path, file://… or s3://bucket/prefix.
    #[arg(long, env = "EVENTLAKE_LAKE")]
    pub(crate) lake: String,

    #[command(flatten)]
    pub(crate) schema: SchemaArgs,

    /// One arrival hour, e.g. 2026-11-20T05.
    #[arg(long, env = "EVENTLAKE_HOUR")]
    pub(crate) hour: Option<String>,

    /// First hour of a range (inclusive).
    #[arg(long, env = "EVENTLAKE_FROM", requires = "to")]
    pub(crate) from: Option<String>,

    /// End of the range (exclusive).
    #[arg(long, env = "EVENTLAKE_TO", requires = "from")]
    pub(crate) to: Option<String>,

    /// The hour before the scheduled time (`--scheduled-time`, else now): what the schedule runs.
    #[arg(long, env = "EVENTLAKE_PREVIOUS_HOUR")]
    pub(crate) previous_hour: bool,

    /// The time the scheduler fired (RFC 3339); `--previous-hour` counts back from it.
    #[arg(long, env = "EVENTLAKE_SCHEDULED_TIME")]
    pub(crate) scheduled_time: Option<DateTime<Utc>>,

    /// Hours of a range processed at once.
    #[arg(long, env = "EVENTLAKE_PARALLEL", default_value_t = 1)]
    pub(crate) parallel: usize,

    /// Reprocess hours whose manifest is current.
    #[arg(long, env = "EVENTLAKE_FORCE")]
    pub(crate) force: bool,

    /// List the plan (hours, inputs, skip or run) and write nothing.
    #[arg(long, env = "EVENTLAKE_DRY_RUN")]
    pub(crate) dry_run: bool,

    /// How long an hour's lease holds before another run may take it over (90s, 30m, 2h).
    #[arg(long, env = "EVENTLAKE_LOCK_TTL", default_value = "1h", value_parser = parse_chrono)]
    pub(crate) lock_ttl: chrono::Duration,

    /// Events created longer than this before their arrival hour are quarantined.
    #[arg(long, env = "EVENTLAKE_MAX_LATENESS", default_value = "7d", value_parser = parse_chrono)]
    pub(crate) max_lateness: chrono::Duration,

    /// Events created longer than this after their arrival hour are quarantined.
    #[arg(long, env = "EVENTLAKE_MAX_EARLY", default_value = "1h", value_parser = parse_chrono)]
    pub(crate) max_early: chrono::Duration,

    /// Exit 3 when the quarantined share of an hour's records is above this (0 to 1).
    #[arg(long, env = "EVENTLAKE_MAX_QUARANTINE_RATE", value_parser = parse_rate)]
    pub(crate) max_quarantine_rate: Option<f64>,

    /// Bronze prefix under the lake root.
    #[arg(long, env = "EVENTLAKE_BRONZE_PREFIX", default_value = "bronze", value_parser = non_empty)]
    pub(crate) bronze_prefix: String,

    /// Folder names under an hour holding Firehose error output, not events (repeatable).
    #[arg(long = "error-prefix", env = "EVENTLAKE_ERROR_PREFIXES", value_delimiter = ',')]
    pub(crate) error_prefixes: Vec<String>,

    /// Silver and quarantine files roll over to a new part at this size, in MiB.
    #[arg(long, env = "EVENTLAKE_TARGET_FILE_MB", default_value_t = 256)]
    pub(crate) target_file_mb: u64,

    /// Parse and validate threads per hour (default: one per core).
    #[arg(long, env = "EVENTLAKE_WORKERS")]
    pub(crate) workers: Option<usize>,

    /// Do not print the CloudWatch Embedded Metric Format line per hour on stdout.
    #[arg(long, env = "EVENTLAKE_NO_METRICS")]
    pub(crate) no_metrics: bool,

    /// Abort the process at a point of the run (crash-recovery testing).
    #[arg(long, hide = true, value_enum)]
    pub(crate) crash_at: Option<CrashAt>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum CrashAt {
    BeforeManifest,
    AfterManifest,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{s:?} is not a rate between 0 and 1 (e.g. 0.05 for 5%)")),
    }
}

fn non_empty(s: &str) -> Result<String, String> {
    let t = s.trim().trim_matches('/');
    if t.is_empty() { Err("must not be empty".into()) } else { Ok(t.to_owned()) }
}

pub(crate) fn parse_chrono(s: &str) -> Result<chrono::Duration, String> {
    let d = parse_duration(s).map_err(|e| e.to_string())?;
    chrono::Duration::from_std(d).map_err(|e| e.to_string())
}

impl HourlyArgs {
    fn hours(&self) -> anyhow::Result<Vec<Hour>> {
        if let Some(h) = &self.hour {
            return Ok(vec![h.parse()?]);
        }
        if let (Some(from), Some(to)) = (&self.from, &self.to) {
            let (from, to): (Hour, Hour) = (from.parse()?, to.parse()?);
            if to <= from {
                bail!("--to {to} must be after --from {from} (the range is half-open)");
            }
            return Ok(Hour::range(from, to).collect());
        }
        let at = self.scheduled_time.unwrap_or_else(Utc::now);
        Ok(vec![Hour::containing(at).prev()])
    }

    pub(crate) fn config(&self) -> HourlyConfig {
        let mut cfg = HourlyConfig {
            bronze_prefix: self.bronze_prefix.clone(),
            max_lateness: self.max_lateness,
            max_early: self.max_early,
            target_file_bytes: self.target_file_mb.max(1) << 20,
            lock_ttl: self.lock_ttl,
            force: self.force,
            crash_at: self.crash_at.map(|c| match c {
                CrashAt::BeforeManifest => CrashPoint::BeforeManifest,
                CrashAt::AfterManifest => CrashPoint::AfterManifest,
            }),
            ..HourlyConfig::default()
        };
        let error_prefixes: Vec<String> =
            self.error_prefixes.iter().filter(|p| !p.trim().is_empty()).cloned().collect();
        if !error_prefixes.is_empty() {
            cfg.error_prefixes = error_prefixes;
        }
        if let Some(w) = self.workers {
            cfg.workers = w.max(1);
        }
        cfg
    }
}

pub(crate) fn run(args: HourlyArgs) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt.block_on(run_async(args)),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::Failure
        }
    }
}

async fn run_async(args: HourlyArgs) -> ExitCode {
    let setup = (|| -> anyhow::Result<_> {
        let hours = args.hours()?;
        let registry = Arc::new(args.schema.load()?);
        let lake = Lake::open(&args.lake)?;
        Ok((hours, registry, lake))
    })();
    let (hours, registry, lake) = match setup {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::Usage;
        }
    };
    let cfg = args.config();
    if args.dry_run {
        return dry_run(&lake, &registry, &hours, &cfg).await;
    }
    run_hours(&lake, registry, &hours, &cfg, &args).await.0
}

async fn dry_run(lake: &Lake, registry: &Registry, hours: &[Hour], cfg: &HourlyConfig) -> ExitCode {
    let mut table = Table::new(["hour", "inputs", "bytes", "action"]);
    let mut code = ExitCode::Success;
    for &hour in hours {
        match plan_hour(lake, registry, hour, cfg).await {
            Ok(plan) => {
                let action = if plan.current && !cfg.force { "skip (manifest current)" } else { "run" };
                let bytes: u64 = plan.inputs.iter().map(|i| i.size).sum();
                table.row([hour.to_string(), plan.inputs.len().to_string(), bytes.to_string(), action.into()]);
            }
            Err(e) => {
                eprintln!("error: {hour}: {e}");
                code = ExitCode::Failure;
            }
        }
    }
    println!("{}", table.render());
    code
}

/// Runs every hour and prints the summary; returns the exit code and the outcomes.
pub(crate) async fn run_hours(
    lake: &Lake,
    registry: Arc<Registry>,
    hours: &[Hour],
    cfg: &HourlyConfig,
    args: &HourlyArgs,
) -> (ExitCode, Vec<HourlyOutcome>) {
    let bar = progress_bar("hourly", hours.len(), "hours");
    let results: Vec<(Hour, Result<HourlyOutcome, eventlake_silver::Error>, f64)> =
        futures::stream::iter(hours.iter().copied())
            .map(|hour| {
                let registry = registry.clone();
                let bar = bar.clone();
                async move {
                    let run_id = uuid::Uuid::new_v4().to_string();
                    let span = tracing::info_span!("hourly", job = "hourly", run_id = %run_id, hour = %hour);
                    let _enter = span.enter();
                    let clock = Instant::now();
                    tracing::info!("run started");
                    let r = run_hour(lake, registry, hour, cfg, &run_id).await;
                    let secs = clock.elapsed().as_secs_f64();
                    match &r {
                        Ok(o) => tracing::info!(
                            status = ?o.status,
                            records = o.manifest.counts.records,
                            valid = o.manifest.counts.valid,
                            quarantined = o.manifest.counts.quarantined,
                            removed = o.removed.len(),
                            seconds = secs,
                            "run finished"
                        ),
                        Err(e) if e.is_lease_held() => tracing::warn!(error = %e, "another run holds this hour"),
                        Err(e) => tracing::error!(error = %e, "run failed"),
                    }
                    bar.inc(1);
                    (hour, r, secs)
                }
            })
            .buffer_unordered(args.parallel.max(1))
            .collect()
            .await;
    bar.finish_and_clear();
    let mut results = results;
    results.sort_by_key(|(h, _, _)| *h);

    let mut code = ExitCode::Success;
    let mut table = Table::new(["hour", "status", "records", "valid", "quarantined", "rate", "outputs", "seconds"]);
    let mut outcomes = Vec::new();
    for (hour, result, secs) in results {
        match result {
            Ok(o) => {
                let c = &o.manifest.counts;
                let rate = if c.records == 0 { 0.0 } else { c.quarantined as f64 / c.records as f64 };
                let status = match o.status {
                    HourStatus::Committed => "committed",
                    HourStatus::Skipped => "skipped (current)",
                };
                table.row([
                    hour.to_string(),
                    status.into(),
                    c.records.to_string(),
                    c.valid.to_string(),
                    c.quarantined.to_string(),
                    format!("{:.2}%", rate * 100.0),
                    o.manifest.outputs.len().to_string(),
                    format!("{secs:.2}"),
                ]);
                if !args.no_metrics && o.status == HourStatus::Committed {
                    emit_metrics(&o, rate, secs);
                }
                if let Some(max) = args.max_quarantine_rate
                    && rate > max
                {
                    eprintln!("error: {hour}: quarantine rate {:.4} is above --max-quarantine-rate {max}", rate);
                    code = code.worst(ExitCode::QualityThreshold);
                }
                outcomes.push(o);
            }
            Err(e) if e.is_lease_held() => {
                eprintln!("error: {hour}: {e}; another run is processing this hour (exit 75, retry later)");
                table.row([
                    hour.to_string(),
                    "lease held".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    format!("{secs:.2}"),
                ]);
                code = code.worst(ExitCode::LeaseHeld);
            }
            Err(e) => {
                eprintln!("error: {hour}: {e}");
                table.row([
                    hour.to_string(),
                    "FAILED".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    format!("{secs:.2}"),
                ]);
                code = code.worst(ExitCode::Failure);
            }
        }
    }
    eprintln!("{}", table.render());
    (code, outcomes)
}

fn emit_metrics(o: &HourlyOutcome, rate: f64, secs: f64) {
    let c = &o.manifest.counts;
    let mut props = serde_json::Map::new();
    props.insert("run_id".into(), o.manifest.run_id.clone().into());
    props.insert("arrival_hour".into(), o.manifest.arrival_hour.clone().into());
    let record = emf_record(
        "eventlake",
        Utc::now().timestamp_millis(),
        &[("job", "hourly")],
        &[
            Metric { name: "records", value: c.records as f64, unit: "Count" },
            Metric { name: "valid", value: c.valid as f64, unit: "Count" },
            Metric { name: "quarantined", value: c.quarantined as f64, unit: "Count" },
            Metric { name: "quarantine_rate", value: rate, unit: "None" },
            Metric { name: "bytes", value: c.bytes as f64, unit: "Bytes" },
            Metric { name: "seconds", value: secs, unit: "Seconds" },
        ],
        &props,
    );
    println!("{record}");
}
