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
use crate::json::push_pointer_token;
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
}

impl Default for CsvDialect {
    fn default() -> Self {
        CsvDialect { delimiter: b',', quote: b'"', null_tokens: Vec::new(), skip_columns: Vec::new() }
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
            "csv delimiter={:?} quote={:?} null={:?} skip={:?}",
            self.delimiter as char, self.quote as char, self.null_tokens, self.skip_columns
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

/// One object's header, resolved against the registry: turns its rows into JSON records.
#[derive(Debug)]
pub struct CsvRows {
    /// Field name per header position; `None` for a skipped column.
    names: Vec<Option<String>>,
    /// Cell types per header position, by event name (one entry for an entity table).
    cells: HashMap<String, Vec<Cell>>,
    /// Header position of the event name, when rows name their event.
    name_at: Option<usize>,
    null_tokens: Vec<Vec<u8>>,
    dialect: CsvDialect,
}

impl CsvRows {
    /// Resolves a header line. Fails when the header is not UTF-8 text, is empty, or names a
    /// column twice.
    pub fn new(registry: &Registry, dialect: &CsvDialect, header: &[u8]) -> Result<CsvRows, String> {
        let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header);
        let mut reader = dialect.reader(header);
        let mut record = csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Err("the header line is empty".into()),
            Err(e) => return Err(format!("the header line is not UTF-8 CSV: {e}")),
        }
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
        Ok(CsvRows { names, cells, name_at, null_tokens, dialect: dialect.clone() })
    }

    /// A reader over rows of this object (complete rows, no header).
    pub fn reader<R: std::io::Read>(&self, input: R) -> csv::Reader<R> {
        self.dialect.reader(input)
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
            write_string(name, out);
            out.push(b':');
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

/// Writes one cell as `cell` says; false when the text does not read as that type.
fn write_cell(cell: Cell, text: &str, out: &mut Vec<u8>) -> bool {
    match cell {
        Cell::Integer => match text.trim().parse::<i64>() {
            Ok(n) => {
                out.extend_from_slice(n.to_string().as_bytes());
                true
            }
            Err(_) => false,
        },
        Cell::Number => match text.trim().parse::<f64>() {
            // Integral values stay integral, so a `number` column holding `3` reads as JSON's 3.
            Ok(f) if f.is_finite() => {
                if let Ok(n) = text.trim().parse::<i64>() {
                    out.extend_from_slice(n.to_string().as_bytes());
                } else {
                    out.extend_from_slice(format!("{f:?}").as_bytes());
                }
                true
            }
            _ => false,
        },
        Cell::Boolean => match text.trim() {
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
            write_string(text, out);
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

fn pointer(name: &str) -> String {
    let mut p = String::from("/");
    push_pointer_token(&mut p, name);
    p
}

/// A JSON string literal.
fn write_string(s: &str, out: &mut Vec<u8>) {
    // Serializing a `str` into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
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
    }
}
