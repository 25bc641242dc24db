//! One runner for every job over a range of units (arrival hours, event dates): each unit runs
//! under its own span and run id, a progress bar counts them on a terminal, and the end shows one
//! summary table, one metrics line per committed run and the exit code of the worst outcome.
//!
//! A job supplies the work per unit and, through [`RunReport`], what a finished run reports: its
//! log line, its summary row and its CloudWatch metrics, side by side in one impl.

use std::fmt;
use std::future::Future;
use std::time::Instant;

use futures::StreamExt;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::exit::ExitCode;
use crate::metrics::{Metric, emf_record};
use crate::summary::{Table, progress_bar};

/// What a finished run reports.
pub trait RunReport {
    /// `committed`, `skipped (current)`, …
    fn status(&self) -> &'static str;
    /// Whether the run wrote anything (only those emit metrics).
    fn committed(&self) -> bool;
    /// The run's figures, emitted as metrics.
    fn figures(&self) -> Vec<Metric>;
    /// Logs the `run finished` event with the same figures as fields (field names are static in
    /// `tracing`, so each report writes its own line).
    fn log_finished(&self, seconds: f64);
    /// Summary cells after unit and status, one per [`RangeJob::columns`] entry.
    fn cells(&self) -> Vec<String>;
    /// Properties of the metrics line besides the job (run id, unit).
    fn properties(&self) -> Map<String, Value>;
}

/// What a failed run reports.
pub trait RunFailure: fmt::Display {
    /// Another run holds the unit's lease: not a failure of this one (exit 75).
    fn is_lease_held(&self) -> bool;
}

/// How a job runs its range.
#[derive(Debug, Clone)]
pub struct RangeJob {
    /// `hourly`, `daily`: the span name, the metrics dimension and the progress bar's label.
    pub job: &'static str,
    /// `hour`, `date`: the first summary column and the span field.
    pub unit: &'static str,
    /// Summary columns after unit and status (without `seconds`, which is always last).
    pub columns: Vec<&'static str>,
    /// Units run at once.
    pub parallel: usize,
    /// Print one CloudWatch EMF line per committed run on stdout.
    pub metrics: bool,
    /// What a held lease means for one unit, for the error line.
    pub busy: &'static str,
}

/// One unit's outcome.
#[derive(Debug)]
pub struct Finished<U, T, E> {
    pub unit: U,
    pub result: Result<T, E>,
    pub seconds: f64,
}

/// Runs `work(unit, run_id)` for every unit, `job.parallel` at a time; prints the summary table
/// (stderr) and metrics lines (stdout); returns the worst exit code and every outcome, by unit.
pub async fn run_range<U, T, E, F, Fut>(job: &RangeJob, units: &[U], work: F) -> (ExitCode, Vec<Finished<U, T, E>>)
where
    U: Copy + Ord + fmt::Display,
    T: RunReport,
    E: RunFailure,
    F: Fn(U, String) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let bar = progress_bar(job.job, units.len(), &format!("{}s", job.unit));
    let work = &work;
    let mut finished: Vec<Finished<U, T, E>> = futures::stream::iter(units.iter().copied())
        // After a shutdown signal, no unit starts.
        .take_while(|_| std::future::ready(crate::shutdown::requested().is_none()))
        .map(|unit| {
            let bar = bar.clone();
            let run_id = uuid::Uuid::new_v4().to_string();
            let span = tracing::info_span!("run", job = job.job, run_id = %run_id, unit = %unit);
            async move {
                let clock = Instant::now();
                tracing::info!("run started");
                let result = work(unit, run_id).await;
                let seconds = clock.elapsed().as_secs_f64();
                match &result {
                    Ok(report) => report.log_finished(seconds),
                    Err(e) if e.is_lease_held() => tracing::warn!(error = %e, "another run holds this {}", job.unit),
                    Err(e) => tracing::error!(error = %e, "run failed"),
                }
                bar.inc(1);
                Finished { unit, result, seconds }
            }
            .instrument(span)
        })
        .buffer_unordered(job.parallel.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    finished.sort_by_key(|f| f.unit);
    let code = summarize(job, &finished);
    (code, finished)
}

fn summarize<U: fmt::Display, T: RunReport, E: RunFailure>(job: &RangeJob, finished: &[Finished<U, T, E>]) -> ExitCode {
    let mut header = vec![job.unit, "status"];
    header.extend(&job.columns);
    header.push("seconds");
    let mut table = Table::new(&header);
    let blank = || vec!["-".to_owned(); job.columns.len()];
    let mut code = ExitCode::Success;
    for f in finished {
        let (status, cells) = match &f.result {
            Ok(report) => {
                if job.metrics && report.committed() {
                    let mut figures = report.figures();
                    figures.push(Metric { name: "seconds", value: f.seconds, unit: "Seconds" });
                    let at = chrono::Utc::now().timestamp_millis();
                    println!("{}", emf_record("eventlake", at, &[("job", job.job)], &figures, &report.properties()));
                }
                (report.status().to_owned(), report.cells())
            }
            Err(e) if e.is_lease_held() => {
                eprintln!("error: {}: {e}; {} (exit 75, retry later)", f.unit, job.busy);
                code = code.worst(ExitCode::LeaseHeld);
                ("lease held".to_owned(), blank())
            }
            Err(e) => {
                eprintln!("error: {}: {e}", f.unit);
                code = code.worst(ExitCode::Failure);
                ("FAILED".to_owned(), blank())
            }
        };
        let mut row = vec![f.unit.to_string(), status];
        row.extend(cells);
        row.push(format!("{:.2}", f.seconds));
        table.row(row);
    }
    eprintln!("{}", table.render());
    code
}
