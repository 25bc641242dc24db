//! Silver partitions encoded to Parquet on several threads.
//!
//! Encoding (dictionaries, zstd) costs about as much CPU as parsing and validating, so one writer
//! thread would be the run's critical path. Each partition is assigned, the first time it is seen,
//! to the encoder with the fewest rows so far and stays there, so its files are the same whatever
//! the timing.
//!
//! A partition's rows wait as Arrow batches until they make a row group, which is then encoded
//! whole: a Parquet column writer holds zstd contexts and a dictionary table (over 100 KiB each),
//! so an hour with hundreds of partitions (many event types, late events) must not keep one open
//! per partition and column. The batches waiting are bounded by a memory budget; over it, the
//! partitions holding the most become row groups. Flush points depend on the input only.

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

/// Row groups queued per encoder before the dispatcher waits: with the one being encoded, the
/// Arrow bytes out of the budget's count are at most two row groups per encoder.
const QUEUE: usize = 1;

enum Job {
    /// A partition's next row group, in input order.
    RowGroup(SilverPartition, Vec<RecordBatch>),
    /// Close every file and report them.
    Finish,
}

/// A partition's batches not yet handed to its encoder.
#[derive(Default)]
struct Waiting {
    batches: Vec<RecordBatch>,
    bytes: usize,
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
    waiting: BTreeMap<SilverPartition, Waiting>,
    /// Arrow bytes of all waiting batches.
    waiting_bytes: usize,
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
            waiting: BTreeMap::new(),
            waiting_bytes: 0,
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

    /// Adds `batch` to its partition's next row group. A partition holding a quarter of the budget
    /// becomes a row group; over the budget, the partitions holding the most do, down to half of it.
    pub(crate) fn write(&mut self, partition: SilverPartition, batch: RecordBatch) -> Result<()> {
        let bytes = batch.get_array_memory_size();
        self.waiting_bytes += bytes;
        let waiting = self.waiting.entry(partition.clone()).or_default();
        waiting.batches.push(batch);
        waiting.bytes += bytes;
        if waiting.bytes >= self.budget_bytes / 4 {
            self.send_row_group(partition)?;
        }
        if self.waiting_bytes > self.budget_bytes {
            let mut by_size: Vec<(usize, SilverPartition)> =
                self.waiting.iter().map(|(p, w)| (w.bytes, p.clone())).collect();
            by_size.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            for (_, partition) in by_size {
                if self.waiting_bytes <= self.budget_bytes / 2 {
                    break;
                }
                self.send_row_group(partition)?;
            }
        }
        Ok(())
    }

    fn send_row_group(&mut self, partition: SilverPartition) -> Result<()> {
        let Some(waiting) = self.waiting.remove(&partition) else {
            return Ok(());
        };
        self.waiting_bytes -= waiting.bytes;
        let encoder = match self.assigned.get(&partition) {
            Some(n) => *n,
            None => {
                let n = (0..self.rows.len()).min_by_key(|n| self.rows[*n]).unwrap_or(0);
                self.assigned.insert(partition.clone(), n);
                n
            }
        };
        self.rows[encoder] += waiting.batches.iter().map(|b| b.num_rows() as u64).sum::<u64>();
        self.send(encoder, Job::RowGroup(partition, waiting.batches))
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

    /// Encodes the rows still waiting, closes every partition's files; returns them by partition,
    /// in partition order.
    pub(crate) fn finish(mut self) -> Result<Written> {
        let partitions: Vec<SilverPartition> = self.waiting.keys().cloned().collect();
        for partition in partitions {
            if let Err(e) = self.send_row_group(partition) {
                return Err(self.fail(e));
            }
        }
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
                Job::RowGroup(partition, batches) => {
                    let Some(first) = batches.first() else { continue };
                    let w = writer(&mut writers, setup, partition, first);
                    for batch in &batches {
                        w.write(batch)?;
                    }
                    // Closing the row group frees its column writers.
                    w.flush()?;
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
