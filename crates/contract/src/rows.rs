//! Column builders that take parsed JSON values straight into Arrow arrays.
//!
//! Each builder mirrors a [`ColumnType`]. Values arrive already validated, so a mismatch means the
//! type mapping and the validator disagree; the row is then rolled back ([`RowsBuilder::truncate`])
//! and the record quarantined, never coerced.

use std::sync::Arc;

use crate::format::{parse_date, parse_date_time};
use crate::json::{Kind, Value};
use crate::types::{Column, ColumnType, map_entries};
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, ListArray, MapArray, RecordBatch, StringArray,
    StructArray, TimestampMicrosecondArray,
};
use arrow_buffer::{BooleanBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, SchemaRef};

/// Why a value could not be stored in its column.
#[derive(Debug, Clone)]
pub(crate) struct Mismatch {
    pub(crate) column: String,
    pub(crate) expected: &'static str,
}

type Append = Result<(), Mismatch>;

fn validity(valid: &[bool]) -> Option<NullBuffer> {
    if valid.iter().all(|v| *v) { None } else { Some(NullBuffer::from(valid.to_vec())) }
}

/// A growable column.
#[derive(Debug)]
pub(crate) enum ColumnBuilder {
    Utf8 {
        offsets: Vec<i32>,
        data: Vec<u8>,
        valid: Vec<bool>,
        json_text: bool,
    },
    Int64 {
        values: Vec<i64>,
        valid: Vec<bool>,
    },
    Float64 {
        values: Vec<f64>,
        valid: Vec<bool>,
    },
    Timestamp {
        values: Vec<i64>,
        valid: Vec<bool>,
    },
    Date {
        values: Vec<i32>,
        valid: Vec<bool>,
    },
    Boolean {
        values: Vec<bool>,
        valid: Vec<bool>,
    },
    Struct {
        fields: Fields,
        children: Vec<ColumnBuilder>,
        names: Vec<String>,
        valid: Vec<bool>,
    },
    List {
        item: FieldRef,
        offsets: Vec<i32>,
        child: Box<ColumnBuilder>,
        valid: Vec<bool>,
    },
    /// Entries as a list of (key, value) with `offsets` per row.
    Map {
        entries: FieldRef,
        offsets: Vec<i32>,
        keys: Box<ColumnBuilder>,
        values: Box<ColumnBuilder>,
        valid: Vec<bool>,
    },
}

impl ColumnBuilder {
    pub(crate) fn new(ty: &ColumnType) -> ColumnBuilder {
        match ty {
            ColumnType::Utf8 | ColumnType::JsonText => ColumnBuilder::Utf8 {
                offsets: vec![0],
                data: Vec::new(),
                valid: Vec::new(),
                json_text: *ty == ColumnType::JsonText,
            },
            ColumnType::Int64 => ColumnBuilder::Int64 { values: Vec::new(), valid: Vec::new() },
            ColumnType::Float64 => ColumnBuilder::Float64 { values: Vec::new(), valid: Vec::new() },
            ColumnType::Timestamp => ColumnBuilder::Timestamp { values: Vec::new(), valid: Vec::new() },
            ColumnType::Date => ColumnBuilder::Date { values: Vec::new(), valid: Vec::new() },
            ColumnType::Boolean => ColumnBuilder::Boolean { values: Vec::new(), valid: Vec::new() },
            ColumnType::Struct(cols) => ColumnBuilder::Struct {
                fields: cols.iter().map(Column::arrow_field).collect(),
                children: cols.iter().map(|c| ColumnBuilder::new(&c.ty)).collect(),
                names: cols.iter().map(|c| c.source_name.clone()).collect(),
                valid: Vec::new(),
            },
            ColumnType::List(item) => ColumnBuilder::List {
                item: Arc::new(Field::new("item", item.arrow(), true)),
                offsets: vec![0],
                child: Box::new(ColumnBuilder::new(item)),
                valid: Vec::new(),
            },
            ColumnType::Map(value) => ColumnBuilder::Map {
                entries: Arc::new(map_entries(value)),
                offsets: vec![0],
                keys: Box::new(ColumnBuilder::new(&ColumnType::Utf8)),
                values: Box::new(ColumnBuilder::new(value)),
                valid: Vec::new(),
            },
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            ColumnBuilder::Utf8 { valid, .. }
            | ColumnBuilder::Int64 { valid, .. }
            | ColumnBuilder::Float64 { valid, .. }
            | ColumnBuilder::Timestamp { valid, .. }
            | ColumnBuilder::Date { valid, .. }
            | ColumnBuilder::Boolean { valid, .. }
            | ColumnBuilder::Struct { valid, .. }
            | ColumnBuilder::List { valid, .. }
            | ColumnBuilder::Map { valid, .. } => valid.len(),
        }
    }

