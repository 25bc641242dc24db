//! # eventlake-runtime
//!
//! Process plumbing every eventlake job shares, so each job's binary stays a few lines:
//!
//! ```text
//!   flags ──► logging::init ──► job ──► ExitCode ──► process exit status
//!                                 └──► metrics::emit (CloudWatch EMF, one line per run)
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
pub mod size;

pub use exit::ExitCode;
