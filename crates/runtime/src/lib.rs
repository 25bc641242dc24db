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

pub mod allocator;
pub mod duration;
pub mod exit;
pub mod logging;
pub mod metrics;
pub mod range;
pub mod shutdown;
pub mod size;
pub mod summary;

pub use exit::ExitCode;

/// How long a command may take to give its leases up after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs a command's future on a multi-threaded runtime; a runtime that cannot start is a failure.
/// SIGTERM or SIGINT stops the command: leases are given up, and the exit status is 128 + the
/// signal's number whatever the command returns.
pub fn block_on<F: std::future::Future<Output = ExitCode>>(command: F) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::Failure;
        }
    };
    let code = rt.block_on(async {
        let mut command = std::pin::pin!(command);
        tokio::select! {
            code = &mut command => code,
            signal = shutdown::signalled() => {
                eprintln!("stopping: signal {signal}; giving up leases");
                // Work under a lease stops at its next await and releases the lease.
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, &mut command).await;
                ExitCode::Interrupted { signal }
            }
        }
    });
    // Threads still parsing or writing for an interrupted run are not waited for: nothing they
    // write is committed.
    rt.shutdown_background();
    code
}
