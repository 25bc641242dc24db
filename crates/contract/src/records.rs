//! Framing a byte stream into records, the way Kinesis Firehose writes them, or the elements of a
//! JSON array.
//!
//! Records are JSON values separated by newlines, or concatenated with nothing in between (Firehose's
//! default). CRLF, blank lines, a missing final newline and a UTF-8 byte-order mark are accepted. A
//! record that does not parse runs to the end of its line and is returned as [`Record::Malformed`]
//! with its exact bytes, so nothing after it is lost.
//!
//! A stream whose first value starts with `[` is a JSON array of records (entity exports, Segment
//! dumps written as `[{…},\n{…}]`): each element is a record, and may span lines. A trailing comma
//! before `]`, or anything after it, is a malformed record of its own.
//!
//! Memory is bounded by the buffer plus the largest record: the reader streams.

use std::io::{self, BufRead, Read};

use crate::json::{ParseError, ParseErrorKind, Tape, Value, checked_utf8};

/// How a source's bronze objects hold records (gzip of either is detected by content).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RecordFormat {
    /// JSON values, one per line or concatenated, or the elements of a JSON array.
    #[default]
    Json,
    /// CSV rows under a header row, typed by the schema.
    Csv(crate::delimited::CsvDialect),
}

/// Largest record accepted before the stream is declared unreadable.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;

const INITIAL_BUFFER: usize = 1 << 20;

/// Where a record sits in its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line of the record's first byte.
    pub line: u64,
    /// Byte offset of the record's first byte in the (decompressed) stream.
    pub offset: u64,
}

/// One framed record.
pub enum Record<'a> {
    /// Parsed JSON.
    Parsed { value: Value<'a>, raw: &'a [u8], at: Position },
    /// Bytes that are not one JSON value (through the end of their line).
    Malformed { raw: &'a [u8], error: ParseError, at: Position },
}

impl Record<'_> {
    pub fn position(&self) -> Position {
        match self {
            Record::Parsed { at, .. } | Record::Malformed { at, .. } => *at,
        }
    }

    pub fn raw(&self) -> &[u8] {
        match self {
            Record::Parsed { raw, .. } | Record::Malformed { raw, .. } => raw,
        }
    }
}

impl RecordReader<io::Empty> {
    /// Frames a complete piece of a larger stream, in place (no copy): `bytes` starts at line
    /// `first_line` and stream offset `base_offset`; `stream_start` says whether a byte-order mark
    /// may lead.
    /// `in_array`: the piece lies inside a JSON array a previous piece opened.
    pub fn for_chunk(bytes: Vec<u8>, first_line: u64, base_offset: u64, stream_start: bool, in_array: bool) -> Self {
        RecordReader {
            inner: io::empty(),
            end: bytes.len(),
            buf: bytes,
            start: 0,
            eof: true,
            base: base_offset,
            line: first_line,
            at_stream_start: stream_start,
            max_record: usize::MAX,
            tape: Tape::default(),
            array: if in_array { ArrayState::Open { after_comma: false } } else { ArrayState::Unknown },
        }
    }
}

/// Where the reader is with respect to a top-level JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// The first value has not been seen yet.
    Unknown,
    /// Not an array: newline-delimited or concatenated records.
    Lines,
    /// Inside the array; `after_comma`: a `,` was the last separator.
    Open { after_comma: bool },
    /// After the closing `]`.
    Closed,
}

/// Streams records out of any reader.
pub struct RecordReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Line number at `buf[start]`.
    line: u64,
    at_stream_start: bool,
    max_record: usize,
    tape: Tape,
    array: ArrayState,
}

