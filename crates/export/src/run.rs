//! One export run: a slice of a lake table read through DataFusion, loaded into the target,
//! recorded in the lake's export manifest; and what the run reports (summary row, log line, EMF).

use std::time::Instant;

use chrono::Utc;
use eventlake_gold::{LakeSession, quote};
use eventlake_lake::Lake;
use eventlake_lake::catalog::CatalogTable;
use eventlake_lake::layout::ManifestKey;
use eventlake_lake::manifest::{Timings, write_manifest};
use eventlake_runtime::metrics::Metric;
use eventlake_runtime::range::{RunFailure, RunReport};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::load::{ExportPlan, Slice, export_partition};
use crate::target::Target;
use crate::{Error, Result};

/// Summary columns of `eventlake export` after the slice and status.
pub const SUMMARY_COLUMNS: [&str; 3] = ["rows", "replaced", "added columns"];

/// A lake table and where its slices go.
pub struct ExportJob<'a> {
    pub lake: &'a Lake,
    pub session: &'a LakeSession,
    pub table: &'a CatalogTable,
    pub plan: &'a ExportPlan,
    pub target: &'a Target,
}

/// The lake's record of one load (never the target's password).
#[derive(Debug, Clone, Serialize)]
pub struct ExportManifest {
    pub run_id: String,
    pub version: String,
    /// The target without its password.
    pub target: String,
    pub table: String,
    pub target_table: String,
    /// `dt=…` or `dt=…/hour=…`; absent for a whole table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
    /// Rows loaded: the lake's rows of the slice, and the target's after the load.
    pub rows: u64,
    /// Rows of the slice the target held before.
    pub replaced: u64,
    pub added_columns: Vec<String>,
    pub timings: Timings,
}

impl ExportJob<'_> {
    /// `SELECT <what> FROM <table> WHERE <partition> = '<value>' …` over the lake.
    fn select(&self, what: &str, slice: Slice) -> String {
        let names = self.plan.partition.iter().map(|(n, _)| n.as_str());
        let values = match slice {
            Slice::Whole => vec![],
            Slice::Date(d) => vec![d.to_string()],
            Slice::Hour(d, h) => vec![d.to_string(), format!("{h:02}")],
        };
        // Partition values are the folders' text (`dt=2026-11-20/hour=05`).
        let terms: Vec<String> = names.zip(&values).map(|(n, v)| format!("{} = '{v}'", quote(n))).collect();
        let filter = if terms.is_empty() { String::new() } else { format!(" WHERE {}", terms.join(" AND ")) };
        format!("SELECT {what} FROM {}{filter}", quote(&self.table.name))
    }

    /// The lake's rows of `slice` (for a progress bar's length).
    pub async fn lake_rows(&self, slice: Slice) -> Result<u64> {
        let batches = self.session.ctx.sql(&self.select("count(*)", slice)).await?.collect().await?;
        let count = batches
            .first()
            .and_then(|b| b.column(0).as_any().downcast_ref::<arrow::array::Int64Array>().map(|a| a.value(0)))
            .unwrap_or_default();
        Ok(count as u64)
    }

    /// Loads `slice` and writes its export manifest; `progress` hears the rows loaded so far.
    pub async fn run(&self, slice: Slice, run_id: &str, progress: &(dyn Fn(u64) + Sync)) -> Result<ExportManifest> {
        let clock = Instant::now();
        let started_at = Utc::now();
        let mut columns: Vec<String> = self.plan.columns.iter().map(|c| quote(&c.name)).collect();
        columns.extend(self.plan.partition.iter().map(|(n, _)| quote(n)));
        let stream = self.session.ctx.sql(&self.select(&columns.join(", "), slice)).await?.execute_stream().await?;
        let result = export_partition(self.target, self.plan, slice, stream, progress).await?;
        let manifest = ExportManifest {
            run_id: run_id.to_owned(),
            version: env!("CARGO_PKG_VERSION").into(),
            target: self.target.to_string(),
            table: self.table.name.clone(),
            target_table: self.plan.table.clone(),
            slice: (slice != Slice::Whole).then(|| slice.to_string()),
            rows: result.rows,
            replaced: result.replaced,
            added_columns: result.added_columns,
            timings: Timings {
                started_at: started_at.to_rfc3339(),
                finished_at: Utc::now().to_rfc3339(),
                seconds: clock.elapsed().as_secs_f64(),
            },
        };
        let (date, hour) = match slice {
            Slice::Whole => (None, None),
            Slice::Date(d) => (Some(d), None),
            Slice::Hour(d, h) => (Some(d), Some(h)),
        };
        let key = ManifestKey::Export { target: self.target.key(), table: self.table.name.clone(), date, hour };
        write_manifest(self.lake, &key, &manifest).await?;
        Ok(manifest)
    }
}

impl RunReport for ExportManifest {
    fn status(&self) -> &'static str {
        "loaded"
    }

    fn committed(&self) -> bool {
        true
    }

    fn figures(&self) -> Vec<Metric> {
        let per_second = self.rows as f64 / self.timings.seconds.max(1e-6);
        vec![
            Metric { name: "rows", value: self.rows as f64, unit: "Count" },
            Metric { name: "replaced", value: self.replaced as f64, unit: "Count" },
            Metric { name: "added_columns", value: self.added_columns.len() as f64, unit: "Count" },
            Metric { name: "rows_per_second", value: per_second, unit: "Count/Second" },
        ]
    }

    fn log_finished(&self, seconds: f64) {
        tracing::info!(
            table = %self.table,
            target_table = %self.target_table,
            rows = self.rows,
            replaced = self.replaced,
            added_columns = self.added_columns.len(),
            seconds,
            "run finished"
        );
    }

    fn cells(&self) -> Vec<String> {
        let added = if self.added_columns.is_empty() { "-".to_owned() } else { self.added_columns.join(", ") };
        vec![self.rows.to_string(), self.replaced.to_string(), added]
    }

    fn properties(&self) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("run_id".into(), self.run_id.clone().into());
        p.insert("table".into(), self.table.clone().into());
        p.insert("target_table".into(), self.target_table.clone().into());
        p.insert("target".into(), self.target.clone().into());
        if let Some(slice) = &self.slice {
            p.insert("slice".into(), slice.clone().into());
        }
        p
    }
}

/// Databases have no lake leases: a second load of a slice waits on the target's lock instead.
impl RunFailure for Error {
    fn is_lease_held(&self) -> bool {
        false
    }
}
