//! Cutting a decompressed stream into pieces that workers frame and check in parallel: each piece
//! ends at a record boundary (after a newline, a complete JSON value, a JSON array's element or a
//! CSV row), and carries the line and byte offset it starts at, so that every record keeps the
//! position it has in the whole stream.

use std::io::{self, Read};

/// A piece of a stream cut after a record boundary.
pub struct CutChunk {
    pub bytes: Vec<u8>,
    pub first_line: u64,
    pub base_offset: u64,
    pub stream_start: bool,
    /// The chunk continues a JSON array an earlier chunk opened.
    pub in_array: bool,
}

/// How a CSV stream's records end, for cutting it between rows (a quoted cell may hold newlines).
#[derive(Debug, Clone, Copy)]
pub struct CsvCut {
    pub delimiter: u8,
    pub quote: u8,
    /// The first row is a header, set apart.
    pub header: bool,
}

impl CsvCut {
    /// End of the last (or, with `first`, the first) complete record in `b`, which starts at a
    /// record boundary; read by the same CSV state machine the workers parse with, so both agree
    /// on every boundary.
    fn record_end(self, b: &[u8], first: bool) -> Option<usize> {
        let mut reader = csv_core::ReaderBuilder::new().delimiter(self.delimiter).quote(self.quote).build();
        let mut scratch = vec![0u8; 64 << 10];
        let mut ends = [0usize; 256];
        let (mut pos, mut last) = (0, None);
        loop {
            // Cell contents are not needed: a full scratch buffer is simply reused.
            let (result, read, _, _) = reader.read_record(&b[pos..], &mut scratch, &mut ends);
            pos += read;
            match result {
                csv_core::ReadRecordResult::Record if first => return Some(pos),
                csv_core::ReadRecordResult::Record => last = Some(pos),
                csv_core::ReadRecordResult::OutputFull | csv_core::ReadRecordResult::OutputEndsFull => {}
                csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => return last,
            }
        }
    }
}

/// Cuts a decompressed stream into chunks of about `target` bytes, each ending after a newline or,
/// in streams without newlines, after a complete top-level JSON value. A stream that starts with
/// `[` is a JSON array: its chunks end after a complete element, so elements may span lines.
pub struct Chunker<R> {
    inner: R,
    carry: Vec<u8>,
    line: u64,
    offset: u64,
    first: bool,
    /// The stream is a JSON array (known once the first chunk is read).
    array: bool,
    /// The stream is CSV: cut between rows, and its first row is the header.
    csv: Option<CsvCut>,
    header: Option<Vec<u8>>,
    eof: bool,
    target: usize,
    max_record: usize,
}

impl<R: Read> Chunker<R> {
    pub fn new(inner: R, target: usize, max_record: usize) -> Self {
        Chunker {
            inner,
            carry: Vec::new(),
            line: 1,
            offset: 0,
            first: true,
            array: false,
            csv: None,
            header: None,
            eof: false,
            target,
            max_record,
        }
    }

    /// A chunker for CSV: the header row is set apart ([`Chunker::header`]) and chunks end
    /// between rows.
    pub fn csv(inner: R, target: usize, max_record: usize, cut: CsvCut) -> Self {
        Chunker { csv: Some(cut), ..Chunker::new(inner, target, max_record) }
    }

    /// The CSV header row, raw, once the first chunk has been cut.
    pub fn header(&self) -> Option<&[u8]> {
        self.header.as_deref()
    }

    /// Lines started so far (for error messages).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Reads until `buf` holds `want` bytes or the stream ends; zero-fills each byte only once.
    fn read_until(&mut self, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
        let mut filled = buf.len();
        if filled >= want || self.eof {
            return Ok(());
        }
        buf.resize(want, 0);
        while filled < want && !self.eof {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(filled);
                    return Err(e);
                }
            }
        }
        buf.truncate(filled);
        Ok(())
    }

    pub fn next_chunk(&mut self) -> io::Result<Option<CutChunk>> {
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = self.target;
        let cut = loop {
            self.read_until(&mut buf, want)?;
            if self.first && self.csv.is_none() {
                let body = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf);
                self.array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
            }
            if let Some(csv) = self.csv {
                if csv.header && self.header.is_none() {
                    match csv.record_end(&buf, true) {
                        Some(end) => {
                            self.take_header(&mut buf, end);
                            continue;
                        }
                        None if self.eof => {
                            let all = buf.len();
                            self.take_header(&mut buf, all);
                            continue;
                        }
                        None => {}
                    }
                } else if self.eof {
                    break buf.len();
                } else if let Some(end) = csv.record_end(&buf, false) {
                    break end;
                }
            } else if self.eof {
                break buf.len();
            } else if self.array {
                if let Some(end) = last_element_end(&buf, usize::from(!self.first)) {
                    break end;
                }
            } else if let Some(i) = memchr::memrchr(b'\n', &buf) {
                break i + 1;
            }
            if self.csv.is_none()
                && let Some(end) = last_value_end(&buf)
            {
                break end;
            }
            if buf.len() >= self.max_record {
                // One unbroken record larger than the limit: hand it on; it will be quarantined.
                break buf.len();
            }
            want = (want * 2).min(self.max_record);
        };
        if buf.is_empty() {
            return Ok(None);
        }
        self.carry = buf.split_off(cut);
        let chunk = CutChunk {
            first_line: self.line,
            base_offset: self.offset,
            stream_start: self.first,
            in_array: self.array && !self.first,
            bytes: buf,
        };
        self.first = false;
        self.offset += chunk.bytes.len() as u64;
        self.line += memchr::memchr_iter(b'\n', &chunk.bytes).count() as u64;
        Ok(Some(chunk))
    }
}

