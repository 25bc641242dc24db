//! One Arrow cell as the value a database column takes.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as Json;

/// A cell, typed as its target column is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(DateTime<Utc>),
    Date(NaiveDate),
    Json(Json),
}

/// Row `i` of `array` (types as the lake's writers and the engine produce them).
pub(crate) fn cell(array: &ArrayRef, i: usize) -> Cell {
    if array.is_null(i) {
        return Cell::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(i).to_owned()),
        DataType::LargeUtf8 => Cell::Text(array.as_string::<i64>().value(i).to_owned()),
        DataType::Utf8View => Cell::Text(array.as_string_view().value(i).to_owned()),
        DataType::Int64 => Cell::Int(array.as_primitive::<Int64Type>().value(i)),
        DataType::Float64 => Cell::Float(array.as_primitive::<Float64Type>().value(i)),
        DataType::Boolean => Cell::Bool(array.as_boolean().value(i)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let micros = array.as_primitive::<TimestampMicrosecondType>().value(i);
            DateTime::from_timestamp_micros(micros).map_or(Cell::Null, Cell::Timestamp)
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(i);
            NaiveDate::from_num_days_from_ce_opt(days + 719_163).map_or(Cell::Null, Cell::Date)
        }
        _ => Cell::Json(json(array, i)),
    }
}

/// Row `i` of `array` as JSON (nested columns are stored as `jsonb` / `json`).
pub(crate) fn json(array: &ArrayRef, i: usize) -> Json {
    if array.is_null(i) {
        return Json::Null;
    }
    match array.data_type() {
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut obj = serde_json::Map::new();
            for (f, col) in fields.iter().zip(s.columns()) {
                obj.insert(f.name().clone(), json(col, i));
            }
            Json::Object(obj)
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let items = list.value(i);
            Json::Array((0..items.len()).map(|j| json(&items, j)).collect())
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let items = list.value(i);
            Json::Array((0..items.len()).map(|j| json(&items, j)).collect())
        }
        DataType::Map(_, _) => {
            let map = array.as_map();
            let entries = map.value(i);
            let (keys, values) = (entries.column(0).clone(), entries.column(1).clone());
            let mut obj = serde_json::Map::new();
            for j in 0..entries.len() {
                let key = match json(&keys, j) {
                    Json::String(k) => k,
                    other => other.to_string(),
                };
                obj.insert(key, json(&values, j));
            }
            Json::Object(obj)
        }
        _ => match cell(array, i) {
            Cell::Null => Json::Null,
            Cell::Text(t) => Json::String(t),
            Cell::Int(n) => Json::from(n),
            Cell::Float(f) => Json::from(f),
            Cell::Bool(b) => Json::Bool(b),
            Cell::Timestamp(t) => Json::String(t.to_rfc3339()),
            Cell::Date(d) => Json::String(d.to_string()),
            Cell::Json(j) => j,
        },
    }
}
