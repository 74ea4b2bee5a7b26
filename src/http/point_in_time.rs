//! How many point-in-time reads (`?at=` minutes, from the API and the web
//! pages alike) fold at once.
//!
//! Each such read folds a meeting's streams from the log (see
//! `minutebook_projections::time`): a few milliseconds of one core, with
//! no lock held. A crawler following every audit-trail link could still
//! keep every core busy with them and slow the writers for want of CPU,
//! so they take turns: at most half the machine's cores (at least one)
//! fold at once, and the rest wait here, asynchronously, without holding
//! a thread of the blocking pool or any lock.

use std::sync::LazyLock;

use tokio::sync::{Semaphore, SemaphorePermit};

/// The share of the machine's cores point-in-time reads may use at once:
/// one in this many (at least one core).
pub const POINT_IN_TIME_CORES_DIVISOR: usize = 2;

static FOLDS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Semaphore::new((cores / POINT_IN_TIME_CORES_DIVISOR).max(1))
});

/// A turn to fold a point-in-time read; the next waiting read goes on
/// once it is dropped. One per process: a process serves one data
/// directory.
pub async fn turn() -> SemaphorePermit<'static> {
    FOLDS.acquire().await.expect("the semaphore is never closed")
}