impl<R: Read> Chunker<R> {
    /// Sets the first `end` bytes of `buf` apart as the header row.
    fn take_header(&mut self, buf: &mut Vec<u8>, end: usize) {
        let rest = buf.split_off(end);
        let header = std::mem::replace(buf, rest);
        self.line += memchr::memchr_iter(b'\n', &header).count() as u64;
        self.offset += header.len() as u64;
        self.first = false;
        self.header = Some(header);
    }
}

/// End of the last complete element of a JSON array in `b`: where nesting returns to the array's
/// own level. `depth`: the nesting at `b[0]` (0 before the `[`, 1 inside the array).
fn last_element_end(b: &[u8], depth: usize) -> Option<usize> {
    last_close_to(b, depth, 1)
}

/// End of the last complete top-level object or array in `b` (string-aware), if any.
fn last_value_end(b: &[u8]) -> Option<usize> {
    last_close_to(b, 0, 0)
}

/// After the last `}` or `]` (outside strings) that brings nesting from `depth` at `b[0]` back to
/// `level`.
fn last_close_to(b: &[u8], depth: usize, level: usize) -> Option<usize> {
    let mut depth = depth;
    let mut in_string = false;
    let mut escaped = false;
    let mut last = None;
    for (i, &c) in b.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == level {
                    last = Some(i + 1);
                }
            }
            _ => {}
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(input: &[u8], target: usize) -> Vec<(String, u64, u64)> {
        let mut c = Chunker::new(input, target, 1 << 20);
        let mut out = Vec::new();
        while let Some(ch) = c.next_chunk().unwrap() {
            out.push((String::from_utf8_lossy(&ch.bytes).into_owned(), ch.first_line, ch.base_offset));
        }
        out
    }

    #[test]
    fn cuts_after_newlines_or_values() {
        let got = chunks(b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}", 10);
        assert_eq!(got[0], ("{\"a\":1}\n".into(), 1, 0));
        assert_eq!(got.iter().map(|c| c.0.as_str()).collect::<String>(), "{\"a\":1}\n{\"a\":2}\n{\"a\":3}");
        let got = chunks(b"{\"a\":\"}{\"}{\"a\":2}{\"a\":3}", 12);
        assert_eq!(got[0].0, "{\"a\":\"}{\"}");
        assert_eq!(got.iter().map(|c| c.0.as_str()).collect::<String>(), "{\"a\":\"}{\"}{\"a\":2}{\"a\":3}");
        assert_eq!(last_value_end(b"{\"a\":[1,{}]} {\"b\""), Some(12));
    }

    /// CSV is cut between rows only, a quoted cell's newlines included; the header row is set
    /// apart once and the pieces' lines and offsets count it.
    #[test]
    fn cuts_csv_between_rows() {
        let mut input = String::from("id,note\r\n");
        for i in 0..50 {
            input.push_str(&format!("{i},\"line one\nline \"\"two\"\", {i}\"\r\n"));
        }
        let cut = CsvCut { delimiter: b',', quote: b'"', header: true };
        let mut c = Chunker::csv(input.as_bytes(), 64, 1 << 20, cut);
        let mut pieces = Vec::new();
        while let Some(ch) = c.next_chunk().unwrap() {
            pieces.push(ch);
        }
        let header = String::from_utf8_lossy(c.header().unwrap()).into_owned();
        assert!(header.starts_with("id,note"), "{header:?}");
        assert!(pieces.len() > 5, "small targets give many pieces");
        let mut rows = 0;
        for p in &pieces {
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&p.bytes[..]);
            for record in reader.records() {
                let record = record.unwrap();
                assert_eq!(&record[1][..8], "line one", "every row is whole: {record:?}");
                rows += 1;
            }
        }
        assert_eq!(rows, 50);
        assert_eq!(pieces[0].base_offset as usize, header.len());
        let joined: Vec<u8> = pieces.iter().flat_map(|p| p.bytes.iter().copied()).collect();
        assert_eq!(header.len() + joined.len(), input.len(), "nothing is lost or repeated");
    }

    /// A pretty-printed JSON array is cut only between elements, and every piece frames the
    /// elements it holds: together, exactly the array's elements.
    #[test]
    fn cuts_json_arrays_between_elements() {
        let elements: Vec<String> =
            (0..40).map(|i| format!("{{\n    \"Id\": {i},\n    \"Name\": \"Course [{i}]\"\n  }}")).collect();
        let input = format!("[\n  {}\n]\n", elements.join(",\n  "));
        let mut c = Chunker::new(input.as_bytes(), 64, 1 << 20);
        let mut framed = Vec::new();
        let mut pieces = 0;
        while let Some(ch) = c.next_chunk().unwrap() {
            assert_eq!(ch.in_array, !ch.stream_start);
            let mut r = crate::records::RecordReader::for_chunk(
                ch.bytes,
                ch.first_line,
                ch.base_offset,
                ch.stream_start,
                ch.in_array,
            );
            while let Some(rec) = r.next_record().unwrap() {
                assert!(matches!(rec, crate::records::Record::Parsed { .. }), "{:?}", rec.position());
                framed.push(String::from_utf8(rec.raw().to_vec()).unwrap());
            }
            pieces += 1;
        }
        assert!(pieces > 10, "{pieces}");
        assert_eq!(framed, elements);
    }
}
