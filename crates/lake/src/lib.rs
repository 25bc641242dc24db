//! # eventlake-lake
//!
//! The lake layout and the I/O around it, shared by every job:
//!
//! ```text
//!   Lake::open(url) ──► layout keys (BronzeHour, SilverFile, QuarantineFile, ManifestKey, LeaseKey)
//!                   ├─► Lease::acquire   one writer per hour/day (conditional put)
//!                   └─► write_manifest   a run's commit point, written last
//! ```
//!
//! Cloud specifics stay behind `object_store`: a local directory and S3 behave the same.
//!
//! ```
//! use eventlake_lake::layout::{Hour, SilverFile, SilverPartition};
//! let arrival: Hour = "2026-11-20T11".parse().unwrap();
//! let partition = SilverPartition { event_type: "payment".into(), hour: "2026-11-20T10".parse().unwrap() };
//! let file = SilverFile { partition, arrival, part: 0 };
//! assert_eq!(file.path().as_ref(), "silver/event_type=payment/dt=2026-11-20/hour=10/part-2026112011-0.parquet");
//! ```

pub mod error;
pub mod layout;
pub mod lease;
pub mod manifest;
pub mod store;

pub use error::{Error, Result};
pub use lease::Lease;
pub use store::Lake;
