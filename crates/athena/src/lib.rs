//! # eventlake-athena
//!
//! The setup job: Athena tables generated from the same catalog and layout code that write the
//! data, so tables never drift from the files.
//!
//! ```text
//!   Registry ──► catalog (eventlake-lake) ──► ddl::create_table … ──► plan (vs _schema_history) ──► Athena
//!                                                                                 └─► --print / --plan
//! ```
//!
//! It depends on the contract and the lake only: printing DDL compiles no query engine.
//!
//! ```
//! use eventlake_athena::ddl::{check_identifier, literal};
//! assert!(check_identifier("table", "silver_payment").is_ok());
//! assert!(check_identifier("table", "drop table x; --").is_err());
//! assert_eq!(literal("it's"), r"'it\'s'");
//! ```

pub mod client;
pub mod ddl;
mod error;
pub mod plan;

pub use client::{Athena, AthenaOptions};
pub use error::{Error, Result};
