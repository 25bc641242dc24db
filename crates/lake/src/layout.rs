//! Typed keys for every object eventlake reads or writes. Athena's DDL (partition projection
//! templates) and every job derive paths from here and nowhere else.
//!
//! | key                  | path under the lake root                                                          |
//! |----------------------|-----------------------------------------------------------------------------------|
//! | [`crate::bronze::BronzeListing`] | `bronze/YYYY/MM/DD/HH/…` (arrival time; prefix and layout configurable) |
//! | [`SilverFile`]       | `silver/event_type=<t>/dt=YYYY-MM-DD/hour=HH/part-<arrival YYYYMMDDHH>-<n>.parquet` |
//! | [`QuarantineFile`]   | `quarantine/dt=YYYY-MM-DD/hour=HH/part-<arrival YYYYMMDDHH>-<n>.jsonl`            |
//! | [`GoldFile`]         | `gold/events/event_type=<t>/dt=YYYY-MM-DD/part-<n>.parquet`                       |
//! | [`DailyFile`]        | `gold/daily_event_counts/dt=YYYY-MM-DD/part-0.parquet`, `gold/daily_quality/…`    |
//! | [`ManifestKey`]      | `_manifests/hourly/dt=YYYY-MM-DD/hour=HH.json`, `_manifests/daily/dt=….json`      |
//! | [`LeaseKey`]         | `_locks/hourly/YYYY-MM-DDTHH.lock`                                                |
//! | [`ReportKey`]        | `reports/dt=YYYY-MM-DD/index.html`, `reports/index.html`                          |
//!
//! A project's named sources each keep this whole layout below [`source_root`] (`sources/<name>/…`);
//! the default source uses the lake root.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
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
/// Top-level folder of model tables (SQL over the lake).
pub const MODELS: &str = "models";
/// Top-level folder of the named sources of a project; each is a lake of its own below it.
pub const SOURCES: &str = "sources";
/// Top-level folder of the data-quality reports (HTML pages).
pub const REPORTS: &str = "reports";
/// Top-level folder of the catalogs `setup` applied.
pub const SCHEMA_HISTORY: &str = "_schema_history";

/// Hive partition keys of the folder names below (also the partition columns' names).
pub const EVENT_TYPE_KEY: &str = "event_type";
pub const DATE_KEY: &str = "dt";
pub const HOUR_KEY: &str = "hour";

fn event_type_segment(event_type: &str) -> String {
    format!("{EVENT_TYPE_KEY}={event_type}")
}

fn date_segment(date: NaiveDate) -> String {
    format!("{DATE_KEY}={}", date.format("%Y-%m-%d"))
}

fn hour_segment(hour: Hour) -> String {
    format!("{HOUR_KEY}={:02}", hour.hour_of_day())
}

/// `silver/event_type=<t>`: every partition of one event type.
pub fn silver_type_dir(event_type: &str) -> Path {
    Path::from_iter([SILVER.to_owned(), event_type_segment(event_type)])
}

/// `gold/events/event_type=<t>`.
pub fn gold_type_dir(event_type: &str) -> Path {
    Path::from_iter([GOLD.to_owned(), GOLD_EVENTS.to_owned(), event_type_segment(event_type)])
}

/// `<type dir>/dt=YYYY-MM-DD`: one date below a `…/event_type=<t>` folder as listed.
pub fn date_dir(type_dir: &Path, date: NaiveDate) -> Path {
    type_dir.clone().join(date_segment(date))
}

/// The event type of a listed `…/event_type=<t>/…` key (decoded: object_store percent-encodes
/// characters a path segment cannot hold).
pub fn event_type_of(key: &str) -> Option<String> {
    let segment = key.split('/').find_map(|s| s.strip_prefix(EVENT_TYPE_KEY)?.strip_prefix('='))?;
    Some(percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned())
}

/// `_manifests/daily`: every daily manifest.
pub fn daily_manifests_dir() -> Path {
    Path::from_iter([MANIFESTS, "daily"])
}

