//! # eventlake-contract
//!
//! The event contract. Every layer of eventlake hangs off one folder of JSON Schemas; this crate
//! compiles them once and answers three questions with the same compiled schema:
//!
//! ```text
//!   schemas/**/*.json ──► Resources: every file by path and `$id`, bundled meta-schemas
//!        │                (a file without an event name is a definition others `$ref`)
//!        ▼
//!   Registry ──► EventSchema (one per event name)
//!                 ├─ validate: is this record valid? (json::Tape → Schema::validate)
//!                 ├─ columns:  what are its Parquet columns? (types::ColumnType::arrow)
//!                 └─ Athena:   what does its table say? (types::ColumnType::athena)
//!            └─► EventTable (one per event type = first segment of the name, as an identifier)
//!
//!   framed record ──► accept::Acceptor::accept ──► Ok: a row in rows::RowsBuilder (Arrow)
//!                                               └► Err: Rejection { reason: Reason, detail, pointer, … }
//! ```
//!
//! `accept` is the one verdict: the hourly job quarantines exactly what `eventlake validate` rejects.
//!
//! Objects are closed by default: a field the schema does not declare is invalid at every depth.
//! Records are parsed by a strict parser ([`json`]) that rejects duplicate keys and keeps byte spans.
//!
//! ```
//! use eventlake_contract::{json::Tape, schema::{CompileOptions, Schema}};
//! let doc = serde_json::json!({
//!     "type": "object",
//!     "properties": {"address": {"type": "object", "properties": {"number": {"type": "integer"}}}}
//! });
//! let schema = Schema::compile(&doc, "person.json", &CompileOptions::default()).unwrap();
//! let mut tape = Tape::default();
//! let record = tape.parse(br#"{"address": {"number": "3"}}"#).unwrap();
//! let errors = schema.validate(record);
//! assert_eq!(errors[0].to_string(), r#"/address/number: expected integer, got string "3""#);
//! ```

pub mod accept;
pub mod chunks;
pub mod delimited;
pub mod dialect;
pub mod error;
pub mod event_time;
pub mod format;
pub mod json;
pub mod records;
pub mod registry;
pub mod resources;
pub mod rows;
pub mod schema;
pub mod types;
pub mod validate;

pub use accept::{Acceptor, Reason, Rejection};
pub use error::{Error, Result};
pub use event_time::TimeFormat;
pub use registry::{Envelope, EventSchema, EventTable, Registry, RegistryOptions};
pub use resources::Resources;
pub use schema::{CompileOptions, Schema};
pub use types::{Column, ColumnType};
pub use validate::ValidationError;
