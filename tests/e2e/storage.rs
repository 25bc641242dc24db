//! Where a test lake lives: a local directory or a bucket on the local S3 server, behind one trait
//! so every scenario is written once (delta-rs style). Keys are relative to the lake root.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};

/// The few operations the suite needs to arrange inputs and inspect what a run wrote.
pub(crate) trait Storage: Send + Sync {
    /// What `eventlake hourly --lake` gets.
    fn url(&self) -> String;
    fn put(&self, key: &str, bytes: &[u8]);
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn delete(&self, key: &str);
    /// Every object under `prefix` (`""` for the whole lake), sorted.
    fn list(&self, prefix: &str) -> Vec<String>;
}

/// A lake in a local directory, read and written with `std::fs` (not through object_store, so
/// the suite does not trust the product's own storage layer).
pub(crate) struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub(crate) fn new(root: PathBuf) -> LocalDir {
        std::fs::create_dir_all(&root).unwrap();
        LocalDir { root }
    }
}

impl Storage for LocalDir {
    fn url(&self) -> String {
        self.root.display().to_string()
    }

    fn put(&self, key: &str, bytes: &[u8]) {
        let path = self.root.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    fn get(&self, key: &str) -> Option<Vec<u8>> {
        match std::fs::read(self.root.join(key)) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => panic!("reading {key}: {e}"),
        }
    }

    fn delete(&self, key: &str) {
        match std::fs::remove_file(self.root.join(key)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("deleting {key}: {e}"),
        }
    }

    fn list(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        walk(&self.root, &self.root, &mut keys);
        keys.retain(|k| k.starts_with(prefix));
        keys.sort();
        keys
    }
}

/// `_locks/.lake.lock`: what a local lake's conditional writes `flock`.
const LOCAL_LOCK_FILE: &str = ".lake.lock";

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(root, &path, out);
        } else if path.file_name().is_some_and(|n| n == LOCAL_LOCK_FILE) {
            // The lock a local lake's conditional writes take: not an object of the lake.
        } else {
            let rel = path.strip_prefix(root).unwrap();
            out.push(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
        }
    }
}

/// A lake at `s3://<bucket>/lake` on the local S3 server, read and written with object_store.
pub(crate) struct S3Bucket {
    bucket: String,
    store: AmazonS3,
    rt: tokio::runtime::Runtime,
}

/// The lake's prefix inside its bucket.
const S3_ROOT: &str = "lake";

impl S3Bucket {
    /// Creates a new, uniquely named bucket. Panics when the server cannot be reached: once the S3
    /// variant is asked for, it must run.
    pub(crate) fn create(label: &str) -> S3Bucket {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .expect("EVENTLAKE_TEST_S3 is set but AWS_ENDPOINT_URL is not; run tests/run");
        let bucket = unique_bucket_name(label);
        create_bucket(&endpoint, &bucket);
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .build()
            .unwrap_or_else(|e| panic!("configuring S3 for bucket {bucket}: {e}"));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        S3Bucket { bucket, store, rt }
    }

    /// `parse`, not `from`: keys are used as they are, never percent-encoded.
    fn path(key: &str) -> StorePath {
        StorePath::parse(format!("{S3_ROOT}/{key}")).unwrap_or_else(|e| panic!("invalid key {key}: {e}"))
    }
}

impl Storage for S3Bucket {
    fn url(&self) -> String {
        format!("s3://{}/{S3_ROOT}", self.bucket)
    }

    fn put(&self, key: &str, bytes: &[u8]) {
        let payload = bytes.to_vec().into();
        self.rt.block_on(self.store.put(&Self::path(key), payload)).unwrap_or_else(|e| panic!("put {key}: {e}"));
    }

    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.rt.block_on(async {
            match self.store.get(&Self::path(key)).await {
                Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("get {key}: {e}"),
            }
        })
    }

    fn delete(&self, key: &str) {
        match self.rt.block_on(self.store.delete(&Self::path(key))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => panic!("delete {key}: {e}"),
        }
    }

    fn list(&self, prefix: &str) -> Vec<String> {
        let root = StorePath::parse(S3_ROOT).unwrap();
        let metas: Vec<_> =
            self.rt.block_on(self.store.list(Some(&root)).try_collect()).unwrap_or_else(|e| panic!("list: {e}"));
        let mut keys: Vec<String> = metas
            .into_iter()
            .map(|m| m.location.as_ref().strip_prefix(&format!("{S3_ROOT}/")).unwrap().to_owned())
            .filter(|k| k.starts_with(prefix))
            .collect();
        keys.sort();
        keys
    }
}

/// Bucket names are global on the server, which outlives one test process.
fn unique_bucket_name(label: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let label: String =
        label.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(30).collect();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("e2e-{label}-{}-{nanos:x}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `PUT /<bucket>` as one raw HTTP/1.1 request: moto accepts it unsigned, and it keeps an HTTP
/// client out of the dev-dependencies.
fn create_bucket(endpoint: &str, bucket: &str) {
    let authority = endpoint
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("AWS_ENDPOINT_URL={endpoint}: expected http://host:port of the local S3 server"))
        .trim_end_matches('/');
    let unreachable = |e: std::io::Error| -> ! {
        panic!("the local S3 server at {endpoint} is unreachable ({e}); start it with tests/run")
    };
    let mut stream = TcpStream::connect(authority).unwrap_or_else(|e| unreachable(e));
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request =
        format!("PUT /{bucket} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap_or_else(|e| unreachable(e));
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap_or_else(|e| unreachable(e));
    let status = response.lines().next().unwrap_or_default();
    assert!(
        status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200"),
        "creating bucket {bucket} at {endpoint}: {status}\n{response}"
    );
}
