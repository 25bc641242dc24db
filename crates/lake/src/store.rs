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
        std::fs::create_dir_all(local).map_err(|e| invalid(e.to_string()))?;
        let dir = std::fs::canonicalize(local).map_err(|e| invalid(e.to_string()))?;
        let store = Arc::new(LocalFileSystem::new_with_prefix(&dir).map_err(|e| invalid(e.to_string()))?);
        let url = format!("file://{}", dir.display());
        Ok(Lake { store: store.clone(), root: Path::default(), url, local: Some(store) })
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
        self.local.as_ref()?.path_to_filesystem(&self.full(key)).ok()
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
        let mut out: Vec<ObjectMeta> = self
            .store
            .list(Some(&full))
            .map_ok(|mut m| {
                m.location = self.relative(&m.location);
                m
            })
            .try_collect()
            .await
            .map_err(|e| Error::store("list", prefix, e))?;
        out.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(out)
    }

    /// The immediate child folders of `prefix`.
    pub async fn list_dirs(&self, prefix: &Path) -> Result<Vec<Path>> {
        let full = self.full(prefix);
        let listing = self.store.list_with_delimiter(Some(&full)).await.map_err(|e| Error::store("list", prefix, e))?;
        let mut dirs: Vec<Path> = listing.common_prefixes.iter().map(|p| self.relative(p)).collect();
        dirs.sort();
        Ok(dirs)
    }

    /// The object's bytes, or `None` when it does not exist.
    pub async fn get_opt(&self, key: &Path) -> Result<Option<Bytes>> {
        match self.store.get(&self.full(key)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| Error::store("get", key, e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::store("get", key, e)),
        }
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

    #[test]
    fn bad_urls_are_refused() {
        for url in ["s3://", "s3:///prefix", "ftp://host/lake"] {
            assert!(matches!(Lake::open(url), Err(Error::InvalidUrl { .. })), "{url}");
        }
    }
}
