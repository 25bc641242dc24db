//! One record at a time: frame → envelope → schema → window → Arrow row, or a quarantine line.
//!
//! A chunk of bronze bytes goes in; per-partition record batches, quarantine lines and counts come
//! out. Chunks are independent, so workers process them in parallel.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use base64::Engine;
use eventlake_contract::json::{Kind, ParseErrorKind, Value};
use eventlake_contract::records::{Position, Record, RecordReader};
use eventlake_contract::registry::derived;
use eventlake_contract::{ColumnType, EventSchema, Registry, ValidationError};
use eventlake_lake::layout::{Hour, SilverPartition};
use serde::Serialize;

use crate::columns::{Mismatch, RowsBuilder, find_member};

/// Why a record went to quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    MalformedJson,
    BadEnvelope,
    UnknownEventName,
    SchemaViolation,
    OutOfWindow,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::MalformedJson => "malformed_json",
            Reason::BadEnvelope => "bad_envelope",
            Reason::UnknownEventName => "unknown_event_name",
            Reason::SchemaViolation => "schema_violation",
            Reason::OutOfWindow => "out_of_window",
        }
    }
}

/// What every chunk of one run shares.
#[derive(Debug)]
pub(crate) struct HourContext {
    pub(crate) registry: Arc<Registry>,
    pub(crate) arrival: Hour,
    /// Accepted event times, `[start, end)` in microseconds.
    pub(crate) window: (i64, i64),
    pub(crate) tables: HashMap<String, Arc<TableLayout>>,
    routes: HashMap<String, Route>,
    id_column: String,
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

/// How a table's columns are filled.
#[derive(Debug)]
pub(crate) struct TableLayout {
    pub(crate) schema: SchemaRef,
    types: Vec<ColumnType>,
    names: Vec<String>,
    event_type: usize,
    event_subtype: usize,
    created_datetime: usize,
    arrival_hour: usize,
    source_key: usize,
    source_line: usize,
}

impl HourContext {
    /// The lower-cased column of the event id.
    pub(crate) fn id_column(&self) -> &str {
        &self.id_column
    }

    pub(crate) fn new(registry: Arc<Registry>, arrival: Hour, window: (i64, i64)) -> HourContext {
        let mut tables = HashMap::new();
        for t in registry.tables() {
            let cols = t.silver_columns();
            let pos = |n: &str| cols.iter().position(|c| c.name == n).unwrap_or(usize::MAX);
            let layout = TableLayout {
                schema: t.silver_arrow_schema(),
                types: cols.iter().map(|c| c.ty.clone()).collect(),
                names: cols.iter().map(|c| c.name.clone()).collect(),
                event_type: pos(derived::EVENT_TYPE),
                event_subtype: pos(derived::EVENT_SUBTYPE),
                created_datetime: pos(derived::CREATED_DATETIME),
                arrival_hour: pos(derived::ARRIVAL_HOUR),
                source_key: pos(derived::SOURCE_KEY),
                source_line: pos(derived::SOURCE_LINE),
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
        let id_column = registry.options().envelope.id.to_lowercase();
        HourContext { registry, arrival, window, tables, routes, id_column }
    }
}

/// A piece of one bronze object, cut at a record boundary.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub(crate) seq: u64,
    pub(crate) source_key: Arc<str>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) first_line: u64,
    pub(crate) base_offset: u64,
    pub(crate) stream_start: bool,
}

/// Counts of one chunk (summed by the run).
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub records: u64,
    pub valid: u64,
    pub quarantined: u64,
    pub bytes: u64,
    pub by_event_name: BTreeMap<String, u64>,
    pub by_reason: BTreeMap<&'static str, u64>,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.records += other.records;
        self.valid += other.valid;
        self.quarantined += other.quarantined;
        self.bytes += other.bytes;
        for (k, v) in &other.by_event_name {
            *self.by_event_name.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.by_reason {
            *self.by_reason.entry(k).or_default() += v;
        }
    }
}

/// What a chunk produced.
#[derive(Debug)]
pub(crate) struct ChunkOutput {
    pub(crate) seq: u64,
    pub(crate) batches: Vec<(SilverPartition, RecordBatch)>,
    /// Quarantine JSON lines.
    pub(crate) quarantine: Vec<u8>,
    pub(crate) tally: Tally,
}

/// A problem found while processing a chunk that stops the run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ChunkError {
    #[error("{key}: {source}")]
    Read { key: String, source: std::io::Error },
    #[error("building rows for {partition}: {source}")]
    Arrow { partition: String, source: ArrowError },
}

/// Per-worker state reused across chunks.
#[derive(Default)]
pub(crate) struct Worker {
    builders: HashMap<(String, Hour), RowsBuilder>,
}

