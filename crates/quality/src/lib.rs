//! # eventlake-quality
//!
//! What a day of the lake looks like, from its manifests alone (never a scan of the data): the
//! project's quality rules, which the daily job evaluates and records, and the report page.
//!
//! ```text
//!  _manifests/hourly/dt=D/hour=HH.json ×24 ┐
//!  _manifests/attempts/hourly/…            ├─► DayFacts ─► rules::evaluate ─► RuleOutcome (daily manifest,
//!  _manifests/daily/dt=D.json, D-7 … D-1   ┘          │                                  EMF, exit 3)
//!                                                     └─► page::day_page ─► reports/dt=D/index.html
//! ```
//!
//! The page is one self-contained HTML file: inline CSS and SVG charts, no script, no network; it
//! prints. It shows counts, reasons, JSON pointers and masked explanations, never records.

mod chart;
mod error;
mod facts;
pub mod page;
pub mod rules;

pub use error::{Error, Result};
pub use facts::{DayFacts, HISTORY_DAYS, LatenessBucket, load_day, load_history};
