//! `eventlake demo`: the hourly and daily jobs and a query on a sample lake, no AWS needed.
//!
//! Writes the sample schemas and two bronze hours (plain NDJSON with CRLF and bad records, a gzip
//! object of concatenated records, a late event) into a local folder, runs the hourly job over
//! them and prints the summary and where to look.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use eventlake_contract::RegistryOptions;
use eventlake_contract::records::RecordFormat;
use eventlake_gold::LakeSession;
use eventlake_gold::models::ModelConfig;
use eventlake_gold::{DailyConfig, SessionOptions};
use eventlake_lake::Lake;
use eventlake_lake::bronze::BronzeListing;
use eventlake_lake::layout::{Hour, ManifestKey, QuarantineFile, ReportKey};
use eventlake_lake::project::load_rules;
use eventlake_runtime::ExitCode;
use eventlake_silver::HourlyConfig;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::daily::{Daily, run_days};
use crate::hourly::{Hourly, run_hours};
use crate::models;
use crate::schemas::load_registry;
use crate::sources::{Source, catalog_of, load_sources};

const SCHEMAS: &[(&str, &str)] = &[
    ("account_created.json", include_str!("../../../examples/schemas/account_created.json")),
    ("lesson_completed.json", include_str!("../../../examples/schemas/lesson_completed.json")),
    ("lesson_started.json", include_str!("../../../examples/schemas/lesson_started.json")),
    ("payment_order_completed.json", include_str!("../../../examples/schemas/payment_order_completed.json")),
    ("payment_refund_issued.json", include_str!("../../../examples/schemas/payment_refund_issued.json")),
];

/// The second, CSV source: its project file and schema (relative to the demo folder).
const PROJECT: &[(&str, &str)] = &[
    ("paidy/eventlake.toml", include_str!("../../../examples/paidy/eventlake.toml")),
    ("paidy/schemas/loan_applications.json", include_str!("../../../examples/paidy/schemas/loan_applications.json")),
    ("paidy/models/applications_by_age.sql", include_str!("../../../examples/paidy/models/applications_by_age.sql")),
    ("paidy/models/applications_per_day.sql", include_str!("../../../examples/paidy/models/applications_per_day.sql")),
];

/// (bronze key under the lake, content, gzip it)
const BRONZE: &[(&str, &str, bool)] = &[
    (
        "bronze/2026/11/20/05/events-1-2026-11-20-05-04-11-0a1b.ndjson",
        include_str!("../../../examples/bronze/2026-11-20T05-a.ndjson"),
        false,
    ),
    (
        "bronze/2026/11/20/05/events-1-2026-11-20-05-19-42-9f3c",
        include_str!("../../../examples/bronze/2026-11-20T05-b.ndjson"),
        true,
    ),
    (
        "bronze/2026/11/20/06/events-1-2026-11-20-06-02-05-77aa.ndjson",
        include_str!("../../../examples/bronze/2026-11-20T06-a.ndjson"),
        false,
    ),
    (
        "paidy/yyyy=2026/mm=11/dd=20/hh=05/file001.csv",
        include_str!("../../../examples/paidy/bronze/file001.csv"),
        false,
    ),
];

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Folder for the sample schemas and lake (created; an existing demo lake is reused).
    #[arg(long, env = "EVENTLAKE_DEMO_DIR", default_value = "demo-lake")]
    dir: PathBuf,
}

/// The sample's arrival hours and its day.
const FIRST_HOUR: &str = "2026-11-20T05";
const END_HOUR: &str = "2026-11-20T07";

