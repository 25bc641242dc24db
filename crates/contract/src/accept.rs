//! The one verdict on a record: accepted into its table's rows, or rejected with a [`Reason`].
//!
//! The hourly job and `eventlake validate` both call [`Acceptor::accept`], so the command schema
//! authors run can never pass a record the hourly job quarantines:
//!
//! ```text
//!  framed record ─► parsed? ─► envelope (object, name, id, created_at) ─► known event name?
//!                ─► schema ─► event time inside the arrival window? ─► storable in the columns?
//!                ─► Ok: one row appended and committed      Err: Rejection { reason, detail, pointer, … }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_schema::SchemaRef;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::json::{Kind, ParseErrorKind, Value, push_pointer_token};
use crate::records::Record;
use crate::registry::{Envelope, EventSchema, Registry, derived, is_pointer, pointer_tokens};
use crate::rows::{Mismatch, RowsBuilder, find_member};
use crate::types::ColumnType;
use crate::validate::ValidationError;

/// Why a record was rejected. The quarantine's `reason` column, the `daily_quality` table's
/// per-reason columns and the manifests' `by_reason` counts all come from this one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    MalformedJson,
    MalformedCsv,
    BadEnvelope,
    UnknownEventName,
    SchemaViolation,
    OutOfWindow,
}

impl Reason {
    /// Every reason, in the order of the `daily_quality` columns.
    /// A reason added later comes last, so the table gains a column (`ADD COLUMNS`).
    pub const ALL: [Reason; 6] = [
        Reason::MalformedJson,
        Reason::BadEnvelope,
        Reason::UnknownEventName,
        Reason::SchemaViolation,
        Reason::OutOfWindow,
        Reason::MalformedCsv,
    ];

    /// The snake_case code written to the quarantine and the aggregates.
    pub fn code(self) -> &'static str {
        match self {
            Reason::MalformedJson => "malformed_json",
            Reason::MalformedCsv => "malformed_csv",
            Reason::BadEnvelope => "bad_envelope",
            Reason::UnknownEventName => "unknown_event_name",
            Reason::SchemaViolation => "schema_violation",
            Reason::OutOfWindow => "out_of_window",
        }
    }

    /// What the reason means, for table comments and documentation.
    pub fn description(self) -> &'static str {
        match self {
            Reason::MalformedJson => "not one JSON value",
            Reason::MalformedCsv => "a CSV row with the wrong number of cells, or cells that are not UTF-8",
            Reason::BadEnvelope => "not an object, or the event name, id or creation time is missing or mistyped",
            Reason::UnknownEventName => "no schema has this event name",
            Reason::SchemaViolation => "fails its schema, has a duplicate key or cannot be stored in its columns",
            Reason::OutOfWindow => "event time too far before or after its arrival hour",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rejected record: data for the quarantine, not an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub reason: Reason,
    /// Readable explanation.
    pub detail: String,
    /// JSON pointer of the first problem (empty for the whole record).
    pub pointer: String,
    /// Every schema error (schema violations only).
    pub errors: Vec<ValidationError>,
    /// The event name, when it could be read.
    pub event_name: Option<String>,
}

impl Rejection {
    pub(crate) fn new(reason: Reason, detail: String, pointer: String) -> Rejection {
        Rejection { reason, detail, pointer, errors: Vec::new(), event_name: None }
    }

    pub(crate) fn with_event_name(mut self, name: Option<&str>) -> Rejection {
        self.event_name = name.map(str::to_owned);
        self
    }

    fn named(mut self, name: &str) -> Rejection {
        self.event_name = Some(name.to_owned());
        self
    }
}

/// Accepted event times, `[start, end)` in microseconds since the epoch, and the arrival hour they
/// belong to (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    /// Start of the arrival hour, microseconds.
    pub arrival: i64,
}

