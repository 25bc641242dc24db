//! CSV records, typed by the schema: each row becomes the JSON object the schema describes, so the
//! one verdict ([`crate::accept`]) judges CSV exactly as it judges JSON.
//!
//! A cell is read as its column's type: `"12"` is the integer 12 for an `integer` property, `1.5`
//! a number, `true`/`false` a boolean, anything else a string; a cell of a nested column (object,
//! array, map or mixed types) holds JSON text. A null token (`NA`, or the empty cell when listed)
//! is `null`. A cell that does not read as its type is a schema violation naming the column; a row
//! with the wrong number of cells, or cells that are not UTF-8, is [`Reason::MalformedCsv`]. Either
//! way the quarantine keeps the row's raw bytes.

use std::collections::HashMap;

use crate::accept::{Reason, Rejection};
use crate::json::{Tape, push_pointer_token, write_json_string};
use crate::records::{Position, Record};
use crate::registry::{EventSchema, Registry, is_pointer};
use crate::types::ColumnType;

/// How a source spells its CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvDialect {
    pub delimiter: u8,
    pub quote: u8,
    /// Cells that mean null (e.g. `NA`; the empty cell only when listed as `""`).
    pub null_tokens: Vec<String>,
    /// Header names whose cells are not part of the record (e.g. `""`, a row index).
    pub skip_columns: Vec<String>,
    /// The column names when the files have no header row (`None`: the first row is the header).
    pub columns: Option<Vec<String>>,
}

impl Default for CsvDialect {
    fn default() -> Self {
        CsvDialect { delimiter: b',', quote: b'"', null_tokens: Vec::new(), skip_columns: Vec::new(), columns: None }
    }
}

impl CsvDialect {
    /// A reader over complete CSV text without a header line (the header is read once per object).
    pub fn reader<R: std::io::Read>(&self, input: R) -> csv::Reader<R> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .quote(self.quote)
            .from_reader(input)
    }

    /// Text that changes what a run writes (hashed into the settings fingerprint).
    pub fn describe(&self) -> String {
        format!(
            "csv delimiter={:?} quote={:?} null={:?} skip={:?}{}",
            self.delimiter as char,
            self.quote as char,
            self.null_tokens,
            self.skip_columns,
            self.columns.as_ref().map(|c| format!(" columns={c:?}")).unwrap_or_default()
        )
    }
}

/// How one cell is written into the JSON record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Integer,
    Number,
    Boolean,
    Text,
    /// The cell holds JSON text (nested or mixed-type columns).
    Json,
}

impl Cell {
    fn of(ty: &ColumnType) -> Cell {
        match ty {
            ColumnType::Int64 => Cell::Integer,
            ColumnType::Float64 => Cell::Number,
            ColumnType::Boolean => Cell::Boolean,
            ColumnType::Utf8 | ColumnType::Timestamp | ColumnType::Date => Cell::Text,
            ColumnType::Struct(_) | ColumnType::List(_) | ColumnType::Map(_) | ColumnType::JsonText => Cell::Json,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Cell::Integer => "an integer",
            Cell::Number => "a number",
            Cell::Boolean => "true or false",
            Cell::Text => "text",
            Cell::Json => "JSON text",
        }
    }
}

/// Buffers reused from row to row: the CSV row, its JSON text and the parse of it.
#[derive(Default)]
pub struct CsvScratch {
    row: csv::ByteRecord,
    json: Vec<u8>,
    tape: Tape,
}

/// Where the header row of CSV text ends (after its line end), read as the rows are.
pub fn header_end(dialect: &CsvDialect, bytes: &[u8]) -> usize {
    if dialect.columns.is_some() {
        return 0;
    }
    let mut reader = dialect.reader(bytes);
    let mut header = csv::ByteRecord::new();
    match reader.read_byte_record(&mut header) {
        Ok(true) => (reader.position().byte() as usize).min(bytes.len()),
        _ => bytes.len(),
    }
}

