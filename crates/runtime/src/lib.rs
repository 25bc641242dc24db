//! # eventlake-runtime
//!
//! Process plumbing every eventlake job shares, at the bottom of the crate layers, so each job's
//! command stays a few lines:
//!
//! ```text
//!   flags ──► logging::init ──► block_on(command) ──► ExitCode ──► process exit status
//!                                    │
//!                  range::run_range  │  every unit (hour, date): a span with job and run id,
//!                                    │  the work, a progress bar on a terminal, then one summary
//!                                    ▼  table and one CloudWatch EMF line per committed run
//!                  RunReport / RunFailure: what a job's outcome and error say (log, row, metrics)
//! ```
//!
//! ```
//! use eventlake_runtime::{duration::parse_duration, ExitCode};
//! assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
//! assert_eq!(ExitCode::LeaseHeld.code(), 75);
//! ```

pub mod duration;
pub mod exit;
pub mod logging;
pub mod metrics;
pub mod range;
pub mod size;
pub mod summary;

pub use exit::ExitCode;

/// Runs a command's future on a multi-threaded runtime; a runtime that cannot start is a failure.
pub fn block_on<F: std::future::Future<Output = ExitCode>>(command: F) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt.block_on(command),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::Failure
        }
    }
}
