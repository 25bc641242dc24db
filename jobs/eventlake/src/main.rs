//! `eventlake`: the hourly, daily and setup jobs and the tools around them, as one binary.

mod bronze;
mod cli;
mod daily;
mod dates;
mod demo;
mod export;
mod hourly;
mod models;
mod query;
mod report;
mod schemas;
mod setup;
mod sources;
mod validate;

use clap::Parser;

fn main() -> std::process::ExitCode {
    eventlake_runtime::allocator::bound_malloc_arenas();
    let opts = cli::Opts::parse();
    eventlake_runtime::logging::init(opts.log_format.into(), opts.log.as_deref());
    cli::run(opts).into()
}