impl<R: Read> RecordReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_max_record(inner, DEFAULT_MAX_RECORD_BYTES)
    }

    pub fn with_max_record(inner: R, max_record: usize) -> Self {
        RecordReader {
            inner,
            buf: vec![0; INITIAL_BUFFER.min(max_record.max(64))],
            start: 0,
            end: 0,
            eof: false,
            base: 0,
            line: 1,
            at_stream_start: true,
            max_record,
            tape: Tape::default(),
            array: ArrayState::Unknown,
        }
    }

    /// Bytes of the stream consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Moves unconsumed bytes to the front and reads more. Returns false at end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= self.max_record {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "record at line {} (byte {}) is larger than the {} MiB limit",
                        self.line,
                        self.base,
                        self.max_record >> 20
                    ),
                ));
            }
            let grown = (self.buf.len() * 2).min(self.max_record);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next record, or `None` at the end of the stream.
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        // Skip separators, counting lines.
        loop {
            if self.start == self.end && !self.fill()? {
                return Ok(None);
            }
            if self.at_stream_start {
                if self.end - self.start < 3 && !self.eof {
                    self.fill()?;
                    continue;
                }
                if self.buf[self.start..self.end].starts_with(b"\xEF\xBB\xBF") {
                    self.start += 3;
                }
                self.at_stream_start = false;
            }
            while self.start < self.end {
                match (self.buf[self.start], self.array) {
                    (b'\n', _) => self.line += 1,
                    (b' ' | b'\r' | b'\t', _) => {}
                    (b'[', ArrayState::Unknown) => self.array = ArrayState::Open { after_comma: false },
                    (b',', ArrayState::Open { after_comma: false }) => {
                        self.array = ArrayState::Open { after_comma: true }
                    }
                    (b']', ArrayState::Open { after_comma: false }) => self.array = ArrayState::Closed,
                    _ => break,
                }
                self.start += 1;
            }
            if self.start < self.end {
                break;
            }
        }
        match self.array {
            ArrayState::Unknown => self.array = ArrayState::Lines,
            ArrayState::Open { .. } if self.buf[self.start] == b']' => {
                // `,]`: the comma promised an element that never came.
                self.array = ArrayState::Closed;
                return Ok(Some(
                    self.malformed_here(1, ParseError { offset: 0, kind: ParseErrorKind::UnexpectedByte(b']') }),
                ));
            }
            ArrayState::Open { .. } if self.buf[self.start] == b',' => {
                return Ok(Some(
                    self.malformed_here(1, ParseError { offset: 0, kind: ParseErrorKind::UnexpectedByte(b',') }),
                ));
            }
            ArrayState::Open { .. } => self.array = ArrayState::Open { after_comma: false },
            ArrayState::Closed => {
                // Nothing may follow the array: the rest of the line is one malformed record.
                let len = self.line_len()?;
                return Ok(Some(
                    self.malformed_here(len, ParseError { offset: 0, kind: ParseErrorKind::TrailingCharacters }),
                ));
            }
            ArrayState::Lines => {}
        }
        let in_array = matches!(self.array, ArrayState::Open { .. });
        // Parse, reading more while the record is cut by the buffer end.
        let outcome = loop {
            let window = &self.buf[self.start..self.end];
            match self.tape.parse_prefix(window) {
                Ok(len) => break Ok(len),
                Err(e) if e.kind == ParseErrorKind::UnexpectedEnd && !self.eof => {
                    // A line-delimited record ends at its line; an array element may span lines.
                    if !in_array && memchr_newline(window).is_some() {
                        break Err(e);
                    }
                    self.fill()?;
                }
                Err(e) => break Err(e),
            }
        };
        let at = Position { line: self.line, offset: self.base + self.start as u64 };
        let start = self.start;
        match outcome {
            Ok(len) => {
                let raw = &self.buf[start..start + len];
                self.line += count_newlines(raw);
                self.start += len;
                match checked_utf8(raw) {
                    Ok(text) => Ok(Some(Record::Parsed { value: self.tape.root(text), raw, at })),
                    Err(error) => Ok(Some(Record::Malformed { raw, error, at })),
                }
            }
            Err(error) => {
                // The malformed record runs to the end of its line.
                let len = self.line_len()?;
                Ok(Some(self.malformed_here(len, error)))
            }
        }
    }
}

impl<R: Read> RecordReader<R> {
    /// Bytes from the read position to the end of its line, reading more as needed (the newline,
    /// and a CR before it, are not counted).
    fn line_len(&mut self) -> io::Result<usize> {
        let len = loop {
            if let Some(i) = memchr_newline(&self.buf[self.start..self.end]) {
                break i;
            }
            if !self.fill()? {
                break self.end - self.start;
            }
        };
        Ok(if len > 0 && self.buf[self.start + len - 1] == b'\r' { len - 1 } else { len })
    }