    /// Drops rows from `len` on.
    pub(crate) fn truncate(&mut self, len: usize) {
        match self {
            ColumnBuilder::Utf8 { offsets, data, valid, .. } => {
                if len < valid.len() {
                    valid.truncate(len);
                    offsets.truncate(len + 1);
                    data.truncate(offsets[len] as usize);
                }
            }
            ColumnBuilder::Int64 { values, valid } | ColumnBuilder::Timestamp { values, valid } => {
                values.truncate(len);
                valid.truncate(len);
            }
            ColumnBuilder::Float64 { values, valid } => {
                values.truncate(len);
                valid.truncate(len);
            }
            ColumnBuilder::Date { values, valid } => {
                values.truncate(len);
                valid.truncate(len);
            }
            ColumnBuilder::Boolean { values, valid } => {
                values.truncate(len);
                valid.truncate(len);
            }
            ColumnBuilder::Struct { children, valid, .. } => {
                valid.truncate(len);
                for c in children {
                    c.truncate(len);
                }
            }
            // Children are cut back even when this row never finished: a failed append may have
            // left elements (or entries) past the last offset.
            ColumnBuilder::List { offsets, child, valid, .. } => {
                if len <= valid.len() {
                    valid.truncate(len);
                    offsets.truncate(len + 1);
                    child.truncate(offsets[len] as usize);
                }
            }
            ColumnBuilder::Map { offsets, keys, values, valid, .. } => {
                if len <= valid.len() {
                    valid.truncate(len);
                    offsets.truncate(len + 1);
                    keys.truncate(offsets[len] as usize);
                    values.truncate(offsets[len] as usize);
                }
            }
        }
    }

    pub(crate) fn append_null(&mut self) {
        match self {
            ColumnBuilder::Utf8 { offsets, data, valid, .. } => {
                offsets.push(data.len() as i32);
                valid.push(false);
            }
            ColumnBuilder::Int64 { values, valid } | ColumnBuilder::Timestamp { values, valid } => {
                values.push(0);
                valid.push(false);
            }
            ColumnBuilder::Float64 { values, valid } => {
                values.push(0.0);
                valid.push(false);
            }
            ColumnBuilder::Date { values, valid } => {
                values.push(0);
                valid.push(false);
            }
            ColumnBuilder::Boolean { values, valid } => {
                values.push(false);
                valid.push(false);
            }
            ColumnBuilder::Struct { children, valid, .. } => {
                for c in children {
                    c.append_null();
                }
                valid.push(false);
            }
            ColumnBuilder::List { offsets, valid, .. } | ColumnBuilder::Map { offsets, valid, .. } => {
                let last = offsets.last().copied().unwrap_or(0);
                offsets.push(last);
                valid.push(false);
            }
        }
    }

    /// Appends a UTF-8 string (for derived and lineage columns).
    pub(crate) fn append_str(&mut self, s: &str) {
        if let ColumnBuilder::Utf8 { offsets, data, valid, .. } = self {
            data.extend_from_slice(s.as_bytes());
            offsets.push(data.len() as i32);
            valid.push(true);
        }
    }

    /// Appends an integer (timestamps in microseconds, for derived and lineage columns).
    pub(crate) fn append_i64(&mut self, v: i64) {
        if let ColumnBuilder::Int64 { values, valid } | ColumnBuilder::Timestamp { values, valid } = self {
            values.push(v);
            valid.push(true);
        }
    }

