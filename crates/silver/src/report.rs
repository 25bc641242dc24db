//! What an hourly run tells the range runner: one impl holds its log line, its summary row and its
//! CloudWatch metrics, so the three say the same.

use eventlake_runtime::metrics::Metric;
use eventlake_runtime::range::{RunFailure, RunReport};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::hourly::{HourStatus, HourlyOutcome};

/// Summary columns of [`HourlyOutcome::cells`], after hour and status.
pub const SUMMARY_COLUMNS: [&str; 5] = ["records", "valid", "quarantined", "rate", "outputs"];

impl HourlyOutcome {
    /// Quarantined share of the hour's records (0 for an empty hour).
    pub fn quarantine_rate(&self) -> f64 {
        let c = &self.manifest.counts;
        if c.records == 0 { 0.0 } else { c.quarantined as f64 / c.records as f64 }
    }
}

impl RunReport for HourlyOutcome {
    fn status(&self) -> &'static str {
        match self.status {
            HourStatus::Committed => "committed",
            HourStatus::Skipped => "skipped (current)",
        }
    }

    fn committed(&self) -> bool {
        self.status == HourStatus::Committed
    }

    fn figures(&self) -> Vec<Metric> {
        let c = &self.manifest.counts;
        vec![
            Metric { name: "records", value: c.records as f64, unit: "Count" },
            Metric { name: "valid", value: c.valid as f64, unit: "Count" },
            Metric { name: "quarantined", value: c.quarantined as f64, unit: "Count" },
            Metric { name: "quarantine_rate", value: self.quarantine_rate(), unit: "None" },
            Metric { name: "bytes", value: c.bytes as f64, unit: "Bytes" },
            // Summed by an alarm: bronze that landed after its hour had committed (and was caught up).
            Metric {
                name: "inputs_changed_after_commit",
                value: f64::from(u8::from(self.inputs_changed_after_commit)),
                unit: "Count",
            },
        ]
    }

    fn log_finished(&self, seconds: f64) {
        let c = &self.manifest.counts;
        tracing::info!(
            status = self.status(),
            records = c.records,
            valid = c.valid,
            quarantined = c.quarantined,
            removed = self.removed.len(),
            seconds,
            "run finished"
        );
    }

    fn cells(&self) -> Vec<String> {
        let c = &self.manifest.counts;
        vec![
            c.records.to_string(),
            c.valid.to_string(),
            c.quarantined.to_string(),
            format!("{:.2}%", self.quarantine_rate() * 100.0),
            self.manifest.outputs.len().to_string(),
        ]
    }

    fn properties(&self) -> Map<String, Value> {
        let mut props = Map::new();
        props.insert("run_id".into(), self.manifest.run_id.clone().into());
        props.insert("arrival_hour".into(), self.manifest.arrival_hour.clone().into());
        props
    }
}

impl RunFailure for Error {
    fn is_lease_held(&self) -> bool {
        Error::is_lease_held(self)
    }
}
