//! How an envelope spells the event's creation time: Unix seconds (the default), milliseconds or
//! microseconds, RFC 3339 text, or text in a strftime pattern read in a time zone.
//!
//! | `--created-at-format` | the field holds | e.g. |
//! |---|---|---|
//! | `unix-seconds` (default) | integer or float seconds | `1795150800.5` |
//! | `unix-millis` | integer or float milliseconds | `1795150800500` |
//! | `unix-micros` | integer microseconds | `1795150800500000` |
//! | `rfc3339` | RFC 3339 text with an offset | `"2026-11-20T05:00:00.5Z"` |
//! | a strftime pattern | text; without `%z` it is read in `--created-at-timezone` (UTC unless told) | `"%Y-%m-%d %H:%M:%S"` for `"2019-05-13 14:23:41"` |

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::format::parse_date_time;
use crate::json::Value;
use crate::types::ColumnType;

/// The spelling of an envelope's creation time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TimeFormat {
    #[default]
    UnixSeconds,
    UnixMillis,
    UnixMicros,
    Rfc3339,
    /// A chrono strftime pattern; `zone` reads patterns without an offset (`%z`).
    Pattern {
        pattern: String,
        zone: Tz,
    },
}

impl TimeFormat {
    /// A pattern read in `zone` (`UTC` when `None`); other formats ignore the zone.
    pub fn parse(format: &str, zone: Option<&str>) -> Result<TimeFormat, String> {
        let named = match format {
            "unix-seconds" => Some(TimeFormat::UnixSeconds),
            "unix-millis" => Some(TimeFormat::UnixMillis),
            "unix-micros" => Some(TimeFormat::UnixMicros),
            "rfc3339" => Some(TimeFormat::Rfc3339),
            _ => None,
        };
        if let Some(named) = named {
            return match zone {
                Some(z) if z != "UTC" => Err(format!("--created-at-timezone {z:?} only applies to a strftime pattern")),
                _ => Ok(named),
            };
        }
        if !format.contains('%') {
            return Err(format!(
                "created-at format {format:?} is neither unix-seconds, unix-millis, unix-micros, rfc3339 nor a strftime pattern"
            ));
        }
        // A pattern that cannot format a date is a typo, caught now rather than on every record.
        let probe = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let mut text = String::new();
        if fmt::write(&mut text, format_args!("{}", probe.format(format))).is_err() {
            return Err(format!("{format:?} is not a valid strftime pattern"));
        }
        let zone = zone.unwrap_or("UTC");
        let zone = Tz::from_str(zone)
            .map_err(|_| format!("unknown time zone {zone:?} (an IANA name such as Europe/Berlin)"))?;
        Ok(TimeFormat::Pattern { pattern: format.into(), zone })
    }

    /// Microseconds since the epoch of the field's value, or `None` when it is not in this format.
    pub fn micros(&self, v: Value<'_>) -> Option<i64> {
        let scaled = |per_second: f64| -> Option<i64> {
            if let Some(n) = v.as_i64() {
                return n.checked_mul((1_000_000.0 / per_second) as i64);
            }
            let f = v.as_f64()?;
            let micros = (f * 1_000_000.0 / per_second).round();
            (micros.is_finite() && micros.abs() < 9.0e18).then_some(micros as i64)
        };
        match self {
            TimeFormat::UnixSeconds => scaled(1.0),
            TimeFormat::UnixMillis => scaled(1_000.0),
            TimeFormat::UnixMicros => v.as_i64(),
            TimeFormat::Rfc3339 => parse_date_time(v.as_str()?),
            TimeFormat::Pattern { pattern, zone } => {
                let s = v.as_str()?;
                if pattern.contains("%z") || pattern.contains("%:z") {
                    return DateTime::parse_from_str(s, pattern).ok().map(|t| t.timestamp_micros());
                }
                let naive = NaiveDateTime::parse_from_str(s, pattern).ok()?;
                // A local time that a DST change skips or repeats has no single instant.
                zone.from_local_datetime(&naive).single().map(|t| t.timestamp_micros())
            }
        }
    }

