//! What a daily run tells the range runner: one impl holds its log line, its summary row and its
//! CloudWatch metrics, so the three say the same.

use eventlake_runtime::metrics::Metric;
use eventlake_runtime::range::{RunFailure, RunReport};
use serde_json::{Map, Value};

use crate::daily::{DailyOutcome, DayStatus};
use crate::error::Error;

/// Summary columns of [`DailyOutcome::cells`], after date and status.
pub const SUMMARY_COLUMNS: [&str; 6] =
    ["silver rows", "gold rows", "duplicates", "conflicts", "missing hours", "rules failed"];

impl DailyOutcome {
    /// Quality rules that failed for this day.
    pub fn rules_failed(&self) -> usize {
        self.manifest.rules.iter().filter(|r| !r.passed).count()
    }
}

impl RunReport for DailyOutcome {
    fn status(&self) -> &'static str {
        match self.status {
            DayStatus::Committed => "committed",
            DayStatus::Skipped => "skipped (current)",
        }
    }

    fn committed(&self) -> bool {
        self.status == DayStatus::Committed
    }

    fn figures(&self) -> Vec<Metric> {
        let c = &self.manifest.counts;
        vec![
            Metric { name: "silver_rows", value: c.silver_rows as f64, unit: "Count" },
            Metric { name: "gold_rows", value: c.gold_rows as f64, unit: "Count" },
            Metric { name: "duplicates", value: c.duplicates as f64, unit: "Count" },
            Metric { name: "conflicts", value: c.conflicts as f64, unit: "Count" },
            Metric { name: "rules_failed", value: self.rules_failed() as f64, unit: "Count" },
        ]
    }

    fn log_finished(&self, seconds: f64) {
        let c = &self.manifest.counts;
        tracing::info!(
            status = self.status(),
            silver_rows = c.silver_rows,
            gold_rows = c.gold_rows,
            duplicates = c.duplicates,
            conflicts = c.conflicts,
            seconds,
            "run finished"
        );
    }

    fn cells(&self) -> Vec<String> {
        let c = &self.manifest.counts;
        vec![
            c.silver_rows.to_string(),
            c.gold_rows.to_string(),
            c.duplicates.to_string(),
            c.conflicts.to_string(),
            self.manifest.missing_hours.len().to_string(),
            if self.manifest.rules.is_empty() { "-".into() } else { self.rules_failed().to_string() },
        ]
    }

    fn properties(&self) -> Map<String, Value> {
        let mut props = Map::new();
        props.insert("run_id".into(), self.manifest.run_id.clone().into());
        props.insert("date".into(), self.manifest.date.clone().into());
        let failed: Vec<Value> =
            self.manifest.rules.iter().filter(|r| !r.passed).map(|r| r.rule.clone().into()).collect();
        if !failed.is_empty() {
            props.insert("failed_rules".into(), failed.into());
        }
        props
    }
}

impl RunFailure for Error {
    fn is_lease_held(&self) -> bool {
        Error::is_lease_held(self)
    }
}
