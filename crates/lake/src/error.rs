//! Errors of the lake layer, grouped by what the caller can do about them.

/// Result with the lake's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lake URL cannot be used.
    #[error("invalid lake URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// The lake's store cannot be used as configured (credentials, bucket, region, access); the
    /// message names the cause and the fix.
    #[error("{url}: {problem}")]
    Unreachable { url: String, problem: String },

    /// An hour flag that is not `YYYY-MM-DDTHH`.
    #[error("invalid hour {input:?}: expected YYYY-MM-DDTHH, e.g. 2026-11-20T05")]
    InvalidHour { input: String },

    /// Another run holds the lease.
    #[error("{key} is held by run {owner} until {expires_at}")]
    LeaseHeld { key: String, owner: String, expires_at: String },

    /// This run's lease was taken over, or could not be renewed in time: it must not commit.
    #[error(
        "{key}: this run lost its lease ({reason}); it committed nothing, and the run that took over finishes the work"
    )]
    LeaseLost { key: String, reason: String },

    /// Another run committed this unit of work while this one ran.
    #[error("{key}: another run committed while this one ran; this run committed nothing")]
    CommitConflict { key: String },

    /// A shutdown signal stopped the run before it committed.
    #[error("stopped by a shutdown signal before committing; the lease was given up")]
    Interrupted,

    /// The object store failed (after its own retries).
    #[error("{op} {key}: {source}")]
    Store {
        op: &'static str,
        key: String,
        #[source]
        source: object_store::Error,
    },

    /// An output file could not be written.
    #[error("writing {key}: {source}")]
    Write {
        key: String,
        #[source]
        source: std::io::Error,
    },

    /// Parquet encoding of an output file failed.
    #[error("writing {key}: {source}")]
    Parquet {
        key: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// A manifest or lease that is not what eventlake writes.
    #[error("{key}: unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

impl Error {
    pub(crate) fn store(op: &'static str, key: impl ToString, source: object_store::Error) -> Error {
        Error::Store { op, key: key.to_string(), source }
    }
}
