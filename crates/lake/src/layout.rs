//! Typed keys for every object eventlake reads or writes. Athena's DDL (partition projection
//! templates) and every job derive paths from here and nowhere else.
//!
//! | key                  | path under the lake root                                                          |
//! |----------------------|-----------------------------------------------------------------------------------|
//! | [`BronzeHour`]       | `bronze/YYYY/MM/DD/HH/…` (Firehose arrival time; prefix configurable)             |
//! | [`SilverFile`]       | `silver/event_type=<t>/dt=YYYY-MM-DD/hour=HH/part-<arrival YYYYMMDDHH>-<n>.parquet` |
//! | [`QuarantineFile`]   | `quarantine/dt=YYYY-MM-DD/hour=HH/part-<arrival YYYYMMDDHH>-<n>.jsonl`            |
//! | [`GoldFile`]         | `gold/events/event_type=<t>/dt=YYYY-MM-DD/part-<n>.parquet`                       |
//! | [`DailyFile`]        | `gold/daily_event_counts/dt=YYYY-MM-DD/part-0.parquet`, `gold/daily_quality/…`    |
//! | [`ManifestKey`]      | `_manifests/hourly/dt=YYYY-MM-DD/hour=HH.json`, `_manifests/daily/dt=….json`      |
//! | [`LeaseKey`]         | `_locks/hourly/YYYY-MM-DDTHH.lock`                                                |

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use object_store::path::Path;

use crate::error::{Error, Result};

/// Top-level folder of the silver layer.
pub const SILVER: &str = "silver";
/// Top-level folder of the quarantine.
pub const QUARANTINE: &str = "quarantine";
/// Top-level folder of the gold layer.
pub const GOLD: &str = "gold";
/// Gold folder of deduplicated events.
pub const GOLD_EVENTS: &str = "events";
/// Gold folder of the per-event-name daily aggregates.
pub const DAILY_EVENT_COUNTS: &str = "daily_event_counts";
/// Gold folder of the daily data-quality summary.
pub const DAILY_QUALITY: &str = "daily_quality";
/// Top-level folder of run manifests.
pub const MANIFESTS: &str = "_manifests";
/// Top-level folder of leases.
pub const LOCKS: &str = "_locks";
/// Default bronze prefix.
pub const DEFAULT_BRONZE_PREFIX: &str = "bronze";

/// A UTC hour, the unit of the hourly job (arrival time) and of silver partitions (event time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hour(i64);

impl Hour {
    /// The hour containing `t`.
    pub fn containing(t: DateTime<Utc>) -> Hour {
        Hour(t.timestamp().div_euclid(3600))
    }

    /// The hour containing `micros` since the epoch.
    pub fn of_micros(micros: i64) -> Hour {
        Hour(micros.div_euclid(3_600_000_000))
    }

    /// Hours since the Unix epoch.
    pub fn index(self) -> i64 {
        self.0
    }

    pub fn from_index(index: i64) -> Hour {
        Hour(index)
    }

    pub fn start(self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.0 * 3600, 0).single().unwrap_or_default()
    }

    /// Start of the hour in microseconds since the epoch.
    pub fn start_micros(self) -> i64 {
        self.0 * 3_600_000_000
    }

    pub fn next(self) -> Hour {
        Hour(self.0 + 1)
    }

    pub fn prev(self) -> Hour {
        Hour(self.0 - 1)
    }

    pub fn date(self) -> NaiveDate {
        self.start().date_naive()
    }

    pub fn hour_of_day(self) -> u32 {
        self.start().hour()
    }

    /// `YYYYMMDDHH`, used in file names.
    pub fn compact(self) -> String {
        self.start().format("%Y%m%d%H").to_string()
    }

    /// Hours in `[from, to)`.
    pub fn range(from: Hour, to: Hour) -> impl Iterator<Item = Hour> {
        (from.0..to.0).map(Hour)
    }
}

impl fmt::Display for Hour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.start().format("%Y-%m-%dT%H"))
    }
}

impl FromStr for Hour {
    type Err = Error;

    /// Accepts `2026-11-20T05`, `2026-11-20T05:00`, `2026-11-20T05:00:00Z` and `2026-11-20 05`.
    fn from_str(s: &str) -> Result<Hour> {
        let t = s.trim().trim_end_matches('Z').replace(' ', "T");
        let parsed = NaiveDateTime::parse_from_str(&format!("{t}:00:00"), "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(&format!("{t}:00"), "%Y-%m-%dT%H:%M:%S"))
            .or_else(|_| NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| Error::InvalidHour { input: s.into() })?;
        if parsed.minute() != 0 || parsed.second() != 0 {
            return Err(Error::InvalidHour { input: s.into() });
        }
        Ok(Hour::containing(parsed.and_utc()))
    }
}

/// One arrival hour of bronze: `<prefix>/YYYY/MM/DD/HH/`.
#[derive(Debug, Clone)]
pub struct BronzeHour<'a> {
    pub prefix: &'a str,
    pub hour: Hour,
}

