//! Leases: one writer per unit of work, and commits fenced by them.
//!
//! - A lease object is created with a conditional put (`If-None-Match: *`); an expired one is taken
//!   over with a put conditional on what was read (its ETag, or its bytes on a local lake), and its
//!   `generation` goes up by one.
//! - While the work runs, the lease is renewed every third of its TTL, each renewal conditional on
//!   the previous write: a run that was taken over learns it at its next renewal.
//! - The work gets a [`Fence`]: [`Fence::check`] fails once the lease is lost or could not be
//!   renewed for long enough that another run may take it; [`crate::manifest::commit_manifest`]
//!   renews the lease and then writes the manifest only over the manifest the run started from.
//!   Either a run that lost its lease cannot commit, or its commit is refused because another run
//!   committed first.
//! - On a shutdown signal the work is dropped and the lease given up; a lease is deleted only while
//!   it is still held, so a run never removes the lease of the run that took over from it.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::conditional::Observed;
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
    /// Takeovers so far: 1 for a lease created afresh.
    #[serde(default)]
    pub generation: u64,
}

/// A held lease. [`with_lease`] renews it, hands the work its [`Fence`] and releases it.
#[derive(Debug)]
pub struct Lease {
    fence: Fence,
}

/// What a run holding a lease checks before it writes what others could see, and commits through.
#[derive(Debug, Clone)]
pub struct Fence {
    held: Arc<Held>,
}

#[derive(Debug)]
struct Held {
    lake: Lake,
    key: LeaseKey,
    owner: String,
    ttl: Duration,
    acquired_at: DateTime<Utc>,
    generation: u64,
    /// The lease object as this run last wrote it: the next renewal is conditional on it.
    written: tokio::sync::Mutex<Observed>,
    standing: Mutex<Standing>,
}

#[derive(Debug, Clone)]
struct Standing {
    /// Until when no other run may take the lease (the last successful write plus the TTL, timed
    /// from before that write was sent).
    valid_until: Instant,
    /// Why the lease is no longer this run's.
    lost: Option<String>,
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
        let path = key.path();
        let sent = Instant::now();
        let now = Utc::now();
        let mut record = LeaseRecord { owner: owner.into(), acquired_at: now, expires_at: now + ttl, generation: 1 };
        if let Some(written) = lake.put_if(&path, encode(&record, key)?, None).await? {
            return Ok(Some(Lease::held(lake, key, record, written, sent)));
        }
        // Someone holds it: take it over only if it has expired.
        let Some(current) = lake.observe(&path).await? else { return Ok(None) };
        let held: Option<LeaseRecord> = serde_json::from_slice(&current.bytes).ok();
        if let Some(h) = &held
            && h.expires_at > now
        {
            return Err(Error::LeaseHeld {
                key: path.to_string(),
                owner: h.owner.clone(),
                expires_at: h.expires_at.to_rfc3339(),
            });
        }
        record.generation = held.as_ref().map_or(1, |h| h.generation + 1);
        match lake.put_if(&path, encode(&record, key)?, Some(&current)).await? {
            Some(written) => {
                tracing::warn!(
                    lease = %path,
                    previous_owner = ?held.map(|h| h.owner),
                    generation = record.generation,
                    "took over an expired lease"
                );
                Ok(Some(Lease::held(lake, key, record, written, sent)))
            }
            None => Err(Error::LeaseHeld {
                key: path.to_string(),
                owner: "another run".into(),
                expires_at: "unknown".into(),
            }),
        }
    }

    fn held(lake: &Lake, key: &LeaseKey, record: LeaseRecord, written: Observed, sent: Instant) -> Lease {
        let ttl = record.expires_at - record.acquired_at;
        let held = Held {
            lake: lake.clone(),
            key: key.clone(),
            owner: record.owner,
            ttl,
            acquired_at: record.acquired_at,
            generation: record.generation,
            written: tokio::sync::Mutex::new(written),
            standing: Mutex::new(Standing { valid_until: valid_until(sent, ttl), lost: None }),
        };
        Lease { fence: Fence { held: Arc::new(held) } }
    }

    /// The fence of this lease, for the work done under it.
    pub fn fence(&self) -> Fence {
        self.fence.clone()
    }

    /// Renews the lease every third of its TTL until the returned task is aborted. Failed renewals
    /// are retried sooner; a lease found taken over is not renewed again.
    pub fn keep_renewed(&self) -> tokio::task::JoinHandle<()> {
        let fence = self.fence.clone();
        let every = (fence.held.ttl / 3).to_std().unwrap_or_default();
        tokio::spawn(async move {
            if every.is_zero() {
                return;
            }
            let mut wait = every;
            loop {
                tokio::time::sleep(wait).await;
                match fence.renew().await {
                    Ok(()) => wait = every,
                    Err(e @ Error::LeaseLost { .. }) => {
                        tracing::error!(error = %e, "lost the lease; this run will not commit");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(lease = %fence.held.key.path(), error = %e, "could not renew the lease; retrying");
                        wait = every / 4;
                    }
                }
            }
        })
    }

    /// Gives the lease up: deletes it if this run still holds it with time to spare (otherwise it
    /// may already be another run's, and it expires on its own).
    pub async fn release(self) -> Result<()> {
        let held = &self.fence.held;
        if self.fence.check().is_err() {
            return Ok(());
        }
        let written = held.written.lock().await;
        if !held.lake.delete_if(&held.key.path(), &written).await? {
            tracing::warn!(lease = %held.key.path(), "the lease changed under this run; left as it is");
        }
        Ok(())
    }
}