/// A row without its line terminator.
fn trim_line_end(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|b| *b != b'\n' && *b != b'\r').map_or(0, |i| i + 1);
    &raw[..end]
}

/// One object's header, resolved against the registry: turns its rows into JSON records.
#[derive(Debug)]
pub struct CsvRows {
    /// Field name per header position; `None` for a skipped column.
    names: Vec<Option<String>>,
    /// Each field's `"name":`, written once.
    keys: Vec<Vec<u8>>,
    /// Cell types per header position, by event name (one entry for an entity table).
    cells: HashMap<String, Vec<Cell>>,
    /// Header position of the event name, when rows name their event.
    name_at: Option<usize>,
    null_tokens: Vec<Vec<u8>>,
    dialect: CsvDialect,
}

impl CsvRows {
    /// Resolves a header line (or the dialect's `columns` for files without one). Fails when the
    /// header is not UTF-8 text, is empty, or names a column twice.
    pub fn new(registry: &Registry, dialect: &CsvDialect, header: &[u8]) -> Result<CsvRows, String> {
        let record = match &dialect.columns {
            Some(columns) => csv::StringRecord::from(columns.clone()),
            None => {
                let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header);
                let mut reader = dialect.reader(header);
                let mut record = csv::StringRecord::new();
                match reader.read_record(&mut record) {
                    Ok(true) => {}
                    Ok(false) => return Err("the header line is empty".into()),
                    Err(e) => return Err(format!("the header line is not UTF-8 CSV: {e}")),
                }
                record
            }
        };
        let mut names = Vec::with_capacity(record.len());
        for field in record.iter() {
            if dialect.skip_columns.iter().any(|s| s == field) {
                names.push(None);
                continue;
            }
            if names.iter().flatten().any(|n: &String| n == field) {
                return Err(format!("the header names column {field:?} twice"));
            }
            names.push(Some(field.to_owned()));
        }
        let cells_of = |event: &EventSchema| -> Vec<Cell> {
            names
                .iter()
                .map(|n| {
                    n.as_ref()
                        .and_then(|n| event.columns.iter().find(|c| &c.source_name == n))
                        .map_or(Cell::Text, |c| Cell::of(&c.ty))
                })
                .collect()
        };
        let cells = registry.events().map(|e| (e.name.clone(), cells_of(e))).collect();
        let env = &registry.options().envelope;
        let name_at = if registry.options().entity.is_some() || is_pointer(&env.name) {
            None
        } else {
            names.iter().position(|n| n.as_deref() == Some(env.name.as_str()))
        };
        let null_tokens = dialect.null_tokens.iter().map(|t| t.as_bytes().to_vec()).collect();
        let keys = names
            .iter()
            .map(|n| {
                let mut key = Vec::new();
                if let Some(n) = n {
                    write_json_string(n, &mut key);
                    key.push(b':');
                }
                key
            })
            .collect();
        Ok(CsvRows { names, keys, cells, name_at, null_tokens, dialect: dialect.clone() })
    }

    /// A reader over rows of this object (complete rows, no header).
    pub fn reader<R: std::io::Read>(&self, input: R) -> csv::Reader<R> {
        self.dialect.reader(input)
    }

    /// Frames every row of `bytes` (complete rows, no header; the piece starts at line
    /// `first_line` and byte `base_offset` of its object) into a record for the one verdict, or
    /// the rejection of a row that cannot become one; `f` also gets the row's raw bytes (without
    /// its line end) and position. Fails only when the CSV reader itself does.
    pub fn each_record(
        &self,
        bytes: &[u8],
        first_line: u64,
        base_offset: u64,
        scratch: &mut CsvScratch,
        mut f: impl FnMut(Result<Record<'_>, Rejection>, &[u8], Position),
    ) -> Result<(), csv::Error> {
        let mut reader = self.reader(bytes);
        loop {
            let start = reader.position().clone();
            if !reader.read_byte_record(&mut scratch.row)? {
                return Ok(());
            }
            let begin = scratch.row.position().map_or(start.byte(), csv::Position::byte) as usize;
            let end = (reader.position().byte() as usize).min(bytes.len());
            let raw = trim_line_end(&bytes[begin.min(end)..end]);
            let line = scratch.row.position().map_or(start.line(), csv::Position::line);
            let at = Position { line: first_line + line - 1, offset: base_offset + begin as u64 };
            match self.to_json(&scratch.row, &mut scratch.json) {
                Err(rejection) => f(Err(rejection), raw, at),
                Ok(()) => {
                    let record = match scratch.tape.parse(&scratch.json) {
                        Ok(value) => Record::Parsed { value, raw, at },
                        Err(error) => Record::Malformed { raw, error, at },
                    };
                    f(Ok(record), raw, at);
                }
            }
        }
    }

    /// Writes `row` into `out` as a JSON object typed by its event's schema.
    pub fn to_json(&self, row: &csv::ByteRecord, out: &mut Vec<u8>) -> Result<(), Rejection> {
        out.clear();
        if row.len() != self.names.len() {
            return Err(Rejection::new(
                Reason::MalformedCsv,
                format!("the row has {} cells, the header {}", row.len(), self.names.len()),
                String::new(),
            ));
        }
        let event_name = match self.name_at {
            Some(i) => std::str::from_utf8(&row[i]).ok(),
            // An entity table's one schema.
            None if self.cells.len() == 1 => self.cells.keys().next().map(String::as_str),
            None => None,
        };
        // A row whose event has no schema is judged by `accept`; its cells are written as text.
        let cells = match (event_name, self.cells.len()) {
            (Some(name), _) => self.cells.get(name),
            (None, 1) => self.cells.values().next(),
            (None, _) => None,
        };
        out.push(b'{');
        let mut first = true;
        for (i, name) in self.names.iter().enumerate() {
            let Some(name) = name else { continue };
            let raw = &row[i];
            let text = std::str::from_utf8(raw).map_err(|_| {
                Rejection::new(Reason::MalformedCsv, format!("cell {name:?} is not UTF-8 text"), pointer(name))
            })?;
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(&self.keys[i]);
            if self.null_tokens.iter().any(|t| t == raw) {
                out.extend_from_slice(b"null");
                continue;
            }
            let cell = cells.map_or(Cell::Text, |c| c[i]);
            if !write_cell(cell, text, out) {
                let shown: String = text.chars().take(40).collect();
                return Err(Rejection::new(
                    Reason::SchemaViolation,
                    format!("{}: CSV cell {shown:?} is not {}", pointer(name), cell.expected()),
                    pointer(name),
                )
                .with_event_name(event_name));
            }
        }
        out.push(b'}');
        Ok(())
    }
}