struct Rejection {
    reason: Reason,
    detail: String,
    pointer: String,
    errors: Vec<ValidationError>,
    event_name: Option<String>,
}

impl Rejection {
    fn simple(reason: Reason, detail: String, pointer: &str) -> Rejection {
        Rejection { reason, detail, pointer: pointer.into(), errors: Vec::new(), event_name: None }
    }
}

#[derive(Serialize)]
struct QuarantineLine<'a> {
    reason: &'static str,
    detail: &'a str,
    pointer: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [ValidationError],
    #[serde(skip_serializing_if = "Option::is_none")]
    event_name: Option<&'a str>,
    source_key: &'a str,
    line: u64,
    byte_offset: u64,
    arrival_hour: String,
    /// `utf8`: `record` is the original text; `base64`: the original bytes, base64-encoded.
    record_encoding: &'static str,
    record: String,
}

impl Worker {
    pub(crate) fn process(&mut self, ctx: &HourContext, chunk: Chunk) -> Result<ChunkOutput, ChunkError> {
        let mut tally = Tally { bytes: chunk.bytes.len() as u64, ..Tally::default() };
        let source_key = chunk.source_key.clone();
        let mut quarantine = Vec::new();
        let arrival_hour = ctx.arrival.to_string();
        let mut reader = RecordReader::for_chunk(chunk.bytes, chunk.first_line, chunk.base_offset, chunk.stream_start);
        loop {
            let record = match reader.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(source) => return Err(ChunkError::Read { key: chunk.source_key.to_string(), source }),
            };
            tally.records += 1;
            let at = record.position();
            let outcome = match &record {
                Record::Malformed { error, .. } => Err(match &error.kind {
                    ParseErrorKind::DuplicateKey { pointer, .. } => {
                        Rejection::simple(Reason::SchemaViolation, error.to_string(), pointer)
                    }
                    _ => Rejection::simple(Reason::MalformedJson, error.to_string(), ""),
                }),
                Record::Parsed { value, .. } => self.accept(ctx, *value, &source_key, at),
            };
            match outcome {
                Ok(event_name) => {
                    tally.valid += 1;
                    match tally.by_event_name.get_mut(event_name) {
                        Some(n) => *n += 1,
                        None => {
                            tally.by_event_name.insert(event_name.to_owned(), 1);
                        }
                    }
                }
                Err(r) => {
                    tally.quarantined += 1;
                    *tally.by_reason.entry(r.reason.code()).or_default() += 1;
                    let raw = record.raw();
                    let (record_encoding, text) = match std::str::from_utf8(raw) {
                        Ok(t) => ("utf8", t.to_owned()),
                        Err(_) => ("base64", base64::engine::general_purpose::STANDARD.encode(raw)),
                    };
                    let line = QuarantineLine {
                        reason: r.reason.code(),
                        detail: &r.detail,
                        pointer: &r.pointer,
                        errors: &r.errors,
                        event_name: r.event_name.as_deref(),
                        source_key: &source_key,
                        line: at.line,
                        byte_offset: at.offset,
                        arrival_hour: arrival_hour.clone(),
                        record_encoding,
                        record: text,
                    };
                    // Serializing plain strings and numbers cannot fail.
                    if serde_json::to_writer(&mut quarantine, &line).is_ok() {
                        quarantine.push(b'\n');
                    }
                }
            }
        }
        let mut keys: Vec<(String, Hour)> =
            self.builders.iter().filter(|(_, b)| b.rows() > 0).map(|(k, _)| k.clone()).collect();
        keys.sort();
        let mut batches = Vec::with_capacity(keys.len());
        for key in keys {
            let partition = SilverPartition { event_type: key.0.clone(), hour: key.1 };
            if let Some(b) = self.builders.get_mut(&key) {
                let batch = b
                    .finish()
                    .map_err(|source| ChunkError::Arrow { partition: partition.path().to_string(), source })?;
                batches.push((partition, batch));
            }
        }
        Ok(ChunkOutput { seq: chunk.seq, batches, quarantine, tally })
    }

    /// Appends a valid record to its partition's rows; returns its event name.
    fn accept<'r>(
        &mut self,
        ctx: &'r HourContext,
        v: Value<'_>,
        source_key: &str,
        at: Position,
    ) -> Result<&'r str, Rejection> {
        let env = &ctx.registry.options().envelope;
        if v.kind() != Kind::Object {
            return Err(Rejection::simple(
                Reason::BadEnvelope,
                format!("the record is a JSON {}, not an object", v.kind().json_type()),
                "",
            ));
        }
        let name = match v.get(&env.name) {
            Some(n) => n.as_str().ok_or_else(|| {
                Rejection::simple(
                    Reason::BadEnvelope,
                    format!("{} must be a string, got {}", env.name, n.kind().json_type()),
                    &format!("/{}", env.name),
                )
            })?,
            None => {
                return Err(Rejection::simple(
                    Reason::BadEnvelope,
                    format!("{} is missing", env.name),
                    &format!("/{}", env.name),
                ));
            }
        };
        match v.get(&env.id) {
            Some(id) if id.kind() == Kind::String => {}
            Some(id) => {
                return Err(Rejection::simple(
                    Reason::BadEnvelope,
                    format!("{} must be a string, got {}", env.id, id.kind().json_type()),
                    &format!("/{}", env.id),
                ));
            }
            None => {
                return Err(Rejection::simple(
                    Reason::BadEnvelope,
                    format!("{} is missing", env.id),
                    &format!("/{}", env.id),
                ));
            }
        }
        let created_micros = match v.get(&env.created_at) {
            None => {
                return Err(Rejection::simple(
                    Reason::BadEnvelope,
                    format!("{} is missing", env.created_at),
                    &format!("/{}", env.created_at),
                ));
            }
            Some(c) => created_micros(c).ok_or_else(|| {
                Rejection::simple(
                    Reason::BadEnvelope,
                    format!(
                        "{} must be Unix seconds (integer or float), got {}",
                        env.created_at,
                        c.raw().chars().take(40).collect::<String>()
                    ),
                    &format!("/{}", env.created_at),
                )
            })?,
        };
        let Some(route) = ctx.routes.get(name) else {
            let mut r = Rejection::simple(
                Reason::UnknownEventName,
                format!("no schema for event name {name:?}"),
                &format!("/{}", env.name),
            );
            r.event_name = Some(name.to_owned());
            return Err(r);
        };
        let event: &'r Arc<EventSchema> = &route.event;
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
        if created_micros < ctx.window.0 || created_micros >= ctx.window.1 {
            let mut r = Rejection::simple(
                Reason::OutOfWindow,
                format!(
                    "event time {} is outside the accepted window [{}, {}) of arrival hour {}",
                    micros_text(created_micros),
                    micros_text(ctx.window.0),
                    micros_text(ctx.window.1),
                    ctx.arrival
                ),
                &format!("/{}", env.created_at),
            );
            r.event_name = Some(event.name.clone());
            return Err(r);
        }
        let layout = &route.layout;
        let hour = Hour::of_micros(created_micros);
        let key = (event.event_type.clone(), hour);
        let rows = match self.builders.get_mut(&key) {
            Some(r) => r,
            None => self.builders.entry(key).or_insert_with(|| RowsBuilder::new(layout.schema.clone(), &layout.types)),
        };
        let row = fill_row(rows, route, v, created_micros, ctx.arrival, source_key, at.line);
        match row {
            Ok(()) => {
                rows.commit_row();
                Ok(event.name.as_str())
            }
            Err(m) => {
                rows.truncate();
                Err(Rejection {
                    reason: Reason::SchemaViolation,
                    detail: format!("/{}: value cannot be stored as {}", m.column, m.expected),
                    pointer: format!("/{}", m.column),
                    errors: Vec::new(),
                    event_name: Some(event.name.clone()),
                })
            }
        }
    }
}

