//! `eventlake models`: builds a project's SQL models in dependency order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use eventlake_gold::models::{
    ModelConfig, PlannedModel, build_model, load_models, model_dates, plan_models, register_model,
};
use eventlake_gold::query::lake_session_of;
use eventlake_gold::{LakeSession, SessionOptions};
use eventlake_lake::Lake;
use eventlake_lake::catalog::CatalogTable;
use eventlake_runtime::ExitCode;
use eventlake_runtime::duration::HumanDuration;
use eventlake_runtime::size::parse_size;
use eventlake_runtime::summary::Table;

use crate::dates::named_dates;
use crate::sources::{SourceOpts, catalog_of};

/// Flags of `eventlake models`.
#[derive(Debug, Args)]
pub(crate) struct ModelsOpts {
    /// Lake root: a local path, file://… or s3://bucket/prefix.
    #[arg(long, env = "EVENTLAKE_LAKE")]
    lake: String,

    #[command(flatten)]
    sources: SourceOpts,

    #[command(flatten)]
    models: ModelsDir,

    /// Build only these models; `name+` also builds every model that reads it (comma separated).
    #[arg(long, env = "EVENTLAKE_SELECT", value_delimiter = ',')]
    select: Vec<String>,

    /// One date of the incremental models (with their lookback days before it).
    #[arg(long, env = "EVENTLAKE_DATE")]
    date: Option<NaiveDate>,

    /// First date of a range (inclusive).
    #[arg(long = "from", env = "EVENTLAKE_FROM_DATE", requires = "to")]
    from: Option<NaiveDate>,

    /// End of the range (exclusive).
    #[arg(long = "to", env = "EVENTLAKE_TO_DATE", requires = "from")]
    to: Option<NaiveDate>,

    /// The day before the scheduled time (`--scheduled-time`, else now): what the schedule runs.
    #[arg(long, env = "EVENTLAKE_PREVIOUS_DAY")]
    previous_day: bool,

    /// The time the scheduler fired (RFC 3339).
    #[arg(long, env = "EVENTLAKE_SCHEDULED_TIME")]
    scheduled_time: Option<DateTime<Utc>>,

    /// Rebuild even when a model's SQL and inputs are those of its last build.
    #[arg(long, env = "EVENTLAKE_FORCE")]
    force: bool,

    /// Print the plan (order, what each model reads, dates) and the SQL; write nothing.
    #[arg(long, env = "EVENTLAKE_DRY_RUN")]
    dry_run: bool,

    /// Memory the engine may use before spilling to disk (e.g. 4GiB).
    #[arg(long, env = "EVENTLAKE_MEMORY_LIMIT", value_parser = parse_size)]
    memory_limit: Option<usize>,

    /// How long a model's lease holds before another run may take it over.
    #[arg(long, env = "EVENTLAKE_LOCK_TTL", default_value_t = ModelConfig::default().lock_ttl.into())]
    lock_ttl: HumanDuration,
}

/// Where the model files are.
#[derive(Debug, Clone, Args)]
pub(crate) struct ModelsDir {
    /// Folder of model files (`*.sql`); default: `models/` beside the project file, when it exists.
    #[arg(long = "models", env = "EVENTLAKE_MODELS")]
    pub(crate) dir: Option<PathBuf>,
}

impl ModelsDir {
    /// The folder to read, if any: the flag's, or `models/` beside `config` when it exists.
    pub(crate) fn resolve(&self, config: Option<&Path>) -> Option<PathBuf> {
        self.dir.clone().or_else(|| {
            let beside = config?.parent()?.join("models");
            beside.is_dir().then_some(beside)
        })
    }
}

/// The lake's tables in a session, with the models planned into it (empty until built).
pub(crate) struct ModelSession {
    pub(crate) session: LakeSession,
    pub(crate) lake_tables: Vec<CatalogTable>,
    pub(crate) planned: Vec<PlannedModel>,
}

/// Plans the models of `dir` over `lake_tables` (each registered with its files).
pub(crate) async fn plan(
    lake: &Lake,
    lake_tables: Vec<CatalogTable>,
    dir: &Path,
    options: SessionOptions,
) -> anyhow::Result<ModelSession> {
    let session = lake_session_of(lake, &lake_tables, options).await?;
    let models = load_models(dir)?;
    let planned = plan_models(&session, &lake_tables, models).await?;
    // Models built earlier are read as they are; the ones rebuilt now are registered again after.
    for p in &planned {
        register_model(&session, lake, &p.table).await?;
    }
    Ok(ModelSession { session, lake_tables, planned })
}

impl ModelsOpts {
    fn dates(&self) -> anyhow::Result<Vec<NaiveDate>> {
        let dates = named_dates(self.date, (self.from, self.to), "--to", self.previous_day, self.scheduled_time)?;
        Ok(dates.into_iter().collect())
    }