/// Writes one cell as `cell` says; false when the text does not read as that type. Numbers already
/// spelled as JSON numbers are copied as they are.
fn write_cell(cell: Cell, text: &str, out: &mut Vec<u8>) -> bool {
    use std::io::Write;
    let t = text.trim();
    match cell {
        Cell::Integer => match t.parse::<i64>() {
            Ok(_) if is_json_number(t) => {
                out.extend_from_slice(t.as_bytes());
                true
            }
            Ok(n) => write!(out, "{n}").is_ok(),
            Err(_) => false,
        },
        Cell::Number => match t.parse::<f64>() {
            Ok(f) if f.is_finite() => {
                if is_json_number(t) {
                    out.extend_from_slice(t.as_bytes());
                    true
                } else {
                    write!(out, "{f:?}").is_ok()
                }
            }
            _ => false,
        },
        Cell::Boolean => match t {
            "true" | "TRUE" | "True" => {
                out.extend_from_slice(b"true");
                true
            }
            "false" | "FALSE" | "False" => {
                out.extend_from_slice(b"false");
                true
            }
            _ => false,
        },
        Cell::Text => {
            write_json_string(text, out);
            true
        }
        Cell::Json => {
            let mut tape = crate::json::Tape::default();
            if tape.parse(text.as_bytes()).is_err() {
                return false;
            }
            out.extend_from_slice(text.as_bytes());
            true
        }
    }
}

