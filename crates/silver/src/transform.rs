//! One chunk at a time: framed records → the contract's verdict → Arrow rows by silver partition,
//! or quarantine lines.
//!
//! A chunk of bronze bytes goes in; per-partition record batches, quarantine lines and counts come
//! out. Chunks are independent, so workers process them in parallel.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::RecordBatch;
use eventlake_contract::Registry;
use eventlake_contract::Rejection;
use eventlake_contract::accept::{Accepted, Acceptor, Lineage, RowSink, TableLayout, Window};
use eventlake_contract::delimited::{CsvRows, CsvScratch};
use eventlake_contract::records::{Position, RecordReader};
use eventlake_contract::rows::RowsBuilder;
use eventlake_lake::layout::{Hour, SilverPartition};
use eventlake_lake::manifest::QuarantineGroup;
use eventlake_lake::quarantine::{QuarantineLine, QuarantineOrigin, masked_detail, pointer_pattern};

use crate::error::{Error, Result};

/// What every chunk of one run shares.
#[derive(Debug)]
pub(crate) struct HourContext {
    pub(crate) acceptor: Acceptor,
    pub(crate) arrival: Hour,
    pub(crate) window: Window,
}

impl HourContext {
    pub(crate) fn new(registry: Arc<Registry>, arrival: Hour, window: (i64, i64)) -> HourContext {
        let window = Window { start: window.0, end: window.1, arrival: arrival.start_micros() };
        HourContext { acceptor: Acceptor::new(registry), arrival, window }
    }

    /// The column of the event id (its field name as an identifier).
    pub(crate) fn id_column(&self) -> String {
        self.acceptor.registry().options().envelope.id_column()
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
    /// The piece lies inside a JSON array an earlier piece of its object opened.
    pub(crate) in_array: bool,
    /// CSV rows, read through their object's header.
    pub(crate) csv: Option<Arc<CsvRows>>,
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
    /// Quarantined records per event name (`""`: none could be read).
    pub quarantined_by_event_name: BTreeMap<String, u64>,
    /// Quarantined records by kind: (reason, event name, pointer pattern, keyword).
    pub(crate) quarantine_groups: BTreeMap<GroupKey, (u64, String)>,
}

/// (reason, event name, pointer pattern, keyword) of a quarantined record.
pub(crate) type GroupKey = (&'static str, String, String, &'static str);

/// Distinct event names and kinds a tally keeps: names come from the records, so a producer
/// sending endless new names must not grow the counts without bound; past it they count as one.
const MAX_KINDS: usize = 1_000;
const OTHER_NAMES: &str = "(other names)";

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
        for (k, v) in &other.quarantined_by_event_name {
            self.count_quarantined_name(k, *v);
        }
        for (k, (n, example)) in &other.quarantine_groups {
            self.count_group(k, *n, || example.clone());
        }
    }

    fn count_quarantined_name(&mut self, name: &str, n: u64) {
        let full = self.quarantined_by_event_name.len() >= MAX_KINDS;
        match self.quarantined_by_event_name.get_mut(name) {
            Some(have) => *have += n,
            None if !full => {
                self.quarantined_by_event_name.insert(name.to_owned(), n);
            }
            None => *self.quarantined_by_event_name.entry(OTHER_NAMES.to_owned()).or_default() += n,
        }
    }

    fn count_group(&mut self, key: &GroupKey, n: u64, example: impl FnOnce() -> String) {
        match self.quarantine_groups.get_mut(key) {
            Some(have) => have.0 += n,
            None => {
                let key = if self.quarantine_groups.len() < MAX_KINDS {
                    key.clone()
                } else {
                    (key.0, OTHER_NAMES.to_owned(), String::new(), "")
                };
                let have = self.quarantine_groups.entry(key).or_insert_with(|| (0, example()));
                have.0 += n;
            }
        }
    }

    /// The groups as a manifest lists them.
    pub fn groups(&self) -> Vec<QuarantineGroup> {
        eventlake_lake::manifest::merge_groups(self.quarantine_groups.iter().map(|(k, (n, example))| QuarantineGroup {
            reason: k.0.to_owned(),
            event_name: k.1.clone(),
            pointer: k.2.clone(),
            keyword: k.3.to_owned(),
            records: *n,
            example: example.clone(),
        }))
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

/// Per-worker state reused across chunks.
#[derive(Default)]
pub(crate) struct Worker {
    rows: PartitionRows,
    csv_scratch: CsvScratch,
}

/// What one chunk's records add up to, as they are judged.
struct ChunkSink<'c> {
    ctx: &'c HourContext,
    source_key: Arc<str>,
    arrival_hour: String,
    tally: Tally,
    quarantine: Vec<u8>,
}

