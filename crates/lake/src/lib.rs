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
//!   conditional       put_if / delete_if: replace only what was read (ETag, or bytes under flock)
//!   faults            FaultyStore: fails 1 request in N as S3 does, for the jobs' fault tests
//!   lease             with_lease: one writer per hour/day, renewed; its Fence guards the commit
//!   project           eventlake.toml: a lake's sources (bronze, format, schemas, envelope)
//!   manifest          commit_manifest: a run's commit point, written last, fenced
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
pub mod conditional;
pub mod error;
pub mod faults;
pub mod layout;
pub mod lease;
pub mod manifest;
pub mod project;
pub mod quarantine;
pub mod store;
pub mod write;

pub use error::{Error, Result};
pub use lease::{Fence, Lease, with_lease};
pub use store::Lake;