    /// Appends a JSON value; `name` is for the mismatch message.
    pub(crate) fn append(&mut self, v: Value<'_>, name: &str) -> Append {
        if v.is_null() {
            self.append_null();
            return Ok(());
        }
        let mismatch = |expected: &'static str| Mismatch { column: name.to_owned(), expected };
        match self {
            ColumnBuilder::Utf8 { offsets, data, valid, json_text } => {
                if *json_text {
                    data.extend_from_slice(v.raw().as_bytes());
                } else {
                    data.extend_from_slice(v.as_str().ok_or_else(|| mismatch("string"))?.as_bytes());
                }
                offsets.push(data.len() as i32);
                valid.push(true);
            }
            ColumnBuilder::Int64 { values, valid } => {
                values.push(v.as_i64().ok_or_else(|| mismatch("64-bit integer"))?);
                valid.push(true);
            }
            ColumnBuilder::Float64 { values, valid } => {
                values.push(v.as_f64().ok_or_else(|| mismatch("number"))?);
                valid.push(true);
            }
            ColumnBuilder::Timestamp { values, valid } => {
                let s = v.as_str().ok_or_else(|| mismatch("date-time string"))?;
                values.push(parse_date_time(s).ok_or_else(|| mismatch("RFC 3339 date-time"))?);
                valid.push(true);
            }
            ColumnBuilder::Date { values, valid } => {
                let s = v.as_str().ok_or_else(|| mismatch("date string"))?;
                values.push(parse_date(s).ok_or_else(|| mismatch("RFC 3339 date"))?);
                valid.push(true);
            }
            ColumnBuilder::Boolean { values, valid } => {
                values.push(v.as_bool().ok_or_else(|| mismatch("boolean"))?);
                valid.push(true);
            }
            ColumnBuilder::Struct { children, names, valid, .. } => {
                if v.kind() != Kind::Object {
                    return Err(mismatch("object"));
                }
                let len = valid.len();
                let mut hint = 0usize;
                for (key, member) in v.members() {
                    // Undeclared members were rejected by validation, or are allowed and not stored.
                    if let Some(i) = find_member(names, key, &mut hint) {
                        children[i].append(member, key)?;
                    }
                }
                for c in children.iter_mut() {
                    if c.len() == len {
                        c.append_null();
                    }
                }
                valid.push(true);
            }
            ColumnBuilder::List { offsets, child, valid, .. } => {
                if v.kind() != Kind::Array {
                    return Err(mismatch("array"));
                }
                for e in v.elements() {
                    child.append(e, name)?;
                }
                offsets.push(child.len() as i32);
                valid.push(true);
            }
            ColumnBuilder::Map { offsets, keys, values, valid, .. } => {
                if v.kind() != Kind::Object {
                    return Err(mismatch("object"));
                }
                for (key, member) in v.members() {
                    keys.append_str(key);
                    values.append(member, name)?;
                }
                offsets.push(keys.len() as i32);
                valid.push(true);
            }
        }
        Ok(())
    }

    /// The finished array; the builder is left empty.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            ColumnBuilder::Utf8 { offsets, data, valid, .. } => {
                let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                let nulls = validity(valid);
                valid.clear();
                Arc::new(StringArray::try_new(offsets, std::mem::take(data).into(), nulls)?)
            }
            ColumnBuilder::Int64 { values, valid } => {
                let nulls = validity(valid);
                valid.clear();
                Arc::new(Int64Array::new(std::mem::take(values).into(), nulls))
            }
            ColumnBuilder::Float64 { values, valid } => {
                let nulls = validity(valid);
                valid.clear();
                Arc::new(Float64Array::new(std::mem::take(values).into(), nulls))
            }
            ColumnBuilder::Timestamp { values, valid } => {
                let nulls = validity(valid);
                valid.clear();
                Arc::new(TimestampMicrosecondArray::new(std::mem::take(values).into(), nulls).with_timezone("UTC"))
            }
            ColumnBuilder::Date { values, valid } => {
                let nulls = validity(valid);
                valid.clear();
                Arc::new(Date32Array::new(std::mem::take(values).into(), nulls))
            }
            ColumnBuilder::Boolean { values, valid } => {
                let nulls = validity(valid);
                valid.clear();
                Arc::new(BooleanArray::new(BooleanBuffer::from(std::mem::take(values)), nulls))
            }
            ColumnBuilder::Struct { fields, children, valid, .. } => {
                let nulls = validity(valid);
                let len = valid.len();
                valid.clear();
                let arrays = children.iter_mut().map(ColumnBuilder::finish).collect::<Result<Vec<_>, _>>()?;
                if arrays.is_empty() {
                    Arc::new(StructArray::new_empty_fields(len, nulls))
                } else {
                    Arc::new(StructArray::try_new(fields.clone(), arrays, nulls)?)
                }
            }
            ColumnBuilder::List { item, offsets, child, valid } => {
                let nulls = validity(valid);
                valid.clear();
                let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                Arc::new(ListArray::try_new(item.clone(), offsets, child.finish()?, nulls)?)
            }
            ColumnBuilder::Map { entries, offsets, keys, values, valid } => {
                let nulls = validity(valid);
                valid.clear();
                let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                let DataType::Struct(fields) = entries.data_type() else {
                    return Err(ArrowError::SchemaError("map entries must be a struct".into()));
                };
                let pairs = StructArray::try_new(fields.clone(), vec![keys.finish()?, values.finish()?], None)?;
                Arc::new(MapArray::try_new(entries.clone(), offsets, pairs, nulls, false)?)
            }
        })
    }
}

/// Index of `key` in `names`, trying `*hint` first (records usually follow schema order).
#[inline]
pub(crate) fn find_member<S: AsRef<str>>(names: &[S], key: &str, hint: &mut usize) -> Option<usize> {
    if let Some(n) = names.get(*hint)
        && n.as_ref() == key
    {
        *hint += 1;
        return Some(*hint - 1);
    }
    let i = names.iter().position(|n| n.as_ref() == key)?;
    *hint = i + 1;
    Some(i)
}

