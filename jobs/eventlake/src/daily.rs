//! `eventlake daily`: silver → deduplicated gold for event dates, with late data caught up.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::{ArgGroup, Args};
use eventlake_contract::Registry;
use eventlake_gold::{DailyConfig, DailyOutcome, DayStatus, SessionOptions, run_day, silver_inputs, stale_days};
use eventlake_lake::Lake;
use eventlake_runtime::ExitCode;
use eventlake_runtime::metrics::{Metric, emf_record};
use eventlake_runtime::size::parse_size;
use futures::StreamExt;

use crate::hourly::{SchemaArgs, parse_chrono};
use crate::summary::{Table, progress_bar};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("days").required(true).multiple(true).args(["date", "from", "previous_day", "catch_up"])))]
pub(crate) struct DailyArgs {
    /// Lake root: a local path, file://… or s3://bucket/prefix.
    #[arg(long, env = "EVENTLAKE_LAKE")]
    lake: String,

    #[command(flatten)]
    schema: SchemaArgs,

    /// One event date, e.g. 2026-11-20.
    #[arg(long, env = "EVENTLAKE_DATE")]
    date: Option<NaiveDate>,

    /// First date of a range (inclusive).
    #[arg(long, env = "EVENTLAKE_FROM_DATE", requires = "to")]
    from: Option<NaiveDate>,

    /// End of the range (exclusive).
    #[arg(long, env = "EVENTLAKE_TO_DATE", requires = "from")]
    to: Option<NaiveDate>,

    /// The day before the scheduled time (`--scheduled-time`, else now): what the schedule runs.
    #[arg(long, env = "EVENTLAKE_PREVIOUS_DAY")]
    previous_day: bool,

    /// Also rebuild every day whose gold is stale because late silver arrived after it was built.
    #[arg(long, env = "EVENTLAKE_CATCH_UP")]
    catch_up: bool,

    /// How many days back `--catch-up` looks.
    #[arg(long, env = "EVENTLAKE_CATCH_UP_DAYS", default_value_t = 8)]
    catch_up_days: i64,

    /// The time the scheduler fired (RFC 3339).
    #[arg(long, env = "EVENTLAKE_SCHEDULED_TIME")]
    scheduled_time: Option<DateTime<Utc>>,

    /// Arrival hours after the day that must have run before the day is complete.
    #[arg(long, env = "EVENTLAKE_LATENESS", default_value = "2h", value_parser = parse_chrono)]
    lateness: Duration,

    /// Build days even when some of their hourly manifests are missing.
    #[arg(long, env = "EVENTLAKE_ALLOW_INCOMPLETE")]
    allow_incomplete: bool,

    /// Rebuild days whose manifest is current.
    #[arg(long, env = "EVENTLAKE_FORCE")]
    force: bool,

    /// List the plan and write nothing.
    #[arg(long, env = "EVENTLAKE_DRY_RUN")]
    dry_run: bool,

    /// Memory the query engine may use before spilling to disk (e.g. 4GiB).
    #[arg(long, env = "EVENTLAKE_MEMORY_LIMIT", value_parser = parse_size)]
    memory_limit: Option<usize>,

    /// How long a day's lease holds before another run may take it over.
    #[arg(long, env = "EVENTLAKE_LOCK_TTL", default_value = "2h", value_parser = parse_chrono)]
    lock_ttl: Duration,

    /// Days of a range processed at once.
    #[arg(long, env = "EVENTLAKE_PARALLEL", default_value_t = 1)]
    parallel: usize,

    /// Gold files roll over to a new part at this size, in MiB.
    #[arg(long, env = "EVENTLAKE_TARGET_FILE_MB", default_value_t = 256)]
    target_file_mb: u64,

    /// Do not print the CloudWatch Embedded Metric Format line per day on stdout.
    #[arg(long, env = "EVENTLAKE_NO_METRICS")]
    no_metrics: bool,
}

pub(crate) fn run(args: DailyArgs) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt.block_on(run_async(args)),
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::Failure
        }
    }
}

async fn days(args: &DailyArgs, lake: &Lake) -> anyhow::Result<Vec<NaiveDate>> {
    let mut days = BTreeSet::new();
    if let Some(d) = args.date {
        days.insert(d);
    }
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if to <= from {
            bail!("--to {to} must be after --from {from} (the range is half-open)");
        }
        days.extend(from.iter_days().take_while(|d| *d < to));
    }
    let today = args.scheduled_time.unwrap_or_else(Utc::now).date_naive();
    if args.previous_day {
        days.extend(today.pred_opt());
    }
    if args.catch_up {
        let from = today - Duration::days(args.catch_up_days.max(1));
        days.extend(stale_days(lake, from, today, args.lateness).await?);
    }
    Ok(days.into_iter().collect())
}