    /// What the field must hold, for messages.
    pub fn describe(&self) -> String {
        match self {
            TimeFormat::UnixSeconds => "Unix seconds (integer or float)".into(),
            TimeFormat::UnixMillis => "Unix milliseconds (integer or float)".into(),
            TimeFormat::UnixMicros => "Unix microseconds (integer)".into(),
            TimeFormat::Rfc3339 => "an RFC 3339 date-time".into(),
            TimeFormat::Pattern { pattern, zone } => format!("a time like {pattern:?} (read in {zone})"),
        }
    }

    /// Whether a column of type `ty` can hold the field.
    pub fn fits(&self, ty: &ColumnType) -> bool {
        match self {
            TimeFormat::UnixSeconds | TimeFormat::UnixMillis => matches!(ty, ColumnType::Int64 | ColumnType::Float64),
            TimeFormat::UnixMicros => *ty == ColumnType::Int64,
            TimeFormat::Rfc3339 => matches!(ty, ColumnType::Utf8 | ColumnType::Timestamp),
            TimeFormat::Pattern { .. } => *ty == ColumnType::Utf8,
        }
    }
}

impl fmt::Display for TimeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeFormat::UnixSeconds => f.write_str("unix-seconds"),
            TimeFormat::UnixMillis => f.write_str("unix-millis"),
            TimeFormat::UnixMicros => f.write_str("unix-micros"),
            TimeFormat::Rfc3339 => f.write_str("rfc3339"),
            TimeFormat::Pattern { pattern, zone } => write!(f, "{pattern} in {zone}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Tape;

    fn micros(format: &TimeFormat, json: &str) -> Option<i64> {
        let mut tape = Tape::default();
        format.micros(tape.parse(json.as_bytes()).unwrap())
    }

    #[test]
    fn every_spelling_reads_the_same_instant() {
        let at = 1_795_150_800_500_000; // 2026-11-20T05:00:00.5Z
        let cases = [
            ("unix-seconds", None, "1795150800.5"),
            ("unix-millis", None, "1795150800500"),
            ("unix-micros", None, "1795150800500000"),
            ("rfc3339", None, r#""2026-11-20T06:00:00.5+01:00""#),
            ("%Y-%m-%d %H:%M:%S%.f", None, r#""2026-11-20 05:00:00.5""#),
            ("%Y-%m-%d %H:%M:%S%.f", Some("Europe/Berlin"), r#""2026-11-20 06:00:00.5""#),
            ("%d/%m/%Y %H:%M:%S%.f %z", None, r#""20/11/2026 07:00:00.5 +0200""#),
        ];
        for (format, zone, json) in cases {
            let f = TimeFormat::parse(format, zone).unwrap();
            assert_eq!(micros(&f, json), Some(at), "{format} {zone:?} {json}");
        }
        let seconds = TimeFormat::default();
        assert_eq!(micros(&seconds, r#""1795150800""#), None, "text is not seconds");
        let naive = TimeFormat::parse("%Y-%m-%d %H:%M:%S", None).unwrap();
        assert_eq!(micros(&naive, r#""2019-05-13 14:23:41""#), Some(1_557_757_421_000_000));
        assert_eq!(micros(&naive, r#""2019-05-13T14:23:41""#), None);
        let berlin = TimeFormat::parse("%Y-%m-%d %H:%M:%S", Some("Europe/Berlin")).unwrap();
        assert_eq!(micros(&berlin, r#""2026-03-29 02:30:00""#), None, "skipped by the DST change");
        assert!(TimeFormat::parse("seconds", None).is_err());
        assert!(TimeFormat::parse("%Y", Some("Mars/Olympus")).is_err());
        assert!(TimeFormat::parse("rfc3339", Some("Europe/Berlin")).is_err());
    }
}
