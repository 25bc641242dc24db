//! `eventlake hourly`: bronze arrival hours → silver + quarantine, one hour or a backfill range.

use anyhow::bail;
use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args};
use eventlake_lake::Lake;
use eventlake_lake::layout::Hour;
use eventlake_runtime::ExitCode;
use eventlake_runtime::duration::HumanDuration;
use eventlake_runtime::range::{Finished, RangeJob, run_range};
use eventlake_runtime::summary::Table;
use eventlake_silver::{CrashPoint, HourlyConfig, HourlyOutcome, SUMMARY_COLUMNS, plan_hour, run_hour, stale_hours};

use crate::bronze::BronzeOpts;
use crate::sources::{Source, SourceOpts};

/// Flags of `eventlake hourly`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("hours").required(true).args(["hour", "from", "previous_hour"])))]
pub(crate) struct HourlyOpts {
    /// Lake root: a local path, file://… or s3://bucket/prefix.
    #[arg(long, env = "EVENTLAKE_LAKE")]
    lake: String,

    #[command(flatten)]
    sources: SourceOpts,

    /// One arrival hour, e.g. 2026-11-20T05.
    #[arg(long, env = "EVENTLAKE_HOUR")]
    hour: Option<Hour>,

    /// First hour of a range (inclusive).
    #[arg(long, env = "EVENTLAKE_FROM", requires = "to")]
    from: Option<Hour>,

    /// End of the range (exclusive).
    #[arg(long, env = "EVENTLAKE_TO", requires = "from")]
    to: Option<Hour>,

    /// The hour before the scheduled time (`--scheduled-time`, else now): what the schedule runs.
    #[arg(long, env = "EVENTLAKE_PREVIOUS_HOUR")]
    previous_hour: bool,

    /// The time the scheduler fired (RFC 3339); `--previous-hour` counts back from it.
    #[arg(long, env = "EVENTLAKE_SCHEDULED_TIME")]
    scheduled_time: Option<DateTime<Utc>>,

    /// Hours of a range processed at once.
    #[arg(long, env = "EVENTLAKE_PARALLEL", default_value_t = 1)]
    parallel: usize,

    /// Reprocess hours whose manifest is current.
    #[arg(long, env = "EVENTLAKE_FORCE")]
    force: bool,

    /// List the plan (hours, inputs, skip or run) and write nothing.
    #[arg(long, env = "EVENTLAKE_DRY_RUN")]
    dry_run: bool,

    /// How long an hour's lease holds before another run may take it over (90s, 30m, 2h).
    #[arg(long, env = "EVENTLAKE_LOCK_TTL", default_value_t = HourlyConfig::default().lock_ttl.into())]
    lock_ttl: HumanDuration,

    /// Events created longer than this before their arrival hour are quarantined.
    #[arg(long, env = "EVENTLAKE_MAX_LATENESS", default_value_t = HourlyConfig::default().max_lateness.into())]
    max_lateness: HumanDuration,

    /// Events created longer than this after their arrival hour are quarantined.
    #[arg(long, env = "EVENTLAKE_MAX_EARLY", default_value_t = HourlyConfig::default().max_early.into())]
    max_early: HumanDuration,

    /// Exit 3 when the quarantined share of an hour's records is above this (0 to 1).
    #[arg(long, env = "EVENTLAKE_MAX_QUARANTINE_RATE", value_parser = parse_rate)]
    max_quarantine_rate: Option<f64>,

    #[command(flatten)]
    bronze: BronzeOpts,

    /// Silver and quarantine files roll over to a new part at this size, in MiB.
    #[arg(long, env = "EVENTLAKE_TARGET_FILE_MB", default_value_t = HourlyConfig::default().target_file_bytes >> 20)]
    target_file_mb: u64,

    /// Parse and validate threads per hour (default: one per core).
    #[arg(long, env = "EVENTLAKE_WORKERS")]
    workers: Option<usize>,