async fn run_async(args: DailyArgs) -> ExitCode {
    let setup = async {
        let registry = Arc::new(args.schema.load()?);
        let lake = Lake::open(&args.lake)?;
        let days = days(&args, &lake).await?;
        anyhow::Ok((registry, lake, days))
    };
    let (registry, lake, days) = match setup.await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::Usage;
        }
    };
    let cfg = DailyConfig {
        lateness: args.lateness,
        allow_incomplete: args.allow_incomplete,
        force: args.force,
        lock_ttl: args.lock_ttl,
        target_file_bytes: args.target_file_mb.max(1) << 20,
        session: SessionOptions { memory_limit: args.memory_limit, ..SessionOptions::default() },
        ..DailyConfig::default()
    };
    if days.is_empty() {
        eprintln!("nothing to do: no day selected and no stale day found");
        return ExitCode::Success;
    }
    if args.dry_run {
        let mut table = Table::new(["date", "silver files", "bytes"]);
        for d in &days {
            match silver_inputs(&lake, *d).await {
                Ok(inputs) => table.row([
                    d.to_string(),
                    inputs.len().to_string(),
                    inputs.iter().map(|i| i.size).sum::<u64>().to_string(),
                ]),
                Err(e) => {
                    eprintln!("error: {d}: {e}");
                    return ExitCode::Failure;
                }
            }
        }
        println!("{}", table.render());
        return ExitCode::Success;
    }
    run_days(&lake, registry, &days, &cfg, &args).await
}

async fn run_days(
    lake: &Lake,
    registry: Arc<Registry>,
    days: &[NaiveDate],
    cfg: &DailyConfig,
    args: &DailyArgs,
) -> ExitCode {
    let bar = progress_bar("daily", days.len(), "days");
    let mut results: Vec<(NaiveDate, Result<DailyOutcome, eventlake_gold::Error>, f64)> =
        futures::stream::iter(days.iter().copied())
            .map(|date| {
                let registry = registry.clone();
                let bar = bar.clone();
                async move {
                    let run_id = uuid::Uuid::new_v4().to_string();
                    let span = tracing::info_span!("daily", job = "daily", run_id = %run_id, date = %date);
                    let _enter = span.enter();
                    let clock = Instant::now();
                    tracing::info!("run started");
                    let r = run_day(lake, registry, date, cfg, &run_id).await;
                    let secs = clock.elapsed().as_secs_f64();
                    match &r {
                        Ok(o) => tracing::info!(
                            status = ?o.status,
                            silver_rows = o.manifest.counts.silver_rows,
                            gold_rows = o.manifest.counts.gold_rows,
                            duplicates = o.manifest.counts.duplicates,
                            conflicts = o.manifest.counts.conflicts,
                            seconds = secs,
                            "run finished"
                        ),
                        Err(e) if e.is_lease_held() => tracing::warn!(error = %e, "another run holds this day"),
                        Err(e) => tracing::error!(error = %e, "run failed"),
                    }
                    bar.inc(1);
                    (date, r, secs)
                }
            })
            .buffer_unordered(args.parallel.max(1))
            .collect()
            .await;
    bar.finish_and_clear();
    results.sort_by_key(|(d, _, _)| *d);
    let mut code = ExitCode::Success;
    let mut table = Table::new([
        "date",
        "status",
        "silver rows",
        "gold rows",
        "duplicates",
        "conflicts",
        "missing hours",
        "seconds",
    ]);
    for (date, result, secs) in results {
        match result {
            Ok(o) => {
                let c = &o.manifest.counts;
                let status = match o.status {
                    DayStatus::Committed => "committed",
                    DayStatus::Skipped => "skipped (current)",
                };
                table.row([
                    date.to_string(),
                    status.into(),
                    c.silver_rows.to_string(),
                    c.gold_rows.to_string(),
                    c.duplicates.to_string(),
                    c.conflicts.to_string(),
                    o.manifest.missing_hours.len().to_string(),
                    format!("{secs:.2}"),
                ]);
                if !args.no_metrics && o.status == DayStatus::Committed {
                    let mut props = serde_json::Map::new();
                    props.insert("run_id".into(), o.manifest.run_id.clone().into());
                    props.insert("date".into(), o.manifest.date.clone().into());
                    let record = emf_record(
                        "eventlake",
                        Utc::now().timestamp_millis(),
                        &[("job", "daily")],
                        &[
                            Metric { name: "silver_rows", value: c.silver_rows as f64, unit: "Count" },
                            Metric { name: "gold_rows", value: c.gold_rows as f64, unit: "Count" },
                            Metric { name: "duplicates", value: c.duplicates as f64, unit: "Count" },
                            Metric { name: "conflicts", value: c.conflicts as f64, unit: "Count" },
                            Metric { name: "seconds", value: secs, unit: "Seconds" },
                        ],
                        &props,
                    );
                    println!("{record}");
                }
            }
            Err(e) if e.is_lease_held() => {
                eprintln!("error: {date}: {e}; another run is building this day (exit 75, retry later)");
                table.row([
                    date.to_string(),
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
                eprintln!("error: {date}: {e}");
                table.row([
                    date.to_string(),
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
    code
}