/// The date of a daily manifest's file name (`dt=YYYY-MM-DD.json`).
pub fn daily_manifest_date(file_name: &str) -> Option<NaiveDate> {
    let date = file_name.strip_prefix(DATE_KEY)?.strip_prefix('=')?.strip_suffix(".json")?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// `sources/<name>`: the outputs, manifests, leases and quarantine of a named source.
pub fn source_root(name: &str) -> Path {
    Path::from_iter([SOURCES, name])
}

/// `_schema_history/athena-<database>.json`: the catalog last applied to an Athena database.
pub fn schema_history(database: &str) -> Path {
    Path::from_iter([SCHEMA_HISTORY.to_owned(), format!("athena-{database}.json")])
}

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

/// The arrival hour of a Firehose object path `…/YYYY/MM/DD/HH/<file>`, if it is one.
pub fn firehose_hour_of(path: &str) -> Option<Hour> {
    let mut dirs = path.rsplit('/').skip(1);
    let (hh, dd, mm, yyyy) = (dirs.next()?, dirs.next()?, dirs.next()?, dirs.next()?);
    let widths = [(yyyy, 4), (mm, 2), (dd, 2), (hh, 2)];
    if !widths.iter().all(|(s, n)| s.len() == *n && s.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    format!("{yyyy}-{mm}-{dd}T{hh}").parse().ok()
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
        Self::date_path(&self.event_type, self.hour.date()).join(hour_segment(self.hour))
    }

    /// `silver/event_type=<t>/dt=YYYY-MM-DD`, every hour of one event date.
    pub fn date_path(event_type: &str, date: NaiveDate) -> Path {
        date_dir(&silver_type_dir(event_type), date)
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
        Path::from_iter([QUARANTINE.to_owned(), date_segment(arrival.date()), hour_segment(arrival)])
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
        date_dir(&gold_type_dir(event_type), date)
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
        Path::from_iter([GOLD.to_owned(), folder.to_owned(), date_segment(*date)])
    }

    pub fn path(&self) -> Path {
        self.dir().join("part-0.parquet")
    }
}

/// A data-quality report page: one per date, and an index over dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKey {
    Day(NaiveDate),
    Index,
}

impl ReportKey {
    pub fn path(&self) -> Path {
        match self {
            ReportKey::Day(d) => Path::from_iter([REPORTS.to_owned(), date_segment(*d), "index.html".to_owned()]),
            ReportKey::Index => Path::from_iter([REPORTS, "index.html"]),
        }
    }
}

/// One Parquet file of a model: `models/<name>/part-<n>.parquet`, or below `dt=YYYY-MM-DD/` for a
/// model built date by date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    pub model: String,
    pub date: Option<NaiveDate>,
    pub part: u32,
}

impl ModelFile {
    /// `models/<name>`: every file of the model.
    pub fn table_dir(model: &str) -> Path {
        Path::from_iter([MODELS, model])
    }

    /// The folder one build writes: the model's, or one date's.
    pub fn dir(model: &str, date: Option<NaiveDate>) -> Path {
        match date {
            Some(d) => Self::table_dir(model).join(date_segment(d)),
            None => Self::table_dir(model),
        }
    }

    pub fn path(&self) -> Path {
        Self::dir(&self.model, self.date).join(format!("part-{}.parquet", self.part))
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
    /// `_manifests/models/<name>.json`, or `_manifests/models/<name>/dt=YYYY-MM-DD.json` for one
    /// date of a model built date by date.
    Model { model: String, date: Option<NaiveDate> },
    /// `_manifests/exports/<target>/<table>/dt=YYYY-MM-DD.json`, `…/dt=YYYY-MM-DD/hour=HH.json`
    /// for an hour, or `<table>.json` for a whole table: the last load of a slice into a database.
    Export { target: String, table: String, date: Option<NaiveDate>, hour: Option<u32> },
}

impl ManifestKey {
    pub fn path(&self) -> Path {
        match self {
            ManifestKey::Hourly(h) => {
                Self::hourly_dir(h.date()).join(format!("{HOUR_KEY}={:02}.json", h.hour_of_day()))
            }
            ManifestKey::Daily(d) => daily_manifests_dir().join(format!("{}.json", date_segment(*d))),
            ManifestKey::HourlyAttempt(h) => {
                Path::from_iter([MANIFESTS.to_owned(), "attempts".to_owned(), "hourly".to_owned(), format!("{h}.json")])
            }
            ManifestKey::Model { model, date: None } => {
                Path::from_iter([MANIFESTS.to_owned(), MODELS.to_owned(), format!("{model}.json")])
            }
            ManifestKey::Export { target, table, date: None, .. } => {
                Path::from_iter([MANIFESTS.to_owned(), "exports".to_owned(), target.clone(), format!("{table}.json")])
            }
            ManifestKey::Export { target, table, date: Some(d), hour } => {
                let mut parts = vec![MANIFESTS.to_owned(), "exports".to_owned(), target.clone(), table.clone()];
                match hour {
                    Some(h) => parts.extend([date_segment(*d), format!("{HOUR_KEY}={h:02}.json")]),
                    None => parts.push(format!("{}.json", date_segment(*d))),
                }
                Path::from_iter(parts)
            }
            ManifestKey::Model { model, date: Some(d) } => Path::from_iter([
                MANIFESTS.to_owned(),
                MODELS.to_owned(),
                model.clone(),
                format!("{}.json", date_segment(*d)),
            ]),
        }
    }