/// Where a record came from: the lineage columns of its row.
#[derive(Debug, Clone, Copy)]
pub struct Lineage<'a> {
    /// Start of the arrival hour, microseconds.
    pub arrival: i64,
    pub source_key: &'a str,
    pub line: u64,
}

/// How one table's columns are filled.
#[derive(Debug)]
pub struct TableLayout {
    pub event_type: String,
    pub schema: SchemaRef,
    types: Vec<ColumnType>,
    names: Vec<String>,
    event_type_col: usize,
    event_subtype_col: usize,
    created_datetime_col: usize,
    arrival_hour_col: usize,
    source_key_col: usize,
    source_line_col: usize,
    /// The derived id column (`usize::MAX` when the id is a root member of the record).
    derived_id_col: usize,
}

impl TableLayout {
    /// Empty rows for this table.
    pub fn rows(&self) -> RowsBuilder {
        RowsBuilder::new(self.schema.clone(), &self.types)
    }
}

/// Where the records of one event name go.
#[derive(Debug)]
struct Route {
    event: Arc<EventSchema>,
    layout: Arc<TableLayout>,
    /// Property names in the record, in schema order.
    members: Vec<String>,
    /// Table column of each member.
    member_columns: Vec<usize>,
}

/// Where accepted rows are appended: the caller decides how rows are grouped (the hourly job by
/// event type and event hour; `validate` keeps one scratch builder per table).
pub trait RowSink {
    /// The rows an event of `layout`'s table created at `created_micros` goes to.
    fn rows_for(&mut self, layout: &Arc<TableLayout>, created_micros: i64) -> &mut RowsBuilder;
}

/// Rows that are checked and thrown away: one scratch builder per table, for callers that only
/// need the verdict (`eventlake validate`), not the rows.
#[derive(Default)]
pub struct ScratchRows(HashMap<String, RowsBuilder>);

impl RowSink for ScratchRows {
    fn rows_for(&mut self, layout: &Arc<TableLayout>, _created_micros: i64) -> &mut RowsBuilder {
        let rows = self.0.entry(layout.event_type.clone()).or_insert_with(|| layout.rows());
        rows.discard();
        rows
    }
}

/// An accepted record.
#[derive(Debug, Clone, Copy)]
pub struct Accepted<'r> {
    pub event: &'r Arc<EventSchema>,
    pub created_micros: i64,
}

/// The registry, compiled into per-event-name routes to table layouts.
#[derive(Debug)]
pub struct Acceptor {
    registry: Arc<Registry>,
    routes: HashMap<String, Route>,
}

