//! # eventlake-export
//!
//! Loads one slice of a lake table (a date of gold, an entity table, an aggregate or a model; an
//! arrival hour of silver; a whole unpartitioned table) into PostgreSQL or MySQL/MariaDB, so that a rerun, a retry after a crash or a concurrent second
//! run never leaves duplicates or a half-loaded day:
//!
//! ```text
//!  record batches (DataFusion over the lake) ──► one transaction on the target:
//!     lock (pg_advisory_xact_lock / GET_LOCK) per table and slice
//!     CREATE TABLE IF NOT EXISTS … / ALTER TABLE … ADD COLUMN …   (types from the catalog;
//!         an existing column of another type fails the load before anything changes)
//!     DELETE the slice's rows
//!     COPY … FROM STDIN (FORMAT binary)  |  multi-row INSERT
//!     SELECT count(*) of the partition = rows streamed, else ROLLBACK
//!  COMMIT
//! ```
//!
//! | column type | PostgreSQL | MySQL / MariaDB |
//! |---|---|---|
//! | string | `text` (`varchar(255)` in a key on MySQL) | `longtext` (`varchar(255)` in a key) |
//! | bigint | `bigint` | `bigint` |
//! | double | `double precision` | `double` |
//! | boolean | `boolean` | `boolean` |
//! | timestamp | `timestamptz` | `datetime(6)` (UTC) |
//! | date, and the `dt` partition | `date` | `date` |
//! | the `hour` partition | `bigint` | `bigint` |
//! | struct, array, map, JSON text | `jsonb` | `json` |

mod load;
mod run;
mod target;
mod values;

pub use load::{ExportPlan, ExportResult, Slice, export_partition, plan_statements};
pub use run::{ExportJob, ExportManifest, SUMMARY_COLUMNS};
pub use target::{Dialect, PASSWORD_VARIABLE, Target};

/// Why an export did not commit. Messages never hold the target's password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("target {target}: {reason}")]
    Target { target: String, reason: String },

    #[error("{target}: {source}")]
    Postgres { target: String, source: tokio_postgres::Error },

    #[error("{target}: {source}")]
    MySql { target: String, source: mysql_async::Error },

    /// The rows in the target after the load are not the rows the lake has: rolled back.
    #[error("{table} {partition}: the lake has {lake} rows but the target would hold {target}; rolled back")]
    CountMismatch { table: String, partition: String, lake: u64, target: u64 },

    /// The target table has a column of another type than the lake's: nothing is changed.
    #[error("{table}: column {column} is {existing} in the target but {wanted} in the lake; drop or rename it")]
    SchemaConflict { table: String, column: String, existing: String, wanted: String },

    /// The slice fixes more partition columns than the table has (an hour of a table by date).
    #[error("{table} is not partitioned finely enough to load {slice} alone")]
    Slice { table: String, slice: String },

    #[error("reading the lake: {0}")]
    Query(#[from] datafusion::error::DataFusionError),

    #[error(transparent)]
    Lake(#[from] eventlake_lake::Error),

    #[error("{0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