fn fill_row(
    rows: &mut RowsBuilder,
    route: &Route,
    v: Value<'_>,
    created_micros: i64,
    arrival: Hour,
    source_key: &str,
    line: u64,
) -> Result<(), Mismatch> {
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
        if i == layout.event_type {
            c.append_str(&event.event_type);
        } else if i == layout.event_subtype {
            match &event.event_subtype {
                Some(s) => c.append_str(s),
                None => c.append_null(),
            }
        } else if i == layout.created_datetime {
            c.append_i64(created_micros);
        } else if i == layout.arrival_hour {
            c.append_i64(arrival.start_micros());
        } else if i == layout.source_key {
            c.append_str(source_key);
        } else if i == layout.source_line {
            c.append_i64(line as i64);
        } else {
            c.append_null();
        }
    }
    Ok(())
}

/// `created_at` (integer or float Unix seconds) in microseconds.
fn created_micros(v: Value<'_>) -> Option<i64> {
    if let Some(secs) = v.as_i64() {
        return secs.checked_mul(1_000_000);
    }
    let f = v.as_f64()?;
    let micros = (f * 1_000_000.0).round();
    (micros.is_finite() && micros.abs() < 9.0e18).then_some(micros as i64)
}

fn micros_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_else(|| micros.to_string())
}