impl Acceptor {
    pub fn new(registry: Arc<Registry>) -> Acceptor {
        let mut tables = HashMap::new();
        for t in registry.tables() {
            let cols = t.silver_columns();
            let pos = |n: &str| cols.iter().position(|c| c.name == n).unwrap_or(usize::MAX);
            let layout = TableLayout {
                event_type: t.event_type.clone(),
                schema: t.silver_arrow_schema(),
                types: cols.iter().map(|c| c.ty.clone()).collect(),
                names: cols.iter().map(|c| c.name.clone()).collect(),
                event_type_col: pos(derived::EVENT_TYPE),
                event_subtype_col: pos(derived::EVENT_SUBTYPE),
                created_datetime_col: pos(derived::CREATED_DATETIME),
                arrival_hour_col: pos(derived::ARRIVAL_HOUR),
                source_key_col: pos(derived::SOURCE_KEY),
                source_line_col: pos(derived::SOURCE_LINE),
                derived_id_col: if registry.options().envelope.derives_id() {
                    pos(Envelope::DERIVED_ID)
                } else {
                    usize::MAX
                },
            };
            tables.insert(t.event_type.clone(), Arc::new(layout));
        }
        let mut routes = HashMap::new();
        for event in registry.events() {
            let Some(layout) = tables.get(&event.event_type) else { continue };
            let (members, member_columns) = event
                .columns
                .iter()
                .filter_map(|c| layout.names.iter().position(|n| *n == c.name).map(|i| (c.source_name.clone(), i)))
                .unzip();
            routes.insert(
                event.name.clone(),
                Route { event: event.clone(), layout: layout.clone(), members, member_columns },
            );
        }
        Acceptor { registry, routes }
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The verdict on one framed record. Accepted records are appended (and committed) to the rows
    /// `sink` gives; a record that cannot be stored leaves those rows as they were. `window: None`
    /// skips the event-time check (no arrival hour is known).
    pub fn accept<'r>(
        &'r self,
        record: &Record<'_>,
        window: Option<Window>,
        lineage: Lineage<'_>,
        sink: &mut impl RowSink,
    ) -> Result<Accepted<'r>, Rejection> {
        let value = match record {
            Record::Malformed { error, .. } => {
                return Err(match &error.kind {
                    // Well-formed JSON that no schema can mean: a schema violation, with its pointer.
                    ParseErrorKind::DuplicateKey { pointer, .. } => {
                        Rejection::new(Reason::SchemaViolation, error.to_string(), pointer.clone())
                    }
                    _ => Rejection::new(Reason::MalformedJson, error.to_string(), String::new()),
                });
            }
            Record::Parsed { value, .. } => *value,
        };
        let checked = self.check(value, window, lineage.arrival)?;
        let (route, created_micros) = (checked.route, checked.created_micros);
        let event = &route.event;
        let rows = sink.rows_for(&route.layout, created_micros);
        match fill_row(rows, &checked, value, lineage) {
            Ok(()) => {
                rows.commit_row();
                Ok(Accepted { event, created_micros })
            }
            Err(m) => {
                rows.truncate();
                Err(Rejection::new(
                    Reason::SchemaViolation,
                    format!("/{}: value cannot be stored as {}", m.column, m.expected),
                    format!("/{}", m.column),
                )
                .named(&event.name))
            }
        }
    }

    /// Envelope, event name, schema and window.
    fn check<'s, 'v>(
        &'s self,
        v: Value<'v>,
        window: Option<Window>,
        arrival: i64,
    ) -> Result<Checked<'s, 'v>, Rejection> {
        let env = &self.registry.options().envelope;
        let envelope = |detail: String, field: &str| Rejection::new(Reason::BadEnvelope, detail, field_pointer(field));
        if v.kind() != Kind::Object {
            return Err(Rejection::new(
                Reason::BadEnvelope,
                format!("the record is a JSON {}, not an object", v.kind().json_type()),
                String::new(),
            ));
        }
        let name = match &self.registry.options().entity {
            Some(entity) => entity.table.as_str(),
            None => match lookup(v, &env.name) {
                Some(n) => n.as_str().ok_or_else(|| {
                    envelope(format!("{} must be a string, got {}", env.name, n.kind().json_type()), &env.name)
                })?,
                None => return Err(envelope(format!("{} is missing", env.name), &env.name)),
            },
        };
        let id = match lookup(v, &env.id) {
            _ if env.content_id => None,
            Some(id) if matches!(id.kind(), Kind::String | Kind::Int) => Some(id),
            Some(id) => {
                return Err(envelope(
                    format!("{} must be a string or an integer, got {}", env.id, id.kind().json_type()),
                    &env.id,
                ));
            }
            None => return Err(envelope(format!("{} is missing", env.id), &env.id)),
        };
        let created_micros = match &env.created_at {
            None => arrival,
            Some(field) => match lookup(v, field) {
                None => return Err(envelope(format!("{field} is missing"), field)),
                Some(c) => env.time.micros(c).ok_or_else(|| {
                    envelope(
                        format!(
                            "{field} must be {}, got {}",
                            env.time.describe(),
                            c.raw().chars().take(40).collect::<String>()
                        ),
                        field,
                    )
                })?,
            },
        };
        let Some(route) = self.routes.get(name) else {
            return Err(Rejection::new(
                Reason::UnknownEventName,
                format!("no schema for event name {name:?}"),
                field_pointer(&env.name),
            )
            .named(name));
        };
        let event = &route.event;
        if !event.schema.is_valid(v) {
            let errors = event.schema.validate(v);
            let detail = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            let pointer = errors.first().map(|e| e.pointer.clone()).unwrap_or_default();
            return Err(Rejection {
                reason: Reason::SchemaViolation,
                detail,
                pointer,
                errors,
                event_name: Some(event.name.clone()),
            });
        }
        if let Some(w) = window
            && (created_micros < w.start || created_micros >= w.end)
        {
            return Err(Rejection::new(
                Reason::OutOfWindow,
                format!(
                    "event time {} is outside the accepted window [{}, {}) of arrival hour {}",
                    micros_text(created_micros),
                    micros_text(w.start),
                    micros_text(w.end),
                    hour_text(w.arrival),
                ),
                env.created_at.as_deref().map(field_pointer).unwrap_or_default(),
            )
            .named(&event.name));
        }
        Ok(Checked { route, created_micros, id })
    }
}

