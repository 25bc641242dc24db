//! Leases: one writer per unit of work. A lease object is created with a conditional put
//! (`If-None-Match: *`); an expired lease is taken over with a put conditional on its ETag.

use chrono::{DateTime, Duration, Utc};
use object_store::{ObjectStoreExt, PutMode, PutOptions, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::LeaseKey;
use crate::store::Lake;

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
        let path = lake.full(&key.path());
        let now = Utc::now();
        let record = LeaseRecord { owner: owner.into(), acquired_at: now, expires_at: now + ttl };
        let body =
            serde_json::to_vec(&record).map_err(|e| Error::Corrupt { key: path.to_string(), reason: e.to_string() })?;
        let create = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
        match lake.store().put_opts(&path, body.clone().into(), create).await {
            Ok(_) => return Ok(Lease { lake: lake.clone(), key, owner: owner.into() }),
            Err(object_store::Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(Error::store("create lease", &path, e)),
        }
        // Someone holds it: take it over only if it has expired.
        let current = match lake.store().get(&path).await {
            Ok(r) => r,
            // Released in between: try once more.
            Err(object_store::Error::NotFound { .. }) => return Box::pin(Lease::acquire(lake, key, owner, ttl)).await,
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
                Ok(Lease { lake: lake.clone(), key, owner: owner.into() })
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
                Box::pin(Lease::acquire(lake, key, owner, ttl)).await
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
