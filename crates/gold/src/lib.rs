//! # eventlake-gold
//!
//! The daily job and SQL over the lake, both on DataFusion:
//!
//! ```text
//!  silver/event_type=<t>/dt=D/hour=*/part-*.parquet      (every arrival run that wrote date D)
//!        │  sorted by (event id, arrival, key, line); first delivery kept, later ones compared by content
//!        ▼
//!  gold/events/event_type=<t>/dt=D/part-<n>.parquet       one row per event id: the earliest delivery
//!  gold/daily_event_counts/dt=D/part-0.parquet            per event name: events, duplicates, conflicts, …
//!  gold/daily_quality/dt=D/part-0.parquet                 records and quarantined by reason (hourly manifests)
//!  _manifests/daily/dt=D.json                             commit point; its silver listing detects late data
//! ```
//!
//! The engine runs under a memory limit and spills to disk, so a day never has to fit in RAM. It
//! reads through the lake's own object store, and writes gold with the lake's rolling Parquet
//! writer; the tables it builds and queries are the lake's catalog (`eventlake_lake::catalog`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use eventlake_contract::{Registry, RegistryOptions};
//! use eventlake_gold::{DailyConfig, run_day};
//! let lake = eventlake_lake::Lake::open("/tmp/lake")?;
//! let registry = Arc::new(Registry::load_dir("schemas".as_ref(), &RegistryOptions::default())?);
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
//! let out = run_day(&lake, registry, date, &DailyConfig::default(), "run-1").await?;
//! println!("{} gold rows", out.manifest.counts.gold_rows);
//! # Ok(()) }
//! ```

mod daily;
mod error;
pub mod models;
pub mod query;
mod report;
mod session;

pub use daily::{DailyConfig, DailyOutcome, DayStatus, hourly_runs, missing_hours, run_day, silver_inputs, stale_days};
pub use error::{Error, Result};
pub use report::SUMMARY_COLUMNS;
pub use session::{LakeSession, SessionOptions, quote};