    /// Also rerun the hours this long before the selected ones whose bronze changed since their run
    /// or that never committed (late Firehose objects); hours that are current cost one listing.
    #[arg(long, env = "EVENTLAKE_LOOKBACK", default_value = "0s")]
    lookback: HumanDuration,

    /// Do not print the CloudWatch Embedded Metric Format line per hour on stdout.
    #[arg(long, env = "EVENTLAKE_NO_METRICS")]
    no_metrics: bool,

    /// Abort the process at a point of the run (crash-recovery testing).
    #[arg(long, hide = true, value_enum)]
    crash_at: Option<CrashAt>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CrashAt {
    BeforeManifest,
    AfterManifest,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{s:?} is not a rate between 0 and 1 (e.g. 0.05 for 5%)")),
    }
}

/// A validated hourly command: what to run, where, and how.
pub(crate) struct Hourly {
    pub(crate) sources: Vec<Source>,
    pub(crate) hours: Vec<Hour>,
    /// Hours before the first selected one to check for late bronze.
    pub(crate) lookback_hours: i64,
    pub(crate) config: HourlyConfig,
    pub(crate) parallel: usize,
    pub(crate) dry_run: bool,
    pub(crate) max_quarantine_rate: Option<f64>,
    pub(crate) metrics: bool,
}

impl HourlyOpts {
    fn hours(&self) -> anyhow::Result<Vec<Hour>> {
        if let Some(h) = self.hour {
            return Ok(vec![h]);
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if to <= from {
                bail!("--to {to} must be after --from {from} (the range is half-open)");
            }
            return Ok(Hour::range(from, to).collect());
        }
        let at = self.scheduled_time.unwrap_or_else(Utc::now);
        Ok(vec![Hour::containing(at).prev()])
    }

    fn config(&self) -> HourlyConfig {
        let defaults = HourlyConfig::default();
        HourlyConfig {
            bronze: self.bronze.listing(),
            max_lateness: self.max_lateness.chrono(),
            max_early: self.max_early.chrono(),
            target_file_bytes: self.target_file_mb.max(1) << 20,
            lock_ttl: self.lock_ttl.chrono(),
            force: self.force,
            workers: self.workers.map_or(defaults.workers, |w| w.max(1)),
            crash_at: self.crash_at.map(|c| match c {
                CrashAt::BeforeManifest => CrashPoint::BeforeManifest,
                CrashAt::AfterManifest => CrashPoint::AfterManifest,
            }),
            ..defaults
        }
    }

    /// Checks the flags and loads what they name.
    pub(crate) async fn validate(self) -> anyhow::Result<Hourly> {
        let lake = Lake::open_reachable(&self.lake).await?;
        Ok(Hourly {
            hours: self.hours()?,
            // Whole hours, rounded up: 90m looks at two hours back.
            lookback_hours: (self.lookback.0.as_secs() as i64 + 3599) / 3600,
            sources: self.sources.load(&lake, Some(&self.bronze))?,
            config: self.config(),
            parallel: self.parallel,
            dry_run: self.dry_run,
            max_quarantine_rate: self.max_quarantine_rate,
            metrics: !self.no_metrics,
        })
    }
}

impl Hourly {
    /// The settings one source runs with: the command's, with the source's bronze and format.
    pub(crate) fn config_of(&self, source: &Source) -> HourlyConfig {
        HourlyConfig {
            bronze: source.bronze.clone(),
            bronze_store: source.bronze_store.clone(),
            format: source.format.clone(),
            ..self.config.clone()
        }
    }
}