pub(crate) fn run(args: DemoArgs) -> ExitCode {
    let lake_dir = args.dir.join("lake");
    let schemas = args.dir.join("schemas");
    let project = args.dir.join(PROJECT[0].0);
    let setup = || -> anyhow::Result<(Lake, Vec<Source>, Vec<Hour>)> {
        prepare(&args.dir)?;
        let lake = Lake::open(&lake_dir.display().to_string())?;
        let default = Source {
            name: None,
            lake: lake.clone(),
            registry: Arc::new(load_registry(&schemas, &RegistryOptions::default())?),
            bronze: BronzeListing::default(),
            bronze_store: None,
            format: RecordFormat::Json,
        };
        let sources = load_sources(&lake, Some(default), Some(&project), &[])?;
        let hours = Hour::range(FIRST_HOUR.parse()?, END_HOUR.parse()?).collect();
        Ok((lake, sources, hours))
    };
    let (lake, sources, hours) = match setup() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::Failure;
        }
    };
    let first_hour = hours.first().copied();
    let hourly = Hourly {
        sources: sources.clone(),
        hours,
        lookback_hours: 0,
        config: HourlyConfig::default(),
        parallel: 1,
        dry_run: false,
        max_quarantine_rate: None,
        metrics: false,
    };
    eventlake_runtime::block_on(async {
        let (code, outcomes) = run_hours(&hourly).await;
        if code != ExitCode::Success {
            return code;
        }
        println!();
        println!("Sample lake: {}", lake.url());
        println!("Schemas:     {}", schemas.display());
        for o in &outcomes {
            for out in &o.manifest.outputs {
                println!("  {:<10} {:>4} rows  {}", out.kind, out.rows, out.key);
            }
        }
        // The daily job over the sample day (the sample has only two arrival hours).
        let Some(hour) = first_hour else { return ExitCode::Failure };
        let rules = match load_rules(&project) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::Failure;
            }
        };
        // Rules are checked and each day's quality page is written beside its gold.
        let daily = Daily {
            sources: sources.iter().map(|s| (s.clone(), vec![hour.date()])).collect(),
            config: DailyConfig { allow_incomplete: true, rules, ..DailyConfig::default() },
            parallel: 1,
            dry_run: false,
            metrics: false,
            fail_on_rule: false,
            report: true,
        };
        let (code, days) = run_days(&daily).await;
        if code != ExitCode::Success {
            return code;
        }
        for o in &days {
            let c = &o.manifest.counts;
            println!();
            println!(
                "Daily {}: {} silver rows -> {} gold rows ({} duplicate(s), {} conflict(s) removed)",
                o.date, c.silver_rows, c.gold_rows, c.duplicates, c.conflicts
            );
        }
        // The CSV source's model, over its gold.
        let models_dir = project.parent().map(|p| p.join("models")).unwrap_or_default();
        let planned = async {
            let ms = models::plan(&lake, catalog_of(&sources)?, &models_dir, SessionOptions::default()).await?;
            let all = ms.planned.iter().map(|p| p.model.name.clone()).collect();
            let (code, summary) = models::build_all(&lake, &ms, &all, &[], &ModelConfig::default(), false).await;
            anyhow::Ok((ms, code, summary))
        };
        let session = match planned.await {
            Ok((ms, ExitCode::Success, summary)) => {
                eprintln!("{}", summary.render());
                ms.session
            }
            Ok((_, code, _)) => return code,
            Err(e) => {
                eprintln!("error: models: {e:#}");
                return ExitCode::Failure;
            }
        };
        let queries = [
            "SELECT event_name, events, duplicates_removed, first_event_time, last_event_time \
             FROM daily_event_counts ORDER BY event_name",
            "SELECT count(*) AS applications, count(monthlyincome) AS with_income, avg(age) AS mean_age \
             FROM gold_loan_applications",
            "SELECT * FROM applications_by_age ORDER BY age_band",
        ];
        for sql in queries {
            match query(&session, sql).await {
                Ok(table) => {
                    println!();
                    println!("eventlake query \"{sql}\"");
                    println!("{table}");
                }
                Err(e) => {
                    eprintln!("error: query: {e:#}");
                    return ExitCode::Failure;
                }
            }
        }
        let local = |key: object_store::path::Path| lake_dir.join(key.as_ref()).display().to_string();
        println!();
        println!("Data-quality page of {}: {}", hour.date(), local(ReportKey::Day(hour.date()).path()));
        println!();
        println!("Try:");
        println!("  head -n 3 {}/*.jsonl", local(QuarantineFile::dir(hour)));
        println!("  cat {}", local(ManifestKey::Hourly(hour).path()));
        println!(
            "  eventlake query --lake {} --schemas {} \"SELECT reason, count(*) FROM quarantine GROUP BY 1\"",
            lake_dir.display(),
            schemas.display()
        );
        println!(
            "  eventlake query --lake {} --config {} \"SELECT record FROM paidy_quarantine\"   # the CSV source",
            lake_dir.display(),
            project.display()
        );
        println!(
            "  eventlake hourly --lake {} --schemas {} --hour {hour}   # rerun: skipped, nothing changes",
            lake_dir.display(),
            schemas.display()
        );
        ExitCode::Success
    })
}

async fn query(session: &LakeSession, sql: &str) -> anyhow::Result<String> {
    let batches = session.ctx.sql(sql).await?.collect().await?;
    Ok(arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
}

fn prepare(dir: &Path) -> anyhow::Result<()> {
    let schemas = dir.join("schemas");
    std::fs::create_dir_all(&schemas).with_context(|| format!("creating {}", schemas.display()))?;
    for (name, text) in SCHEMAS {
        std::fs::write(schemas.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    for (name, text) in PROJECT {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {name}"))?;
    }
    for (key, text, gzip) in BRONZE {
        let path = dir.join("lake").join(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let bytes = if *gzip {
            let mut enc = GzEncoder::new(Vec::new(), Compression::default());
            enc.write_all(text.as_bytes())?;
            enc.finish()?
        } else {
            text.as_bytes().to_vec()
        };
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
