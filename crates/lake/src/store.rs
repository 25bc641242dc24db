//! Opening a lake from its URL: a local directory, `file://…` or `s3://bucket/prefix`.

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::{Error, Result};

/// A lake root: an object store plus the prefix every key lives under.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    root: Path,
    url: String,
    /// The store of a local lake, for direct file reads.
    local: Option<Arc<LocalFileSystem>>,
}

impl Lake {
    /// Opens `url`. S3 is configured by `AmazonS3Builder::from_env()` (`AWS_*` variables, the ECS
    /// task role, `AWS_ENDPOINT_URL` for a local server); local directories are created if missing.
    pub fn open(url: &str) -> Result<Lake> {
        let invalid = |reason: String| Error::InvalidUrl { url: url.into(), reason };
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("no bucket name".into()));
            }
            let store =
                AmazonS3Builder::from_env().with_bucket_name(bucket).build().map_err(|e| invalid(e.to_string()))?;
            return Ok(Lake {
                store: Arc::new(store),
                root: Path::from(prefix),
                url: url.trim_end_matches('/').into(),
                local: None,
            });
        }
        let local = url.strip_prefix("file://").unwrap_or(url);
        if local.contains("://") {
            return Err(invalid("expected a local path, file://… or s3://bucket/prefix".into()));
        }
        if std::path::Path::new(local).is_file() {
            return Err(invalid("a file, not a folder: a local lake is a folder (or use s3://bucket/prefix)".into()));
        }
        std::fs::create_dir_all(local).map_err(|e| invalid(e.to_string()))?;
        let dir = std::fs::canonicalize(local).map_err(|e| invalid(e.to_string()))?;
        let store = Arc::new(LocalFileSystem::new_with_prefix(&dir).map_err(|e| invalid(e.to_string()))?);
        let url = format!("file://{}", dir.display());
        Ok(Lake { store: store.clone(), root: Path::default(), url, local: Some(store) })
    }

    /// Opens `url` and checks it can be listed ([`Lake::reachable`]): what every command does first.
    pub async fn open_reachable(url: &str) -> Result<Lake> {
        let lake = Lake::open(url)?;
        lake.reachable().await?;
        Ok(lake)
    }

    /// A lake over any store (tests, other backends).
    pub fn from_store(store: Arc<dyn ObjectStore>, root: Path, url: impl Into<String>) -> Lake {
        Lake { store, root, url: url.into(), local: None }
    }

    /// The lake below `prefix`: same store, keys relative to `<root>/<prefix>` (a named source's
    /// outputs live in one, so its manifests, leases and quarantine never meet another's).
    pub fn scoped(&self, prefix: &Path) -> Lake {
        Lake { store: self.store.clone(), root: self.full(prefix), url: self.url_of(prefix), local: self.local.clone() }
    }

    /// The file behind `key` when the lake is a local directory (read directly, without the
    /// object store's per-chunk hand-offs).
    pub fn local_file(&self, key: &Path) -> Option<std::path::PathBuf> {
        self.local_store_file(&self.full(key))
    }

    /// A file of a local lake's directory by its store path (not below a source's scope).
    pub(crate) fn local_store_file(&self, store_path: &Path) -> Option<std::path::PathBuf> {
        self.local.as_ref()?.path_to_filesystem(store_path).ok()
    }

    /// `s3://bucket` of an S3 lake: where a query engine registers [`Lake::store`].
    pub fn bucket_url(&self) -> Option<&str> {
        let rest = self.url.strip_prefix("s3://")?;
        let end = "s3://".len() + rest.find('/').unwrap_or(rest.len());
        Some(&self.url[..end])
    }

    /// The lake's URL, e.g. `s3://bucket/prefix` or `file:///data/lake`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of a key, for Athena `LOCATION`s and messages.
    pub fn url_of(&self, key: &Path) -> String {
        if key.as_ref().is_empty() { self.url.clone() } else { format!("{}/{}", self.url, key) }
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The store path of a lake-relative key.
    pub fn full(&self, key: &Path) -> Path {
        if self.root.as_ref().is_empty() { key.clone() } else { Path::from_iter(self.root.parts().chain(key.parts())) }
    }

    /// The lake-relative key of a store path.
    pub fn relative(&self, full: &Path) -> Path {
        match full.prefix_match(&self.root) {
            Some(parts) => Path::from_iter(parts),
            None => full.clone(),
        }
    }

    /// Every object under `prefix` (lake-relative), with lake-relative locations, sorted by key.
    pub async fn list(&self, prefix: &Path) -> Result<Vec<ObjectMeta>> {
        let full = self.full(prefix);
        let mut out: Vec<ObjectMeta> = retrying_read("list", prefix, || {
            self.store
                .list(Some(&full))
                .map_ok(|mut m| {
                    m.location = self.relative(&m.location);
                    m
                })
                .try_collect()
        })
        .await?;
        out.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(out)
    }

    /// Removes the files under `prefix` that a write left unfinished when its process died, whose
    /// final name `owned` accepts: on a local lake, object_store writes `<name>#<digits>` and renames
    /// it, and never lists such files; S3 has no such thing (an unfinished multipart upload is no
    /// object). Callers removing their stale files call this too, so a crash leaves no orphan.
    /// Returns the removed files' lake keys.
    pub async fn remove_unfinished(
        &self,
        prefix: &Path,
        owned: impl Fn(&str) -> bool + Send + 'static,
    ) -> Result<Vec<String>> {
        let Some(dir) = self.local_file(prefix) else { return Ok(Vec::new()) };
        let base = prefix.to_string();
        let removed = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<String>> {
            let mut found = Vec::new();
            collect_unfinished(&dir, std::path::Path::new(""), &mut found);
            let mut removed = Vec::new();
            for rel in found {
                let name = rel.last().cloned().unwrap_or_default();
                if unfinished_target(&name).is_some_and(&owned) {
                    let path = rel.iter().fold(dir.clone(), |p, s| p.join(s));
                    match std::fs::remove_file(&path) {
                        Ok(()) => removed.push(format!("{base}/{}", rel.join("/"))),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            removed.sort();
            Ok(removed)
        })
        .await
        .map_err(|e| Error::Write { key: prefix.to_string(), source: std::io::Error::other(e) })?
        .map_err(|source| Error::Write { key: prefix.to_string(), source })?;
        for key in &removed {
            tracing::info!(key = %key, "removed a write a crash left unfinished");
        }
        Ok(removed)
    }

    /// The immediate child folders of `prefix`.
    pub async fn list_dirs(&self, prefix: &Path) -> Result<Vec<Path>> {
        let full = self.full(prefix);
        let listing = retrying_read("list", prefix, || self.store.list_with_delimiter(Some(&full))).await?;
        let mut dirs: Vec<Path> = listing.common_prefixes.iter().map(|p| self.relative(p)).collect();
        dirs.sort();
        Ok(dirs)
    }

    /// Checks that the lake can be listed, before any work starts: a run without credentials, on a
    /// missing bucket or in the wrong region fails here with [`Error::Unreachable`] naming the
    /// cause and the fix, instead of an HTTP error from deep inside its first read.
    pub async fn reachable(&self) -> Result<()> {
        if self.local.is_some() {
            return Ok(());
        }
        match self.store.list_with_delimiter(Some(&self.root)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match unreachable_problem(&e, self.bucket_url().unwrap_or(&self.url)) {
                Some(problem) => Error::Unreachable { url: self.url.clone(), problem },
                None => Error::store("list", &self.root, e),
            }),
        }
    }

    /// The object's bytes, or `None` when it does not exist.
    pub async fn get_opt(&self, key: &Path) -> Result<Option<Bytes>> {
        Ok(self.observe(key).await?.map(|o| o.bytes))
    }

    pub async fn put(&self, key: &Path, bytes: impl Into<PutPayload>) -> Result<()> {
        self.store.put(&self.full(key), bytes.into()).await.map_err(|e| Error::store("put", key, e))?;
        Ok(())
    }

    /// Deletes `key`; a missing object is not an error.
    pub async fn delete(&self, key: &Path) -> Result<()> {
        match self.store.delete(&self.full(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::store("delete", key, e)),
        }
    }
}

/// Attempts of a read that failed in transit.
const READ_ATTEMPTS: u32 = 4;

/// Runs an idempotent read, again after a failure in transit (a body cut off, a connection reset
/// past the client's own retries), with backoff: 100 ms, 400 ms, 1.6 s. Answers such as "not
/// found" or "precondition failed" are not retried.
pub async fn retrying_read<T, F, Fut>(op: &'static str, key: &Path, read: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = object_store::Result<T>>,
{
    let mut wait = std::time::Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match read().await {
            Ok(v) => return Ok(v),
            Err(e @ object_store::Error::Generic { .. }) if attempt < READ_ATTEMPTS => {
                tracing::warn!(op, key = %key, attempt, error = %e, "read failed in transit; retrying");
                tokio::time::sleep(wait).await;
                wait *= 4;
                attempt += 1;
            }
            Err(e) => return Err(Error::store(op, key, e)),
        }
    }
}

/// The final name of an unfinished local write (`part-0.parquet#3` → `part-0.parquet`), if
/// `name` is one.
pub fn unfinished_target(name: &str) -> Option<&str> {
    let (base, suffix) = name.rsplit_once('#')?;
    (!base.is_empty() && !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit())).then_some(base)
}