/// A record that passed the envelope, schema and window checks.
struct Checked<'s, 'v> {
    route: &'s Route,
    created_micros: i64,
    /// The id as the record spells it (none for a content id).
    id: Option<Value<'v>>,
}

/// An envelope field of a record: a root member by name, or the value a JSON pointer leads to.
fn lookup<'v>(v: Value<'v>, field: &str) -> Option<Value<'v>> {
    if !is_pointer(field) {
        return v.get(field);
    }
    let mut at = v;
    for token in pointer_tokens(field) {
        at = at.get(&token)?;
    }
    Some(at)
}

/// The JSON pointer of an envelope field, for rejections.
fn field_pointer(field: &str) -> String {
    if is_pointer(field) {
        return field.to_owned();
    }
    let mut p = String::from("/");
    push_pointer_token(&mut p, field);
    p
}

fn fill_row(
    rows: &mut RowsBuilder,
    checked: &Checked<'_, '_>,
    v: Value<'_>,
    lineage: Lineage<'_>,
) -> Result<(), Mismatch> {
    let (route, created_micros) = (checked.route, checked.created_micros);
    let layout = &route.layout;
    let before = rows.rows();
    let mut hint = 0usize;
    for (key, member) in v.members() {
        if let Some(m) = find_member(&route.members, key, &mut hint) {
            let i = route.member_columns[m];
            rows.columns[i].append(member, &layout.names[i])?;
        }
    }
    let event = &route.event;
    for (i, c) in rows.columns.iter_mut().enumerate() {
        if c.len() > before {
            continue;
        }
        if i == layout.event_type_col {
            c.append_str(&event.event_type);
        } else if i == layout.event_subtype_col {
            match &event.event_subtype {
                Some(s) => c.append_str(s),
                None => c.append_null(),
            }
        } else if i == layout.created_datetime_col {
            c.append_i64(created_micros);
        } else if i == layout.arrival_hour_col {
            c.append_i64(lineage.arrival);
        } else if i == layout.source_key_col {
            c.append_str(lineage.source_key);
        } else if i == layout.source_line_col {
            c.append_i64(lineage.line as i64);
        } else if i == layout.derived_id_col {
            match checked.id {
                Some(id) => c.append_str(id.as_str().unwrap_or_else(|| id.raw())),
                None => c.append_str(&content_id(v)),
            }
        } else {
            c.append_null();
        }
    }
    Ok(())
}

/// `created_at` (integer or float Unix seconds) in microseconds.
/// Hex SHA-256 of the canonical record.
fn content_id(v: Value<'_>) -> String {
    let mut canonical = Vec::with_capacity(v.raw().len());
    v.write_canonical(&mut canonical);
    format!("{:x}", Sha256::digest(&canonical))
}

fn micros_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_else(|| micros.to_string())
}

fn hour_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H").to_string())
        .unwrap_or_else(|| micros.to_string())
}
