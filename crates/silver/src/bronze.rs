//! Reading one bronze arrival hour's objects (listed by `eventlake_lake::bronze`) as blocking
//! readers, whatever store holds them.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;
use eventlake_lake::Lake;
use eventlake_lake::manifest::InputObject;
use eventlake_lake::store::retrying_read;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::error::{Error, Result};

/// Bytes of one ranged GET: objects are fetched in parts of at most this size.
const PART_BYTES: u64 = 4 << 20;
/// Parts in flight, across objects: S3 serves one stream at about 80 MB/s after a first-byte delay,
/// so several at once keep the workers fed; read-ahead stays below (`PARTS_AHEAD` + 2) parts.
const PARTS_AHEAD: usize = 8;

/// An hour's bronze objects as blocking readers, in listing order: the files themselves in a local
/// lake; elsewhere, parts fetched several at a time ahead of the reader, each a ranged GET
/// conditional on the ETag the listing saw (the run reads exactly the objects its manifest names).
pub(crate) enum BronzeObjects {
    Local(Lake),
    Remote(mpsc::Receiver<io::Result<Bytes>>),
}

impl BronzeObjects {
    pub(crate) fn open(lake: &Lake, inputs: &[InputObject], handle: &Handle) -> Result<BronzeObjects> {
        if lake.local_file(&Path::default()).is_some() {
            return Ok(BronzeObjects::Local(lake.clone()));
        }
        let mut parts = Vec::new();
        for input in inputs {
            // Keys are listed (already encoded) locations.
            let key = Path::parse(&input.key)
                .map_err(|e| Error::Read { key: input.key.clone(), source: io::Error::other(e) })?;
            let location = lake.full(&key);
            let mut start = 0;
            while start < input.size {
                let end = (start + PART_BYTES).min(input.size);
                parts.push((location.clone(), input.etag.clone(), start..end));
                start = end;
            }
        }
        // One message of slack: the reader holds one part, the channel one, PARTS_AHEAD in flight.
        let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(1);
        let store = lake.store().clone();
        handle.spawn(async move {
            let mut fetched = futures::stream::iter(parts)
                .map(|(location, etag, range)| fetch_part(store.clone(), location, etag, range))
                .buffered(PARTS_AHEAD);
            while let Some(part) = fetched.next().await {
                let failed = part.is_err();
                if tx.send(part).await.is_err() || failed {
                    break;
                }
            }
        });
        Ok(BronzeObjects::Remote(rx))
    }

    /// The next object's bytes (`input` must be the next one in listing order).
    pub(crate) fn next_object(&mut self, input: &InputObject) -> Result<Box<dyn Read + Send + '_>> {
        match self {
            BronzeObjects::Local(lake) => {
                let location = Path::parse(&input.key)
                    .map_err(|e| Error::Read { key: input.key.clone(), source: io::Error::other(e) })?;
                let path = lake.local_file(&location).ok_or_else(|| Error::Internal("a local lake's file".into()))?;
                let file =
                    std::fs::File::open(&path).map_err(|source| Error::Read { key: input.key.clone(), source })?;
                Ok(Box::new(file))
            }
            BronzeObjects::Remote(rx) => {
                Ok(Box::new(ObjectReader { rx, parts_left: input.size.div_ceil(PART_BYTES), current: Bytes::new() }))
            }
        }
    }
}

/// One part, again after a failure in transit (as every idempotent read of the lake); the same
/// ETag or nothing.
async fn fetch_part(
    store: Arc<dyn ObjectStore>,
    location: Path,
    etag: Option<String>,
    range: std::ops::Range<u64>,
) -> io::Result<Bytes> {
    retrying_read("get range", &location, || async {
        let options = GetOptions { range: Some(range.clone().into()), if_match: etag.clone(), ..GetOptions::default() };
        store.get_opts(&location, options).await?.bytes().await
    })
    .await
    .map_err(|e| io::Error::other(format!("{e} (bytes {range:?})")))
}

/// A blocking `Read` over one object's prefetched parts.
pub(crate) struct ObjectReader<'a> {
    rx: &'a mut mpsc::Receiver<io::Result<Bytes>>,
    parts_left: u64,
    current: Bytes,
}

impl Read for ObjectReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.parts_left == 0 {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(part) => {
                    self.current = part?;
                    self.parts_left -= 1;
                }
                None => return Err(io::Error::other("the bronze reader stopped")),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}
