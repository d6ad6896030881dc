//! What a pool reports about itself: [`Pool::stats`](crate::Pool::stats).
//!
//! Each worker owns one [`WorkerCounters`] and is its only writer (Relaxed loads and stores,
//! no read-modify-write on the hot path); `stats()` reads them all. The queue tree's own
//! per-worker move counts (`gearset_hqueue::Stats`, plain integers owned by the worker) are
//! copied into a snapshot when the worker parks, every [`SNAPSHOT_EVERY`] jobs, and when it
//! exits, so they can lag a busy worker by that much.

use std::vec::Vec;

use gearset_hqueue::{LevelKind, Stats as QueueStats};
use gearset_sync::{
    Mutex,
    atomic::{AtomicU64, Ordering::Relaxed},
};

/// Jobs between two copies of a worker's queue statistics.
pub(crate) const SNAPSHOT_EVERY: u64 = 4096;

/// One worker's counters. Written only by that worker; read by `Pool::stats`.
#[derive(Default)]
pub(crate) struct WorkerCounters {
    /// Jobs the worker ran (from any queue).
    pub(crate) tasks_run: AtomicU64,
    /// `join`s that exposed their second closure because another worker was idle.
    pub(crate) exposed: AtomicU64,
    /// Times the worker went to sleep.
    pub(crate) parks: AtomicU64,
    /// The worker's queue-tree statistics as of its last snapshot.
    pub(crate) queue: Mutex<Option<QueueStats>>,
}

impl WorkerCounters {
    /// Adds one to a counter only this worker writes (a load and a store, no RMW).
    pub(crate) fn bump(counter: &AtomicU64) -> u64 {
        // Relaxed: a statistic with a single writer; readers want a recent value, no edge.
        let n = counter.load(Relaxed) + 1;
        counter.store(n, Relaxed);
        n
    }

    pub(crate) fn snapshot_queue(&self, stats: &QueueStats) {
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) = Some(stats.clone());
    }

    fn read(&self) -> WorkerStats {
        WorkerStats {
            // Relaxed: statistics; each value is some recent value, not a consistent cut.
            tasks_run: self.tasks_run.load(Relaxed),
            exposed: self.exposed.load(Relaxed),
            parks: self.parks.load(Relaxed),
            queue: self
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_default(),
        }
    }
}

/// A snapshot of one worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs this worker ran: exposed `join` halves, spawned and scoped jobs (a `join` that
    /// ran both closures inline counts nothing).
    pub tasks_run: u64,
    /// `join`s on this worker that exposed their second closure to idle workers.
    pub exposed: u64,
    /// Times this worker went to sleep.
    pub parks: u64,
    /// The worker's queue-tree moves (pushes, local pops, steals by distance), as of its
    /// last snapshot (when it parked, every 4096 jobs, and when it exited).
    pub queue: QueueStats,
}

/// A snapshot of a pool: per-worker counters and the pool-wide counts.
///
/// Every field may be stale by the time you read it; counters only grow.
///
/// ```
/// let pool = gearset_sched::Pool::new(2);
/// pool.spawn(|_| ()).join().unwrap();
/// pool.wait_idle();
/// let stats = pool.stats();
/// assert_eq!(stats.workers.len(), 2);
/// assert_eq!(stats.tasks_run(), 1);
/// assert_eq!((stats.queued, stats.pending), (0, 0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// One entry per worker, in leaf order.
    pub workers: Vec<WorkerStats>,
    /// Jobs in the queue tree right now (the queue depth, all levels together).
    pub queued: u64,
    /// Jobs pushed and not finished (queued or running).
    pub pending: u64,
    /// Workers searching for work or asleep.
    pub idle: usize,
    /// Dataflow frames sent into a graph and not yet received back, over all graphs.
    pub frames_in_flight: u64,
}

impl Stats {
    pub(crate) fn collect(
        counters: &[gearset_sync::CachePadded<WorkerCounters>],
        counts: u64,
        idle: usize,
    ) -> Self {
        Self {
            workers: counters.iter().map(|c| c.read()).collect(),
            queued: crate::registry::queued(counts),
            pending: crate::registry::pending(counts),
            idle,
            frames_in_flight: 0,
        }
    }

    /// Jobs run by all workers.
    pub fn tasks_run(&self) -> u64 {
        self.workers.iter().map(|w| w.tasks_run).sum()
    }

    /// Times any worker went to sleep.
    pub fn parks(&self) -> u64 {
        self.workers.iter().map(|w| w.parks).sum()
    }

    /// Jobs taken from other queues, summed over workers, by the kind of the nearest common
    /// ancestor (the topology distance), nearest first.
    pub fn steals_by_distance(&self) -> Vec<(LevelKind, u64)> {
        let mut out: Vec<(LevelKind, u64)> = Vec::new();
        for level in self.workers.iter().flat_map(|w| &w.queue.levels) {
            match out.iter_mut().find(|(k, _)| *k == level.level) {
                Some((_, n)) => *n += level.taken,
                None => out.push((level.level, level.taken)),
            }
        }
        out
    }
}