    /// The `len` bytes at the read position as one malformed record.
    fn malformed_here(&mut self, len: usize, error: ParseError) -> Record<'_> {
        let start = self.start;
        let at = Position { line: self.line, offset: self.base + start as u64 };
        self.start += len;
        Record::Malformed { raw: &self.buf[start..start + len], error, at }
    }
}

/// Wraps `input` in a gzip decoder when its first bytes are the gzip magic number, whatever the
/// object's name says. Concatenated gzip members are read as one stream.
pub fn decompressed<'a, R: BufRead + Send + 'a>(mut input: R) -> io::Result<Box<dyn Read + Send + 'a>> {
    let head = input.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::bufread::MultiGzDecoder::new(input)))
    } else {
        Ok(Box::new(input))
    }
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', b)
}

fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(input: &[u8], max: usize) -> Vec<String> {
        let mut r = RecordReader::with_max_record(input, max);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let at = rec.position();
            let kind = match &rec {
                Record::Parsed { .. } => "ok",
                Record::Malformed { .. } => "bad",
            };
            out.push(format!("{kind} {}:{} {}", at.line, at.offset, String::from_utf8_lossy(rec.raw())));
        }
        out
    }

    #[test]
    fn frames_every_firehose_shape() {
        let input = b"\xEF\xBB\xBF{\"a\":1}{\"a\":2}\r\n\n  {\"a\":\r\n[1,\n{\"a\":3}\n{\"a\":\"\xff\"}\n{\"a\":4}";
        for max in [64, 1 << 20] {
            assert_eq!(
                frame(input, max),
                [
                    "ok 1:3 {\"a\":1}",
                    "ok 1:10 {\"a\":2}",
                    "bad 3:22 {\"a\":",
                    "bad 4:29 [1,",
                    "ok 5:33 {\"a\":3}",
                    "bad 6:41 {\"a\":\"\u{fffd}\"}",
                    "ok 7:51 {\"a\":4}",
                ],
                "buffer {max}"
            );
        }
    }

    #[test]
    fn frames_the_elements_of_a_json_array() {
        let input = b"[\n  {\"a\": 1,\n   \"b\": [2]},\n  {\"a\":\n 3}, \"x\"\n]\n";
        for max in [64, 1 << 20] {
            assert_eq!(
                frame(input, max),
                ["ok 2:4 {\"a\": 1,\n   \"b\": [2]}", "ok 4:29 {\"a\":\n 3}", "ok 5:40 \"x\""],
                "buffer {max}"
            );
        }
        // Tier's export: one element per line, each line ending with `},`; then a trailing comma.
        assert_eq!(
            frame(b"[{\"a\":1},\n{\"a\":2},\n]", 1 << 20),
            ["ok 1:1 {\"a\":1}", "ok 2:10 {\"a\":2}", "bad 3:19 ]"]
        );
        assert_eq!(frame(b"[{\"a\":1}] {\"a\":2}\n", 1 << 20), ["ok 1:1 {\"a\":1}", "bad 1:10 {\"a\":2}"]);
        assert_eq!(frame(b"[{\"a\":1},,{\"a\":\n", 1 << 20), ["ok 1:1 {\"a\":1}", "bad 1:9 ,", "bad 1:10 {\"a\":"]);
        // A piece cut after an element continues the array it is part of.
        let mut piece = RecordReader::for_chunk(b",\n{\"a\":2}\n]".to_vec(), 7, 100, false, true);
        let first = piece.next_record().unwrap().unwrap();
        assert_eq!((first.raw(), first.position().line), (&b"{\"a\":2}"[..], 8));
        assert!(piece.next_record().unwrap().is_none());
        // Records that are arrays stay records when the stream does not start with one.
        assert_eq!(frame(b"{\"a\":1}\n[1]\n", 1 << 20), ["ok 1:0 {\"a\":1}", "ok 2:8 [1]"]);
    }

    #[test]
    fn truncated_last_record_and_oversized_records() {
        assert_eq!(frame(b"{\"a\":1}\n{\"a\"", 1 << 20), ["ok 1:0 {\"a\":1}", "bad 2:8 {\"a\""]);
        let mut r = RecordReader::with_max_record(
            &b"{\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32]}"[..],
            64,
        );
        assert!(r.next_record().is_err());
    }
}