impl Fence {
    /// Fails with [`Error::LeaseLost`] once the lease was taken over, or when it has not been
    /// renewed for so long that another run may take it over before this run's next write lands.
    pub fn check(&self) -> Result<()> {
        let standing = self.standing();
        let lost = |reason: String| Error::LeaseLost { key: self.held.key.path().to_string(), reason };
        if let Some(reason) = standing.lost {
            return Err(lost(reason));
        }
        // A sixth of the TTL to spare: a renewal is due every third.
        let spare = (self.held.ttl / 6).to_std().unwrap_or_default();
        if Instant::now() + spare >= standing.valid_until {
            return Err(lost(format!("not renewed within its TTL of {}s", self.held.ttl.num_seconds())));
        }
        Ok(())
    }

    /// Extends the lease by its TTL from now, conditional on it being as this run last wrote it.
    pub async fn renew(&self) -> Result<()> {
        let held = &self.held;
        let path = held.key.path();
        let mut written = held.written.lock().await;
        if let Some(reason) = self.standing().lost {
            return Err(Error::LeaseLost { key: path.to_string(), reason });
        }
        let sent = Instant::now();
        let record = LeaseRecord {
            owner: held.owner.clone(),
            acquired_at: held.acquired_at,
            expires_at: Utc::now() + held.ttl,
            generation: held.generation,
        };
        match held.lake.put_if(&path, encode(&record, &held.key)?, Some(&written)).await? {
            Some(now) => {
                *written = now;
                self.set_standing(|s| s.valid_until = valid_until(sent, held.ttl));
                Ok(())
            }
            None => {
                let reason = match held.lake.observe(&path).await.ok().flatten() {
                    Some(o) => match serde_json::from_slice::<LeaseRecord>(&o.bytes) {
                        Ok(r) => format!("taken over by run {} (generation {})", r.owner, r.generation),
                        Err(_) => "overwritten".to_owned(),
                    },
                    None => "deleted by another run".to_owned(),
                };
                self.set_standing(|s| s.lost = Some(reason.clone()));
                Err(Error::LeaseLost { key: path.to_string(), reason })
            }
        }
    }

    /// The run holding the lease (its run id).
    pub fn owner(&self) -> &str {
        &self.held.owner
    }

    /// The lease's generation (1, plus one per takeover).
    pub fn generation(&self) -> u64 {
        self.held.generation
    }

    fn standing(&self) -> Standing {
        match self.held.standing.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_standing(&self, change: impl FnOnce(&mut Standing)) {
        match self.held.standing.lock() {
            Ok(mut s) => change(&mut s),
            Err(poisoned) => change(&mut poisoned.into_inner()),
        }
    }
}

fn valid_until(sent: Instant, ttl: Duration) -> Instant {
    sent + ttl.to_std().unwrap_or_default()
}

fn encode(record: &LeaseRecord, key: &LeaseKey) -> Result<Bytes> {
    serde_json::to_vec(record)
        .map(Bytes::from)
        .map_err(|e| Error::Corrupt { key: key.path().to_string(), reason: e.to_string() })
}

/// Runs `work` while holding the lease `key`: acquired first (failing with [`Error::LeaseHeld`]
/// when another run holds it), renewed while the work runs, released afterwards whatever `work`
/// returned. A shutdown signal drops the work and fails with [`Error::Interrupted`].
pub async fn with_lease<T, E, F, Fut>(lake: &Lake, key: LeaseKey, owner: &str, ttl: Duration, work: F) -> Result<T, E>
where
    E: From<Error>,
    F: FnOnce(Fence) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let lease = Lease::acquire(lake, key.clone(), owner, ttl).await?;
    let renewing = lease.keep_renewed();
    let result = tokio::select! {
        result = work(lease.fence()) => result,
        () = eventlake_runtime::shutdown::wait() => Err(Error::Interrupted.into()),
    };
    renewing.abort();
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
    use crate::layout::{Hour, ManifestKey};
    use crate::manifest::{Attempt, commit_manifest, read_manifest, read_manifest_for_commit, write_manifest};

