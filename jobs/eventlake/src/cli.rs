//! Flags. Every flag also reads an `EVENTLAKE_*` environment variable, so ECS task definitions set
//! variables and people pass flags.

use clap::{Parser, Subcommand, ValueEnum};
use eventlake_runtime::{ExitCode, logging::LogFormat};

use crate::{daily, demo, export, hourly, models, query, report, setup, validate};

#[derive(Debug, Parser)]
#[command(name = "eventlake", version, about = "Batch ETL from raw event streams on S3 to a queryable data lake")]
pub(crate) struct Opts {
    #[command(subcommand)]
    pub(crate) command: Command,

    /// Log lines as text or JSON; `auto` is text on a terminal and JSON otherwise.
    #[arg(long, global = true, env = "EVENTLAKE_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Auto)]
    pub(crate) log_format: LogFormatArg,

    /// Log filter, `RUST_LOG` syntax (e.g. `info`, `eventlake_silver=debug`).
    #[arg(long, global = true, env = "RUST_LOG")]
    pub(crate) log: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check NDJSON files against the event schemas (what schema authors run before shipping).
    Validate(validate::ValidateArgs),
    /// Bronze arrival hours → validated silver Parquet and quarantine (the hourly job).
    Hourly(hourly::HourlyOpts),
    /// Silver → deduplicated gold by event type and date, with daily aggregates (the daily job).
    Daily(daily::DailyOpts),
    /// Build the project's SQL models (models/*.sql) over the lake's tables, in dependency order.
    Models(models::ModelsOpts),
    /// Load a lake table's dates into PostgreSQL or MySQL/MariaDB, idempotently.
    Export(export::ExportOpts),
    /// Data-quality pages of a lake's dates, from its manifests (reports/dt=D/index.html).
    Report(report::ReportOpts),
    /// Athena tables from the schemas: print the DDL, plan a change, or execute it.
    Setup(setup::SetupArgs),
    /// SQL over the lake without AWS: the tables Athena has, in a local engine.
    Query(query::QueryArgs),
    /// Run the hourly job end to end on a sample lake in a local folder (no AWS needed).
    Demo(demo::DemoArgs),
    /// Check that a command line parses, without running it (schedule files are tested with it).
    #[command(hide = true)]
    CheckArgs {
        /// The arguments after `eventlake`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormatArg {
    Auto,
    Text,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Auto => LogFormat::Auto,
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

/// Runs the chosen command and maps its outcome to an exit code.
pub(crate) fn run(opts: Opts) -> ExitCode {
    match opts.command {
        Command::Validate(args) => validate::run(args),
        Command::Hourly(args) => hourly::run(args),
        Command::Daily(args) => daily::run(args),
        Command::Models(args) => models::run(args),
        Command::Export(args) => export::run(args),
        Command::Report(args) => report::run(args),
        Command::Query(args) => query::run(args),
        Command::Setup(args) => setup::run(args),
        Command::Demo(args) => demo::run(args),
        Command::CheckArgs { args } => {
            match Opts::try_parse_from(std::iter::once("eventlake".to_owned()).chain(args)) {
                Ok(parsed) => {
                    println!("ok: {:?}", parsed.command);
                    ExitCode::Success
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::Usage
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn flags_are_consistent() {
        super::Opts::command().debug_assert();
    }
}
