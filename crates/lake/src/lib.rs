//! # eventlake-lake
//!
//! The lake model every job shares, below the jobs and above the contract:
//!
//! ```text
//!   Lake::open(url) ─► store     one object_store (local dir or S3), lake-relative keys
//!   layout            typed keys ⇄ paths, both ways: SilverFile, QuarantineFile, GoldFile,
//!                     DailyFile, ManifestKey, LeaseKey, partition segments (event_type=, dt=, hour=)
//!   bronze            which objects of an arrival hour are events (the listing a manifest records)
//!   catalog           every table: name, columns, partitions, folder, format → Arrow schema, DDL, query
//!   write             ObjectSink (put / multipart) → RollingParquet, RollingLines (parts by size)
//!   quarantine        QuarantineLine: a rejected record and its reason, the quarantine table's columns
//!   lease             with_lease: one writer per hour/day (conditional put)
//!   project           eventlake.toml: a lake's sources (bronze, format, schemas, envelope)
//!   manifest          write_manifest: a run's commit point, written last
//! ```
//!
//! Cloud specifics stay behind `object_store`: a local directory and S3 behave the same, and the
//! query engine reads through the same store.
//!
//! ```
//! use eventlake_lake::layout::{Hour, SilverFile, SilverPartition};
//! let arrival: Hour = "2026-11-20T11".parse().unwrap();
//! let partition = SilverPartition { event_type: "payment".into(), hour: "2026-11-20T10".parse().unwrap() };
//! let file = SilverFile { partition, arrival, part: 0 };
//! assert_eq!(file.path().as_ref(), "silver/event_type=payment/dt=2026-11-20/hour=10/part-2026112011-0.parquet");
//! ```

pub mod bronze;
pub mod catalog;
pub mod error;
pub mod layout;
pub mod lease;
pub mod manifest;
pub mod project;
pub mod quarantine;
pub mod store;
pub mod write;

pub use error::{Error, Result};
pub use lease::{Lease, with_lease};
pub use store::Lake;
