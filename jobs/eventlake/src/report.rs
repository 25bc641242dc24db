//! `eventlake report`: the data-quality pages of a lake's dates, from its manifests
//! (`reports/dt=D/index.html` and `reports/index.html`, optionally copied to a local folder).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{ArgGroup, Args};
use eventlake_lake::Lake;
use eventlake_lake::layout::{ReportKey, source_root};
use eventlake_lake::project::load_project;
use eventlake_quality::page::{day_page, index_page};
use eventlake_quality::{DayFacts, load_day};
use eventlake_runtime::ExitCode;
use eventlake_runtime::summary::Table;

use crate::dates::named_dates;

/// Flags of `eventlake report`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("days").required(true).multiple(true).args(["date", "from", "previous_day"])))]
pub(crate) struct ReportOpts {
    /// Lake root: a local path, file://… or s3://bucket/prefix.
    #[arg(long, env = "EVENTLAKE_LAKE")]
    lake: String,

    /// Project file: a report per declared source (in `sources/<name>/reports/`); without it, the
    /// lake root's.
    #[arg(long, env = "EVENTLAKE_CONFIG")]
    config: Option<PathBuf>,

    /// Only these sources (comma separated; `default` is the lake root's).
    #[arg(long = "source", env = "EVENTLAKE_SOURCE", value_delimiter = ',')]
    only: Vec<String>,

    /// One date.
    #[arg(long, env = "EVENTLAKE_DATE")]
    date: Option<NaiveDate>,

    /// First date of a range (inclusive).
    #[arg(long, env = "EVENTLAKE_FROM_DATE", requires = "to")]
    from: Option<NaiveDate>,

    /// End of the range (exclusive).
    #[arg(long, env = "EVENTLAKE_TO_DATE", requires = "from")]
    to: Option<NaiveDate>,

    /// The day before the scheduled time (`--scheduled-time`, else now).
    #[arg(long, env = "EVENTLAKE_PREVIOUS_DAY")]
    previous_day: bool,

    /// The time the scheduler fired (RFC 3339).
    #[arg(long, env = "EVENTLAKE_SCHEDULED_TIME")]
    scheduled_time: Option<DateTime<Utc>>,

    /// Also write the pages into this local folder (`<dir>/[<source>/]dt=D/index.html`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Where one source's reports go.
pub(crate) struct ReportTarget {
    /// `None`: the lake root's source.
    pub(crate) name: Option<String>,
    pub(crate) lake: Lake,
}

/// One page written.
pub(crate) struct Written {
    pub(crate) facts: DayFacts,
    pub(crate) key: String,
}

/// Builds and writes the pages of `dates` for one source, and the index over them; with `out`,
/// copies them there too.
pub(crate) async fn write_reports(
    target: &ReportTarget,
    dates: &[NaiveDate],
    out: Option<&Path>,
) -> anyhow::Result<Vec<Written>> {
    let label = target.name.as_deref().unwrap_or_default();
    let local = out.map(|o| match &target.name {
        Some(n) => o.join(n),
        None => o.to_path_buf(),
    });
    let now = Utc::now();
    let mut written = Vec::new();
    for date in dates {
        let facts = load_day(&target.lake, *date).await.with_context(|| format!("reading the manifests of {date}"))?;
        let html = day_page(&facts, label, now);
        let key = ReportKey::Day(*date).path();
        target.lake.put(&key, html.clone().into_bytes()).await?;
        if let Some(dir) = &local {
            let file = dir.join(format!("dt={date}")).join("index.html");
            write_file(&file, &html)?;
        }
        written.push(Written { facts, key: target.lake.url_of(&key) });
    }
    let days: Vec<DayFacts> = written.iter().map(|w| w.facts.clone()).collect();
    let index = index_page(&days, label, now);
    target.lake.put(&ReportKey::Index.path(), index.clone().into_bytes()).await?;
    if let Some(dir) = &local {
        write_file(&dir.join("index.html"), &index)?;
    }
    Ok(written)
}

fn write_file(file: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))
}

impl ReportOpts {
    fn targets(&self, lake: &Lake) -> anyhow::Result<Vec<ReportTarget>> {
        let wanted = |name: &str| self.only.is_empty() || self.only.iter().any(|o| o == name);
        let mut out = Vec::new();
        if self.config.is_none() || self.only.iter().any(|o| o == "default") {
            out.push(ReportTarget { name: None, lake: lake.clone() });
        }
        if let Some(path) = &self.config {
            let specs = load_project(path)?;
            for o in &self.only {
                if o != "default" && !specs.iter().any(|s| &s.name == o) {
                    bail!("--source {o:?}: no such source in {}", path.display());
                }
            }
            for spec in specs.into_iter().filter(|s| wanted(&s.name)) {
                out.push(ReportTarget { lake: lake.scoped(&source_root(&spec.name)), name: Some(spec.name) });
            }
        }
        Ok(out)
    }
}

pub(crate) fn run(opts: ReportOpts) -> ExitCode {
    eventlake_runtime::block_on(async {
        let setup = async {
            let lake = Lake::open_reachable(&opts.lake).await?;
            let dates = named_dates(opts.date, (opts.from, opts.to), "--to", opts.previous_day, opts.scheduled_time)?;
            anyhow::Ok((opts.targets(&lake)?, dates.into_iter().collect::<Vec<NaiveDate>>()))
        };
        let (targets, dates) = match setup.await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::Usage;
            }
        };
        let mut table = Table::new(&["source", "date", "records", "quarantined", "rules failed", "page"]);
        for target in &targets {
            match write_reports(target, &dates, opts.out.as_deref()).await {
                Ok(written) => {
                    for w in written {
                        let q = w.facts.quality();
                        let failed = w.facts.daily.as_ref().map_or("not built".to_owned(), |d| {
                            d.rules.iter().filter(|r| !r.passed).count().to_string()
                        });
                        table.row(vec![
                            target.name.clone().unwrap_or_else(|| "default".into()),
                            w.facts.date.to_string(),
                            q.records.to_string(),
                            q.quarantined.to_string(),
                            failed,
                            w.key,
                        ]);
                    }
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return ExitCode::Failure;
                }
            }
        }
        eprintln!("{}", table.render());
        ExitCode::Success
    })
}
