//! The project's quality rules over one date's facts: one [`RuleOutcome`] per rule, recorded in
//! the daily manifest, shown on the report, emitted as metrics, and exit 3 with `--fail-on-rule`.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use eventlake_lake::manifest::{DailyManifest, RuleOutcome};
use eventlake_lake::project::{QualityRule, RuleCheck};

use crate::DayFacts;

/// Evaluates every rule for the date of `facts`.
pub fn evaluate(rules: &[QualityRule], facts: &DayFacts) -> Vec<RuleOutcome> {
    rules
        .iter()
        .map(|rule| {
            let (failures, summary) = match &rule.check {
                RuleCheck::QuarantineRate { max } => quarantine_rate(*max, facts),
                RuleCheck::Volume { within, min_history_days } => {
                    with_daily(facts, |d| volume(*within, *min_history_days, d, facts))
                }
                RuleCheck::MissingHours => missing_hours(facts),
                RuleCheck::DuplicatesRate { max } => with_daily(facts, |d| duplicates_rate(*max, d)),
                RuleCheck::Freshness { max_age_seconds } => {
                    with_daily(facts, |d| freshness(*max_age_seconds, d, facts))
                }
            };
            RuleOutcome {
                rule: rule.name.clone(),
                kind: rule.check.kind().to_owned(),
                passed: failures.is_empty(),
                summary,
                failures,
            }
        })
        .collect()
}

/// (failures, summary) of one rule.
type Found = (Vec<String>, String);

fn with_daily(facts: &DayFacts, check: impl FnOnce(&DailyManifest) -> Found) -> Found {
    match &facts.daily {
        Some(d) => check(d),
        None => (vec![format!("{}: no daily run", facts.date)], "the daily job has not built this date".into()),
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn name_or_none(name: &str) -> &str {
    if name.is_empty() { "(no event name)" } else { name }
}

/// The worst of `(subject, rate, detail)` rows against `max`: failures and a summary.
fn rates(rows: Vec<(String, f64, String)>, max: f64, what: &str) -> Found {
    let failures: Vec<String> =
        rows.iter().filter(|(_, r, _)| *r > max).map(|(s, r, d)| format!("{s}: {} {what} ({d})", pct(*r))).collect();
    let summary = match rows.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        Some((s, r, d)) => format!("highest {s}: {} {what} ({d}; max {})", pct(*r), pct(max)),
        None => "no records".into(),
    };
    (failures, summary)
}

fn quarantine_rate(max: f64, facts: &DayFacts) -> Found {
    let q = facts.quality();
    let names: BTreeSet<&String> = q.by_event_name.keys().chain(q.quarantined_by_event_name.keys()).collect();
    let rows = names
        .into_iter()
        .map(|name| {
            let bad = q.quarantined_by_event_name.get(name).copied().unwrap_or(0);
            // A record without a readable name has no name's records to be a share of: it counts
            // against all the day's records.
            let total = match name.as_str() {
                "" => q.records,
                _ => bad + q.by_event_name.get(name).copied().unwrap_or(0),
            };
            (name_or_none(name).to_owned(), bad as f64 / total.max(1) as f64, format!("{bad} of {total}"))
        })
        .collect();
    rates(rows, max, "quarantined")
}

fn duplicates_rate(max: f64, daily: &DailyManifest) -> Found {
    let rows = daily
        .by_event_name
        .iter()
        .map(|n| {
            let silver = n.events + n.duplicates + n.conflicts;
            (n.event_name.clone(), n.duplicates as f64 / silver.max(1) as f64, format!("{} of {silver}", n.duplicates))
        })
        .collect();
    rates(rows, max, "re-delivered")
}

fn median(mut values: Vec<u64>) -> f64 {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2] as f64,
        _ => (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0,
    }
}

fn volume(within: f64, min_history_days: usize, daily: &DailyManifest, facts: &DayFacts) -> Found {
    let history = facts.history_by_type();
    if history.len() < min_history_days {
        return (
            Vec::new(),
            format!("not enough history: {} of {min_history_days} previous days built", history.len()),
        );
    }
    let types: BTreeSet<&String> =
        daily.counts.by_event_type.keys().chain(history.iter().flat_map(|(_, by)| by.keys())).collect();
    let mut failures = Vec::new();
    let mut worst: Option<(f64, String)> = None;
    for t in types {
        let today = daily.counts.by_event_type.get(t).copied().unwrap_or(0);
        let m = median(history.iter().map(|(_, by)| by.get(t).copied().unwrap_or(0)).collect());
        if m == 0.0 {
            continue; // A new event type has no volume to compare with yet.
        }
        let change = (today as f64 - m) / m;
        let line = format!("{t}: {today} vs a median of {m} ({:+.1}%)", change * 100.0);
        if change.abs() > within {
            failures.push(line.clone());
        }
        if worst.as_ref().is_none_or(|(w, _)| change.abs() > *w) {
            worst = Some((change.abs(), line));
        }
    }
    let summary = match worst {
        Some((_, line)) => format!("largest change {line}; within ±{}", pct(within)),
        None => "no event types to compare".into(),
    };
    (failures, summary)
}

