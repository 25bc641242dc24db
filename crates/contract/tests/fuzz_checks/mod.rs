//! What every fuzz input must satisfy, shared by the proptest harness (`tests/fuzz.rs`) and the
//! coverage-guided libFuzzer targets (`fuzz/`): no panic anywhere, and
//!
//! - framing a stream whole and in place (`RecordReader::for_chunk`, as the hourly job's workers
//!   do) yields the same records at the same lines and offsets, each inside the input, in order;
//! - whatever the tape parser accepts, serde_json accepts too;
//! - a verdict is the same when asked twice, and an accepted record names a known event;
//! - CSV rows under a header get a verdict each, no more rows than line ends.

use std::path::Path;
use std::sync::Arc;

use eventlake_contract::accept::{Acceptor, Lineage, ScratchRows, Window};
use eventlake_contract::delimited::{CsvDialect, CsvRows, CsvScratch, header_end};
use eventlake_contract::json::Tape;
use eventlake_contract::records::{Record, RecordReader};
use eventlake_contract::{Registry, RegistryOptions};

/// The checks, over one registry.
pub(crate) struct Checks {
    acceptor: Acceptor,
}

/// What framing a stream gave: `(line, offset, raw, parsed)` per record.
type Framed = Vec<(u64, u64, Vec<u8>, bool)>;

fn frame_whole(input: &[u8]) -> Framed {
    let mut reader = RecordReader::new(input);
    let mut out = Vec::new();
    while let Some(record) = reader.next_record().expect("reading from memory cannot fail") {
        let at = record.position();
        out.push((at.line, at.offset, record.raw().to_vec(), matches!(record, Record::Parsed { .. })));
    }
    out
}

impl Checks {
    /// Checks against the schemas in `dir`.
    pub(crate) fn load(dir: &Path) -> Checks {
        let registry = Registry::load_dir(dir, &RegistryOptions::default()).expect("the fuzz schemas load");
        Checks { acceptor: Acceptor::new(Arc::new(registry)) }
    }

    /// The registry's member names, for generated inputs.
    pub(crate) fn member_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.acceptor.registry().events().flat_map(|e| e.columns.iter().map(|c| c.source_name.clone())).collect();
        names.sort();
        names.dedup();
        names
    }

    /// Framing: records lie in the input in order; whole and in place agree.
    pub(crate) fn framing(&self, input: &[u8]) {
        let whole = frame_whole(input);
        let mut last_end = 0u64;
        for (line, offset, raw, _) in &whole {
            assert!(*line >= 1);
            assert!(*offset >= last_end, "records overlap or go back: offset {offset} after {last_end}");
            let end = offset + raw.len() as u64;
            assert!(end <= input.len() as u64, "a record ends at {end}, past the input's {} bytes", input.len());
            assert_eq!(&input[*offset as usize..end as usize], &raw[..], "raw bytes are the input's");
            last_end = end;
        }
        let mut reader = RecordReader::for_chunk(input.to_vec(), 1, 0, true, false);
        let mut in_place = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            let at = record.position();
            in_place.push((at.line, at.offset, record.raw().to_vec(), matches!(record, Record::Parsed { .. })));
        }
        assert_eq!(whole, in_place, "streaming and in-place framing differ");
    }

    /// Tape: no panic; what it accepts is JSON to serde_json too.
    pub(crate) fn tape(&self, input: &[u8]) {
        let mut tape = Tape::default();
        if tape.parse(input).is_ok() {
            assert!(
                serde_json::from_slice::<serde_json::Value>(input).is_ok(),
                "the tape accepted what is not JSON: {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// The verdict, twice: same outcome, and an accepted record names a known event.
    pub(crate) fn verdicts(&self, input: &[u8]) {
        let window = Window { start: 0, end: i64::MAX, arrival: 1_644_838_800_000_000 };
        let lineage = Lineage { arrival: window.arrival, source_key: "fuzz", line: 1 };
        let mut reader = RecordReader::new(input);
        let mut sink = ScratchRows::default();
        while let Some(record) = reader.next_record().unwrap() {
            let verdict = |sink: &mut ScratchRows| match self.acceptor.accept(&record, Some(window), lineage, sink) {
                Ok(a) => Ok(a.event.name.clone()),
                Err(r) => Err((r.reason, r.detail, r.pointer)),
            };
            let first = verdict(&mut sink);
            assert_eq!(first, verdict(&mut sink), "the verdict changed on a second look");
            if let Ok(name) = first {
                assert!(self.acceptor.registry().events().any(|e| e.name == name));
            }
        }
    }

    /// CSV: the sample events' columns as a header over fuzzed rows; every row gets a verdict.
    pub(crate) fn csv(&self, input: &[u8]) {
        let dialect = CsvDialect { null_tokens: vec!["NA".into()], ..CsvDialect::default() };
        let mut text = b"event_uuid,event_name,created_at,account_id,email,name,age,amount\n".to_vec();
        text.extend_from_slice(input);
        let end = header_end(&dialect, &text);
        let Ok(rows) = CsvRows::new(self.acceptor.registry(), &dialect, &text[..end]) else { return };
        let mut sink = ScratchRows::default();
        let lineage = Lineage { arrival: 0, source_key: "fuzz.csv", line: 1 };
        let mut seen = 0u64;
        let read = rows.each_record(&text[end..], 2, end as u64, &mut CsvScratch::default(), |record, raw, at| {
            seen += 1;
            assert!(at.offset as usize + raw.len() <= text.len());
            if let Ok(r) = record {
                let _ = self.acceptor.accept(&r, None, lineage, &mut sink);
            }
        });
        if read.is_ok() {
            // CSV ends a row at \n, \r or \r\n.
            let ends = input.iter().filter(|b| matches!(**b, b'\n' | b'\r')).count() as u64 + 1;
            assert!(seen <= ends, "{seen} rows out of {ends} line ends");
        }
    }

    pub(crate) fn all(&self, input: &[u8]) {
        self.framing(input);
        self.tape(input);
        self.verdicts(input);
        self.csv(input);
    }
}
