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
use eventlake_lake::Lake;
use eventlake_lake::layout::Hour;
use eventlake_runtime::ExitCode;
use flate2::Compression;
use flate2::write::GzEncoder;

use eventlake_gold::query::lake_session;
use eventlake_gold::{DailyConfig, SessionOptions, run_day};

use crate::hourly::{HourlyArgs, SchemaArgs, run_hours};

const SCHEMAS: &[(&str, &str)] = &[
    ("account_created.json", include_str!("../../../examples/schemas/account_created.json")),
    ("lesson_completed.json", include_str!("../../../examples/schemas/lesson_completed.json")),
    ("lesson_started.json", include_str!("../../../examples/schemas/lesson_started.json")),
    ("payment_order_completed.json", include_str!("../../../examples/schemas/payment_order_completed.json")),
    ("payment_refund_issued.json", include_str!("../../../examples/schemas/payment_refund_issued.json")),
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
];

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Folder for the sample schemas and lake (created; an existing demo lake is reused).
    #[arg(long, env = "EVENTLAKE_DEMO_DIR", default_value = "demo-lake")]
    dir: PathBuf,
}

pub(crate) fn run(args: DemoArgs) -> ExitCode {
    match prepare(&args.dir) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::Failure;
        }
    }
    let lake_dir = args.dir.join("lake");
    let schemas = args.dir.join("schemas");
    let hourly = HourlyArgs {
        lake: lake_dir.display().to_string(),
        schema: SchemaArgs {
            schemas: schemas.clone(),
            allow_undeclared_fields: false,
            event_id_field: "event_uuid".into(),
            event_name_field: "event_name".into(),
            created_at_field: "created_at".into(),
        },
        hour: None,
        from: Some("2026-11-20T05".into()),
        to: Some("2026-11-20T07".into()),
        previous_hour: false,
        scheduled_time: None,
        parallel: 1,
        force: false,
        dry_run: false,
        lock_ttl: chrono::Duration::hours(1),
        max_lateness: chrono::Duration::days(7),
        max_early: chrono::Duration::hours(1),
        max_quarantine_rate: None,
        bronze_prefix: "bronze".into(),
        error_prefixes: Vec::new(),
        target_file_mb: 256,
        workers: None,
        no_metrics: true,
        crash_at: None,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::Failure;
        }
    };
    rt.block_on(async {
        let setup = (|| -> anyhow::Result<_> {
            let registry = Arc::new(hourly.schema.load()?);
            let lake = Lake::open(&hourly.lake)?;
            Ok((registry, lake))
        })();
        let (registry, lake) = match setup {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::Failure;
            }
        };
        let hours: Vec<Hour> = match (hourly.from.as_deref().map(str::parse), hourly.to.as_deref().map(str::parse)) {
            (Some(Ok(a)), Some(Ok(b))) => Hour::range(a, b).collect(),
            _ => return ExitCode::Failure,
        };
        let (code, outcomes) = run_hours(&lake, registry.clone(), &hours, &hourly.config(), &hourly).await;
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
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
        let daily = DailyConfig { allow_incomplete: true, ..DailyConfig::default() };
        let run_id = uuid::Uuid::new_v4().to_string();
        match run_day(&lake, registry.clone(), date, &daily, &run_id).await {
            Ok(o) => {
                let c = &o.manifest.counts;
                println!();
                println!(
                    "Daily {date}: {} silver rows -> {} gold rows ({} duplicate(s), {} conflict(s) removed)",
                    c.silver_rows, c.gold_rows, c.duplicates, c.conflicts
                );
            }
            Err(e) => {
                eprintln!("error: daily {date}: {e}");
                return ExitCode::Failure;
            }
        }
        let sql = "SELECT event_name, events, duplicates_removed, first_event_time, last_event_time \
                   FROM daily_event_counts ORDER BY event_name";
        match query(&lake, &registry, sql).await {
            Ok(table) => {
                println!();
                println!("eventlake query \"{sql}\"");
                println!("{table}");
            }
            Err(e) => {
                eprintln!("error: query: {e}");
                return ExitCode::Failure;
            }
        }
        println!();
        println!("Try:");
        println!("  head -n 3 {}/quarantine/dt=2026-11-20/hour=05/*.jsonl", lake_dir.display());
        println!("  cat {}/_manifests/hourly/dt=2026-11-20/hour=05.json", lake_dir.display());
        println!(
            "  eventlake query --lake {} --schemas {} \"SELECT reason, count(*) FROM quarantine GROUP BY 1\"",
            lake_dir.display(),
            schemas.display()
        );
        println!(
            "  eventlake hourly --lake {} --schemas {} --hour 2026-11-20T05   # rerun: skipped, nothing changes",
            lake_dir.display(),
            schemas.display()
        );
        code
    })
}

async fn query(lake: &Lake, registry: &eventlake_contract::Registry, sql: &str) -> anyhow::Result<String> {
    let session = lake_session(lake, registry, SessionOptions::default()).await?;
    let batches = session.ctx.sql(sql).await?.collect().await?;
    Ok(arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
}

fn prepare(dir: &Path) -> anyhow::Result<()> {
    let schemas = dir.join("schemas");
    std::fs::create_dir_all(&schemas).with_context(|| format!("creating {}", schemas.display()))?;
    for (name, text) in SCHEMAS {
        std::fs::write(schemas.join(name), text).with_context(|| format!("writing {name}"))?;
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
