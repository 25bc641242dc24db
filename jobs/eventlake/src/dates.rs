//! The dates a command names: one date, a half-open range, and the day before the scheduled time
//! (what `daily`, `models` and `export` accept alike).

use std::collections::BTreeSet;

use anyhow::bail;
use chrono::{DateTime, NaiveDate, Utc};

/// The dates named by `date`, the range `[from, end)` (`end_flag` names its end in messages) and,
/// with `previous_day`, the day before `scheduled` (else before now).
pub(crate) fn named_dates(
    date: Option<NaiveDate>,
    range: (Option<NaiveDate>, Option<NaiveDate>),
    end_flag: &str,
    previous_day: bool,
    scheduled: Option<DateTime<Utc>>,
) -> anyhow::Result<BTreeSet<NaiveDate>> {
    let mut dates = BTreeSet::new();
    dates.extend(date);
    if let (Some(from), Some(end)) = range {
        if end <= from {
            bail!("{end_flag} {end} must be after --from {from} (the range is half-open)");
        }
        dates.extend(from.iter_days().take_while(|d| *d < end));
    }
    if previous_day {
        dates.extend(scheduled.unwrap_or_else(Utc::now).date_naive().pred_opt());
    }
    Ok(dates)
}
