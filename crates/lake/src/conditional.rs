//! Conditional writes: replace or delete an object only if it is still what the caller read.
//! Leases and manifest commits both rest on this one primitive.
//!
//! S3 (and the in-memory store) check the ETag on the server (`If-None-Match: *`, `If-Match`). A
//! local directory has no compare-and-swap, so a local lake compares the bytes while holding an
//! exclusive `flock` on one lock file per lake (`_locks/.lake.lock`): every conditional write of
//! every process on the machine goes through it, and the kernel drops the lock of a process that
//! dies. Local replacements are written aside and renamed, so a reader never sees half a file.

use std::io::{ErrorKind, Write};

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};

use crate::error::{Error, Result};
use crate::layout::LOCKS;
use crate::store::{Lake, retrying_read};

/// An object as it was read: its bytes and what a conditional write needs to replace it.
#[derive(Debug, Clone)]
pub struct Observed {
    pub bytes: Bytes,
    version: UpdateVersion,
}

/// Where a local lake serializes its conditional writes.
const LOCAL_LOCK: &str = ".lake.lock";

impl Lake {
    /// Reads `key` for a later [`Lake::put_if`] / [`Lake::delete_if`]; `None` when absent.
    pub async fn observe(&self, key: &Path) -> Result<Option<Observed>> {
        let full = self.full(key);
        retrying_read("get", key, || async {
            match self.store().get(&full).await {
                Ok(r) => {
                    let version = UpdateVersion { e_tag: r.meta.e_tag.clone(), version: r.meta.version.clone() };
                    Ok(Some(Observed { bytes: r.bytes().await?, version }))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Writes `bytes` to `key` only if it is still as `expect` says (`None`: absent). Returns what
    /// is there now, or `None` when someone else changed it first.
    pub async fn put_if(&self, key: &Path, bytes: Bytes, expect: Option<&Observed>) -> Result<Option<Observed>> {
        if let Some(file) = self.local_file(key) {
            let lock = self.local_lock()?;
            let expected = expect.map(|o| o.bytes.clone());
            let written = bytes.clone();
            let swapped = blocking(key, move || local_swap(&lock, &file, expected.as_deref(), Some(&written))).await?;
            return Ok(swapped.then(|| Observed { bytes, version: UpdateVersion { e_tag: None, version: None } }));
        }
        let mode = match expect {
            None => PutMode::Create,
            Some(o) => PutMode::Update(o.version.clone()),
        };
        let options = PutOptions { mode, ..PutOptions::default() };
        match self.store().put_opts(&self.full(key), PutPayload::from(bytes.clone()), options).await {
            Ok(r) => Ok(Some(Observed { bytes, version: UpdateVersion { e_tag: r.e_tag, version: r.version } })),
            // Absent where an update expected it: changed too.
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. }
                | object_store::Error::NotFound { .. },
            ) => Ok(None),
            Err(e) => Err(Error::store("conditional put", key, e)),
        }
    }

    /// Deletes `key` only if it is still as `expect` says; `false` when it changed. On S3 the
    /// check and the delete are two requests (`object_store` has no conditional delete): callers
    /// delete only what nobody else may write in between (a lease they still hold).
    pub async fn delete_if(&self, key: &Path, expect: &Observed) -> Result<bool> {
        if let Some(file) = self.local_file(key) {
            let lock = self.local_lock()?;
            let expected = expect.bytes.clone();
            return blocking(key, move || local_swap(&lock, &file, Some(&expected), None)).await;
        }
        match self.observe(key).await? {
            Some(now) if same_version(&now, expect) => {
                self.delete(key).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The lock file of a local lake, at its directory's root (shared by its source lakes).
    fn local_lock(&self) -> Result<std::path::PathBuf> {
        let lock = Path::from_iter([LOCKS, LOCAL_LOCK]);
        self.local_store_file(&lock)
            .ok_or_else(|| Error::Corrupt { key: lock.to_string(), reason: "not a file of a local lake".into() })
    }
}

fn same_version(a: &Observed, b: &Observed) -> bool {
    match (&a.version.e_tag, &b.version.e_tag) {
        (Some(x), Some(y)) => x == y && a.version.version == b.version.version,
        _ => a.bytes == b.bytes,
    }
}

async fn blocking<T: Send + 'static>(
    key: &Path,
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    let write = |source: std::io::Error| Error::Write { key: key.to_string(), source };
    tokio::task::spawn_blocking(work).await.map_err(|e| write(std::io::Error::other(e)))?.map_err(write)
}

/// Under the lake's lock: if `file` holds `expected` (`None`: does not exist), replace it with
/// `new` (`None`: delete it) and return `true`; otherwise leave it and return `false`.
fn local_swap(
    lock: &std::path::Path,
    file: &std::path::Path,
    expected: Option<&[u8]>,
    new: Option<&[u8]>,
) -> std::io::Result<bool> {
    if let Some(dir) = lock.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let guard = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(lock)?;
    guard.lock()?;
    let current = match std::fs::read(file) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if current.as_deref() != expected {
        return Ok(false);
    }
    match new {
        Some(bytes) => {
            let dir = file.parent().ok_or_else(|| std::io::Error::other("an object path without a folder"))?;
            std::fs::create_dir_all(dir)?;
            // `#<digits>` is object_store's suffix for files being written: never listed as an object.
            let mut staged = file.as_os_str().to_owned();
            staged.push("#0");
            let mut out = std::fs::File::create(&staged)?;
            out.write_all(bytes)?;
            out.sync_all()?;
            std::fs::rename(&staged, file)?;
        }
        None => std::fs::remove_file(file)?,
    }
    // The lock goes with the file handle.
    drop(guard);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use object_store::memory::InMemory;

    use super::*;

    async fn each_store(check: impl AsyncFn(Lake)) {
        check(Lake::from_store(Arc::new(InMemory::new()), Path::from("root"), "memory:///root")).await;
        let dir = tempfile::tempdir().unwrap();
        check(Lake::open(dir.path().to_str().unwrap()).unwrap()).await;
    }

    #[tokio::test]
    async fn a_write_happens_only_over_what_was_read() {
        each_store(async |lake: Lake| {
            let key = Path::from("_manifests/hourly/x.json");
            let first = lake.put_if(&key, Bytes::from_static(b"one"), None).await.unwrap().expect("absent: created");
            assert!(lake.put_if(&key, Bytes::from_static(b"again"), None).await.unwrap().is_none(), "exists");
            let seen = lake.observe(&key).await.unwrap().unwrap();
            assert_eq!(seen.bytes, Bytes::from_static(b"one"));
            let second = lake.put_if(&key, Bytes::from_static(b"two"), Some(&seen)).await.unwrap().expect("unchanged");
            assert!(
                lake.put_if(&key, Bytes::from_static(b"late"), Some(&first)).await.unwrap().is_none(),
                "a writer holding an older read loses"
            );
            assert!(!lake.delete_if(&key, &first).await.unwrap(), "nor may it delete");
            assert_eq!(lake.get_opt(&key).await.unwrap().as_deref(), Some(&b"two"[..]));
            assert!(lake.delete_if(&key, &second).await.unwrap());
            assert_eq!(lake.get_opt(&key).await.unwrap(), None);
            assert!(lake.list(&Path::from("_manifests")).await.unwrap().is_empty(), "no staging file left");
        })
        .await;
    }

    #[tokio::test]
    async fn racing_writers_on_a_local_lake_win_once() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        let key = Path::from("_locks/hourly/h.lock");
        lake.put(&key, Bytes::from_static(b"expired")).await.unwrap();
        let seen = lake.observe(&key).await.unwrap().unwrap();
        let racers: Vec<_> = (0..16)
            .map(|i| {
                let (lake, key, seen) = (lake.clone(), key.clone(), seen.clone());
                tokio::spawn(async move { lake.put_if(&key, Bytes::from(format!("run-{i}")), Some(&seen)).await })
            })
            .collect();
        let mut winners = 0;
        for r in racers {
            winners += usize::from(r.await.unwrap().unwrap().is_some());
        }
        assert_eq!(winners, 1, "one takeover of one expired lease");
    }
}
