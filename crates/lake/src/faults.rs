//! A store that fails some of its requests the way S3 does (errors after the client's retries,
//! bodies cut off mid-stream, listings broken part-way), for testing every job against them: a run
//! over it must either succeed or fail with nothing committed, and a rerun must equal a clean run.
//!
//! Which request fails is decided by its number and a seed, so a failing schedule replays.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use futures::stream::{self, BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// Fails one request in `every` (chosen by a seeded hash of the request's number).
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    every: u64,
    seed: u64,
    requests: AtomicU64,
    injected: AtomicU64,
    enabled: AtomicBool,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>, every: u64, seed: u64) -> FaultyStore {
        FaultyStore {
            inner,
            every: every.max(1),
            seed,
            requests: AtomicU64::new(0),
            injected: AtomicU64::new(0),
            enabled: AtomicBool::new(true),
        }
    }

    /// Turns the faults on or off (a rerun "after the outage").
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    /// Whether this request fails.
    fn draw(&self) -> bool {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        // splitmix64 of (seed, n): well spread whatever the seed.
        let mut x = self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        let fail = self.enabled.load(Ordering::SeqCst) && x.is_multiple_of(self.every);
        if fail {
            self.injected.fetch_add(1, Ordering::SeqCst);
        }
        fail
    }

    fn fault(&self, op: &str, location: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "FaultyStore",
            source: format!("injected fault: {op} {location}: HTTP 503 SlowDown after retries").into(),
        }
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore(1 in {}, {})", self.every, self.inner)
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        if self.draw() {
            return Err(self.fault("put", location.as_ref()));
        }
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        if self.draw() {
            return Err(self.fault("create multipart upload", location.as_ref()));
        }
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        if self.draw() {
            return Err(self.fault("get", location.as_ref()));
        }
        let result = self.inner.get_opts(location, options).await?;
        if !self.draw() {
            return Ok(result);
        }
        // A body cut off: the first half, then the connection's error.
        let whole = match result.payload {
            GetResultPayload::Stream(s) => s.try_collect::<Vec<Bytes>>().await?,
            #[allow(unreachable_patterns)]
            other => return Ok(GetResult { payload: other, ..result }),
        };
        let mut bytes: Vec<u8> = whole.iter().flat_map(|b| b.iter().copied()).collect();
        bytes.truncate(bytes.len() / 2);
        let error = self.fault("read body of", location.as_ref());
        let cut = stream::iter([Ok(Bytes::from(bytes)), Err(error)]).boxed();
        Ok(GetResult { payload: GetResultPayload::Stream(cut), ..result })
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        if self.draw() {
            return Err(self.fault("get ranges", location.as_ref()));
        }
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        if self.draw() {
            let error = self.fault("delete", "objects");
            return stream::once(async move { Err(error) }).boxed();
        }
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let inner = self.inner.list(prefix);
        if !self.draw() {
            return inner;
        }
        // A listing broken after its first page's first object.
        let error = self.fault("list", prefix.map_or("", |p| p.as_ref()));
        inner.take(1).chain(stream::once(async move { Err(error) })).boxed()
    }

    fn list_with_offset(&self, prefix: Option<&Path>, offset: &Path) -> BoxStream<'static, Result<ObjectMeta>> {
        if self.draw() {
            let error = self.fault("list", prefix.map_or("", |p| p.as_ref()));
            return stream::once(async move { Err(error) }).boxed();
        }
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        if self.draw() {
            return Err(self.fault("list", prefix.map_or("", |p| p.as_ref())));
        }
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        if self.draw() {
            return Err(self.fault("copy", from.as_ref()));
        }
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        if self.draw() {
            return Err(self.fault("rename", from.as_ref()));
        }
        self.inner.rename_opts(from, to, options).await
    }
}
