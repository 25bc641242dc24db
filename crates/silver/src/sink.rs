//! Writing files to the lake from the (blocking) pipeline: an `io::Write` that streams into a
//! multipart upload, and the Parquet and quarantine writers built on it.

use std::collections::VecDeque;
use std::io::{self, Write};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use eventlake_lake::Lake;
use eventlake_lake::layout::{Hour, QuarantineFile, SilverFile, SilverPartition};
use eventlake_lake::manifest::OutputFile;
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};

/// Multipart part size (S3 needs at least 5 MiB for every part but the last).
const PART_SIZE: usize = 8 << 20;
/// Parts uploading at once per file.
const PARTS_IN_FLIGHT: usize = 2;
/// A row group is flushed once this many encoded bytes are buffered.
const ROW_GROUP_BYTES: usize = 16 << 20;
const ROW_GROUP_ROWS: usize = 1 << 20;

/// An `io::Write` into one lake object: one `put` when small, a multipart upload otherwise.
pub struct ObjectSink {
    lake: Lake,
    key: Path,
    handle: Handle,
    buf: Vec<u8>,
    upload: Option<Box<dyn MultipartUpload>>,
    pending: VecDeque<JoinHandle<object_store::Result<()>>>,
    written: u64,
}

impl ObjectSink {
    /// A sink for lake-relative `key`; `handle` runs the uploads (call from a blocking thread).
    pub fn new(lake: Lake, key: Path, handle: Handle) -> ObjectSink {
        ObjectSink { lake, key, handle, buf: Vec::new(), upload: None, pending: VecDeque::new(), written: 0 }
    }

    fn ship_part(&mut self) -> io::Result<()> {
        if self.upload.is_none() {
            let store = self.lake.store().clone();
            let full = self.lake.full(&self.key);
            let upload =
                self.handle.block_on(async move { store.put_multipart(&full).await }).map_err(io::Error::other)?;
            self.upload = Some(upload);
        }
        let part = PutPayload::from(std::mem::take(&mut self.buf));
        if let Some(upload) = self.upload.as_mut() {
            let fut = upload.put_part(part);
            self.pending.push_back(self.handle.spawn(fut));
        }
        while self.pending.len() > PARTS_IN_FLIGHT {
            self.wait_oldest()?;
        }
        Ok(())
    }

    fn wait_oldest(&mut self) -> io::Result<()> {
        if let Some(task) = self.pending.pop_front() {
            self.handle.block_on(task).map_err(io::Error::other)?.map_err(io::Error::other)?;
        }
        Ok(())
    }

    /// Completes the object; returns its size.
    pub fn finish(mut self) -> Result<u64> {
        let key = self.key.to_string();
        let fail = |e: io::Error| Error::Write { key: key.clone(), source: e };
        match self.upload.is_some() {
            false => {
                let lake = self.lake.clone();
                let path = self.key.clone();
                let body = std::mem::take(&mut self.buf);
                self.handle.block_on(async move { lake.put(&path, body).await })?;
            }
            true => {
                if !self.buf.is_empty() {
                    self.ship_part().map_err(fail)?;
                }
                while !self.pending.is_empty() {
                    self.wait_oldest().map_err(fail)?;
                }
                if let Some(mut upload) = self.upload.take() {
                    self.handle
                        .block_on(async move { upload.complete().await })
                        .map_err(|e| fail(io::Error::other(e)))?;
                }
            }
        }
        Ok(self.written)
    }

    /// Abandons the object (a failed run leaves no partial multipart upload behind).
    pub fn abort(mut self) {
        for task in self.pending.drain(..) {
            task.abort();
        }
        if let Some(mut upload) = self.upload.take() {
            let _ = self.handle.block_on(async move { upload.abort().await });
        }
    }
}