/// Rows of one table: one builder per column of an Arrow schema.
#[derive(Debug)]
pub struct RowsBuilder {
    schema: SchemaRef,
    pub(crate) columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl RowsBuilder {
    pub fn new(schema: SchemaRef, types: &[ColumnType]) -> RowsBuilder {
        RowsBuilder { schema, columns: types.iter().map(ColumnBuilder::new).collect(), rows: 0 }
    }

    /// Committed rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Marks a row complete (every column must have received one value).
    pub(crate) fn commit_row(&mut self) {
        self.rows += 1;
    }

    /// Rolls every column back to the committed rows.
    pub(crate) fn truncate(&mut self) {
        let rows = self.rows;
        for c in &mut self.columns {
            c.truncate(rows);
        }
    }

    /// Drops every row, keeping the allocations (a check that only needs to know a row fits).
    pub fn discard(&mut self) {
        self.rows = 0;
        self.truncate();
    }

    /// The rows so far as one batch; the builder is left empty.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let arrays = self.columns.iter_mut().map(ColumnBuilder::finish).collect::<Result<Vec<_>, _>>()?;
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

/// Whether `ty` maps to exactly `dt` (used to assert the builders and the schema agree).
#[cfg(test)]
pub(crate) fn same_type(ty: &ColumnType, dt: &arrow_schema::DataType) -> bool {
    &ty.arrow() == dt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Tape;
    use arrow_array::Array;
    use arrow_schema::Schema;

    fn col(name: &str, ty: ColumnType, nullable: bool) -> Column {
        Column { name: name.to_lowercase(), source_name: name.into(), ty, nullable, description: None }
    }

    #[test]
    fn nested_values_build_and_roll_back() {
        let cols = [
            col(
                "s",
                ColumnType::Struct(vec![col("A", ColumnType::Int64, true), col("t", ColumnType::Timestamp, true)]),
                true,
            ),
            col("l", ColumnType::List(Box::new(ColumnType::Float64)), true),
            col("j", ColumnType::JsonText, true),
            col("m", ColumnType::Map(Box::new(ColumnType::Int64)), true),
        ];
        let schema = Arc::new(Schema::new(cols.iter().map(Column::arrow_field).collect::<Vec<_>>()));
        let types: Vec<ColumnType> = cols.iter().map(|c| c.ty.clone()).collect();
        assert!(cols.iter().zip(schema.fields()).all(|(c, f)| same_type(&c.ty, f.data_type())));
        let mut rows = RowsBuilder::new(schema, &types);
        let mut tape = Tape::default();
        for (i, rec) in [
            r#"{"s": {"A": 1, "t": "2026-01-01T00:00:00Z"}, "l": [1, 2.5], "j": {"x": [1, 2]}, "m": {"a": 1, "b": null}}"#,
            r#"{"s": null, "l": [], "j": "text"}"#,
            r#"{"s": {"A": 1}, "l": [1], "j": 1, "m": {"c": 3, "d": "bad"}}"#,
            r#"{"s": {"A": 2}, "l": [1, "bad"], "j": 1, "m": {}}"#,
            r#"{"s": {"A": 3}, "l": [7], "j": 2, "m": {"e": 5}}"#,
        ]
        .iter()
        .enumerate()
        {
            let v = tape.parse(rec.as_bytes()).unwrap();
            let mut ok = true;
            for (k, c) in cols.iter().enumerate() {
                let r = match v.get(&c.source_name) {
                    Some(x) => rows.columns[k].append(x, &c.name),
                    None => {
                        rows.columns[k].append_null();
                        Ok(())
                    }
                };
                ok &= r.is_ok();
                if r.is_err() {
                    break;
                }
            }
            if ok {
                rows.commit_row();
            } else {
                assert!(i == 2 || i == 3, "{i}");
                rows.truncate();
            }
        }
        let batch = rows.finish().unwrap();
        assert_eq!(batch.num_rows(), 3);
        let j = batch.column(2).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(j.value(0), r#"{"x": [1, 2]}"#);
        assert_eq!(j.value(1), r#""text""#);
        let l = batch.column(1).as_any().downcast_ref::<ListArray>().unwrap();
        assert_eq!(l.value_length(0), 2);
        assert_eq!(l.value_length(1), 0);
        let last = l.value(2);
        let last = last.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(last.values().as_ref(), [7.0], "elements of rolled-back rows are gone");
        let m = batch.column(3).as_any().downcast_ref::<MapArray>().unwrap();
        assert_eq!(m.value_length(0), 2);
        assert!(m.is_null(1));
        let keys = m.keys().as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(
            (keys.len(), keys.value(0), keys.value(1), keys.value(2)),
            (3, "a", "b", "e"),
            "rolled-back rows left nothing"
        );
        assert!(m.values().is_null(1));
    }
}