    /// The models to build: all, or the selected ones (with what reads them for `name+`).
    fn selected(&self, planned: &[PlannedModel]) -> anyhow::Result<BTreeSet<String>> {
        if self.select.is_empty() {
            return Ok(planned.iter().map(|p| p.model.name.clone()).collect());
        }
        let mut chosen = BTreeSet::new();
        for s in &self.select {
            let (name, downstream) = match s.strip_suffix('+') {
                Some(n) => (n, true),
                None => (s.as_str(), false),
            };
            if !planned.iter().any(|p| p.model.name == name) {
                bail!("--select {s:?}: no model {name:?}");
            }
            chosen.insert(name.to_owned());
            if downstream {
                // Planned models come after what they read: one pass collects every reader.
                for p in planned {
                    if p.reads.iter().any(|r| chosen.contains(r)) {
                        chosen.insert(p.model.name.clone());
                    }
                }
            }
        }
        Ok(chosen)
    }
}

pub(crate) fn run(opts: ModelsOpts) -> ExitCode {
    eventlake_runtime::block_on(async {
        let setup = async {
            let lake = Lake::open_reachable(&opts.lake).await?;
            let dir = opts
                .models
                .resolve(opts.sources.config.as_deref())
                .context("no model folder: pass --models DIR (or put models/ beside the project file)")?;
            let options = SessionOptions { memory_limit: opts.memory_limit, ..SessionOptions::default() };
            let lake_tables = catalog_of(&opts.sources.load(&lake, None)?)?;
            let planned = plan(&lake, lake_tables, &dir, options).await?;
            let selected = opts.selected(&planned.planned)?;
            anyhow::Ok((lake, planned, opts.dates()?, selected))
        };
        let (lake, ms, dates, selected) = match setup.await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::Usage;
            }
        };
        let config = ModelConfig { force: opts.force, lock_ttl: opts.lock_ttl.chrono(), ..ModelConfig::default() };
        let (code, summary) = build_all(&lake, &ms, &selected, &dates, &config, opts.dry_run).await;
        if !opts.dry_run {
            eprintln!("{}", summary.render());
        }
        code
    })
}

/// Builds the `selected` models in order (or prints the plan), each registered again once built so
/// the models after it read its new files; returns the worst exit code and the summary table.
pub(crate) async fn build_all(
    lake: &Lake,
    ms: &ModelSession,
    selected: &BTreeSet<String>,
    dates: &[NaiveDate],
    config: &ModelConfig,
    dry_run: bool,
) -> (ExitCode, Table) {
    let mut all_tables = ms.lake_tables.clone();
    all_tables.extend(ms.planned.iter().map(|p| p.table.clone()));
    let mut summary = Table::new(&["model", "date", "status", "rows", "files", "seconds"]);
    let mut code = ExitCode::Success;
    for p in ms.planned.iter().filter(|p| selected.contains(&p.model.name)) {
        let units: Vec<Option<NaiveDate>> = if p.table.partitions.is_empty() {
            vec![None]
        } else {
            match model_dates(lake, p, &all_tables, dates).await {
                Ok(d) => d.into_iter().map(Some).collect(),
                Err(e) => {
                    eprintln!("error: {}: {e}", p.model.name);
                    code = code.worst(ExitCode::Failure);
                    continue;
                }
            }
        };
        if dry_run {
            let dates: Vec<String> = units.iter().flatten().map(ToString::to_string).collect();
            println!("-- {} ({:?}) reads {}", p.model.name, p.model.materialized, p.reads.join(", "));
            if !dates.is_empty() {
                println!("-- dates: {}", dates.join(", "));
            }
            println!("{}\n", p.model.sql.trim());
            continue;
        }
        for date in units {
            let clock = Instant::now();
            let run_id = uuid::Uuid::new_v4().to_string();
            let built = build_model(lake, &ms.session, p, &all_tables, date, config, &run_id).await;
            let day = date.map(|d| d.to_string()).unwrap_or_default();
            match built {
                Ok(o) => {
                    tracing::info!(model = %o.model, date = %day, built = o.built, rows = o.rows, "model finished");
                    summary.row(vec![
                        o.model,
                        day,
                        if o.built { "built" } else { "skipped (inputs unchanged)" }.into(),
                        o.rows.to_string(),
                        o.files.to_string(),
                        format!("{:.2}", clock.elapsed().as_secs_f64()),
                    ]);
                }
                Err(e) => {
                    eprintln!("error: {} {day}: {e}", p.model.name);
                    code = code.worst(if e.is_lease_held() {
                        ExitCode::LeaseHeld
                    } else if matches!(e, eventlake_gold::Error::Model { .. }) {
                        ExitCode::Usage
                    } else {
                        ExitCode::Failure
                    });
                }
            }
        }
        if let Err(e) = register_model(&ms.session, lake, &p.table).await {
            eprintln!("error: {}: {e}", p.model.name);
            code = code.worst(ExitCode::Failure);
        }
    }
    (code, summary)
}