impl BronzeHour<'_> {
    pub fn path(&self) -> Path {
        let t = self.hour.start();
        Path::from(format!(
            "{}/{:04}/{:02}/{:02}/{:02}",
            self.prefix.trim_matches('/'),
            t.year(),
            t.month(),
            t.day(),
            t.hour()
        ))
    }
}

/// A silver partition: event type and event-time hour.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SilverPartition {
    pub event_type: String,
    pub hour: Hour,
}

impl SilverPartition {
    /// `silver/event_type=<t>/dt=YYYY-MM-DD/hour=HH`.
    pub fn path(&self) -> Path {
        Path::from_iter([
            SILVER.to_owned(),
            format!("event_type={}", self.event_type),
            format!("dt={}", self.hour.date().format("%Y-%m-%d")),
            format!("hour={:02}", self.hour.hour_of_day()),
        ])
    }

    /// `silver/event_type=<t>/dt=YYYY-MM-DD`, every hour of one event date.
    pub fn date_path(event_type: &str, date: NaiveDate) -> Path {
        Path::from_iter([
            SILVER.to_owned(),
            format!("event_type={event_type}"),
            format!("dt={}", date.format("%Y-%m-%d")),
        ])
    }
}

/// One silver Parquet file written by the run of `arrival`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilverFile {
    pub partition: SilverPartition,
    pub arrival: Hour,
    pub part: u32,
}

impl SilverFile {
    pub fn path(&self) -> Path {
        self.partition.path().join(format!("part-{}-{}.parquet", self.arrival.compact(), self.part))
    }

    /// Whether a file name belongs to the run of `arrival`.
    pub fn owned_by(file_name: &str, arrival: Hour) -> bool {
        file_name.starts_with(&format!("part-{}-", arrival.compact())) && file_name.ends_with(".parquet")
    }
}

/// One quarantine file of the run of `arrival`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineFile {
    pub arrival: Hour,
    pub part: u32,
}

impl QuarantineFile {
    /// The run's quarantine folder: `quarantine/dt=YYYY-MM-DD/hour=HH`.
    pub fn dir(arrival: Hour) -> Path {
        Path::from_iter([
            QUARANTINE.to_owned(),
            format!("dt={}", arrival.date().format("%Y-%m-%d")),
            format!("hour={:02}", arrival.hour_of_day()),
        ])
    }

    pub fn path(&self) -> Path {
        Self::dir(self.arrival).join(format!("part-{}-{}.jsonl", self.arrival.compact(), self.part))
    }
}

/// One gold Parquet file of deduplicated events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldFile {
    pub event_type: String,
    pub date: NaiveDate,
    pub part: u32,
}

impl GoldFile {
    /// `gold/events/event_type=<t>/dt=YYYY-MM-DD`.
    pub fn dir(event_type: &str, date: NaiveDate) -> Path {
        Path::from_iter([
            GOLD.to_owned(),
            GOLD_EVENTS.to_owned(),
            format!("event_type={event_type}"),
            format!("dt={}", date.format("%Y-%m-%d")),
        ])
    }

    pub fn path(&self) -> Path {
        Self::dir(&self.event_type, self.date).join(format!("part-{}.parquet", self.part))
    }
}

/// The daily aggregate files of one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyFile {
    /// Per event name: events, duplicates, conflicts, first/last event time, late arrivals.
    EventCounts(NaiveDate),
    /// Records and quarantined by reason, from the hourly manifests.
    Quality(NaiveDate),
}

impl DailyFile {
    pub fn dir(&self) -> Path {
        let (folder, date) = match self {
            DailyFile::EventCounts(d) => (DAILY_EVENT_COUNTS, d),
            DailyFile::Quality(d) => (DAILY_QUALITY, d),
        };
        Path::from_iter([GOLD.to_owned(), folder.to_owned(), format!("dt={}", date.format("%Y-%m-%d"))])
    }

    pub fn path(&self) -> Path {
        self.dir().join("part-0.parquet")
    }
}

/// The manifest of one run: the run's commit point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestKey {
    /// `_manifests/hourly/dt=YYYY-MM-DD/hour=HH.json`
    Hourly(Hour),
    /// `_manifests/daily/dt=YYYY-MM-DD.json`
    Daily(NaiveDate),
    /// `_manifests/attempts/hourly/YYYY-MM-DDTHH.json`: written before an hourly run writes any
    /// file, removed after it commits; a crashed attempt's window is cleaned up from it.
    HourlyAttempt(Hour),
}

impl ManifestKey {
    pub fn path(&self) -> Path {
        match self {
            ManifestKey::Hourly(h) => Path::from_iter([
                MANIFESTS.to_owned(),
                "hourly".to_owned(),
                format!("dt={}", h.date().format("%Y-%m-%d")),
                format!("hour={:02}.json", h.hour_of_day()),
            ]),
            ManifestKey::Daily(d) => {
                Path::from_iter([MANIFESTS.to_owned(), "daily".to_owned(), format!("dt={}.json", d.format("%Y-%m-%d"))])
            }
            ManifestKey::HourlyAttempt(h) => {
                Path::from_iter([MANIFESTS.to_owned(), "attempts".to_owned(), "hourly".to_owned(), format!("{h}.json")])
            }
        }
    }

