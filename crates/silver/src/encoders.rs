//! Silver partitions encoded to Parquet on several threads.
//!
//! Encoding (dictionaries, zstd) costs about as much CPU as parsing and validating, so one writer
//! thread would be the run's critical path. Each partition is assigned, the first time it is seen,
//! to the encoder with the fewest rows so far and stays there, so its batches are encoded in input
//! order and its files are the same whatever the timing. Row groups are flushed early by a memory
//! budget the dispatcher keeps from the batches it hands out, so flush points depend on the input
//! only.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

use arrow_array::RecordBatch;
use eventlake_contract::registry::derived;
use eventlake_lake::Lake;
use eventlake_lake::layout::{Hour, SilverFile, SilverPartition};
use eventlake_lake::write::{RollingParquet, WrittenFile, writer_properties};
use tokio::runtime::Handle;

use crate::error::{Error, Result};

/// Batches queued per encoder before the dispatcher waits.
const QUEUE: usize = 8;

enum Job {
    Write(SilverPartition, RecordBatch),
    /// Flush the partition's open row group (memory budget).
    Flush(SilverPartition),
    /// Close every file and report them.
    Finish,
}

/// What every encoder needs to open a partition's writer.
#[derive(Clone)]
pub(crate) struct EncoderSetup {
    pub(crate) lake: Lake,
    pub(crate) handle: Handle,
    pub(crate) arrival: Hour,
    pub(crate) id_column: String,
    pub(crate) target_file_bytes: u64,
}

type Written = Vec<(SilverPartition, Vec<WrittenFile>)>;

/// The encoder threads of one run and the partitions assigned to them.
pub(crate) struct SilverEncoders<'scope> {
    queues: Vec<SyncSender<Job>>,
    threads: Vec<ScopedJoinHandle<'scope, Result<Written>>>,
    assigned: HashMap<SilverPartition, usize>,
    rows: Vec<u64>,
    /// Arrow bytes handed to each partition since its row group was last flushed by the budget.
    unflushed: BTreeMap<SilverPartition, usize>,
    budget_bytes: usize,
}

