//! Why setup could not plan or apply the DDL.

/// Result with the setup layer's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Lake(#[from] eventlake_lake::Error),

    /// A name Athena would not accept.
    #[error("invalid {kind} name {name:?}: Athena names are lower-case letters, digits and underscores")]
    InvalidIdentifier { kind: String, name: String },

    /// Changes that old files would not survive.
    #[error(
        "not BACKWARD compatible with the tables last applied:\n  {}\nold partitions would no longer read; pass --force to recreate the tables anyway",
        changes.join("\n  ")
    )]
    Incompatible { changes: Vec<String> },

    #[error("{key}: unreadable schema history: {reason}")]
    History { key: String, reason: String },

    /// Athena ran the statement and it failed or was cancelled.
    #[error("Athena query {query_id} {state}: {reason}\nstatement:\n{statement}")]
    QueryFailed { query_id: String, state: String, reason: String, statement: String },

    /// The statement did not finish in time.
    #[error("Athena query {query_id} did not finish within {seconds}s (last state {state}); it may still run")]
    Timeout { query_id: String, seconds: u64, state: String },

    /// The request could not be made (credentials, network, permissions, configuration).
    #[error("{operation}: {message}")]
    Request { operation: &'static str, message: String },

    /// No place for Athena to write query results.
    #[error("no query result location: pass --output-location s3://… or enforce one in workgroup {workgroup:?}")]
    NoOutputLocation { workgroup: String },
}