    /// Folder of every hourly manifest of one arrival date.
    pub fn hourly_dir(date: NaiveDate) -> Path {
        Path::from_iter([MANIFESTS.to_owned(), "hourly".to_owned(), format!("dt={}", date.format("%Y-%m-%d"))])
    }
}

/// A lease: one writer per unit of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseKey {
    /// `_locks/hourly/YYYY-MM-DDTHH.lock`
    Hourly(Hour),
    /// `_locks/daily/YYYY-MM-DD.lock`
    Daily(NaiveDate),
}

impl LeaseKey {
    pub fn path(&self) -> Path {
        match self {
            LeaseKey::Hourly(h) => Path::from_iter([LOCKS.to_owned(), "hourly".to_owned(), format!("{h}.lock")]),
            LeaseKey::Daily(d) => {
                Path::from_iter([LOCKS.to_owned(), "daily".to_owned(), format!("{}.lock", d.format("%Y-%m-%d"))])
            }
        }
    }
}

/// Hours of the event-time window an arrival hour may write: `[arrival - lateness, arrival + early]`.
pub fn event_window(arrival: Hour, max_lateness: Duration, max_early: Duration) -> (i64, i64) {
    let start = arrival.start_micros() - max_lateness.num_microseconds().unwrap_or(i64::MAX / 4);
    let end = arrival.next().start_micros() + max_early.num_microseconds().unwrap_or(i64::MAX / 4);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Hour {
        s.parse().unwrap()
    }

    #[test]
    fn hours_parse_and_print() {
        assert_eq!(h("2026-11-20T05").to_string(), "2026-11-20T05");
        assert_eq!(h("2026-11-20T05:00"), h("2026-11-20 05"));
        assert_eq!(h("2026-11-20T05:00:00Z").compact(), "2026112005");
        assert!("2026-11-20T05:30".parse::<Hour>().is_err());
        assert!("2026-13-20T05".parse::<Hour>().is_err());
        assert_eq!(Hour::range(h("2026-11-20T22"), h("2026-11-21T01")).count(), 3);
        assert_eq!(Hour::of_micros(-1).to_string(), "1969-12-31T23");
    }

    /// Golden paths: Athena's partition projection templates depend on these exact strings.
    #[test]
    fn golden_paths() {
        let arrival = h("2026-11-20T11");
        let event_hour = h("2026-11-20T10");
        let part = SilverPartition { event_type: "payment".into(), hour: event_hour };
        let cases = [
            (BronzeHour { prefix: "bronze", hour: arrival }.path(), "bronze/2026/11/20/11"),
            (BronzeHour { prefix: "/raw/firehose/", hour: arrival }.path(), "raw/firehose/2026/11/20/11"),
            (part.path(), "silver/event_type=payment/dt=2026-11-20/hour=10"),
            (
                SilverFile { partition: part.clone(), arrival, part: 0 }.path(),
                "silver/event_type=payment/dt=2026-11-20/hour=10/part-2026112011-0.parquet",
            ),
            (SilverPartition::date_path("payment", event_hour.date()), "silver/event_type=payment/dt=2026-11-20"),
            (QuarantineFile { arrival, part: 2 }.path(), "quarantine/dt=2026-11-20/hour=11/part-2026112011-2.jsonl"),
            (ManifestKey::Hourly(arrival).path(), "_manifests/hourly/dt=2026-11-20/hour=11.json"),
            (ManifestKey::Daily(arrival.date()).path(), "_manifests/daily/dt=2026-11-20.json"),
            (LeaseKey::Hourly(arrival).path(), "_locks/hourly/2026-11-20T11.lock"),
            (LeaseKey::Daily(arrival.date()).path(), "_locks/daily/2026-11-20.lock"),
            (
                GoldFile { event_type: "payment".into(), date: arrival.date(), part: 1 }.path(),
                "gold/events/event_type=payment/dt=2026-11-20/part-1.parquet",
            ),
            (DailyFile::EventCounts(arrival.date()).path(), "gold/daily_event_counts/dt=2026-11-20/part-0.parquet"),
            (DailyFile::Quality(arrival.date()).path(), "gold/daily_quality/dt=2026-11-20/part-0.parquet"),
        ];
        for (got, want) in cases {
            assert_eq!(got.as_ref(), want);
        }
        assert!(SilverFile::owned_by("part-2026112011-3.parquet", arrival));
        assert!(!SilverFile::owned_by("part-2026112012-3.parquet", arrival));
    }

    /// Hostile event types survive as one encoded path segment.
    #[test]
    fn hostile_names_stay_in_their_segment() {
        let part = SilverPartition { event_type: "my type/你好😊".into(), hour: h("2026-01-01T00") };
        let p = part.path();
        assert_eq!(p.parts().count(), 4);
        assert!(p.as_ref().starts_with("silver/event_type=my type%2F%E4%BD%A0"), "{p}");
    }
}
