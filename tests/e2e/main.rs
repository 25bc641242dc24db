//! End-to-end suite: the `eventlake` binary against a local directory lake and a local S3 server.
//!
//! ```text
//!   tests/fixtures/bronze/<case>/** ──upload──► lake (temp dir | s3://<bucket per test>/lake)
//!                                                 │  eventlake hourly … (a child process)
//!                                                 ▼
//!   assertions ◄── read back: silver Parquet, quarantine lines, manifests, leases
//!              └── tests/golden/silver/<case>.*  (EVENTLAKE_REGENERATE=1 rewrites them)
//! ```
//!
//! Every lake scenario is a function taking a [`support::TestLake`]; [`on_each_backend!`] turns it
//! into two tests, `<scenario>::local` and `<scenario>::s3`. The S3 variant needs the local S3
//! server that `tests/run` starts (`EVENTLAKE_TEST_S3=1` plus the `AWS_*` variables); without it,
//! the S3 variants are skipped with a note and the local ones still run.

// Test code: a panic with context is the failure report, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Declares `<scenario>::local` and `<scenario>::s3` for each scenario function `fn(TestLake)`.
macro_rules! on_each_backend {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            use $crate::support::{Backend, TestLake};

            #[test]
            fn local() {
                if let Some(lake) = TestLake::create(Backend::Local, stringify!($scenario)) {
                    super::$scenario(lake);
                }
            }

            #[test]
            fn s3() {
                if let Some(lake) = TestLake::create(Backend::S3, stringify!($scenario)) {
                    super::$scenario(lake);
                }
            }
        }
    )+};
}

mod bad_input;
mod chunks;
mod cli;
mod crash;
mod crash_trials;
mod daily;
mod export;
mod faults;
mod golden;
mod hours;
mod late_bronze;
mod lease;
mod models;
mod project;
mod quality;
mod rerun;
mod schedules;
mod secrets;
mod setup;
mod silver;
mod sources;
mod storage;
mod support;
