//! Shutdown signals: SIGTERM (ECS stopping a task, a deploy) and SIGINT (Ctrl-C) ask the running
//! command to stop. Work under a lease stops at once and gives its lease up, so the next run need
//! not wait for it to expire; [`crate::block_on`] then exits with 128 + the signal's number.

use std::sync::atomic::{AtomicI32, Ordering};

use tokio::sync::Notify;

/// The signal received, 0 while none was.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static NOTIFY: Notify = Notify::const_new();

/// The number of the shutdown signal received, if any.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    }
}

/// Resolves once a shutdown was requested (at once if it already was).
pub async fn wait() {
    loop {
        // Registered before the check, so a request in between is not missed.
        let notified = NOTIFY.notified();
        if requested().is_some() {
            return;
        }
        notified.await;
    }
}

/// Asks every [`wait`]er to stop, as a signal would (the signal listener and tests call it).
pub fn request(signal: i32) {
    SIGNAL.store(signal, Ordering::SeqCst);
    NOTIFY.notify_waiters();
}

/// Resolves with the signal's number when SIGTERM or SIGINT arrives (never, where signals cannot
/// be listened to).
pub(crate) async fn signalled() -> i32 {
    use tokio::signal::unix::{SignalKind, signal};
    const SIGINT: i32 = 2;
    const SIGTERM: i32 = 15;
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    let number = tokio::select! {
        _ = term.recv() => SIGTERM,
        _ = int.recv() => SIGINT,
    };
    request(number);
    number
}
