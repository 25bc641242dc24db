//! Errors raised while loading schemas. A record that fails validation is not an error here: it is a
//! [`crate::ValidationError`] list, data for the quarantine.

use std::path::PathBuf;

/// Result with the contract's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a schema or a registry could not be loaded. Every variant names the file, and where it
/// applies the JSON pointer inside it, so a schema author can fix it without guessing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: cannot read: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },

    #[error("{path}: not valid JSON: {cause}")]
    Json { path: PathBuf, cause: serde_json::Error },

    /// A keyword eventlake does not know: refused, so a typo never silently weakens a contract.
    #[error("{file}#{pointer}: unsupported keyword `{keyword}`{hint}")]
    UnsupportedKeyword { file: String, pointer: String, keyword: String, hint: String },

    /// Schemas are never fetched: a `$ref` must land in the schema folder or a bundled meta-schema.
    #[error(
        "{file}#{pointer}: `$ref` {reference:?} resolves to {resolved}, which is neither a file (or `$id`) of the schema folder nor a bundled meta-schema; schemas are never fetched over the network"
    )]
    NonLocalRef { file: String, pointer: String, reference: String, resolved: String },

    #[error("{file}#{pointer}: `$ref` {reference:?} points to nothing in the document it names")]
    UnresolvedRef { file: String, pointer: String, reference: String },

    #[error("schema URI {uri} is claimed by both {first} and {second}")]
    DuplicateSchemaId { uri: String, first: String, second: String },

    #[error("{file}#{pointer}: invalid `{keyword}`: {reason}")]
    InvalidKeyword { file: String, pointer: String, keyword: String, reason: String },

    #[error(
        "{file}: unsupported `$schema` {uri:?} (drafts 4, 6, 7, 2019-09, 2020-12 and Iglu self-describing schemas load)"
    )]
    UnsupportedDraft { file: String, uri: String },

    #[error("{file}: no `properties.{field}.const`, so the schema names no event (and no event schema `$ref`s it)")]
    MissingEventName { file: String, field: String },

    #[error("entity table {table:?}: its schema file {file} is not in the schema folder")]
    MissingEntitySchema { file: String, table: String },

    #[error(
        "event types {first_type:?} ({first}) and {second_type:?} ({second}) both name table {table:?} (table names are lower snake case)"
    )]
    TableCollision { table: String, first_type: String, first: String, second_type: String, second: String },

    #[error("event name {name:?} is claimed by both {first} and {second}")]
    DuplicateEventName { name: String, first: String, second: String },

    #[error("{file}: column {column:?} comes from more than one property ({names}); column names are lower snake case")]
    ColumnCollision { file: String, column: String, names: String },

    #[error("event type {event_type:?}: column {column:?} is {first_type} in {first} but {second_type} in {second}")]
    ConflictingColumn {
        event_type: String,
        column: String,
        first: String,
        first_type: String,
        second: String,
        second_type: String,
    },

    #[error("{file}#{pointer}: {reason}")]
    Unmappable { file: String, pointer: String, reason: String },

    #[error(
        "{path}: no schema files (*.json) found; --schemas (EVENTLAKE_SCHEMAS) names the folder of the event schemas"
    )]
    EmptyRegistry { path: PathBuf },
}
