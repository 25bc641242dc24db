//! The manifests of one date, read once: its 24 arrival hours, the attempts that never committed,
//! its daily run and the week before it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use eventlake_lake::Lake;
use eventlake_lake::layout::{Hour, ManifestKey};
use eventlake_lake::manifest::{Counts, DailyManifest, HourlyManifest, read_manifest};
use futures::{StreamExt, TryStreamExt};

use crate::Result;

/// Days before a date whose daily runs the volume rule and the report compare it with.
pub const HISTORY_DAYS: i64 = 7;

/// Manifest reads in flight at once (an S3 GET each).
const READS_IN_FLIGHT: usize = 16;

/// Everything the rules and the report know about one date.
#[derive(Debug, Clone)]
pub struct DayFacts {
    pub date: NaiveDate,
    /// The date's 24 arrival hours, each with its manifest where it committed.
    pub hours: Vec<(Hour, Option<HourlyManifest>)>,
    /// Arrival hours of the date with an attempt on record: started and not (or not yet) committed.
    pub failed_hours: Vec<Hour>,
    /// The date's daily run, when it committed.
    pub daily: Option<DailyManifest>,
    /// The daily runs of the previous [`HISTORY_DAYS`] days that committed, oldest first.
    pub history: Vec<(NaiveDate, DailyManifest)>,
}

/// How long after its event hour a record arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LatenessBucket {
    /// The event time is after the arrival hour (a producer's clock ahead).
    Early,
    SameHour,
    OneHour,
    TwoToThree,
    FourToSix,
    SevenToTwentyFour,
    MoreThanADay,
}

impl LatenessBucket {
    pub const ALL: [LatenessBucket; 7] = [
        LatenessBucket::Early,
        LatenessBucket::SameHour,
        LatenessBucket::OneHour,
        LatenessBucket::TwoToThree,
        LatenessBucket::FourToSix,
        LatenessBucket::SevenToTwentyFour,
        LatenessBucket::MoreThanADay,
    ];

    fn of_hours(hours: i64) -> LatenessBucket {
        match hours {
            i64::MIN..=-1 => LatenessBucket::Early,
            0 => LatenessBucket::SameHour,
            1 => LatenessBucket::OneHour,
            2..=3 => LatenessBucket::TwoToThree,
            4..=6 => LatenessBucket::FourToSix,
            7..=24 => LatenessBucket::SevenToTwentyFour,
            _ => LatenessBucket::MoreThanADay,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LatenessBucket::Early => "early",
            LatenessBucket::SameHour => "same hour",
            LatenessBucket::OneHour => "1 h",
            LatenessBucket::TwoToThree => "2–3 h",
            LatenessBucket::FourToSix => "4–6 h",
            LatenessBucket::SevenToTwentyFour => "7–24 h",
            LatenessBucket::MoreThanADay => "> 24 h",
        }
    }
}

