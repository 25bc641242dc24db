//! `eventlake export`: a lake table's dates into PostgreSQL or MySQL/MariaDB.

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use eventlake_export::{ExportPlan, Target, export_partition, plan_statements};
use eventlake_gold::query::lake_session_of;
use eventlake_gold::{LakeSession, SessionOptions, quote};
use eventlake_lake::Lake;
use eventlake_lake::catalog::CatalogTable;
use eventlake_lake::layout::{DATE_KEY, ManifestKey};
use eventlake_lake::manifest::{Timings, write_manifest};
use eventlake_runtime::ExitCode;
use eventlake_runtime::size::parse_size;
use eventlake_runtime::summary::Table;
use serde::Serialize;

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
    /// the URL or in PGPASSWORD / MYSQL_PWD (never printed).
    #[arg(long = "to", env = "EVENTLAKE_EXPORT_TO")]
    to: String,

    /// The lake table (as Athena and `eventlake query` name it): gold_<type>, an entity table, an
    /// aggregate, a model.
    #[arg(long, env = "EVENTLAKE_EXPORT_TABLE")]
    table: String,

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

    /// Memory the engine may use before spilling to disk (e.g. 1GiB).
    #[arg(long, env = "EVENTLAKE_MEMORY_LIMIT", value_parser = parse_size)]
    memory_limit: Option<usize>,
}

/// The lake's record of one load.
#[derive(Debug, Serialize)]
struct ExportManifest {
    run_id: String,
    version: String,
    /// The target without its password.
    target: String,
    table: String,
    target_table: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    rows: u64,
    replaced: u64,
    added_columns: Vec<String>,
    timings: Timings,
}

impl ExportOpts {
    fn dates(&self) -> anyhow::Result<Vec<NaiveDate>> {
        let dates = named_dates(self.date, (self.from, self.until), "--until", self.previous_day, self.scheduled_time)?;
        Ok(dates.into_iter().collect())
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

pub(crate) fn run(opts: ExportOpts) -> ExitCode {
    eventlake_runtime::block_on(async {
        let setup = async {
            let target: Target = opts.to.parse()?;
            let lake = Lake::open(&opts.lake)?;
            let sources = opts.sources.load(&lake, None)?;
            let tables = catalog_of(&sources)?;
            let options = SessionOptions { memory_limit: opts.memory_limit, ..SessionOptions::default() };
            let (session, table, model_key): (LakeSession, CatalogTable, Option<String>) =
                match opts.models.resolve(opts.sources.config.as_deref()) {
                    Some(dir) => {
                        let ms = models::plan(&lake, tables.clone(), &dir, options).await?;
                        let found = ms.planned.iter().find(|p| p.table.name == opts.table);
                        let key = found.and_then(|p| p.model.unique_key.clone());
                        let table = found
                            .map(|p| p.table.clone())
                            .or_else(|| tables.iter().find(|t| t.name == opts.table).cloned());
                        (ms.session, table.with_context(|| unknown(&opts.table, &tables))?, key)
                    }
                    None => {
                        let table = tables
                            .iter()
                            .find(|t| t.name == opts.table)
                            .cloned()
                            .with_context(|| unknown(&opts.table, &tables))?;
                        (lake_session_of(&lake, &tables, options).await?, table, None)
                    }
                };
            let dated = match table.partitions.iter().map(|p| p.name).collect::<Vec<_>>().as_slice() {
                [] => false,
                [DATE_KEY] => true,
                other => bail!(
                    "{} is partitioned by {}: export loads tables by date (gold, entity tables, aggregates, models)",
                    table.name,
                    other.join(", ")
                ),
            };
            let dates = opts.dates()?;
            if dated && dates.is_empty() {
                bail!("{} is loaded date by date: give --date, --from/--until or --previous-day", table.name);
            }
            let plan = ExportPlan {
                table: opts.target_table.clone().unwrap_or_else(|| table.name.clone()),
                columns: table.columns.clone(),
                partition: dated.then(|| DATE_KEY.to_owned()),
                key: opts.key.clone().unwrap_or_else(|| default_key(&table, &sources, model_key.as_deref())),
                crash_after_rows: opts.crash_after_rows,
            };
            anyhow::Ok((
                target,
                lake,
                session,
                table,
                plan,
                if dated { dates.into_iter().map(Some).collect() } else { vec![None] },
            ))
        };
        let (target, lake, session, table, plan, units) = match setup.await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::Usage;
            }
        };
        if opts.plan {
            for statement in plan_statements(target.dialect, &plan) {
                println!("{statement};\n");
            }
            let dates: Vec<String> = units.iter().flatten().map(ToString::to_string).collect();
            println!(
                "-- into {target}: {} {}",
                plan.table,
                if dates.is_empty() { "(whole table)".into() } else { dates.join(", ") }
            );
            return ExitCode::Success;
        }
        let mut summary = Table::new(&["table", "date", "rows", "replaced", "seconds"]);
        let mut code = ExitCode::Success;
        for date in units {
            let clock = Instant::now();
            let started_at = Utc::now();
            let run_id = uuid::Uuid::new_v4().to_string();
            let day = date.map(|d| d.to_string()).unwrap_or_default();
            let loaded = async {
                let mut cols: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
                let sql = match date {
                    Some(d) => {
                        cols.push(quote(DATE_KEY));
                        format!(
                            "SELECT {} FROM {} WHERE {} = '{d}'",
                            cols.join(", "),
                            quote(&table.name),
                            quote(DATE_KEY)
                        )
                    }
                    None => format!("SELECT {} FROM {}", cols.join(", "), quote(&table.name)),
                };
                let stream = session.ctx.sql(&sql).await?.execute_stream().await?;
                let result = export_partition(&target, &plan, date, stream).await?;
                let manifest = ExportManifest {
                    run_id,
                    version: env!("CARGO_PKG_VERSION").into(),
                    target: target.to_string(),
                    table: table.name.clone(),
                    target_table: plan.table.clone(),
                    date: date.map(|d| d.to_string()),
                    rows: result.rows,
                    replaced: result.replaced,
                    added_columns: result.added_columns.clone(),
                    timings: Timings {
                        started_at: started_at.to_rfc3339(),
                        finished_at: Utc::now().to_rfc3339(),
                        seconds: clock.elapsed().as_secs_f64(),
                    },
                };
                let key = ManifestKey::Export { target: target.key(), table: table.name.clone(), date };
                write_manifest(&lake, &key, &manifest).await?;
                anyhow::Ok(result)
            };
            match loaded.await {
                Ok(r) => {
                    tracing::info!(table = %table.name, date = %day, rows = r.rows, replaced = r.replaced, "export finished");
                    summary.row(vec![
                        table.name.clone(),
                        day,
                        r.rows.to_string(),
                        r.replaced.to_string(),
                        format!("{:.2}", clock.elapsed().as_secs_f64()),
                    ]);
                }
                Err(e) => {
                    eprintln!("error: {} {day}: {e:#}", table.name);
                    code = code.worst(ExitCode::Failure);
                }
            }
        }
        eprintln!("{}", summary.render());
        code
    })
}

fn unknown(name: &str, tables: &[CatalogTable]) -> String {
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    format!("no table {name:?} in the lake; tables: {}", names.join(", "))
}
