//! `eventlake daily`: silver → deduplicated gold for event dates, with late data caught up.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::{ArgGroup, Args};
use eventlake_gold::{DailyConfig, DailyOutcome, SUMMARY_COLUMNS, SessionOptions, run_day, silver_inputs, stale_days};
use eventlake_lake::Lake;
use eventlake_lake::project::load_rules;
use eventlake_runtime::ExitCode;
use eventlake_runtime::duration::HumanDuration;
use eventlake_runtime::range::{RangeJob, run_range};
use eventlake_runtime::size::parse_size;
use eventlake_runtime::summary::Table;

use crate::bronze::BronzeOpts;
use crate::dates::named_dates;
use crate::report::{ReportTarget, write_reports};
use crate::sources::{Source, SourceOpts};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("days").required(true).multiple(true).args(["date", "from", "previous_day", "catch_up"])))]
/// Flags of `eventlake daily`.
pub(crate) struct DailyOpts {
    /// Lake root: a local path, file://… or s3://bucket/prefix.
    #[arg(long, env = "EVENTLAKE_LAKE")]
    lake: String,

    #[command(flatten)]
    sources: SourceOpts,

    #[command(flatten)]
    bronze: BronzeOpts,

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
    #[arg(long, env = "EVENTLAKE_LATENESS", default_value_t = DailyConfig::default().lateness.into())]
    lateness: HumanDuration,

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
    #[arg(long, env = "EVENTLAKE_LOCK_TTL", default_value_t = DailyConfig::default().lock_ttl.into())]
    lock_ttl: HumanDuration,

    /// Days of a range processed at once.
    #[arg(long, env = "EVENTLAKE_PARALLEL", default_value_t = 1)]
    parallel: usize,

    /// Gold files roll over to a new part at this size, in MiB.
    #[arg(long, env = "EVENTLAKE_TARGET_FILE_MB", default_value_t = DailyConfig::default().target_file_bytes >> 20)]
    target_file_mb: u64,

    /// Do not print the CloudWatch Embedded Metric Format line per day on stdout.
    #[arg(long, env = "EVENTLAKE_NO_METRICS")]
    no_metrics: bool,

    /// Exit 3 when a quality rule of the project file (`[[quality.rules]]`) fails for a day.
    #[arg(long, env = "EVENTLAKE_FAIL_ON_RULE")]
    fail_on_rule: bool,

    /// After each day, write its data-quality page (reports/dt=D/index.html) and the index.
    #[arg(long, env = "EVENTLAKE_REPORT")]
    report: bool,
}

/// A validated daily command.
pub(crate) struct Daily {
    /// Each source with the dates to build for it.
    pub(crate) sources: Vec<(Source, Vec<NaiveDate>)>,
    pub(crate) config: DailyConfig,
    pub(crate) parallel: usize,
    pub(crate) dry_run: bool,
    pub(crate) metrics: bool,
    pub(crate) fail_on_rule: bool,
    pub(crate) report: bool,
}

impl Daily {
    /// The settings one source runs with: the command's, with the source's bronze.
    pub(crate) fn config_of(&self, source: &Source) -> DailyConfig {
        DailyConfig { bronze: source.bronze.clone(), bronze_store: source.bronze_store.clone(), ..self.config.clone() }
    }
}

impl DailyOpts {
    /// The selected days; `--catch-up` reads the lake for stale ones.
    async fn days(&self, lake: &Lake) -> anyhow::Result<Vec<NaiveDate>> {
        let mut days = named_dates(self.date, (self.from, self.to), "--to", self.previous_day, self.scheduled_time)?;
        if self.catch_up {
            let today = self.scheduled_time.unwrap_or_else(Utc::now).date_naive();
            let from = today - Duration::days(self.catch_up_days.max(1));
            days.extend(stale_days(lake, from, today, self.lateness.chrono()).await?);
        }
        Ok(days.into_iter().collect())
    }

    fn config(&self) -> DailyConfig {
        DailyConfig {
            lateness: self.lateness.chrono(),
            allow_incomplete: self.allow_incomplete,
            force: self.force,
            lock_ttl: self.lock_ttl.chrono(),
            target_file_bytes: self.target_file_mb.max(1) << 20,
            session: SessionOptions { memory_limit: self.memory_limit, ..SessionOptions::default() },
            bronze: self.bronze.listing(),
            ..DailyConfig::default()
        }
    }