    fn lake() -> Lake {
        Lake::from_store(Arc::new(InMemory::new()), Path::from("root"), "s3://bucket/root")
    }

    fn key() -> LeaseKey {
        LeaseKey::Hourly(Hour::from_index(500_000))
    }

    fn manifest_key() -> ManifestKey {
        ManifestKey::Hourly(Hour::from_index(500_000))
    }

    async fn holder(lake: &Lake) -> Option<LeaseRecord> {
        let bytes = lake.get_opt(&key().path()).await.unwrap()?;
        Some(serde_json::from_slice::<LeaseRecord>(&bytes).unwrap())
    }

    async fn owner(lake: &Lake) -> Option<String> {
        holder(lake).await.map(|r| r.owner)
    }

    #[tokio::test]
    async fn one_holder_at_a_time() {
        let lake = lake();
        let a = Lease::acquire(&lake, key(), "run-a", Duration::hours(1)).await.unwrap();
        let held = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap_err();
        assert!(matches!(&held, Error::LeaseHeld { owner, .. } if owner == "run-a"), "{held}");
        a.release().await.unwrap();
        assert_eq!(owner(&lake).await, None, "released");
        let b = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap();
        assert_eq!(owner(&lake).await.as_deref(), Some("run-b"));
        assert_eq!(b.fence().generation(), 1, "a fresh lease starts at generation 1");
        b.release().await.unwrap();
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_and_the_old_owner_cannot_release_it() {
        let lake = lake();
        let stale = Lease::acquire(&lake, key(), "run-a", Duration::seconds(-1)).await.unwrap();
        let fresh = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap();
        assert_eq!(owner(&lake).await.as_deref(), Some("run-b"));
        assert_eq!(fresh.fence().generation(), 2, "a takeover raises the generation");
        stale.release().await.unwrap();
        assert_eq!(owner(&lake).await.as_deref(), Some("run-b"), "a lease that moved on stays with its new owner");
        fresh.release().await.unwrap();
        assert_eq!(owner(&lake).await, None);
    }

    #[tokio::test]
    async fn an_unreadable_lease_counts_as_expired() {
        let lake = lake();
        lake.put(&key().path(), bytes::Bytes::from_static(b"not json")).await.unwrap();
        let lease = Lease::acquire(&lake, key(), "run-a", Duration::hours(1)).await.unwrap();
        assert_eq!(owner(&lake).await.as_deref(), Some("run-a"));
        lease.release().await.unwrap();
    }

    #[tokio::test]
    async fn with_lease_releases_whatever_the_work_returns() {
        let lake = lake();
        let ok: Result<u32> = with_lease(&lake, key(), "run-a", Duration::hours(1), |_| async { Ok(7) }).await;
        assert_eq!(ok.unwrap(), 7);
        assert_eq!(owner(&lake).await, None);
        let failed: Result<u32> = with_lease(&lake, key(), "run-a", Duration::hours(1), |_| async {
            Err(Error::Corrupt { key: "k".into(), reason: "r".into() })
        })
        .await;
        assert!(matches!(failed, Err(Error::Corrupt { .. })));
        assert_eq!(owner(&lake).await, None, "released after a failure too");

        let _held = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap();
        let mut ran = false;
        let refused: Result<()> = with_lease(&lake, key(), "run-a", Duration::hours(1), |_| async {
            ran = true;
            Ok(())
        })
        .await;
        assert!(matches!(refused, Err(Error::LeaseHeld { .. })));
        assert!(!ran, "the work does not start without the lease");
    }

    #[tokio::test]
    async fn a_run_longer_than_its_ttl_keeps_its_lease() {
        let lake = lake();
        let ttl = Duration::milliseconds(600);
        let (other, key2) = (lake.clone(), key());
        let work = |fence: Fence| async move {
            let first = holder(&other).await.unwrap().expires_at;
            // Three TTLs: without renewal another run could take the lease twice over.
            for _ in 0..6 {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let refused = Lease::acquire(&other, key2.clone(), "run-b", ttl).await.unwrap_err();
                assert!(matches!(&refused, Error::LeaseHeld { owner, .. } if owner == "run-a"), "{refused}");
                fence.check()?;
            }
            let last = holder(&other).await.unwrap().expires_at;
            assert!(last > first + Duration::milliseconds(1000), "renewed: {first} then {last}");
            commit_manifest(&other, &fence, &manifest_key(), &Attempt { window_start: 1, window_end: 2 }, &{
                read_manifest_for_commit::<Attempt>(&other, &manifest_key()).await?.1
            })
            .await?;
            Ok::<_, Error>(())
        };
        with_lease(&lake, key(), "run-a", ttl, work).await.unwrap();
        assert!(read_manifest::<Attempt>(&lake, &manifest_key()).await.unwrap().is_some(), "it committed");
        assert_eq!(owner(&lake).await, None, "and released");
    }

    /// A run that stalls past its TTL (no renewal), is taken over, and wakes up to commit.
    #[tokio::test]
    async fn a_run_that_lost_its_lease_cannot_commit() {
        let lake = lake();
        let ttl = Duration::milliseconds(200);
        let stalled = Lease::acquire(&lake, key(), "run-a", ttl).await.unwrap();
        let (_, stalled_basis) = read_manifest_for_commit::<Attempt>(&lake, &manifest_key()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(matches!(stalled.fence().check(), Err(Error::LeaseLost { .. })), "it knows it may have lost");

        let winner = Lease::acquire(&lake, key(), "run-b", Duration::hours(1)).await.unwrap();
        let (_, basis) = read_manifest_for_commit::<Attempt>(&lake, &manifest_key()).await.unwrap();
        let theirs = Attempt { window_start: 2, window_end: 2 };
        commit_manifest(&lake, &winner.fence(), &manifest_key(), &theirs, &basis).await.unwrap();

        let ours = Attempt { window_start: 1, window_end: 1 };
        let refused = commit_manifest(&lake, &stalled.fence(), &manifest_key(), &ours, &stalled_basis).await;
        assert!(matches!(&refused, Err(Error::LeaseLost { reason, .. }) if reason.contains("run-b")), "{refused:?}");
        assert_eq!(read_manifest(&lake, &manifest_key()).await.unwrap(), Some(theirs), "the winner's commit stands");
        stalled.release().await.unwrap();
        assert_eq!(owner(&lake).await.as_deref(), Some("run-b"), "the loser leaves the winner's lease alone");
        winner.release().await.unwrap();
    }

    /// A run that renewed, then paused before its manifest put while another run took over and
    /// committed: the put is conditional on the manifest it started from, so it is refused.
    #[tokio::test]
    async fn a_commit_over_a_manifest_that_changed_is_refused() {
        let lake = lake();
        let lease = Lease::acquire(&lake, key(), "run-a", Duration::hours(1)).await.unwrap();
        let (_, basis) = read_manifest_for_commit::<Attempt>(&lake, &manifest_key()).await.unwrap();
        let theirs = Attempt { window_start: 2, window_end: 2 };
        write_manifest(&lake, &manifest_key(), &theirs).await.unwrap();
        let refused = commit_manifest(
            &lake,
            &lease.fence(),
            &manifest_key(),
            &Attempt { window_start: 1, window_end: 1 },
            &basis,
        )
        .await;
        assert!(matches!(refused, Err(Error::CommitConflict { .. })), "{refused:?}");
        assert_eq!(read_manifest(&lake, &manifest_key()).await.unwrap(), Some(theirs));

        // A commit on a current basis goes through, and the next one builds on it.
        let (_, basis) = read_manifest_for_commit::<Attempt>(&lake, &manifest_key()).await.unwrap();
        let next = commit_manifest(
            &lake,
            &lease.fence(),
            &manifest_key(),
            &Attempt { window_start: 3, window_end: 3 },
            &basis,
        )
        .await
        .unwrap();
        commit_manifest(&lake, &lease.fence(), &manifest_key(), &Attempt { window_start: 4, window_end: 4 }, &next)
            .await
            .unwrap();
        lease.release().await.unwrap();
    }

    #[tokio::test]
    async fn a_local_lake_hands_an_expired_lease_to_one_run() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        drop(Lease::acquire(&lake, key(), "crashed", Duration::seconds(-1)).await.unwrap());
        let racers: Vec<_> = (0..8)
            .map(|i| {
                let lake = lake.clone();
                tokio::spawn(async move { Lease::acquire(&lake, key(), &format!("run-{i}"), Duration::hours(1)).await })
            })
            .collect();
        let mut won = Vec::new();
        for r in racers {
            if let Ok(lease) = r.await.unwrap() {
                won.push(lease);
            }
        }
        assert_eq!(won.len(), 1, "one takeover");
        let record = holder(&lake).await.unwrap();
        assert_eq!(record.generation, 2);
        won.pop().unwrap().release().await.unwrap();
        assert_eq!(owner(&lake).await, None);
    }
}
