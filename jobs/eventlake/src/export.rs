//! `eventlake export`: a lake table's dates into PostgreSQL or MySQL/MariaDB.

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use eventlake_contract::ColumnType;
use eventlake_export::{ExportJob, ExportPlan, SUMMARY_COLUMNS, Slice, Target, plan_statements};
use eventlake_gold::query::lake_session_of;
use eventlake_gold::{LakeSession, SessionOptions};
use eventlake_lake::Lake;
use eventlake_lake::catalog::CatalogTable;
use eventlake_lake::layout::{DATE_KEY, HOUR_KEY, Hour};
use eventlake_runtime::ExitCode;
use eventlake_runtime::range::{RangeJob, run_range};
use eventlake_runtime::size::parse_size;
use eventlake_runtime::summary::{draws_progress, rows_bar as rows_bar_of};
use indicatif::ProgressBar;

use crate::dates::named_dates;
use crate::models::{self, ModelsDir};
use crate::sources::{Source, SourceOpts, catalog_of};

/// Flags of `eventlake export`.
#[derive(Debug, Args)]
pub(crate) struct ExportOpts {
    /// Lake root: a local path, file://… or s3://bucket/prefix.
    #[arg(long, env = "EVENTLAKE_LAKE")]
    lake: String,

    #[command(flatten)]
    sources: SourceOpts,

    #[command(flatten)]
    models: ModelsDir,

    /// The database: postgresql://user@host:port/db or mysql://user@host:port/db; the password in
    /// the URL, in EVENTLAKE_EXPORT_PASSWORD or in PGPASSWORD / MYSQL_PWD (never printed).
    #[arg(long = "to", env = "EVENTLAKE_EXPORT_TO")]
    to: String,

    /// The lake tables (as Athena and `eventlake query` name them), comma-separated: gold_<type>,
    /// an entity table, an aggregate, a model, silver_<type> or quarantine (by hour).
    #[arg(long = "table", env = "EVENTLAKE_EXPORT_TABLE", value_delimiter = ',', required = true)]
    tables: Vec<String>,

    /// The table's name in the database (default: the lake table's).
    #[arg(long, env = "EVENTLAKE_EXPORT_TARGET_TABLE")]
    target_table: Option<String>,

    /// Primary key columns (default: the table's event id and `dt`, or a model's unique key).
    #[arg(long, value_delimiter = ',')]
    key: Option<Vec<String>>,

    /// One date.
    #[arg(long, env = "EVENTLAKE_DATE")]
    date: Option<NaiveDate>,

    /// First date of a range (inclusive).
    #[arg(long = "from", env = "EVENTLAKE_FROM_DATE", requires = "until")]
    from: Option<NaiveDate>,

    /// End of the range (exclusive).
    #[arg(long, env = "EVENTLAKE_UNTIL_DATE", requires = "from")]
    until: Option<NaiveDate>,

    /// An hour of a table partitioned by date and hour (silver, quarantine), e.g. 2026-11-20T05;
    /// repeat or comma-separate for several.
    #[arg(long, env = "EVENTLAKE_EXPORT_HOUR", value_delimiter = ',')]
    hour: Vec<Hour>,

    /// The day before the scheduled time (`--scheduled-time`, else now).
    #[arg(long, env = "EVENTLAKE_PREVIOUS_DAY")]
    previous_day: bool,

    /// The time the scheduler fired (RFC 3339).
    #[arg(long, env = "EVENTLAKE_SCHEDULED_TIME")]
    scheduled_time: Option<DateTime<Utc>>,

    /// Print the target table's DDL and the dates, load nothing.
    #[arg(long)]
    plan: bool,

    /// Abort the process after loading this many rows (crash-recovery testing).
    #[arg(long, hide = true)]
    crash_after_rows: Option<u64>,

    /// Do not print CloudWatch EMF metrics lines on stdout.
    #[arg(long, env = "EVENTLAKE_NO_METRICS")]
    no_metrics: bool,

    /// Memory the engine may use before spilling to disk (e.g. 1GiB).
    #[arg(long, env = "EVENTLAKE_MEMORY_LIMIT", value_parser = parse_size)]
    memory_limit: Option<usize>,
}

impl ExportOpts {
    fn dates(&self) -> anyhow::Result<Vec<NaiveDate>> {
        let dates = named_dates(self.date, (self.from, self.until), "--until", self.previous_day, self.scheduled_time)?;
        Ok(dates.into_iter().collect())
    }

    /// The slices of `table` the flags name: its dates, or its hours for a table by date and hour.
    fn slices(&self, table: &CatalogTable) -> anyhow::Result<Vec<Slice>> {
        let partitions: Vec<&str> = table.partitions.iter().map(|p| p.name).collect();
        let dates = self.dates()?;
        let hours: Vec<Slice> = self.hour.iter().map(|h| Slice::Hour(h.date(), h.hour_of_day())).collect();
        let name = &table.name;
        match partitions.as_slice() {
            // The whole table each time, whatever dates a schedule passes.
            [] => Ok(vec![Slice::Whole]),
            [DATE_KEY] if !hours.is_empty() => bail!("{name} is partitioned by date only: give --date, not --hour"),
            [DATE_KEY] | [DATE_KEY, HOUR_KEY] if dates.is_empty() && hours.is_empty() => {
                bail!("{name} is loaded date by date: give --date, --from/--until, --previous-day or --hour")
            }
            [DATE_KEY] | [DATE_KEY, HOUR_KEY] => Ok(dates.into_iter().map(Slice::Date).chain(hours).collect()),
            other => bail!(
                "{name} is partitioned by {}: export loads tables by date or by date and hour \
                 (gold, entity tables, aggregates, models, silver, quarantine)",
                other.join(", ")
            ),
        }
    }
}

