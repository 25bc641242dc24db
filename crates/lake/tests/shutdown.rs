//! A shutdown signal stops work under a lease and gives the lease up (its own process: the
//! signal is process-wide).

use std::sync::Arc;

use chrono::Duration;
use eventlake_lake::layout::{Hour, LeaseKey};
use eventlake_lake::{Error, Lake, with_lease};
use object_store::memory::InMemory;
use object_store::path::Path;

#[tokio::test]
async fn a_shutdown_signal_stops_the_work_and_releases_the_lease() {
    let lake = Lake::from_store(Arc::new(InMemory::new()), Path::from("root"), "s3://bucket/root");
    let key = LeaseKey::Hourly(Hour::from_index(500_000));
    let signal = tokio::spawn(async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        eventlake_runtime::shutdown::request(15);
    });
    let result: Result<(), Error> = with_lease(&lake, key.clone(), "run-a", Duration::hours(1), |_| async {
        std::future::pending::<()>().await;
        Ok(())
    })
    .await;
    signal.await.unwrap();
    assert!(matches!(result, Err(Error::Interrupted)), "{result:?}");
    assert_eq!(lake.get_opt(&key.path()).await.unwrap(), None, "the lease was given up");
}