impl<'scope> SilverEncoders<'scope> {
    pub(crate) fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        setup: &EncoderSetup,
        threads: usize,
        budget_bytes: usize,
    ) -> Result<SilverEncoders<'scope>> {
        let span = tracing::Span::current();
        let mut encoders = SilverEncoders {
            queues: Vec::new(),
            threads: Vec::new(),
            assigned: HashMap::new(),
            rows: Vec::new(),
            unflushed: BTreeMap::new(),
            budget_bytes,
        };
        for n in 0..threads.max(1) {
            let (tx, rx) = sync_channel(QUEUE);
            let (setup, span) = (setup.clone(), span.clone());
            let thread = std::thread::Builder::new()
                .name(format!("encode-{n}"))
                .spawn_scoped(scope, move || span.in_scope(|| encode(&setup, &rx)))
                .map_err(|e| Error::Internal(format!("cannot start an encoder thread: {e}")))?;
            encoders.queues.push(tx);
            encoders.threads.push(thread);
            encoders.rows.push(0);
        }
        Ok(encoders)
    }

    /// Queues `batch` for its partition's encoder; flushes the largest open row groups when the
    /// batches handed out since their last flush exceed the budget.
    pub(crate) fn write(&mut self, partition: SilverPartition, batch: RecordBatch) -> Result<()> {
        let encoder = match self.assigned.get(&partition) {
            Some(n) => *n,
            None => {
                let n = (0..self.rows.len()).min_by_key(|n| self.rows[*n]).unwrap_or(0);
                self.assigned.insert(partition.clone(), n);
                n
            }
        };
        self.rows[encoder] += batch.num_rows() as u64;
        *self.unflushed.entry(partition.clone()).or_default() += batch.get_array_memory_size();
        self.send(encoder, Job::Write(partition, batch))?;
        let total: usize = self.unflushed.values().sum();
        if total > self.budget_bytes {
            let mut by_size: Vec<(SilverPartition, usize)> = std::mem::take(&mut self.unflushed).into_iter().collect();
            by_size.sort_by_key(|(p, size)| (std::cmp::Reverse(*size), p.clone()));
            let mut remaining = total;
            for (partition, size) in by_size {
                if remaining <= self.budget_bytes / 2 {
                    self.unflushed.insert(partition, size);
                    continue;
                }
                remaining -= size;
                let encoder = self.assigned.get(&partition).copied().unwrap_or(0);
                self.send(encoder, Job::Flush(partition))?;
            }
        }
        Ok(())
    }

    fn send(&self, encoder: usize, job: Job) -> Result<()> {
        match self.queues.get(encoder).map(|q| q.send(job)) {
            Some(Ok(())) => Ok(()),
            // The encoder stopped on an error, which `fail` reports.
            _ => Err(Error::Internal("a Parquet encoder stopped".into())),
        }
    }

    /// Abandons the open files after `error`; returns the first encoder's own error if one
    /// stopped (the cause), else `error`.
    pub(crate) fn fail(self, error: Error) -> Error {
        match self.join() {
            Err(cause) => cause,
            Ok(_) => error,
        }
    }

    /// Closes every partition's files; returns them by partition, in partition order.
    pub(crate) fn finish(self) -> Result<Written> {
        for queue in &self.queues {
            // An encoder that stopped early reports why when joined.
            let _ = queue.send(Job::Finish);
        }
        self.join()
    }

    /// Abandons the open files (dropping the queues tells each encoder to abort).
    pub(crate) fn abort(self) {
        let _ = self.join();
    }

    fn join(self) -> Result<Written> {
        let SilverEncoders { queues, threads, .. } = self;
        drop(queues);
        let mut written = Vec::new();
        let mut failure = None;
        for thread in threads {
            match thread.join() {
                Ok(Ok(files)) => written.extend(files),
                Ok(Err(e)) => failure = failure.or(Some(e)),
                Err(_) => failure = failure.or(Some(Error::Internal("a Parquet encoder panicked".into()))),
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        written.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(written)
    }
}

/// One encoder: its partitions' writers, fed in order until `Finish` (or until the queue closes,
/// which abandons them).
fn encode(setup: &EncoderSetup, jobs: &Receiver<Job>) -> Result<Written> {
    let mut writers: BTreeMap<SilverPartition, RollingParquet> = BTreeMap::new();
    let outcome = (|| {
        for job in jobs.iter() {
            match job {
                Job::Write(partition, batch) => writer(&mut writers, setup, partition, &batch).write(&batch)?,
                Job::Flush(partition) => {
                    if let Some(w) = writers.get_mut(&partition) {
                        w.flush()?;
                    }
                }
                Job::Finish => return Ok(true),
            }
        }
        Ok::<_, Error>(false)
    })();
    match outcome {
        Ok(true) => {
            let mut written = Vec::with_capacity(writers.len());
            for (partition, w) in writers {
                written.push((partition, w.finish()?));
            }
            Ok(written)
        }
        Ok(false) => {
            writers.into_values().for_each(RollingParquet::abort);
            Ok(Vec::new())
        }
        Err(e) => {
            writers.into_values().for_each(RollingParquet::abort);
            Err(e)
        }
    }
}

fn writer<'w>(
    writers: &'w mut BTreeMap<SilverPartition, RollingParquet>,
    setup: &EncoderSetup,
    partition: SilverPartition,
    batch: &RecordBatch,
) -> &'w mut RollingParquet {
    writers.entry(partition).or_insert_with_key(|partition| {
        // Unique per row: dictionaries would only cost time.
        let unique = [derived::SOURCE_LINE.to_owned(), derived::CREATED_DATETIME.to_owned(), setup.id_column.clone()];
        let (arrival, p) = (setup.arrival, partition.clone());
        let name = Box::new(move |part| SilverFile { partition: p.clone(), arrival, part }.path());
        RollingParquet::new(
            setup.lake.clone(),
            setup.handle.clone(),
            batch.schema(),
            writer_properties(&unique),
            setup.target_file_bytes,
            name,
        )
    })
}
