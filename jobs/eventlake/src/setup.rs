//! `eventlake setup`: Athena DDL from the schemas — print it, plan a change, or execute it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{ArgGroup, Args, ValueEnum};
use eventlake_athena::plan::{Change, plan, read_applied, write_applied};
use eventlake_athena::{Athena, AthenaOptions, ddl};
use eventlake_contract::Schema;
use eventlake_contract::types::root_columns;
use eventlake_gold::SessionOptions;
use eventlake_lake::Lake;
use eventlake_lake::catalog::{CatalogTable, TableFormat};
use eventlake_runtime::ExitCode;
use eventlake_runtime::duration::HumanDuration;
use object_store::path::Path;

use crate::models::{self, ModelsDir};
use crate::schemas::ContractOpts;
use crate::sources::{SourceOpts, catalog_of};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("action").required(true).args(["print", "plan", "execute"])))]
#[command(group(ArgGroup::new("source").required(true).multiple(true).args(["schemas", "schema", "config"])))]
pub(crate) struct SetupArgs {
    /// Lake root: s3://bucket/prefix (a local path prints file:// locations).
    #[arg(long, env = "EVENTLAKE_LAKE", required_unless_present = "location")]
    lake: Option<String>,

    /// Folder of event schemas.
    #[arg(long, env = "EVENTLAKE_SCHEMAS")]
    schemas: Option<PathBuf>,

    /// Project file declaring the lake's sources (`eventlake.toml`): their tables too.
    #[arg(long, env = "EVENTLAKE_CONFIG", conflicts_with = "schema")]
    config: Option<PathBuf>,

    /// Only these sources (comma separated; `default` is the one --schemas describes).
    #[arg(long = "source", env = "EVENTLAKE_SOURCE", value_delimiter = ',')]
    only: Vec<String>,

    #[command(flatten)]
    models: ModelsDir,

    /// One schema without an event-name constant: generate a single table (with --table, --location).
    #[arg(long, requires_all = ["table", "location"], conflicts_with = "schemas")]
    schema: Option<PathBuf>,

    /// Table name for --schema.
    #[arg(long)]
    table: Option<String>,

    /// Location (folder URL) for --schema.
    #[arg(long)]
    location: Option<String>,

    /// Athena database (Glue catalog database).
    #[arg(long, env = "EVENTLAKE_ATHENA_DATABASE", default_value = "eventlake")]
    database: String,

    /// Print every statement (idempotent CREATE … IF NOT EXISTS), change nothing.
    #[arg(long)]
    print: bool,

    /// Show what would change since the last applied setup, and the statements, change nothing.
    #[arg(long)]
    plan: bool,

    /// Apply the changes through Athena and record them in the lake.
    #[arg(long)]
    execute: bool,

    /// The database exists and is someone else's (e.g. Terraform's): never send CREATE DATABASE.
    #[arg(long, env = "EVENTLAKE_ATHENA_DATABASE_EXISTS")]
    database_exists: bool,

    /// Apply changes that are not BACKWARD compatible (tables are recreated; files stay).
    #[arg(long, env = "EVENTLAKE_FORCE")]
    force: bool,

    /// Statement output for --print and --plan.
    #[arg(long, value_enum, default_value_t = Output::Sql)]
    format: Output,

    /// Athena workgroup.
    #[arg(long, env = "EVENTLAKE_ATHENA_WORKGROUP")]
    workgroup: Option<String>,

    /// Where Athena writes query results (unless the workgroup enforces one).
    #[arg(long, env = "EVENTLAKE_ATHENA_OUTPUT_LOCATION")]
    output_location: Option<String>,

    /// Longest wait for one statement (e.g. 10m).
    #[arg(long, env = "EVENTLAKE_ATHENA_TIMEOUT", default_value = "10m")]
    timeout: HumanDuration,

    /// Must match the jobs' settings.
    #[command(flatten)]
    contract: ContractOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    /// Statements separated by blank lines, each ending with `;`.
    Sql,
    /// A JSON array of statements.
    Json,
}

pub(crate) fn run(args: SetupArgs) -> ExitCode {
    eventlake_runtime::block_on(async {
        match run_async(&args).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                if e.downcast_ref::<eventlake_athena::Error>().is_some_and(|e| {
                    matches!(
                        e,
                        eventlake_athena::Error::InvalidIdentifier { .. }
                            | eventlake_athena::Error::Incompatible { .. }
                    )
                }) || e.downcast_ref::<eventlake_contract::Error>().is_some()
                    || matches!(e.downcast_ref::<eventlake_gold::Error>(), Some(eventlake_gold::Error::Model { .. }))
                {
                    ExitCode::Usage
                } else {
                    ExitCode::Failure
                }
            }
        }
    })
}

