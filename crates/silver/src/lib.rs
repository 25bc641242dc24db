//! # eventlake-silver
//!
//! The hourly job: one bronze arrival hour in, validated silver Parquet and a quarantine out.
//!
//! ```text
//!  bronze/YYYY/MM/DD/HH/*  ──► reader ──► chunks ──► workers (parse → validate → Arrow rows)
//!   (plain or gzip,          (prefetch,   (cut at     │                        │
//!    NDJSON or concatenated)  decompress)  records)   ▼                        ▼
//!                                          silver/event_type=/dt=/hour=   quarantine/dt=/hour=
//!                                          part-<arrival>-<n>.parquet     part-<arrival>-<n>.jsonl
//!                                                      └──────► _manifests/hourly/… (commit point)
//! ```
//!
//! Each record is parsed once into a reusable tape and judged by the contract's one accept function
//! (`eventlake_contract::accept`, the same `eventlake validate` calls), which appends it straight
//! into Arrow column builders; workers run in parallel and a single writer keeps the output in input
//! order, through the lake's rolling writers. A run holds a lease on its hour, writes deterministic file names,
//! commits by writing its manifest last and then removes files of its earlier attempts, so a rerun
//! or a crash followed by a rerun gives exactly a clean run's result.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use eventlake_contract::{Registry, RegistryOptions};
//! use eventlake_lake::Lake;
//! use eventlake_silver::{HourlyConfig, run_hour};
//! let lake = Lake::open("/tmp/lake")?;
//! let registry = Arc::new(Registry::load_dir("schemas".as_ref(), &RegistryOptions::default())?);
//! let outcome = run_hour(&lake, registry, "2026-11-20T05".parse()?, &HourlyConfig::default(), "run-1").await?;
//! println!("{} valid, {} quarantined", outcome.manifest.counts.valid, outcome.manifest.counts.quarantined);
//! # Ok(()) }
//! ```

mod bronze;
mod encoders;
mod error;
mod hourly;
mod report;
mod transform;

pub use error::{Error, Result};
pub use hourly::{CrashPoint, HourPlan, HourStatus, HourlyConfig, HourlyOutcome, plan_hour, run_hour, stale_hours};
pub use report::SUMMARY_COLUMNS;
pub use transform::Tally;