fn day_hours(date: NaiveDate) -> impl Iterator<Item = Hour> {
    let start = Hour::containing(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    Hour::range(start, Hour::from_index(start.index() + 24))
}

impl DayFacts {
    /// Facts from manifests already read (the daily job's): `hourly` may hold more hours than the
    /// date's; no attempts are known.
    pub fn from_manifests(
        date: NaiveDate,
        hourly: &BTreeMap<Hour, HourlyManifest>,
        daily: Option<DailyManifest>,
        history: Vec<(NaiveDate, DailyManifest)>,
    ) -> DayFacts {
        let hours = day_hours(date).map(|h| (h, hourly.get(&h).cloned())).collect();
        DayFacts { date, hours, failed_hours: Vec::new(), daily, history }
    }

    /// Records of the date's arrival hours: read, valid, quarantined by reason, name and kind.
    pub fn quality(&self) -> Counts {
        let mut total = Counts::default();
        for m in self.hours.iter().filter_map(|(_, m)| m.as_ref()) {
            total.add(&m.counts);
        }
        total
    }

    /// Arrival hours the day needs that never committed: the date's own and, from the daily run,
    /// those of its completeness window after midnight.
    pub fn missing_hours(&self) -> Vec<String> {
        let mut missing: BTreeSet<String> =
            self.hours.iter().filter(|(_, m)| m.is_none()).map(|(h, _)| h.to_string()).collect();
        if let Some(d) = &self.daily {
            missing.extend(d.missing_hours.iter().cloned());
        }
        missing.into_iter().collect()
    }

    /// Silver rows of the date's arrival hours by how long after their event hour they arrived.
    pub fn lateness(&self) -> Vec<(LatenessBucket, u64)> {
        let mut rows: BTreeMap<LatenessBucket, u64> = LatenessBucket::ALL.iter().map(|b| (*b, 0)).collect();
        for (arrival, m) in &self.hours {
            let Some(m) = m else { continue };
            for out in m.outputs.iter().filter(|o| o.kind == "silver") {
                let event = NaiveDate::parse_from_str(&out.dt, "%Y-%m-%d")
                    .ok()
                    .zip(out.hour.parse::<u32>().ok())
                    .and_then(|(d, h)| d.and_hms_opt(h, 0, 0))
                    .map(|t| Hour::containing(t.and_utc()));
                if let Some(event) = event {
                    *rows.entry(LatenessBucket::of_hours(arrival.index() - event.index())).or_default() += out.rows;
                }
            }
        }
        rows.into_iter().collect()
    }

    /// The schemas in force: each registry fingerprint and eventlake version with the hours (of
    /// the day) it validated.
    pub fn schema_versions(&self) -> Vec<(String, String, Vec<u32>)> {
        let mut by: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
        for (h, m) in &self.hours {
            if let Some(m) = m {
                by.entry((m.schema_fingerprint.clone(), m.version.clone())).or_default().push(h.hour_of_day());
            }
        }
        by.into_iter().map(|((f, v), hours)| (f, v, hours)).collect()
    }

    /// Gold rows per event type on each previous day that ran, oldest first.
    pub fn history_by_type(&self) -> Vec<(NaiveDate, &BTreeMap<String, u64>)> {
        self.history.iter().map(|(d, m)| (*d, &m.counts.by_event_type)).collect()
    }
}

/// Reads the manifests of `date` (about 56 small objects, 16 at a time).
pub async fn load_day(lake: &Lake, date: NaiveDate) -> Result<DayFacts> {
    let hours: Vec<Hour> = day_hours(date).collect();
    let hourly: Vec<(Hour, Option<HourlyManifest>)> = futures::stream::iter(hours.iter().copied())
        .map(|h| async move { Ok::<_, crate::Error>((h, read_manifest(lake, &ManifestKey::Hourly(h)).await?)) })
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    let attempts: Vec<Hour> = futures::stream::iter(hours.iter().copied())
        .map(|h| async move { Ok::<_, crate::Error>((h, lake.get_opt(&ManifestKey::HourlyAttempt(h).path()).await?)) })
        .buffered(READS_IN_FLIGHT)
        .try_filter_map(|(h, found)| async move { Ok(found.map(|_| h)) })
        .try_collect()
        .await?;
    let daily = read_manifest(lake, &ManifestKey::Daily(date)).await?;
    let history = load_history(lake, date).await?;
    Ok(DayFacts { date, hours: hourly, failed_hours: attempts, daily, history })
}

/// The daily manifests of the [`HISTORY_DAYS`] days before `date` that have one, oldest first.
pub async fn load_history(lake: &Lake, date: NaiveDate) -> Result<Vec<(NaiveDate, DailyManifest)>> {
    let previous: Vec<NaiveDate> = (1..=HISTORY_DAYS).rev().map(|n| date - Duration::days(n)).collect();
    futures::stream::iter(previous)
        .map(|d| async move { Ok::<_, crate::Error>((d, read_manifest(lake, &ManifestKey::Daily(d)).await?)) })
        .buffered(READS_IN_FLIGHT)
        .try_filter_map(|(d, m)| async move { Ok(m.map(|m| (d, m))) })
        .try_collect()
        .await
}