/// Whether `t` is spelled as RFC 8259 spells a number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn pointer(name: &str) -> String {
    let mut p = String::from("/");
    push_pointer_token(&mut p, name);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{EntityTable, RegistryOptions};
    use serde_json::json;

    fn loans() -> Registry {
        let schema = json!({
            "type": "object",
            "properties": {
                "SeriousDlqin2yrs": {"type": "integer"},
                "DebtRatio": {"type": "number"},
                "MonthlyIncome": {"type": ["integer", "null"]},
                "Note": {"type": "string"},
                "Flag": {"type": "boolean"}
            }
        });
        let options = RegistryOptions {
            envelope: crate::Envelope {
                created_at: None,
                content_id: true,
                id: "event_id".into(),
                ..Default::default()
            },
            entity: Some(EntityTable { table: "loans".into(), file: "loans.json".into() }),
            ..Default::default()
        };
        let docs = vec![("loans.json".to_owned(), schema.to_string().into_bytes(), schema)];
        Registry::from_documents(docs, &options).unwrap()
    }

    fn row(text: &str) -> csv::ByteRecord {
        let dialect = CsvDialect::default();
        let mut r = dialect.reader(text.as_bytes());
        let mut rec = csv::ByteRecord::new();
        assert!(r.read_byte_record(&mut rec).unwrap());
        rec
    }

    #[test]
    fn cells_take_their_columns_types() {
        let dialect =
            CsvDialect { null_tokens: vec!["NA".into()], skip_columns: vec!["".into()], ..CsvDialect::default() };
        let rows =
            CsvRows::new(&loans(), &dialect, b",SeriousDlqin2yrs,DebtRatio,MonthlyIncome,Note,Flag\r\n").unwrap();
        let mut out = Vec::new();
        rows.to_json(&row("7,0,5710,NA,\"a, \"\"b\"\"\",TRUE\n"), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"{"SeriousDlqin2yrs":0,"DebtRatio":5710,"MonthlyIncome":null,"Note":"a, \"b\"","Flag":true}"#
        );
        rows.to_json(&row("1,1,0.766126609,9120,x,false"), &mut out).unwrap();
        assert!(String::from_utf8(out.clone()).unwrap().contains(r#""DebtRatio":0.766126609"#));
        let bad = rows.to_json(&row("2,1,0.5,4x,y,true"), &mut out).unwrap_err();
        assert_eq!((bad.reason, bad.pointer.as_str()), (Reason::SchemaViolation, "/MonthlyIncome"));
        assert!(bad.detail.contains("\"4x\" is not an integer"), "{}", bad.detail);
        let short = rows.to_json(&row("2,1,0.5"), &mut out).unwrap_err();
        assert_eq!(short.reason, Reason::MalformedCsv);
        assert!(CsvRows::new(&loans(), &dialect, b"a,b,a\n").unwrap_err().contains("twice"));
        for (number, json) in
            [("12", true), ("-0.5e-3", true), ("+1", false), ("007", false), ("1.", false), (".5", false)]
        {
            assert_eq!(is_json_number(number), json, "{number}");
        }
        // Files without a header row: the dialect names the cells, and the first row is data.
        let headless =
            CsvDialect { columns: Some(vec!["SeriousDlqin2yrs".into(), "DebtRatio".into()]), ..CsvDialect::default() };
        let named = CsvRows::new(&loans(), &headless, b"").unwrap();
        named.to_json(&row("1,0.25"), &mut out).unwrap();
        assert_eq!(String::from_utf8(out.clone()).unwrap(), r#"{"SeriousDlqin2yrs":1,"DebtRatio":0.25}"#);
        assert_eq!(header_end(&headless, b"1,0.25\n"), 0);
        rows.to_json(&row("3,+1,.5,30,x,true"), &mut out).unwrap();
        assert!(String::from_utf8(out.clone()).unwrap().starts_with(r#"{"SeriousDlqin2yrs":1,"DebtRatio":0.5,"#));
    }
}