fn missing_hours(facts: &DayFacts) -> Found {
    let mut missing = facts.missing_hours();
    missing.extend(facts.failed_hours.iter().map(|h| format!("{h} (started, not committed)")));
    missing.sort();
    missing.dedup();
    let summary = match missing.len() {
        0 => "every arrival hour committed".to_owned(),
        n => format!("{n} arrival hour(s) missing"),
    };
    (missing, summary)
}

fn freshness(max_age_seconds: u64, daily: &DailyManifest, facts: &DayFacts) -> Found {
    let latest: Option<DateTime<Utc>> = daily
        .by_event_name
        .iter()
        .filter_map(|n| n.last_event_time.as_deref())
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc()))
        .max();
    let day_end = (facts.date + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let max_age = Duration::seconds(i64::try_from(max_age_seconds).unwrap_or(i64::MAX / 1_000));
    match latest {
        None => (vec!["no events".into()], "no events on this date".into()),
        Some(t) => {
            let age = day_end - t;
            let line = format!(
                "latest event {} — {} before the day's end (max {})",
                t.format("%Y-%m-%d %H:%M:%S"),
                human(age),
                human(max_age)
            );
            if age > max_age { (vec![line.clone()], line) } else { (Vec::new(), line) }
        }
    }
}

fn human(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;
    use eventlake_lake::layout::Hour;
    use eventlake_lake::manifest::{Counts, DailyCounts, EventNameCounts, HourlyManifest, Timings};

    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
    }

    fn hourly(hour: Hour, valid: &[(&str, u64)], quarantined: &[(&str, u64)]) -> HourlyManifest {
        let mut counts = Counts::default();
        for (n, v) in valid {
            counts.by_event_name.insert((*n).into(), *v);
            counts.valid += v;
        }
        for (n, q) in quarantined {
            counts.quarantined_by_event_name.insert((*n).into(), *q);
            counts.quarantined += q;
        }
        counts.records = counts.valid + counts.quarantined;
        HourlyManifest {
            run_id: "r".into(),
            version: "0".into(),
            arrival_hour: hour.to_string(),
            schema_fingerprint: "f".into(),
            settings_fingerprint: "s".into(),
            inputs: vec![],
            counts,
            outputs: vec![],
            timings: Timings::default(),
            names: BTreeMap::new(),
        }
    }

    fn daily(by_type: &[(&str, u64)], names: Vec<EventNameCounts>) -> DailyManifest {
        DailyManifest {
            run_id: "r".into(),
            version: "0".into(),
            date: date().to_string(),
            schema_fingerprint: "f".into(),
            inputs: vec![],
            missing_hours: vec![],
            changed_hours: vec![],
            hourly_runs: BTreeMap::new(),
            counts: DailyCounts {
                by_event_type: by_type.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect(),
                ..DailyCounts::default()
            },
            conflict_examples: vec![],
            quality: Counts::default(),
            by_event_name: names,
            rules: vec![],
            outputs: vec![],
            timings: Timings::default(),
        }
    }

    fn full_day() -> BTreeMap<Hour, HourlyManifest> {
        let start = Hour::containing(date().and_hms_opt(0, 0, 0).unwrap().and_utc());
        Hour::range(start, Hour::from_index(start.index() + 24))
            .map(|h| (h, hourly(h, &[("order:placed", 99), ("page:view", 10)], &[("order:placed", 1), ("", 3)])))
            .collect()
    }

    fn rule(check: RuleCheck) -> Vec<QualityRule> {
        vec![QualityRule { name: check.kind().into(), check }]
    }

    fn name(n: &str, events: u64, duplicates: u64, last: &str) -> EventNameCounts {
        EventNameCounts {
            event_type: n.split(':').next().unwrap().into(),
            event_name: n.into(),
            events,
            duplicates,
            last_event_time: Some(last.into()),
            ..EventNameCounts::default()
        }
    }

    #[test]
    fn quarantine_rate_is_per_event_name() {
        let facts = DayFacts::from_manifests(date(), &full_day(), None, vec![]);
        let [ok] = evaluate(&rule(RuleCheck::QuarantineRate { max: 1.0 }), &facts).try_into().unwrap();
        assert!(ok.passed, "{ok:?}");
        let [bad] = evaluate(&rule(RuleCheck::QuarantineRate { max: 0.02 }), &facts).try_into().unwrap();
        assert!(!bad.passed);
        // Records without a readable name count against all the day's records.
        assert_eq!(bad.failures, vec!["(no event name): 2.7% quarantined (72 of 2712)".to_owned()]);
        assert!(evaluate(&rule(RuleCheck::QuarantineRate { max: 0.03 }), &facts)[0].passed);
    }

    #[test]
    fn missing_hours_names_them() {
        let mut hours = full_day();
        let gap = *hours.keys().nth(5).unwrap();
        hours.remove(&gap);
        let facts = DayFacts::from_manifests(date(), &hours, None, vec![]);
        let [out] = evaluate(&rule(RuleCheck::MissingHours), &facts).try_into().unwrap();
        assert_eq!((out.passed, out.failures), (false, vec![gap.to_string()]));
        let facts = DayFacts::from_manifests(date(), &full_day(), None, vec![]);
        assert!(evaluate(&rule(RuleCheck::MissingHours), &facts)[0].passed);
    }

    #[test]
    fn volume_compares_with_the_weeks_median() {
        let history: Vec<(NaiveDate, DailyManifest)> = [100, 110, 90, 105]
            .iter()
            .enumerate()
            .map(|(i, n)| (date() - Duration::days(4 - i as i64), daily(&[("order", *n), ("page", 50)], vec![])))
            .collect();
        let check = RuleCheck::Volume { within: 0.3, min_history_days: 3 };
        let today = |order: u64| {
            DayFacts::from_manifests(
                date(),
                &full_day(),
                Some(daily(&[("order", order), ("page", 50)], vec![])),
                history.clone(),
            )
        };
        assert!(evaluate(&rule(check.clone()), &today(120))[0].passed);
        let [drop] = evaluate(&rule(check.clone()), &today(40)).try_into().unwrap();
        assert!(!drop.passed && drop.failures[0].starts_with("order: 40 vs a median of 102.5"), "{drop:?}");
        let few =
            DayFacts::from_manifests(date(), &full_day(), Some(daily(&[("order", 1)], vec![])), history[..2].to_vec());
        let [skipped] = evaluate(&rule(check), &few).try_into().unwrap();
        assert!(skipped.passed && skipped.summary.contains("not enough history"), "{skipped:?}");
    }

    #[test]
    fn duplicates_and_freshness_need_the_daily_run() {
        let names = vec![
            name("order:placed", 90, 10, "2026-11-20T22:30:00+00:00"),
            name("page:view", 100, 0, "2026-11-20T23:59:00Z"),
        ];
        let facts = DayFacts::from_manifests(date(), &full_day(), Some(daily(&[], names)), vec![]);
        let [dup] = evaluate(&rule(RuleCheck::DuplicatesRate { max: 0.05 }), &facts).try_into().unwrap();
        assert_eq!(dup.failures, vec!["order:placed: 10.0% re-delivered (10 of 100)".to_owned()]);
        assert!(evaluate(&rule(RuleCheck::DuplicatesRate { max: 0.1 }), &facts)[0].passed);
        assert!(evaluate(&rule(RuleCheck::Freshness { max_age_seconds: 120 }), &facts)[0].passed);
        let stale = DayFacts::from_manifests(
            date(),
            &full_day(),
            Some(daily(&[], vec![name("order:placed", 1, 0, "2026-11-20T18:00:00Z")])),
            vec![],
        );
        let [old] = evaluate(&rule(RuleCheck::Freshness { max_age_seconds: 7200 }), &stale).try_into().unwrap();
        assert!(!old.passed && old.summary.contains("6h 0m before the day's end (max 2h 0m)"), "{old:?}");
        let none = DayFacts::from_manifests(date(), &full_day(), None, vec![]);
        let [no_run] = evaluate(&rule(RuleCheck::DuplicatesRate { max: 0.1 }), &none).try_into().unwrap();
        assert!(!no_run.passed && no_run.summary.contains("has not built"));
    }
}