impl Write for ObjectSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        self.written += data.len() as u64;
        if self.buf.len() >= PART_SIZE {
            self.ship_part()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Parquet settings for silver: zstd, statistics, microsecond timestamps, spec-compliant lists.
/// Columns unique per row skip dictionary encoding, which would only cost time.
pub fn writer_properties(unique_columns: &[String]) -> WriterProperties {
    let mut builder = WriterProperties::builder();
    for c in unique_columns {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(c.as_str()), false);
    }
    builder
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_coerce_types(true)
        .set_created_by(format!("eventlake {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The Parquet files of one silver partition, rolled over at the target size.
pub(crate) struct PartitionWriter {
    partition: SilverPartition,
    arrival: Hour,
    schema: SchemaRef,
    unique_columns: Vec<String>,
    target_bytes: u64,
    part: u32,
    current: Option<(ArrowWriter<ObjectSink>, u64)>,
    pub(crate) outputs: Vec<OutputFile>,
}

impl PartitionWriter {
    pub(crate) fn new(
        partition: SilverPartition,
        arrival: Hour,
        schema: SchemaRef,
        unique_columns: Vec<String>,
        target_bytes: u64,
    ) -> Self {
        PartitionWriter {
            partition,
            arrival,
            schema,
            unique_columns,
            target_bytes,
            part: 0,
            current: None,
            outputs: Vec::new(),
        }
    }

    fn file(&self) -> SilverFile {
        SilverFile { partition: self.partition.clone(), arrival: self.arrival, part: self.part }
    }

    pub(crate) fn write(&mut self, lake: &Lake, handle: &Handle, batch: &RecordBatch) -> Result<()> {
        if self.current.is_none() {
            let key = self.file().path();
            let sink = ObjectSink::new(lake.clone(), key.clone(), handle.clone());
            let writer = ArrowWriter::try_new(sink, self.schema.clone(), Some(writer_properties(&self.unique_columns)))
                .map_err(|source| Error::Parquet { key: key.to_string(), source })?;
            self.current = Some((writer, 0));
        }
        let key = self.file().path().to_string();
        if let Some((writer, rows)) = self.current.as_mut() {
            writer.write(batch).map_err(|source| Error::Parquet { key: key.clone(), source })?;
            *rows += batch.num_rows() as u64;
            if writer.in_progress_size() >= ROW_GROUP_BYTES {
                writer.flush().map_err(|source| Error::Parquet { key: key.clone(), source })?;
            }
            let size = (writer.bytes_written() + writer.in_progress_size()) as u64;
            if size >= self.target_bytes {
                self.close_current()?;
                self.part += 1;
            }
        }
        Ok(())
    }

    /// Bytes buffered in memory for this partition.
    pub(crate) fn buffered(&self) -> usize {
        self.current.as_ref().map_or(0, |(w, _)| w.in_progress_size() + w.inner().buf.len())
    }

    /// Flushes the open row group (to bound memory).
    pub(crate) fn flush(&mut self) -> Result<()> {
        let key = self.file().path().to_string();
        if let Some((w, _)) = self.current.as_mut() {
            w.flush().map_err(|source| Error::Parquet { key, source })?;
        }
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        let file = self.file();
        let key = file.path();
        if let Some((writer, rows)) = self.current.take() {
            let sink = writer.into_inner().map_err(|source| Error::Parquet { key: key.to_string(), source })?;
            let bytes = sink.finish()?;
            self.outputs.push(OutputFile {
                key: key.to_string(),
                kind: "silver".into(),
                event_type: Some(self.partition.event_type.clone()),
                dt: self.partition.hour.date().format("%Y-%m-%d").to_string(),
                hour: format!("{:02}", self.partition.hour.hour_of_day()),
                rows,
                bytes,
            });
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Vec<OutputFile>> {
        self.close_current()?;
        Ok(self.outputs)
    }

    pub(crate) fn abort(mut self) {
        if let Some((writer, _)) = self.current.take()
            && let Ok(sink) = writer.into_inner()
        {
            sink.abort();
        }
    }
}

/// The quarantine files of a run: JSON lines, rolled over at the target size.
pub(crate) struct QuarantineWriter {
    arrival: Hour,
    target_bytes: u64,
    part: u32,
    current: Option<(ObjectSink, u64)>,
    pub(crate) outputs: Vec<OutputFile>,
}

impl QuarantineWriter {
    pub(crate) fn new(arrival: Hour, target_bytes: u64) -> Self {
        QuarantineWriter { arrival, target_bytes, part: 0, current: None, outputs: Vec::new() }
    }

    pub(crate) fn write(&mut self, lake: &Lake, handle: &Handle, lines: &[u8], count: u64) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let file = QuarantineFile { arrival: self.arrival, part: self.part };
        let (sink, rows) =
            self.current.get_or_insert_with(|| (ObjectSink::new(lake.clone(), file.path(), handle.clone()), 0));
        sink.write_all(lines).map_err(|source| Error::Write { key: file.path().to_string(), source })?;
        *rows += count;
        if sink.written >= self.target_bytes {
            self.close_current()?;
            self.part += 1;
        }
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        let file = QuarantineFile { arrival: self.arrival, part: self.part };
        if let Some((sink, rows)) = self.current.take() {
            let bytes = sink.finish()?;
            self.outputs.push(OutputFile {
                key: file.path().to_string(),
                kind: "quarantine".into(),
                event_type: None,
                dt: self.arrival.date().format("%Y-%m-%d").to_string(),
                hour: format!("{:02}", self.arrival.hour_of_day()),
                rows,
                bytes,
            });
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Vec<OutputFile>> {
        self.close_current()?;
        Ok(self.outputs)
    }

    pub(crate) fn abort(mut self) {
        if let Some((sink, _)) = self.current.take() {
            sink.abort();
        }
    }
}
