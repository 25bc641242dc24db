//! Why a daily run or a query could not complete.

/// Result with the gold layer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lake failed, or another run holds the day's lease.
    #[error(transparent)]
    Lake(#[from] eventlake_lake::Error),

    #[error("quality rules: {0}")]
    Quality(#[from] eventlake_quality::Error),

    /// Batches of the engine's output could not be reshaped into gold rows.
    #[error("{context}: {source}")]
    Arrow { context: String, source: arrow_schema::ArrowError },

    /// Silver files whose columns are not what the hourly job writes (written by another version
    /// or by hand).
    #[error("silver of {event_type}: {what}")]
    UnexpectedSilver { event_type: String, what: String },

    /// The query engine failed (including running out of its memory limit).
    #[error("query engine: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),

    /// Some arrival hours of the day have no hourly manifest yet.
    #[error(
        "{date} is incomplete: no hourly manifest for {} arrival hour(s): {}; run the hourly job for them or pass --allow-incomplete",
        missing.len(),
        missing.join(", ")
    )]
    Incomplete { date: String, missing: Vec<String> },

    /// Some arrival hours of the day have bronze that landed after their hourly run committed.
    #[error(
        "{date} is incomplete: the bronze of {} arrival hour(s) changed after their hourly run: {}; rerun the hourly job for them (--lookback does it on schedule) or pass --allow-incomplete",
        changed.len(),
        changed.join(", ")
    )]
    BronzeChanged { date: String, changed: Vec<String> },

    /// The lake URL cannot be given to the query engine.
    #[error("cannot query {url}: {reason}")]
    Unqueryable { url: String, reason: String },

    /// The run's accounting does not balance; nothing is committed.
    #[error(
        "{date}: silver rows ({silver}) != gold rows ({gold}) + duplicates ({duplicates}) + conflicts ({conflicts}); not committing"
    )]
    CountMismatch { date: String, silver: u64, gold: u64, duplicates: u64, conflicts: u64 },

    /// A model file that cannot be built: its file, the line, and why.
    #[error("{file}:{line}: {reason}")]
    Model { file: String, line: usize, reason: String },

    /// A bug: a writer task panicked or was cancelled.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether the run failed only because another run holds the lease.
    pub fn is_lease_held(&self) -> bool {
        matches!(self, Error::Lake(eventlake_lake::Error::LeaseHeld { .. }))
    }
}