/// The default key: a gold table's event id (with `dt`), or a model's unique key.
fn default_key(table: &CatalogTable, sources: &[Source], model_key: Option<&str>) -> Vec<String> {
    let dated = table.partitions.iter().any(|p| p.name == DATE_KEY);
    let id = model_key.map(str::to_owned).or_else(|| {
        let event_type = table.name.strip_prefix("gold_")?;
        let source = sources.iter().find(|s| s.registry.table(event_type).is_some())?;
        Some(source.registry.options().envelope.id_column())
    });
    match id {
        Some(id) if table.columns.iter().any(|c| c.name == id) => {
            let mut key = vec![id];
            if dated {
                key.push(DATE_KEY.to_owned());
            }
            key
        }
        _ => Vec::new(),
    }
}

/// The partition columns as the target stores them: `dt` a date, `hour` a number.
fn partition_columns(table: &CatalogTable) -> Vec<(String, ColumnType)> {
    let ty = |name: &str| if name == HOUR_KEY { ColumnType::Int64 } else { ColumnType::Date };
    table.partitions.iter().map(|p| (p.name.to_owned(), ty(p.name))).collect()
}

/// What one table's export needs, resolved before anything loads.
struct Resolved {
    table: CatalogTable,
    plan: ExportPlan,
    slices: Vec<Slice>,
}

pub(crate) fn run(opts: ExportOpts) -> ExitCode {
    eventlake_runtime::block_on(async {
        let setup = async {
            let target: Target = opts.to.parse()?;
            // The deployment's secret, else the client's own variable (when the URL has none).
            let password =
                target.password_variables().iter().find_map(|v| std::env::var(v).ok().filter(|p| !p.is_empty()));
            let target = target.with_password(password);
            if opts.tables.len() > 1 && opts.target_table.is_some() {
                bail!("--target-table names one table's target: give one --table with it");
            }
            let lake = Lake::open_reachable(&opts.lake).await?;
            let sources = opts.sources.load(&lake, None)?;
            let tables = catalog_of(&sources)?;
            let options = SessionOptions { memory_limit: opts.memory_limit, ..SessionOptions::default() };
            // Models' tables (and their unique keys) come from their plans.
            let (session, models): (LakeSession, Vec<(CatalogTable, Option<String>)>) =
                match opts.models.resolve(opts.sources.config.as_deref()) {
                    Some(dir) => {
                        let ms = models::plan(&lake, tables.clone(), &dir, options).await?;
                        let planned =
                            ms.planned.iter().map(|p| (p.table.clone(), p.model.unique_key.clone())).collect();
                        (ms.session, planned)
                    }
                    None => (lake_session_of(&lake, &tables, options).await?, Vec::new()),
                };
            let mut resolved = Vec::new();
            for name in &opts.tables {
                let (table, model_key) = models
                    .iter()
                    .find(|(t, _)| &t.name == name)
                    .cloned()
                    .or_else(|| tables.iter().find(|t| &t.name == name).map(|t| (t.clone(), None)))
                    .with_context(|| unknown(name, &tables, &models))?;
                let slices = opts.slices(&table)?;
                let plan = ExportPlan {
                    table: opts.target_table.clone().unwrap_or_else(|| table.name.clone()),
                    columns: table.columns.clone(),
                    partition: partition_columns(&table),
                    key: opts.key.clone().unwrap_or_else(|| default_key(&table, &sources, model_key.as_deref())),
                    crash_after_rows: opts.crash_after_rows,
                };
                resolved.push(Resolved { table, plan, slices });
            }
            anyhow::Ok((target, lake, session, resolved))
        };
        let (target, lake, session, resolved) = match setup.await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::Usage;
            }
        };
        if opts.plan {
            for r in &resolved {
                for statement in plan_statements(target.dialect, &r.plan) {
                    println!("{statement};\n");
                }
                let slices: Vec<String> = r.slices.iter().map(ToString::to_string).collect();
                println!("-- {} into {target}: {} {}\n", r.table.name, r.plan.table, slices.join(", "));
            }
            return ExitCode::Success;
        }
        let range = RangeJob {
            job: "export",
            unit: "slice",
            columns: SUMMARY_COLUMNS.to_vec(),
            parallel: 1,
            metrics: !opts.no_metrics,
            busy: "another export is loading this slice",
        };
        let mut code = ExitCode::Success;
        for r in &resolved {
            if resolved.len() > 1 {
                eprintln!("{} → {}:", r.table.name, r.plan.table);
            }
            let job = ExportJob { lake: &lake, session: &session, table: &r.table, plan: &r.plan, target: &target };
            let job = &job;
            // Rows within a slice on a terminal, when there is one slice (a range shows slices).
            let rows_bar = r.slices.len() == 1 && draws_progress();
            let (c, _) = run_range(&range, &r.slices, |slice, run_id| async move {
                let bar = match rows_bar {
                    true => rows_bar_of(&format!("export {} {slice}", r.table.name), job.lake_rows(slice).await?),
                    false => ProgressBar::hidden(),
                };
                let loaded = job.run(slice, &run_id, &|rows| bar.set_position(rows)).await;
                bar.finish_and_clear();
                loaded
            })
            .await;
            code = code.worst(c);
        }
        code
    })
}

fn unknown(name: &str, tables: &[CatalogTable], models: &[(CatalogTable, Option<String>)]) -> String {
    let names: Vec<&str> = tables.iter().chain(models.iter().map(|(t, _)| t)).map(|t| t.name.as_str()).collect();
    format!("no table {name:?} in the lake; tables: {}", names.join(", "))
}
