//! Writing lake files from blocking threads: an `io::Write` that streams into one object (a single
//! put when small, a multipart upload otherwise), and the two rolling writers every job uses —
//! Parquet for tables, JSON lines for the quarantine — which start a new part at a target size.

use std::collections::VecDeque;
use std::io::{self, Write};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::store::Lake;

/// Multipart part size (S3 needs at least 5 MiB for every part but the last).
const PART_SIZE: usize = 8 << 20;
/// Parts uploading at once per file.
const PARTS_IN_FLIGHT: usize = 2;
/// A row group is flushed once this many encoded bytes are buffered.
const ROW_GROUP_BYTES: usize = 16 << 20;
const ROW_GROUP_ROWS: usize = 1 << 20;

/// An `io::Write` into one lake object.
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

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
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
        if self.upload.is_none() {
            let lake = self.lake.clone();
            let path = self.key.clone();
            let body = std::mem::take(&mut self.buf);
            self.handle.block_on(async move { lake.put(&path, body).await })?;
            return Ok(self.written);
        }
        if !self.buf.is_empty() {
            self.ship_part().map_err(fail)?;
        }
        while !self.pending.is_empty() {
            self.wait_oldest().map_err(fail)?;
        }
        if let Some(mut upload) = self.upload.take() {
            self.handle.block_on(async move { upload.complete().await }).map_err(|e| fail(io::Error::other(e)))?;
        }
        Ok(self.written)
    }

    /// Abandons the object (a failed run leaves no partial multipart upload behind).
    pub fn abort(mut self) {
        for task in self.pending.drain(..) {
            task.abort();
        }
        if let Some(mut upload) = self.upload.take() {
            // Best effort: an upload that cannot be aborted expires under the bucket's lifecycle rule.
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

/// Parquet settings of every lake table: zstd, page statistics, microsecond timestamps,
/// spec-compliant lists. Columns unique per row skip dictionary encoding, which would only cost time.
/// zstd level 1 rather than the usual 3: on the bench's silver and gold it cut the hourly job's CPU
/// by 4–15% and the files came out 2–3% smaller, not larger (after dictionary and RLE encoding
/// little is left that level 3's deeper matching finds).
pub fn writer_properties(unique_columns: &[String]) -> WriterProperties {
    let mut builder = WriterProperties::builder();
    for c in unique_columns {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(c.as_str()), false);
    }
    builder
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_coerce_types(true)
        .set_created_by(format!("eventlake {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A finished file of a rolling writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub key: Path,
    pub rows: u64,
    pub bytes: u64,
}

/// Names part `n` of a rolling writer's output.
pub type PartName = Box<dyn Fn(u32) -> Path + Send>;

/// One open part of a rolling writer.
trait Part: Sized {
    /// Bytes the part holds so far, encoded.
    fn size(&self) -> u64;
    /// Completes the object; returns its size.
    fn close(self, key: &Path) -> Result<u64>;
    fn abort(self);
}

impl Part for ObjectSink {
    fn size(&self) -> u64 {
        self.written
    }

    fn close(self, _key: &Path) -> Result<u64> {
        self.finish()
    }

    fn abort(self) {
        ObjectSink::abort(self);
    }
}

impl Part for ArrowWriter<ObjectSink> {
    fn size(&self) -> u64 {
        (self.bytes_written() + self.in_progress_size()) as u64
    }

    fn close(self, key: &Path) -> Result<u64> {
        self.into_inner().map_err(|source| Error::Parquet { key: key.to_string(), source })?.finish()
    }

    fn abort(self) {
        if let Ok(sink) = self.into_inner() {
            sink.abort();
        }
    }
}

/// Parts 0, 1, … of one output, each closed once it reaches the target size.
struct Rolling<P> {
    lake: Lake,
    handle: Handle,
    target_bytes: u64,
    name: PartName,
    part: u32,
    current: Option<(P, u64, Path)>,
    written: Vec<WrittenFile>,
}

impl<P: Part> Rolling<P> {
    fn new(lake: Lake, handle: Handle, target_bytes: u64, name: PartName) -> Rolling<P> {
        Rolling { lake, handle, target_bytes, name, part: 0, current: None, written: Vec::new() }
    }

    /// Writes `rows` rows with `write` into the open part (opened with `open` first if needed),
    /// then rolls over to a new part if this one is full.
    fn write(
        &mut self,
        rows: u64,
        open: impl FnOnce(ObjectSink, &Path) -> Result<P>,
        write: impl FnOnce(&mut P, &Path) -> Result<()>,
    ) -> Result<()> {
        let (part, count, key) = match self.current.as_mut() {
            Some(c) => c,
            None => {
                let key = (self.name)(self.part);
                let sink = ObjectSink::new(self.lake.clone(), key.clone(), self.handle.clone());
                let part = open(sink, &key)?;
                self.current.insert((part, 0, key))
            }
        };
        write(part, key)?;
        *count += rows;
        if part.size() >= self.target_bytes {
            self.close_current()?;
            self.part += 1;
        }
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        if let Some((part, rows, key)) = self.current.take() {
            let bytes = part.close(&key)?;
            self.written.push(WrittenFile { key, rows, bytes });
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<WrittenFile>> {
        self.close_current()?;
        Ok(self.written)
    }

    fn abort(mut self) {
        if let Some((part, _, _)) = self.current.take() {
            part.abort();
        }
    }
}

/// Parquet files of one partition: part 0, 1, … each closed once it reaches the target size.
pub struct RollingParquet {
    schema: SchemaRef,
    properties: WriterProperties,
    parts: Rolling<ArrowWriter<ObjectSink>>,
}

impl RollingParquet {
    pub fn new(
        lake: Lake,
        handle: Handle,
        schema: SchemaRef,
        properties: WriterProperties,
        target_bytes: u64,
        name: PartName,
    ) -> RollingParquet {
        RollingParquet { schema, properties, parts: Rolling::new(lake, handle, target_bytes, name) }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let (schema, properties) = (self.schema.clone(), self.properties.clone());
        let open = |sink, key: &Path| {
            ArrowWriter::try_new(sink, schema, Some(properties))
                .map_err(|source| Error::Parquet { key: key.to_string(), source })
        };
        let write = |writer: &mut ArrowWriter<ObjectSink>, key: &Path| {
            let parquet = |source| Error::Parquet { key: key.to_string(), source };
            writer.write(batch).map_err(parquet)?;
            if writer.in_progress_size() >= ROW_GROUP_BYTES {
                writer.flush().map_err(parquet)?;
            }
            Ok(())
        };
        self.parts.write(batch.num_rows() as u64, open, write)
    }

    /// Flushes the open row group (to bound memory).
    pub fn flush(&mut self) -> Result<()> {
        if let Some((w, _, key)) = self.parts.current.as_mut() {
            w.flush().map_err(|source| Error::Parquet { key: key.to_string(), source })?;
        }
        Ok(())
    }

    /// Closes the open part; returns every file written.
    pub fn finish(self) -> Result<Vec<WrittenFile>> {
        self.parts.finish()
    }

    /// Abandons the open part (files already closed stay; the run's cleanup owns them).
    pub fn abort(self) {
        self.parts.abort();
    }
}

/// JSON-lines files: part 0, 1, … each closed once it reaches the target size.
pub struct RollingLines {
    parts: Rolling<ObjectSink>,
}

impl RollingLines {
    pub fn new(lake: Lake, handle: Handle, target_bytes: u64, name: PartName) -> RollingLines {
        RollingLines { parts: Rolling::new(lake, handle, target_bytes, name) }
    }

    /// Appends `lines` (complete, newline-terminated) holding `count` records.
    pub fn write(&mut self, lines: &[u8], count: u64) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let write = |sink: &mut ObjectSink, key: &Path| {
            sink.write_all(lines).map_err(|source| Error::Write { key: key.to_string(), source })
        };
        self.parts.write(count, |sink, _| Ok(sink), write)
    }

    /// Closes the open part; returns every file written.
    pub fn finish(self) -> Result<Vec<WrittenFile>> {
        self.parts.finish()
    }

    /// Abandons the open part.
    pub fn abort(self) {
        self.parts.abort();
    }
}
