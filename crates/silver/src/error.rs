//! Why an hourly run could not commit. Rejected records are not errors: they are quarantined.

use arrow_schema::ArrowError;

/// Result with the silver layer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lake failed (reading, writing, a manifest), or another run holds the hour's lease.
    #[error(transparent)]
    Lake(#[from] eventlake_lake::Error),

    /// An input object could not be read.
    #[error("{key}: {source}")]
    Read { key: String, source: std::io::Error },

    /// An input object broke off mid-stream (e.g. a corrupt gzip member).
    #[error("{key}: line {line}: {source}")]
    ReadAt { key: String, line: u64, source: std::io::Error },

    /// A CSV object's header row cannot be read (the rows cannot be typed without it).
    #[error("{key}: line 1: CSV header: {reason}")]
    BadHeader { key: String, reason: String },

    /// Accepted rows could not be assembled into a record batch.
    #[error("building rows for {partition}: {source}")]
    Rows { partition: String, source: ArrowError },

    /// The run's own accounting does not balance; nothing is committed.
    #[error("records read ({records}) != silver rows ({valid}) + quarantined ({quarantined}); not committing")]
    CountMismatch { records: u64, valid: u64, quarantined: u64 },

    /// A bug: a pipeline thread could not start or died.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether the run failed only because another run holds the lease.
    pub fn is_lease_held(&self) -> bool {
        matches!(self, Error::Lake(eventlake_lake::Error::LeaseHeld { .. }))
    }
}