fn print_statements(statements: &[String], format: Output) {
    match format {
        Output::Sql => {
            for s in statements {
                println!("{s};\n");
            }
        }
        Output::Json => println!("{}", serde_json::Value::from(statements.to_vec())),
    }
}

/// The single table of `--schema`.
fn single_table(args: &SetupArgs, path: &PathBuf) -> anyhow::Result<(CatalogTable, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&bytes).with_context(|| format!("{}: not valid JSON", path.display()))?;
    let schema = Schema::compile(&doc, &path.display().to_string(), &args.contract.compile_options())?;
    let columns = root_columns(&schema)?;
    let name = args.table.clone().unwrap_or_default();
    let location = args.location.clone().unwrap_or_default();
    let table = CatalogTable {
        name,
        dir: Path::default(),
        columns,
        partitions: Vec::new(),
        format: TableFormat::Parquet,
        comment: doc.get("description").and_then(|d| d.as_str()).unwrap_or("eventlake table").to_owned(),
    };
    Ok((table, location))
}

async fn run_async(args: &SetupArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.schema {
        let (table, location) = single_table(args, path)?;
        if !args.print {
            bail!("--schema supports --print only");
        }
        let create = ddl::create_table(&args.database, location.trim_end_matches('/'), &table)?;
        let create = create.replace(
            &format!("LOCATION '{}//'", location.trim_end_matches('/')),
            &format!("LOCATION '{}/'", location.trim_end_matches('/')),
        );
        print_statements(&[ddl::create_database(&args.database)?, create], args.format);
        return Ok(ExitCode::Success);
    }
    let lake = Lake::open(args.lake.as_deref().unwrap_or_default())?;
    let sources = SourceOpts {
        schemas: args.schemas.clone(),
        contract: args.contract.clone(),
        config: args.config.clone(),
        only: args.only.clone(),
    };
    let mut tables = catalog_of(&sources.load(&lake, None)?)?;
    // A model's table is what its plan outputs.
    if let Some(dir) = args.models.resolve(args.config.as_deref()) {
        let planned = models::plan(&lake, tables.clone(), &dir, SessionOptions::default()).await?;
        tables.extend(planned.planned.into_iter().map(|p| p.table));
    }
    if args.print {
        print_statements(&ddl::all_statements(&args.database, lake.url(), &tables)?, args.format);
        return Ok(ExitCode::Success);
    }
    let applied = read_applied(&lake, &args.database).await?;
    let mut planned = plan(&args.database, lake.url(), &tables, applied.as_ref(), args.force)?;
    if args.database_exists {
        planned = planned.without_create_database()?;
    }
    if planned.is_empty() {
        eprintln!("database {} is up to date: nothing to change", args.database);
        return Ok(ExitCode::Success);
    }
    for change in &planned.changes {
        let line = match change {
            Change::CreateDatabase => format!("create database {}", args.database),
            Change::CreateTable { table } => format!("create table {table}"),
            Change::AddColumns { table, columns } => format!("add columns to {table}: {}", columns.join(", ")),
            Change::Recreate { table, reason } => format!("recreate table {table} ({reason})"),
            Change::Incompatible { table, reason } => format!("INCOMPATIBLE {table}: {reason}"),
        };
        eprintln!("  {line}");
    }
    if args.plan {
        print_statements(&planned.statements, args.format);
        return Ok(ExitCode::Success);
    }
    if !lake.url().starts_with("s3://") {
        bail!("--execute needs an s3:// lake: Athena cannot read {}", lake.url());
    }
    let athena = Athena::from_env(AthenaOptions {
        database: args.database.clone(),
        workgroup: args.workgroup.clone(),
        output_location: args.output_location.clone(),
        timeout: args.timeout.0,
        max_poll_interval: Duration::from_secs(5),
    })
    .await;
    athena.check_output_location().await?;
    for (i, statement) in planned.statements.iter().enumerate() {
        let first_line = statement.lines().next().unwrap_or_default();
        tracing::info!(statement = i + 1, of = planned.statements.len(), sql = first_line, "running");
        athena.execute(statement).await?;
    }
    write_applied(&lake, &planned.applied).await?;
    eprintln!("applied {} statement(s) to {}", planned.statements.len(), args.database);
    Ok(ExitCode::Success)
}