pub(crate) fn run(opts: HourlyOpts) -> ExitCode {
    eventlake_runtime::block_on(async {
        let hourly = match opts.validate().await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::Usage;
            }
        };
        let mut code = ExitCode::Success;
        for source in &hourly.sources {
            if hourly.sources.len() > 1 {
                eprintln!("{}:", source.label());
            }
            let hours = match late_hours(&hourly, source).await {
                Ok(h) => h,
                Err(e) => {
                    eprintln!("error: {}: lookback: {e}", source.label());
                    code = code.worst(ExitCode::Failure);
                    continue;
                }
            };
            let outcome = if hourly.dry_run {
                dry_run(&hourly, source, &hours).await
            } else {
                run_source_hours(&hourly, source, &hours).await.0
            };
            code = code.worst(outcome);
        }
        code
    })
}

/// The selected hours plus the lookback hours whose bronze changed since their run, or that never
/// committed.
async fn late_hours(h: &Hourly, source: &Source) -> Result<Vec<Hour>, eventlake_silver::Error> {
    let mut hours = h.hours.clone();
    let Some(first) = hours.first().copied() else { return Ok(hours) };
    if h.lookback_hours <= 0 {
        return Ok(hours);
    }
    let window: Vec<Hour> = Hour::range(Hour::from_index(first.index() - h.lookback_hours), first).collect();
    for plan in stale_hours(&source.lake, &source.registry, &window, &h.config_of(source)).await? {
        let why = if plan.committed { "its bronze changed since its run" } else { "it never committed" };
        tracing::warn!(hour = %plan.hour, "lookback: rerunning {}: {why}", plan.hour);
        hours.push(plan.hour);
    }
    hours.sort();
    hours.dedup();
    Ok(hours)
}

async fn dry_run(h: &Hourly, source: &Source, hours: &[Hour]) -> ExitCode {
    let mut table = Table::new(&["hour", "inputs", "bytes", "action"]);
    let mut code = ExitCode::Success;
    let config = h.config_of(source);
    for &hour in hours {
        match plan_hour(&source.lake, &source.registry, hour, &config).await {
            Ok(plan) => {
                let action = if plan.current && !config.force { "skip (manifest current)" } else { "run" };
                let bytes: u64 = plan.inputs.iter().map(|i| i.size).sum();
                table.row(vec![hour.to_string(), plan.inputs.len().to_string(), bytes.to_string(), action.into()]);
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

/// Runs every source's hours; returns the worst exit code and every outcome.
pub(crate) async fn run_hours(h: &Hourly) -> (ExitCode, Vec<HourlyOutcome>) {
    let mut code = ExitCode::Success;
    let mut outcomes = Vec::new();
    for source in &h.sources {
        if h.sources.len() > 1 {
            eprintln!("{}:", source.label());
        }
        let (c, o) = run_source_hours(h, source, &h.hours).await;
        code = code.worst(c);
        outcomes.extend(o);
    }
    (code, outcomes)
}

/// Runs one source's hours and prints the summary; returns the exit code and the outcomes.
async fn run_source_hours(h: &Hourly, source: &Source, hours: &[Hour]) -> (ExitCode, Vec<HourlyOutcome>) {
    let job = RangeJob {
        job: "hourly",
        unit: "hour",
        columns: SUMMARY_COLUMNS.to_vec(),
        parallel: h.parallel,
        metrics: h.metrics,
        busy: "another run is processing this hour",
    };
    let config = h.config_of(source);
    let (lake, registry, config) = (&source.lake, &source.registry, &config);
    let (mut code, finished) =
        run_range(
            &job,
            hours,
            |hour, run_id| async move { run_hour(lake, registry.clone(), hour, config, &run_id).await },
        )
        .await;
    let mut outcomes = Vec::new();
    for Finished { unit: hour, result, .. } in finished {
        if let Ok(outcome) = result {
            let rate = outcome.quarantine_rate();
            if let Some(max) = h.max_quarantine_rate
                && rate > max
            {
                eprintln!("error: {hour}: quarantine rate {rate:.4} is above --max-quarantine-rate {max}");
                code = code.worst(ExitCode::QualityThreshold);
            }
            outcomes.push(outcome);
        }
    }
    (code, outcomes)
}