/// Unfinished writes below `dir`, as path segments relative to it.
fn collect_unfinished(dir: &std::path::Path, rel: &std::path::Path, out: &mut Vec<Vec<String>>) {
    let Ok(entries) = std::fs::read_dir(dir.join(rel)) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = rel.join(&name);
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_unfinished(dir, &path, out);
        } else if unfinished_target(&name).is_some() {
            out.push(path.iter().map(|p| p.to_string_lossy().into_owned()).collect());
        }
    }
}

/// What a failed first listing of a bucket means for the person running eventlake, in one line
/// with the fix; `None` when it is not a configuration problem.
fn unreachable_problem(error: &object_store::Error, bucket: &str) -> Option<String> {
    // The causes are only in the error chain's text (object_store keeps S3's codes there).
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    let has = |needle: &str| text.contains(needle);
    let region = std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION")).ok();
    // The credential providers' requests: EC2 instance metadata, the ECS task endpoint, STS.
    let credentials = ["/latest/api/token", "/latest/meta-data", "169.254.170.2", "AssumeRoleWithWebIdentity"];
    let problem = if credentials.iter().any(|c| has(c)) {
        "no AWS credentials found (no AWS_ACCESS_KEY_ID, web identity token, ECS task role or instance \
         profile answered): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a task role"
            .to_owned()
    } else if has("NoSuchBucket") {
        format!("bucket {bucket} does not exist: check the bucket name in --lake")
    } else if has("PermanentRedirect") || has("AuthorizationHeaderMalformed") || has("IllegalLocationConstraint") {
        format!(
            "bucket {bucket} is in another region than {}: set AWS_REGION to the bucket's region",
            region.map_or_else(|| "the default (us-east-1)".to_owned(), |r| format!("AWS_REGION={r}"))
        )
    } else if has("InvalidAccessKeyId") || has("SignatureDoesNotMatch") || has("ExpiredToken") {
        "the AWS credentials were refused (unknown key, wrong secret or expired session): renew them".to_owned()
    } else if has("AccessDenied") || has("403 Forbidden") {
        format!("access denied listing {bucket}: the role needs s3:ListBucket on it (see terraform/)")
    } else if has("Connection refused") || has("dns error") || has("error sending request") {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "S3".to_owned());
        format!("cannot connect to {endpoint}: check AWS_ENDPOINT_URL and the network")
    } else {
        return None;
    };
    Some(problem)
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;

    fn lake(root: &str) -> Lake {
        Lake::from_store(Arc::new(InMemory::new()), Path::from(root), "s3://bucket/lake/root")
    }

    #[tokio::test]
    async fn keys_are_relative_to_the_root() {
        let lake = lake("lake/root");
        lake.put(&Path::from("silver/b/x.parquet"), Bytes::from_static(b"b")).await.unwrap();
        lake.put(&Path::from("silver/a/y.parquet"), Bytes::from_static(b"a")).await.unwrap();
        lake.put(&Path::from("gold/z.parquet"), Bytes::from_static(b"z")).await.unwrap();

        let listed: Vec<String> =
            lake.list(&Path::from("silver")).await.unwrap().into_iter().map(|m| m.location.to_string()).collect();
        assert_eq!(listed, ["silver/a/y.parquet", "silver/b/x.parquet"], "sorted, lake-relative");
        let dirs = lake.list_dirs(&Path::from("silver")).await.unwrap();
        assert_eq!(dirs, [Path::from("silver/a"), Path::from("silver/b")]);
        // The store itself holds them under the root.
        let full = lake.store().get(&Path::from("lake/root/gold/z.parquet")).await.unwrap();
        assert_eq!(full.bytes().await.unwrap(), Bytes::from_static(b"z"));

        assert_eq!(lake.get_opt(&Path::from("gold/z.parquet")).await.unwrap().as_deref(), Some(&b"z"[..]));
        assert_eq!(lake.get_opt(&Path::from("gold/missing")).await.unwrap(), None);
        lake.delete(&Path::from("gold/z.parquet")).await.unwrap();
        lake.delete(&Path::from("gold/z.parquet")).await.unwrap();
        assert_eq!(lake.get_opt(&Path::from("gold/z.parquet")).await.unwrap(), None, "deleting twice is fine");
        assert!(lake.list(&Path::from("nothing")).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn scoped_lakes_share_the_store() {
        let lake = lake("lake/root");
        let source = lake.scoped(&Path::from("sources/paidy"));
        source.put(&Path::from("silver/x.parquet"), Bytes::from_static(b"x")).await.unwrap();
        assert_eq!(source.url(), "s3://bucket/lake/root/sources/paidy");
        let listed = lake.list(&Path::from("sources")).await.unwrap();
        assert_eq!(listed[0].location.as_ref(), "sources/paidy/silver/x.parquet");
        assert_eq!(source.list(&Path::from("silver")).await.unwrap()[0].location.as_ref(), "silver/x.parquet");
    }

    #[test]
    fn urls() {
        let lake = lake("lake/root");
        assert_eq!(lake.url_of(&Path::from("silver/a")), "s3://bucket/lake/root/silver/a");
        assert_eq!(lake.url_of(&Path::default()), "s3://bucket/lake/root");
        assert_eq!(lake.bucket_url(), Some("s3://bucket"));
        let local = Lake::from_store(Arc::new(InMemory::new()), Path::default(), "file:///tmp/lake");
        assert_eq!(local.bucket_url(), None);
        assert_eq!(Lake::from_store(Arc::new(InMemory::new()), Path::default(), "s3://b").bucket_url(), Some("s3://b"));
    }

    /// What S3 and the credential chain answer, as object_store reports it, and what the user reads.
    #[test]
    fn unusable_stores_are_explained() {
        let cases = [
            (
                "Error performing PUT http://169.254.169.254/latest/api/token in 2s - HTTP error",
                "no AWS credentials found",
            ),
            ("Client error with status 404 Not Found: <Code>NoSuchBucket</Code>", "does not exist"),
            (
                "Client error with status 301: <Code>PermanentRedirect</Code><Endpoint>b.s3.eu-west-1</Endpoint>",
                "another region",
            ),
            (
                "<Code>AuthorizationHeaderMalformed</Code> the region 'us-east-1' is wrong; expecting 'eu-west-1'",
                "another region",
            ),
            ("<Code>InvalidAccessKeyId</Code>", "credentials were refused"),
            ("Client error with status 403 Forbidden: <Code>AccessDenied</Code>", "needs s3:ListBucket"),
            ("HTTP error: error sending request: Connection refused", "cannot connect"),
        ];
        for (message, says) in cases {
            let error = object_store::Error::Generic { store: "S3", source: message.into() };
            let problem = unreachable_problem(&error, "s3://bucket").unwrap_or_default();
            assert!(problem.contains(says), "{message} → {problem}");
        }
        let other = object_store::Error::Generic { store: "S3", source: "Server returned 500".into() };
        assert_eq!(unreachable_problem(&other, "s3://bucket"), None, "not a configuration problem");
    }

    #[test]
    fn bad_urls_are_refused() {
        for url in ["s3://", "s3:///prefix", "ftp://host/lake"] {
            assert!(matches!(Lake::open(url), Err(Error::InvalidUrl { .. })), "{url}");
        }
    }
}
