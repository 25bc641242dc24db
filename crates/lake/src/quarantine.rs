//! One quarantine line: a rejected record, byte for byte, with its reason. The `quarantine` table of
//! the catalog is [`QuarantineLine::columns`], declared here beside the struct it describes.

use eventlake_contract::{Column, ColumnType, Reason, Rejection, ValidationError};
use serde::Serialize;

/// What the hourly job writes for a rejected record (one JSON object per line).
#[derive(Debug, Serialize)]
pub struct QuarantineLine<'a> {
    pub reason: Reason,
    pub detail: &'a str,
    pub pointer: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub errors: &'a [ValidationError],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<&'a str>,
    pub source_key: &'a str,
    pub line: u64,
    pub byte_offset: u64,
    pub arrival_hour: &'a str,
    /// `utf8`: `record` is the original text; `base64`: the original bytes, base64-encoded.
    pub record_encoding: &'static str,
    pub record: String,
}

/// Where a rejected record sits.
#[derive(Debug, Clone, Copy)]
pub struct QuarantineOrigin<'a> {
    pub source_key: &'a str,
    pub line: u64,
    pub byte_offset: u64,
    pub arrival_hour: &'a str,
}

impl<'a> QuarantineLine<'a> {
    /// The line of `rejection` for the record `raw` (kept as text when it is UTF-8, else base64).
    pub fn new(rejection: &'a Rejection, raw: &[u8], origin: QuarantineOrigin<'a>) -> QuarantineLine<'a> {
        use base64::Engine;
        let (record_encoding, record) = match std::str::from_utf8(raw) {
            Ok(t) => ("utf8", t.to_owned()),
            Err(_) => ("base64", base64::engine::general_purpose::STANDARD.encode(raw)),
        };
        QuarantineLine {
            reason: rejection.reason,
            detail: &rejection.detail,
            pointer: &rejection.pointer,
            errors: &rejection.errors,
            event_name: rejection.event_name.as_deref(),
            source_key: origin.source_key,
            line: origin.line,
            byte_offset: origin.byte_offset,
            arrival_hour: origin.arrival_hour,
            record_encoding,
            record,
        }
    }

    /// Appends the line and its newline to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Strings and numbers only: serializing into memory cannot fail.
        if serde_json::to_writer(&mut *out, self).is_ok() {
            out.push(b'\n');
        }
    }

    /// The columns of the `quarantine` table, in field order.
    pub fn columns() -> Vec<Column> {
        let codes: Vec<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
        let reasons = match codes.split_last() {
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        let error = ColumnType::Struct(vec![
            col("pointer", ColumnType::Utf8, true, "JSON pointer"),
            col("keyword", ColumnType::Utf8, true, "Failed keyword"),
            col("message", ColumnType::Utf8, true, "What was expected and found"),
        ]);
        vec![
            col("reason", ColumnType::Utf8, false, &reasons),
            col("detail", ColumnType::Utf8, true, "Readable explanation"),
            col("pointer", ColumnType::Utf8, true, "JSON pointer of the first problem"),
            col("errors", ColumnType::List(Box::new(error)), true, "Every schema error"),
            col("event_name", ColumnType::Utf8, true, "Event name, when it could be read"),
            col("source_key", ColumnType::Utf8, false, "Bronze object"),
            col("line", ColumnType::Int64, false, "1-based line in the object"),
            col("byte_offset", ColumnType::Int64, false, "Byte offset in the decompressed object"),
            col("arrival_hour", ColumnType::Utf8, false, "Arrival hour YYYY-MM-DDTHH"),
            col("record_encoding", ColumnType::Utf8, false, "utf8, or base64 when the bytes are not UTF-8"),
            col("record", ColumnType::Utf8, false, "The original record"),
        ]
    }
}

pub(crate) fn col(name: &str, ty: ColumnType, nullable: bool, doc: &str) -> Column {
    Column { name: name.into(), source_name: name.into(), ty, nullable, description: Some(doc.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's columns and the serialized line's fields are the same list, in the same order.
    #[test]
    fn columns_match_the_serialized_line() {
        let rejection = Rejection {
            reason: Reason::SchemaViolation,
            detail: "d".into(),
            pointer: "/a".into(),
            errors: vec![ValidationError { pointer: "/a".into(), keyword: "type", message: "m".into() }],
            event_name: Some("a:b".into()),
        };
        let origin = QuarantineOrigin { source_key: "k", line: 1, byte_offset: 0, arrival_hour: "2026-11-20T05" };
        let mut out = Vec::new();
        QuarantineLine::new(&rejection, b"\xff", origin).write_to(&mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let columns: Vec<String> = QuarantineLine::columns().into_iter().map(|c| c.name).collect();
        assert_eq!(fields, columns);
        assert_eq!(v["reason"], "schema_violation");
        assert_eq!(v["record_encoding"], "base64");
        let error_fields: Vec<&str> = v["errors"][0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(error_fields, ["pointer", "keyword", "message"]);
    }
}

/// A JSON pointer with its array indices as `*` (`/items/3/price` → `/items/*/price`): one kind of
/// problem is one group, whichever item has it.
pub fn pointer_pattern(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|seg| if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) { "*" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// Dates and times as explanations spell them (`2026-11-20T05:01:40.25Z`, `2026-11-20 05`).
fn date_time() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
            .ok()
    })
    .as_ref()
}

/// `detail` without the record's values, for reports: quoted text becomes `"…"`, dates and times
/// and numbers `#` (schema words, keywords and types stay). The quarantine keeps the full detail.
pub fn masked_detail(detail: &str) -> String {
    let detail = date_time().map_or_else(|| detail.to_owned(), |re| re.replace_all(detail, "#").into_owned());
    let chars: Vec<char> = detail.chars().collect();
    let mut out = String::with_capacity(detail.len());
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            // To the closing quote, past escaped ones.
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"…\"");
            i = j + 1;
        } else if c.is_ascii_digit() && (i == 0 || !word(chars[i - 1])) {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || matches!(chars[j], '.' | 'e' | 'E' | '+' | '-')) {
                j += 1;
            }
            // `.` ending a sentence is not part of the number.
            while j > i + 1 && !chars[j - 1].is_ascii_digit() {
                j -= 1;
            }
            if j < chars.len() && word(chars[j]) {
                out.extend(&chars[i..j]);
            } else {
                out.push('#');
            }
            i = j;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod report_tests {
    use super::*;

    #[test]
    fn pointers_group_array_items() {
        assert_eq!(pointer_pattern("/items/3/price"), "/items/*/price");
        assert_eq!(pointer_pattern(""), "");
        assert_eq!(pointer_pattern("/a1/10"), "/a1/*");
    }

    #[test]
    fn details_lose_their_values_but_keep_their_words() {
        assert_eq!(
            masked_detail(r#"expected integer, got string "jane@example.com""#),
            r#"expected integer, got string "…""#
        );
        assert_eq!(masked_detail("-5 is less than the minimum 0."), "-# is less than the minimum #.");
        assert_eq!(masked_detail(r#"field "a\"b" is not declared"#), r#"field "…" is not declared"#);
        assert_eq!(
            masked_detail("integer outside the 64-bit range, utf8, base64"),
            "integer outside the #-bit range, utf8, base64"
        );
        assert_eq!(masked_detail("number 12.5e3 is not a multiple of 2"), "number # is not a multiple of #");
        assert_eq!(
            masked_detail("event time 2020-09-13T12:26:40.000000Z is outside [2026-11-13T05:00:00Z, 2026-11-20 07)"),
            "event time # is outside [#, #)"
        );
    }
}
