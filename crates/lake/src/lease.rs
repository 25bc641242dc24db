//! Leases: one writer per unit of work. A lease object is created with a conditional put
//! (`If-None-Match: *`); an expired lease is taken over with a put conditional on its ETag.

use chrono::{DateTime, Duration, Utc};
use object_store::{ObjectStoreExt, PutMode, PutOptions, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::LeaseKey;
use crate::store::Lake;

const ACQUIRE_ATTEMPTS: usize = 3;

/// What a lease object says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeaseRecord {
    pub owner: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A held lease; release it when the run ends.
#[derive(Debug)]
pub struct Lease {
    lake: Lake,
    key: LeaseKey,
    owner: String,
}

impl Lease {
    /// Takes the lease for `ttl`, or fails with [`Error::LeaseHeld`].
    pub async fn acquire(lake: &Lake, key: LeaseKey, owner: &str, ttl: Duration) -> Result<Lease> {
        // A lease released or removed between our create and our read is tried again, a few times:
        // past that, some other run keeps winning the race and holds it.
        for _ in 0..ACQUIRE_ATTEMPTS {
            if let Some(lease) = Lease::try_acquire(lake, &key, owner, ttl).await? {
                return Ok(lease);
            }
        }
        Err(Error::LeaseHeld { key: key.path().to_string(), owner: "another run".into(), expires_at: "unknown".into() })
    }

    /// One attempt: `Ok(None)` when the lease vanished in between and the caller may try again.
    async fn try_acquire(lake: &Lake, key: &LeaseKey, owner: &str, ttl: Duration) -> Result<Option<Lease>> {
        let path = lake.full(&key.path());
        let now = Utc::now();
        let record = LeaseRecord { owner: owner.into(), acquired_at: now, expires_at: now + ttl };
        let body =
            serde_json::to_vec(&record).map_err(|e| Error::Corrupt { key: path.to_string(), reason: e.to_string() })?;
        let create = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
        match lake.store().put_opts(&path, body.clone().into(), create).await {
            Ok(_) => return Ok(Some(Lease { lake: lake.clone(), key: key.clone(), owner: owner.into() })),
            Err(object_store::Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(Error::store("create lease", &path, e)),
        }
        // Someone holds it: take it over only if it has expired.
        let current = match lake.store().get(&path).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(Error::store("read lease", &path, e)),
        };
        let version = UpdateVersion { e_tag: current.meta.e_tag.clone(), version: current.meta.version.clone() };
        let bytes = current.bytes().await.map_err(|e| Error::store("read lease", &path, e))?;
        let held: Option<LeaseRecord> = serde_json::from_slice(&bytes).ok();
        if let Some(h) = &held
            && h.expires_at > now
        {
            return Err(Error::LeaseHeld {
                key: key.path().to_string(),
                owner: h.owner.clone(),
                expires_at: h.expires_at.to_rfc3339(),
            });
        }
        let update = PutOptions { mode: PutMode::Update(version), ..PutOptions::default() };
        match lake.store().put_opts(&path, body.into(), update).await {
            Ok(_) => {
                tracing::warn!(lease = %key.path(), previous_owner = ?held.map(|h| h.owner), "took over an expired lease");
                Ok(Some(Lease { lake: lake.clone(), key: key.clone(), owner: owner.into() }))
            }
            Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => {
                Err(Error::LeaseHeld {
                    key: key.path().to_string(),
                    owner: "another run".into(),
                    expires_at: "unknown".into(),
                })
            }
            Err(object_store::Error::NotImplemented { .. }) => {
                // Stores without conditional updates (a local directory): delete, then create.
                lake.delete(&key.path()).await?;
                Ok(None)
            }
            Err(e) => Err(Error::store("take over lease", &path, e)),
        }
    }

    /// Releases the lease if this run still owns it.
    pub async fn release(self) -> Result<()> {
        let path = self.key.path();
        if let Some(bytes) = self.lake.get_opt(&path).await?
            && let Ok(rec) = serde_json::from_slice::<LeaseRecord>(&bytes)
            && rec.owner != self.owner
        {
            return Ok(());
        }
        self.lake.delete(&path).await
    }
}

/// Runs `work` while holding the lease `key`: acquired first (failing with [`Error::LeaseHeld`]
/// when another run holds it), released afterwards whatever `work` returned.
pub async fn with_lease<T, E, F>(lake: &Lake, key: LeaseKey, owner: &str, ttl: Duration, work: F) -> Result<T, E>
where
    E: From<Error>,
    F: std::future::Future<Output = Result<T, E>>,
{
    let lease = Lease::acquire(lake, key.clone(), owner, ttl).await?;
    let result = work.await;
    if let Err(e) = lease.release().await {
        tracing::warn!(lease = %key.path(), error = %e, "could not release the lease; it expires on its own");
    }
    result
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use object_store::memory::InMemory;
    use object_store::path::Path;

    use super::*;
    use crate::layout::Hour;

    fn lake() -> Lake {
        Lake::from_store(Arc::new(InMemory::new()), Path::from("root"), "s3://bucket/root")
    }

    fn key() -> LeaseKey {
        LeaseKey::Hourly(Hour::from_index(500_000))
    }

    async fn holder(lake: &Lake) -> Option<String> {
        let bytes = lake.get_opt(&key().path()).await.unwrap()?;
        Some(serde_json::from_slice::<LeaseRecord>(&bytes).unwrap().owner)
    }

    #[tokio::test]
    async fn one_holder_at_a_time() {
        let lake = lake();
        let a = Lease::acquire(&lake, key(), "run-a", Duration::hours(1)).await.unwrap();
        let held = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap_err();
        assert!(matches!(&held, Error::LeaseHeld { owner, .. } if owner == "run-a"), "{held}");
        a.release().await.unwrap();
        assert_eq!(holder(&lake).await, None, "released");
        let b = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap();
        assert_eq!(holder(&lake).await.as_deref(), Some("run-b"));
        b.release().await.unwrap();
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_and_the_old_owner_cannot_release_it() {
        let lake = lake();
        let stale = Lease::acquire(&lake, key(), "run-a", Duration::seconds(-1)).await.unwrap();
        let fresh = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap();
        assert_eq!(holder(&lake).await.as_deref(), Some("run-b"));
        stale.release().await.unwrap();
        assert_eq!(holder(&lake).await.as_deref(), Some("run-b"), "a lease that moved on stays with its new owner");
        fresh.release().await.unwrap();
        assert_eq!(holder(&lake).await, None);
    }

    #[tokio::test]
    async fn an_unreadable_lease_counts_as_expired() {
        let lake = lake();
        lake.put(&key().path(), bytes::Bytes::from_static(b"not json")).await.unwrap();
        let lease = Lease::acquire(&lake, key(), "run-a", Duration::hours(1)).await.unwrap();
        assert_eq!(holder(&lake).await.as_deref(), Some("run-a"));
        lease.release().await.unwrap();
    }

    #[tokio::test]
    async fn with_lease_releases_whatever_the_work_returns() {
        let lake = lake();
        let ok: Result<u32> = with_lease(&lake, key(), "run-a", Duration::hours(1), async { Ok(7) }).await;
        assert_eq!(ok.unwrap(), 7);
        assert_eq!(holder(&lake).await, None);
        let failed: Result<u32> = with_lease(&lake, key(), "run-a", Duration::hours(1), async {
            Err(Error::Corrupt { key: "k".into(), reason: "r".into() })
        })
        .await;
        assert!(matches!(failed, Err(Error::Corrupt { .. })));
        assert_eq!(holder(&lake).await, None, "released after a failure too");

        let _held = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap();
        let mut ran = false;
        let refused: Result<()> = with_lease(&lake, key(), "run-a", Duration::hours(1), async {
            ran = true;
            Ok(())
        })
        .await;
        assert!(matches!(refused, Err(Error::LeaseHeld { .. })));
        assert!(!ran, "the work does not start without the lease");
    }
}