    /// Checks the flags and loads what they name.
    async fn validate(self) -> anyhow::Result<Daily> {
        let lake = Lake::open_reachable(&self.lake).await?;
        let mut sources = Vec::new();
        for source in self.sources.load(&lake, Some(&self.bronze))? {
            let days = self.days(&source.lake).await?;
            sources.push((source, days));
        }
        let rules = match &self.sources.config {
            Some(path) => load_rules(path)?,
            None => Vec::new(),
        };
        Ok(Daily {
            config: DailyConfig { rules, ..self.config() },
            sources,
            parallel: self.parallel,
            dry_run: self.dry_run,
            metrics: !self.no_metrics,
            fail_on_rule: self.fail_on_rule,
            report: self.report,
        })
    }
}

pub(crate) fn run(opts: DailyOpts) -> ExitCode {
    eventlake_runtime::block_on(async {
        let daily = match opts.validate().await {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::Usage;
            }
        };
        if daily.sources.iter().all(|(_, days)| days.is_empty()) {
            eprintln!("nothing to do: no day selected and no stale day found");
            return ExitCode::Success;
        }
        if daily.dry_run {
            return dry_run(&daily).await;
        }
        run_days(&daily).await.0
    })
}

async fn dry_run(d: &Daily) -> ExitCode {
    for (source, days) in &d.sources {
        if d.sources.len() > 1 {
            println!("{}:", source.label());
        }
        let mut table = Table::new(&["date", "silver files", "bytes"]);
        for day in days {
            match silver_inputs(&source.lake, *day).await {
                Ok(inputs) => table.row(vec![
                    day.to_string(),
                    inputs.len().to_string(),
                    inputs.iter().map(|i| i.size).sum::<u64>().to_string(),
                ]),
                Err(e) => {
                    eprintln!("error: {day}: {e}");
                    return ExitCode::Failure;
                }
            }
        }
        println!("{}", table.render());
    }
    ExitCode::Success
}

/// Builds every day and prints the summary; returns the exit code and the outcomes.
pub(crate) async fn run_days(d: &Daily) -> (ExitCode, Vec<DailyOutcome>) {
    let job = RangeJob {
        job: "daily",
        unit: "date",
        columns: SUMMARY_COLUMNS.to_vec(),
        parallel: d.parallel,
        metrics: d.metrics,
        busy: "another run is building this day",
    };
    let mut code = ExitCode::Success;
    let mut outcomes = Vec::new();
    for (source, days) in &d.sources {
        if days.is_empty() {
            continue;
        }
        if d.sources.len() > 1 {
            eprintln!("{}:", source.label());
        }
        let config = d.config_of(source);
        let (lake, registry, config) = (&source.lake, &source.registry, &config);
        let (c, finished) = run_range(&job, days, |date, run_id| async move {
            run_day(lake, registry.clone(), date, config, &run_id).await
        })
        .await;
        code = code.worst(c);
        let built: Vec<DailyOutcome> = finished.into_iter().filter_map(|f| f.result.ok()).collect();
        for o in built.iter().filter(|o| o.rules_failed() > 0) {
            let failed: Vec<&str> = o.manifest.rules.iter().filter(|r| !r.passed).map(|r| r.rule.as_str()).collect();
            let exit = if d.fail_on_rule { " (exit 3: --fail-on-rule)" } else { "" };
            eprintln!("warning: {}: quality rule(s) failed: {}{exit}", o.date, failed.join(", "));
            if d.fail_on_rule {
                code = code.worst(ExitCode::QualityThreshold);
            }
        }
        if d.report && !built.is_empty() {
            let target = ReportTarget { name: source.name.clone(), lake: source.lake.clone() };
            let dates: Vec<NaiveDate> = built.iter().map(|o| o.date).collect();
            match write_reports(&target, &dates, None).await {
                Ok(written) => {
                    for w in written {
                        tracing::info!(date = %w.facts.date, page = %w.key, "report written");
                    }
                }
                Err(e) => {
                    eprintln!("error: {}: report: {e:#}", source.label());
                    code = code.worst(ExitCode::Failure);
                }
            }
        }
        outcomes.extend(built);
    }
    (code, outcomes)
}