    /// Folder of every hourly manifest of one arrival date.
    pub fn hourly_dir(date: NaiveDate) -> Path {
        Path::from_iter([MANIFESTS.to_owned(), "hourly".to_owned(), date_segment(date)])
    }
}

/// A lease: one writer per unit of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseKey {
    /// `_locks/hourly/YYYY-MM-DDTHH.lock`
    Hourly(Hour),
    /// `_locks/daily/YYYY-MM-DD.lock`
    Daily(NaiveDate),
    /// `_locks/models/<name>.lock`, or `_locks/models/<name>/dt=YYYY-MM-DD.lock` for one date of
    /// a model built date by date: one build of each at a time.
    Model { model: String, date: Option<NaiveDate> },
}

impl LeaseKey {
    pub fn path(&self) -> Path {
        match self {
            LeaseKey::Hourly(h) => Path::from_iter([LOCKS.to_owned(), "hourly".to_owned(), format!("{h}.lock")]),
            LeaseKey::Daily(d) => {
                Path::from_iter([LOCKS.to_owned(), "daily".to_owned(), format!("{}.lock", d.format("%Y-%m-%d"))])
            }
            LeaseKey::Model { model, date: None } => {
                Path::from_iter([LOCKS.to_owned(), MODELS.to_owned(), format!("{model}.lock")])
            }
            LeaseKey::Model { model, date: Some(d) } => Path::from_iter([
                LOCKS.to_owned(),
                MODELS.to_owned(),
                model.clone(),
                format!("{}.lock", date_segment(*d)),
            ]),
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
            (ModelFile { model: "students".into(), date: None, part: 0 }.path(), "models/students/part-0.parquet"),
            (
                ModelFile { model: "sessions".into(), date: Some(arrival.date()), part: 1 }.path(),
                "models/sessions/dt=2026-11-20/part-1.parquet",
            ),
            (ManifestKey::Model { model: "students".into(), date: None }.path(), "_manifests/models/students.json"),
            (
                ManifestKey::Model { model: "sessions".into(), date: Some(arrival.date()) }.path(),
                "_manifests/models/sessions/dt=2026-11-20.json",
            ),
            (LeaseKey::Model { model: "students".into(), date: None }.path(), "_locks/models/students.lock"),
        ];
        for (got, want) in cases {
            assert_eq!(got.as_ref(), want);
        }
        assert_eq!(schema_history("analytics").as_ref(), "_schema_history/athena-analytics.json");
        assert_eq!(gold_type_dir("payment").as_ref(), "gold/events/event_type=payment");
        assert_eq!(daily_manifest_date("dt=2026-11-20.json"), Some(arrival.date()));
        assert_eq!(firehose_hour_of("lake/bronze/2026/11/20/11/events-1.gz"), Some(arrival));
        assert_eq!(firehose_hour_of("2026/11/20/11/x"), Some(arrival));
        assert_eq!(firehose_hour_of("bronze/2026/11/20/x"), None);
        assert_eq!(firehose_hour_of("bronze/2026/13/20/11/x"), None);
        assert_eq!(daily_manifest_date("dt=2026-11-20.jsonl"), None);
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
        assert_eq!(event_type_of(p.as_ref()).as_deref(), Some("my type/你好😊"));
        assert_eq!(event_type_of("silver/dt=2026-01-01"), None);
    }

    proptest::proptest! {
        /// Any event type from data stays one path segment, decodes back to itself, and cannot
        /// climb out of its folder.
        #[test]
        fn fuzzed_event_types_stay_in_their_segment(event_type in "\\PC{0,40}|[./%=\\\\ ]{0,8}") {
            let part = SilverPartition { event_type: event_type.clone(), hour: h("2026-01-01T00") };
            let silver = part.path();
            proptest::prop_assert_eq!(silver.parts().count(), 4, "{}", silver);
            proptest::prop_assert!(silver.as_ref().starts_with("silver/event_type="));
            proptest::prop_assert_eq!(event_type_of(silver.as_ref()), Some(event_type.clone()));
            let gold = GoldFile { event_type: event_type.clone(), date: h("2026-01-01T00").date(), part: 0 }.path();
            proptest::prop_assert_eq!(gold.parts().count(), 5, "{}", gold);
            proptest::prop_assert_eq!(event_type_of(gold.as_ref()), Some(event_type));
            for p in silver.parts().chain(gold.parts()) {
                proptest::prop_assert!(p.as_ref() != ".." && p.as_ref() != ".", "{}", p.as_ref());
            }
        }
    }
}