impl ChunkSink<'_> {
    fn accepted(&mut self, accepted: &Accepted<'_>) {
        self.tally.valid += 1;
        let name = &accepted.event.name;
        match self.tally.by_event_name.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                self.tally.by_event_name.insert(name.clone(), 1);
            }
        }
    }

    fn rejected(&mut self, rejection: &Rejection, raw: &[u8], at: Position) {
        self.tally.quarantined += 1;
        *self.tally.by_reason.entry(rejection.reason.code()).or_default() += 1;
        let name = rejection.event_name.as_deref().unwrap_or_default();
        self.tally.count_quarantined_name(name, 1);
        let (keyword, detail) = match rejection.errors.first() {
            Some(e) => (e.keyword, e.message.as_str()),
            None => (rejection.reason.code(), rejection.detail.as_str()),
        };
        let key = (rejection.reason.code(), name.to_owned(), pointer_pattern(&rejection.pointer), keyword);
        self.tally.count_group(&key, 1, || masked_detail(detail));
        let origin = QuarantineOrigin {
            source_key: &self.source_key,
            line: at.line,
            byte_offset: at.offset,
            arrival_hour: &self.arrival_hour,
        };
        QuarantineLine::new(rejection, raw, origin).write_to(&mut self.quarantine);
    }

    fn lineage(&self, line: u64) -> Lineage<'_> {
        Lineage { arrival: self.ctx.arrival.start_micros(), source_key: &self.source_key, line }
    }
}

/// Rows by silver partition: event type and event hour.
#[derive(Default)]
struct PartitionRows {
    builders: HashMap<(String, Hour), RowsBuilder>,
}

impl RowSink for PartitionRows {
    fn rows_for(&mut self, layout: &Arc<TableLayout>, created_micros: i64) -> &mut RowsBuilder {
        let key = (layout.event_type.clone(), Hour::of_micros(created_micros));
        self.builders.entry(key).or_insert_with(|| layout.rows())
    }
}

impl Worker {
    pub(crate) fn process(&mut self, ctx: &HourContext, chunk: Chunk) -> Result<ChunkOutput> {
        let mut sink = ChunkSink {
            ctx,
            source_key: chunk.source_key.clone(),
            arrival_hour: ctx.arrival.to_string(),
            tally: Tally { bytes: chunk.bytes.len() as u64, ..Tally::default() },
            quarantine: Vec::new(),
        };
        let seq = chunk.seq;
        match chunk.csv.clone() {
            Some(csv) => self.judge_csv(&mut sink, &csv, chunk)?,
            None => self.judge_json(&mut sink, chunk)?,
        }
        let ChunkSink { tally, quarantine, .. } = sink;
        let mut keys: Vec<(String, Hour)> =
            self.rows.builders.iter().filter(|(_, b)| b.rows() > 0).map(|(k, _)| k.clone()).collect();
        keys.sort();
        let mut batches = Vec::with_capacity(keys.len());
        for key in keys {
            let partition = SilverPartition { event_type: key.0.clone(), hour: key.1 };
            if let Some(b) = self.rows.builders.get_mut(&key) {
                let batch =
                    b.finish().map_err(|source| Error::Rows { partition: partition.path().to_string(), source })?;
                batches.push((partition, batch));
            }
        }
        Ok(ChunkOutput { seq, batches, quarantine, tally })
    }

    fn judge_json(&mut self, sink: &mut ChunkSink<'_>, chunk: Chunk) -> Result<()> {
        let mut reader = RecordReader::for_chunk(
            chunk.bytes,
            chunk.first_line,
            chunk.base_offset,
            chunk.stream_start,
            chunk.in_array,
        );
        loop {
            let record = match reader.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => return Ok(()),
                Err(source) => return Err(Error::Read { key: chunk.source_key.to_string(), source }),
            };
            sink.tally.records += 1;
            let at = record.position();
            match sink.ctx.acceptor.accept(&record, Some(sink.ctx.window), sink.lineage(at.line), &mut self.rows) {
                Ok(accepted) => sink.accepted(&accepted),
                Err(rejection) => sink.rejected(&rejection, record.raw(), at),
            }
        }
    }

    /// Each CSV row becomes the JSON object its header and schema describe, then meets the same
    /// verdict; the quarantine keeps the row as it was written.
    fn judge_csv(&mut self, sink: &mut ChunkSink<'_>, csv: &CsvRows, chunk: Chunk) -> Result<()> {
        let Worker { rows, csv_scratch, .. } = self;
        csv.each_record(&chunk.bytes, chunk.first_line, chunk.base_offset, csv_scratch, |record, raw, at| {
            sink.tally.records += 1;
            let judged = record.and_then(|record| {
                sink.ctx.acceptor.accept(&record, Some(sink.ctx.window), sink.lineage(at.line), rows)
            });
            match judged {
                Ok(accepted) => sink.accepted(&accepted),
                Err(rejection) => sink.rejected(&rejection, raw, at),
            }
        })
        .map_err(|e| Error::Read { key: chunk.source_key.to_string(), source: std::io::Error::other(e) })
    }
}
