//! `eventlake query`: SQL over the lake without AWS, with the tables Athena has.

use arrow::util::pretty::pretty_format_batches;
use clap::{Args, ValueEnum};
use eventlake_gold::SessionOptions;
use eventlake_gold::query::lake_session_of;
use eventlake_lake::Lake;
use eventlake_runtime::ExitCode;
use eventlake_runtime::size::parse_size;

use crate::models::{self, ModelsDir};
use crate::sources::{SourceOpts, catalog_of};

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// Lake root: a local path, file://… or s3://bucket/prefix.
    #[arg(long, env = "EVENTLAKE_LAKE")]
    lake: String,

    #[command(flatten)]
    sources: SourceOpts,

    #[command(flatten)]
    models: ModelsDir,

    /// Output as an aligned table, CSV or JSON lines.
    #[arg(long, env = "EVENTLAKE_QUERY_FORMAT", value_enum, default_value_t = Output::Table)]
    format: Output,

    /// Memory the engine may use before spilling to disk (e.g. 4GiB).
    #[arg(long, env = "EVENTLAKE_MEMORY_LIMIT", value_parser = parse_size)]
    memory_limit: Option<usize>,

    /// The SQL statement, e.g. "SELECT event_name, count(*) FROM silver_events GROUP BY 1".
    sql: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Table,
    Csv,
    Json,
}

pub(crate) fn run(args: QueryArgs) -> ExitCode {
    eventlake_runtime::block_on(async {
        let setup = async {
            let lake = Lake::open_reachable(&args.lake).await?;
            let tables = catalog_of(&args.sources.load(&lake, None)?)?;
            let options = SessionOptions { memory_limit: args.memory_limit, ..SessionOptions::default() };
            match args.models.resolve(args.sources.config.as_deref()) {
                Some(dir) => anyhow::Ok(models::plan(&lake, tables, &dir, options).await?.session),
                None => anyhow::Ok(lake_session_of(&lake, &tables, options).await?),
            }
        };
        let session = match setup.await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::Usage;
            }
        };
        let batches = match session.ctx.sql(&args.sql).await {
            Ok(df) => df.collect().await,
            Err(e) => Err(e),
        };
        let batches = match batches {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::Failure;
            }
        };
        let printed = match args.format {
            Output::Table => pretty_format_batches(&batches).map(|t| println!("{t}")),
            Output::Csv => {
                let mut w = arrow::csv::WriterBuilder::new().with_header(true).build(std::io::stdout());
                batches.iter().try_for_each(|b| w.write(b))
            }
            Output::Json => {
                let mut w = arrow::json::LineDelimitedWriter::new(std::io::stdout());
                batches.iter().try_for_each(|b| w.write(b)).and_then(|()| w.finish())
            }
        };
        match printed {
            Ok(()) => ExitCode::Success,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::Failure
            }
        }
    })
}
