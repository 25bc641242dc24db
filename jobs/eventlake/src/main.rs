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

/// Jobs allocate and free many short-lived buffers on several threads (Arrow builders, Parquet
/// pages): mimalloc reuses them without the page faults and per-thread arenas of glibc's allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let opts = cli::Opts::parse();
    eventlake_runtime::logging::init(opts.log_format.into(), opts.log.as_deref());
    cli::run(opts).into()
}
